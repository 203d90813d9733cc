import shutil

import pytest

from .demo_run import REPO, run_demo


@pytest.fixture(scope="session")
def demo_checkout(prefect_harness, tmp_path_factory):
    """A checkout-shaped folder holding configs/ (copied) and runs/demo: the demo pipeline run
    once per session with scripted models. (folder, the CliRunner result of `tuneset run`)."""
    root = tmp_path_factory.mktemp("checkout")
    shutil.copytree(REPO / "configs", root / "configs")
    with pytest.MonkeyPatch.context() as monkeypatch:
        result = run_demo(root / "runs" / "demo", monkeypatch)
    return root, result
