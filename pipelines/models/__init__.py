"""Model backends behind one protocol: transformers (default), vLLM, OpenAI-compatible.

    >>> gen = load_generator(ModelConfig())           # the embedded SmolLM2-135M-Instruct
    >>> gen.generate([[{"role": "user", "content": "Hi"}]], GenerationParams(max_new_tokens=16))
    >>> gen.score_tokens([[{"role": "user", "content": "Rate it 0-5."}]], "Score: ", list("012345"))
"""

from __future__ import annotations

from pipelines.models.config import ModelConfig, OpenAIOptions, VLLMOptions
from pipelines.models.params import (
    BackendError,
    Completion,
    GenerationParams,
    Generator,
    UnsupportedParameter,
)

_LOADED: dict[str, Generator] = {}


def load_generator(config: ModelConfig, *, reuse: bool = True) -> Generator:
    """Build the configured backend (wrapped in the response cache when `cache` is set).

    With `reuse`, a backend already built in this process for the same config is returned, so
    stages and shards that share a model load it once."""
    key = config.model_dump_json()
    if reuse and key in _LOADED:
        return _LOADED[key]
    if config.backend == "transformers":
        from pipelines.models.hf import TransformersGenerator

        generator: Generator = TransformersGenerator(config)
    elif config.backend == "vllm":
        from pipelines.models.vllm_backend import VLLMGenerator

        generator = VLLMGenerator(config)
    else:
        from pipelines.models.openai_backend import OpenAIGenerator

        generator = OpenAIGenerator(config)
    if config.cache is not None:
        from pipelines.models.cache import CachedGenerator

        generator = CachedGenerator(generator, config.cache)
    if reuse:
        _LOADED[key] = generator
    return generator


__all__ = ["BackendError", "Completion", "GenerationParams", "Generator", "ModelConfig",
           "OpenAIOptions", "UnsupportedParameter", "VLLMOptions", "load_generator"]
