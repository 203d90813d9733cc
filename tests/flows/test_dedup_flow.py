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


def test_cli_dedup_end_to_end(tmp_path, records):
    spec = tmp_path / "spec.yaml"
    spec.write_text(json.dumps({"inputs": [records.name], "keep": "longest"}))
    result = runner.invoke(app, ["dedup", str(spec), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert load_run(tmp_path / "out")["id"] == ["a", "c"]


def test_cli_bad_config_exits_2(tmp_path, records):
    spec = tmp_path / "spec.yaml"
    spec.write_text(json.dumps({"inputs": [records.name], "threshold": 1.5}))
    result = runner.invoke(app, ["dedup", str(spec), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "threshold: input should be less than 1 (got 1.5)" in result.output


def test_cli_missing_column_names_file_and_line(tmp_path):
    data = tmp_path / "r.jsonl"
    data.write_text('{"instruction": "x", "input": ""}\n{"instruction": null, "input": ""}\n')
    spec = tmp_path / "spec.yaml"
    spec.write_text(json.dumps({"inputs": [data.name]}))
    result = runner.invoke(app, ["dedup", str(spec), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "r.jsonl, line 2, field 'instruction': expected a string, got null" in result.output


def test_validate_lists_dedup_problems(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("dedup:\n  inputs: [nope.jsonl]\n  num_perm: 1\n  text: body\n")
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 1
    assert "dedup.inputs[0]: no such file or folder" in result.output
    assert "dedup.num_perm: input should be greater than or equal to 2 (got 1)" in result.output
    assert "dedup.text: input should be" in result.output


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
