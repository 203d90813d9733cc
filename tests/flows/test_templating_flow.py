import json
import logging
import shutil

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
from rich.console import Console

from flows.counts_table import print_counts
from flows.templating import templating_flow
from pipelines.errors import InputError
from pipelines.io import load_run, read_manifest, verify_run
from pipelines.templating import TemplatingConfig

from ..pipelines.templating.helpers import NLI_ROWS, nli_spec, write_jsonl

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture
def config(tmp_path):
    return TemplatingConfig(tasks=[nli_spec(write_jsonl(tmp_path / "nli.jsonl", NLI_ROWS))])


def test_flow_writes_a_complete_run_folder(tmp_path, config):
    out = tmp_path / "run"
    summary = templating_flow(config, str(out))
    assert verify_run(out)
    manifest = read_manifest(out)
    assert manifest["rows"] == {"kept": 6, "rejected": 0} == summary["rows"]
    assert list(manifest["inputs"].values())[0]  # sha256 of the task file
    assert manifest["config"]["tasks"][0]["name"] == "nli"
    assert len(load_run(out)) == 6


def test_second_run_is_a_cache_hit_and_a_changed_config_is_not(tmp_path, config):
    out = str(tmp_path / "run")
    assert templating_flow(config, out)["cached"] is False
    assert templating_flow(config, out)["cached"] is True
    changed = config.model_copy(update={"seed": 7})
    assert templating_flow(changed, out)["cached"] is False


def test_changed_input_file_is_not_a_cache_hit(tmp_path, config):
    out = str(tmp_path / "run")
    templating_flow(config, out)
    write_jsonl(config.tasks[0].source, NLI_ROWS[:3])
    summary = templating_flow(config, out)
    assert summary["cached"] is False and summary["rows"]["kept"] == 3


def test_deleted_run_folder_is_recomputed(tmp_path, config):
    out = tmp_path / "run"
    templating_flow(config, str(out))
    shutil.rmtree(out / "kept")
    assert templating_flow(config, str(out))["cached"] is False
    assert verify_run(out)


def test_bad_input_writes_nothing_and_keeps_the_previous_run(tmp_path, config):
    out = tmp_path / "run"
    templating_flow(config, str(out))
    before = {p: p.read_bytes() for p in out.rglob("*.parquet")}
    write_jsonl(config.tasks[0].source, NLI_ROWS + [{"p": "x", "h": "y", "y": "perhaps"}])
    with pytest.raises(InputError, match="line 7, field 'y': unknown label 'perhaps'"):
        templating_flow(config, str(out))
    assert {p: p.read_bytes() for p in out.rglob("*.parquet")} == before
    assert verify_run(out)
    fresh = tmp_path / "fresh"
    with pytest.raises(InputError):
        templating_flow(config, str(fresh))
    assert not list(fresh.rglob("*.parquet")) and not (fresh / "manifest.json").exists()


def test_counts_table_artifact_is_published(tmp_path, config):
    templating_flow(config, str(tmp_path / "run"))
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["templating-counts"])))
    assert artifacts and artifacts[0].type == "table"
    assert "kept" in str(artifacts[0].data)


def test_numeric_label_ids_warn_in_log_stats_and_counts(tmp_path, caplog):
    rows = [{"t": "A warm, funny film.", "y": 1}, {"t": "Dull and far too long.", "y": 0}]
    config = TemplatingConfig(tasks=[{
        "name": "sst", "type": "sentiment", "source": str(write_jsonl(tmp_path / "s.jsonl", rows)),
        "fields": {"text": "t"}, "label_field": "y"}])
    logging.getLogger("prefect").addHandler(caplog.handler)  # Prefect's loggers do not propagate
    try:
        summary = templating_flow(config, str(tmp_path / "run"))
    finally:
        logging.getLogger("prefect").removeHandler(caplog.handler)
    (warning,) = json.loads((tmp_path / "run" / "stats.json").read_text())["warnings"]
    assert "task 'sst': label values look like numeric ids (0, 1)" in warning
    assert summary["warnings"] == [warning]
    assert any(r.levelname == "WARNING" and warning in r.getMessage() for r in caplog.records)
    console = Console(record=True, width=80, color_system=None)
    print_counts(console, [summary], tmp_path / "run")
    assert "warning: templating: task 'sst': label values look like numeric ids" in \
        " ".join(console.export_text().split())
