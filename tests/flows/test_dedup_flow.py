import json

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.dedup import dedup_flow
from pipelines.dedup import DedupConfig
from pipelines.io import load_run, read_manifest, verify_run

pytestmark = pytest.mark.usefixtures("prefect_harness")
runner = CliRunner()
ROWS = [{"id": "a", "instruction": "Name a colour.", "input": ""},
        {"id": "b", "instruction": "name a COLOUR", "input": ""},
        {"id": "c", "instruction": "Name a planet.", "input": ""}]


@pytest.fixture
def records(tmp_path):
    path = tmp_path / "records.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    return path


def test_flow_writes_run_folder_with_report(tmp_path, records):
    out = tmp_path / "run"
    summary = dedup_flow(DedupConfig(inputs=[records]), str(out))
    assert verify_run(out) and summary["rows"] == {"kept": 2, "rejected": 1}
    manifest = read_manifest(out)
    assert {"cluster_sizes.png", "largest_clusters.jsonl"} <= set(manifest["files"])
    cluster = json.loads((out / "largest_clusters.jsonl").read_text().splitlines()[0])
    assert cluster["size"] == 2 and cluster["kept"] == {"id": "a", "text": "Name a colour."}
    assert load_run(out, "rejected")["duplicate_of"] == ["a"]


def test_second_run_is_a_cache_hit(tmp_path, records):
    out = str(tmp_path / "run")
    config = DedupConfig(inputs=[records])
    assert dedup_flow(config, out)["cached"] is False
    assert dedup_flow(config, out)["cached"] is True
    assert dedup_flow(config.model_copy(update={"threshold": 0.9}), out)["cached"] is False


def test_run_folder_as_input_reads_its_kept_records(tmp_path, records):
    first = tmp_path / "first"
    dedup_flow(DedupConfig(inputs=[records]), str(first))
    summary = dedup_flow(DedupConfig(inputs=[first]), str(tmp_path / "second"))
    assert summary["rows"] == {"kept": 2, "rejected": 0}


def _dedup_cli(tmp_path, spec: dict):
    path = tmp_path / "spec.yaml"
    path.write_text(json.dumps(spec))
    return runner.invoke(app, ["dedup", str(path), "--out", str(tmp_path / "out")])


def test_cli_dedup_end_to_end(tmp_path, records):
    result = _dedup_cli(tmp_path, {"inputs": [records.name], "keep": "longest"})
    assert result.exit_code == 0, result.output
    assert load_run(tmp_path / "out")["id"] == ["a", "c"]


@pytest.mark.parametrize("spec, rows, message", [
    ({"threshold": 1.5}, ROWS, "threshold: input should be less than 1 (got 1.5)"),
    ({}, [{"instruction": "x", "input": ""}, {"instruction": None, "input": ""}],
     "r.jsonl, line 2, field 'instruction': expected a string, got null"),
], ids=["bad config", "missing column"])
def test_cli_bad_input_or_config_exits_2(tmp_path, spec, rows, message):
    (tmp_path / "r.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = _dedup_cli(tmp_path, {"inputs": ["r.jsonl"], **spec})
    assert result.exit_code == 2 and message in result.output


def test_reference_files_decontaminate_and_are_digested(tmp_path, records):
    evals = tmp_path / "evals.jsonl"
    evals.write_text(json.dumps({"text": "NAME A PLANET"}) + "\n")
    out = tmp_path / "run"
    config = DedupConfig(inputs=[records], reference=[evals], reference_field="text",
                         keep="score:judge_score")
    records.write_text("".join(json.dumps({**r, "judge_score": i}) + "\n" for i, r in enumerate(ROWS)))
    dedup_flow(config, str(out))
    rejected = load_run(out, "rejected")
    assert sorted(zip(rejected["reason"], rejected["duplicate_of"])) == \
        [("dedup_contaminated", "evals.jsonl#0"), ("dedup_exact", "b")]
    assert str(evals) in read_manifest(out)["inputs"]
