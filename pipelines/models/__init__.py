"""Model backends behind one protocol: transformers (default), vLLM, OpenAI-compatible.

For example, with the embedded SmolLM2-135M-Instruct (loads in seconds on a CPU):

    gen = load_generator(ModelConfig())
    gen.generate([[{"role": "user", "content": "Hi"}]], GenerationParams(max_new_tokens=16))
    gen.score_tokens([[{"role": "user", "content": "Rate it 0-5."}]], "Score: ", list("012345"))

Stages never load a model: their `model=` argument is a Generator, or a loader (a callable
`ModelConfig -> Generator`, such as `load_generator`) for stages that name several models in
their config (`resolve_model`):

    >>> from tests.fakes import ScriptedGenerator
    >>> fake = ScriptedGenerator(lambda conv, params, k: "hi")
    >>> resolve_model(fake, ModelConfig(), stage="judge") is fake
    True
    >>> resolve_model(lambda config: fake, ModelConfig(), stage="judge") is fake
    True
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from pipelines.models.config import ModelConfig, OpenAIOptions, VLLMOptions
from pipelines.models.params import (
    BackendError,
    Completion,
    GenerationParams,
    Generator,
    UnsupportedParameter,
)

_LOADED: dict[str, Generator] = {}
_LOADING = threading.Lock()

ModelSource = Generator | Callable[[ModelConfig], Generator]
"""What a model stage's `model=` takes: a Generator, or a loader building one per ModelConfig."""


def load_generator(config: ModelConfig, *, reuse: bool = True) -> Generator:
    """Build the configured backend (wrapped in the response cache when `cache` is set).

    With `reuse`, a backend already built in this process for the same config is returned, so
    stages and shards that share a model load it once."""
    key = config.model_dump_json()
    if not reuse:
        return _build(config)
    with _LOADING:  # shards running side by side load a shared model once
        if key not in _LOADED:
            _LOADED[key] = _build(config)
        return _LOADED[key]


def _build(config: ModelConfig) -> Generator:
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
    return generator


def resolve_model(model: ModelSource | None, config: ModelConfig, *, stage: str) -> Generator:
    """The generator `stage` uses for `config`: `model` when it is a Generator, else
    `model(config)`. A stage that needs a model and got none says so."""
    if model is None:
        raise ValueError(f"the {stage} stage needs a model: pass model= a Generator or a "
                         "loader such as pipelines.models.load_generator")
    if hasattr(model, "generate"):
        return model
    if callable(model):
        return model(config)
    raise TypeError(f"the {stage} stage: model= must be a Generator or a callable "
                    f"ModelConfig -> Generator, got {type(model).__name__}")


__all__ = ["BackendError", "Completion", "GenerationParams", "Generator", "ModelConfig",
           "ModelSource", "OpenAIOptions", "UnsupportedParameter", "VLLMOptions", "load_generator",
           "resolve_model"]
