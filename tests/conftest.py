"""Shared fixtures. Prefect runs against a throw-away home and a temporary test server."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="tuneset-prefect-")
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import prefect  # noqa: E402,F401 - configure Prefect's log handlers on pytest's streams, not a CliRunner's
import pytest  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("TUNESET_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def prefect_harness():
    """A temporary Prefect server for the whole session (started on first use)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture
def shared_data() -> Path:
    """The real data sets beside the repo (`../shared/data`); tests skip without them."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA} (a clone without ../shared); "
                    "set TUNESET_SHARED_DATA to run these tests")
    return SHARED_DATA


@pytest.fixture
def write_lines(tmp_path):
    """Write text lines to a file under tmp_path and return its path."""

    def write(name: str, lines: list[str] | str) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(lines if isinstance(lines, str) else "\n".join(lines) + "\n", encoding="utf-8")
        return path

    return write


@pytest.fixture(scope="session")
def embedded_generator():
    """The embedded SmolLM2-135M-Instruct on the transformers backend, loaded once."""
    from pipelines.models import ModelConfig, load_generator

    return load_generator(ModelConfig())


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """A tiny randomly initialised Llama (2 layers, hidden 32) with the embedded model's
    tokenizer, saved once per session as a plain model folder."""
    from alignment.base_model import random_llama

    return random_llama(tmp_path_factory.mktemp("tiny-llama"))
