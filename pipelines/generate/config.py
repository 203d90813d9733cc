"""Configuration of the generate stage: which model answers, with which settings, from which column.

    generate:
      model: {backend: openai, model: my-model, openai: {base_url: "http://127.0.0.1:8000/v1"}}
      params: {max_new_tokens: 256, temperature: 0.7, n: 2, seed: 0}
      field: prompt                    # default: messages, else prompt, else instruction + input

The `tuneset generate` command builds this config from its options.
"""

from __future__ import annotations

from pipelines.configbase import StageConfig
from pipelines.models import GenerationParams, ModelConfig


class GenerateConfig(StageConfig):
    model: ModelConfig = ModelConfig()
    params: GenerationParams = GenerationParams()
    field: str | None = None
