"""Which model a stage talks to, and how.

    model:
      backend: transformers        # transformers (default) | vllm | openai
      model: null                  # null = the embedded SmolLM2-135M-Instruct; or a folder,
                                   # a .gguf file, or a hub id (fetched only when named)
      max_batch_tokens: 16384      # transformers: prompt+new tokens per batch
      cache: runs/cache/responses.sqlite   # optional on-disk response cache

    model:
      backend: openai
      model: meta-llama/Llama-3.1-8B-Instruct
      openai: {base_url: "http://127.0.0.1:8000/v1", api_key_env: OPENAI_API_KEY,
               max_concurrency: 16, timeout: 60, max_retries: 5}
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator

from pipelines.configbase import RelPath, StageConfig


class OpenAIOptions(StageConfig):
    base_url: str = "http://127.0.0.1:8000/v1"
    api_key: SecretStr | None = None
    api_key_env: str = "OPENAI_API_KEY"
    max_concurrency: int = Field(8, ge=1)
    timeout: float = Field(60.0, gt=0)
    max_retries: int = Field(5, ge=0)
    backoff_initial: float = Field(0.5, ge=0)
    backoff_max: float = Field(30.0, ge=0)
    extensions: bool = False
    """The server accepts vLLM/SGLang extensions (top_k, repetition_penalty, prefix continuation)."""


class VLLMOptions(StageConfig):
    tensor_parallel_size: int = Field(1, ge=1)
    gpu_memory_utilization: float = Field(0.9, gt=0, le=1)
    max_model_len: int | None = Field(None, ge=16)
    dtype: str = "auto"
    enable_prefix_caching: bool = True


class ModelConfig(StageConfig):
    backend: Literal["transformers", "vllm", "openai"] = "transformers"
    model: str | None = None
    revision: str | None = None
    trust_remote_code: bool = False
    device: Literal["auto", "cpu", "cuda", "mps"] = "auto"
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    max_batch_tokens: int = Field(16384, ge=64)
    max_batch_size: int = Field(64, ge=1)
    cache: RelPath | None = None
    openai: OpenAIOptions = OpenAIOptions()
    vllm: VLLMOptions = VLLMOptions()

    @model_validator(mode="after")
    def _check(self) -> ModelConfig:
        if self.backend == "openai" and not self.model:
            raise ValueError("the openai backend needs `model` (the name the server serves)")
        return self

    @property
    def label(self) -> str:
        """Backend and model, for lineage and warnings (never includes secrets)."""
        from pipelines.embedded import EMBEDDED_NAME

        return f"{self.backend}:{self.model or EMBEDDED_NAME}"
