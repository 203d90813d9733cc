import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from .demo_run import REPO, run_demo


@dataclass
class DemoCheckout:
    root: Path            # a checkout-shaped folder: configs/ and runs/demo
    result: object        # the CliRunner result of `tuneset run`
    logs: list[str]       # what the flow run logged, as the Prefect server holds it


def flow_run_logs(run_folder: Path) -> list[str]:
    """The log messages of the flow run that wrote `run_folder` (its manifest names the run)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.client.schemas.sorting import LogSort
    from prefect.logging.handlers import APILogHandler

    APILogHandler().flush()
    run = json.loads((run_folder / "manifest.json").read_text())["run"]
    with get_client(sync_client=True) as client:
        logs = client.read_logs(log_filter=LogFilter(
            flow_run_id=LogFilterFlowRunId(any_=[run["flow_run_id"]])), sort=LogSort.TIMESTAMP_ASC,
            limit=200)
    return [log.message for log in logs]


@pytest.fixture(scope="session")
def demo_checkout(prefect_harness, tmp_path_factory) -> DemoCheckout:
    """The demo pipeline run once per session with scripted models, in a checkout-shaped folder
    (configs/ copied, the run in runs/demo)."""
    root = tmp_path_factory.mktemp("checkout")
    shutil.copytree(REPO / "configs", root / "configs")
    with pytest.MonkeyPatch.context() as monkeypatch:
        result = run_demo(root / "runs" / "demo", monkeypatch)
    logs = flow_run_logs(root / "runs" / "demo" / "templating") if result.exit_code == 0 else []
    return DemoCheckout(root, result, logs)
