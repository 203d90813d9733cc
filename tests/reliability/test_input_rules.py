"""One rule for bad input in every stage: empty input stops the stage (unless `allow_empty`),
every input error names the file and field, and a failed run leaves no folder behind."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

import flows.judge
from flows.cli import app
from pipelines.dedup import DedupConfig
from pipelines.dedup.inputs import read_dedup_inputs
from pipelines.errors import InputError
from pipelines.io import read_sources
from pipelines.judge.inputs import read_judge_inputs
from pipelines.preferences import PreferenceConfig, read_prompts
from tests.fakes import ScriptedGenerator

runner = CliRunner()


@pytest.fixture
def empty(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    return path


@pytest.mark.parametrize("read", [
    lambda p: read_judge_inputs([p]),
    lambda p: read_dedup_inputs(DedupConfig(inputs=[p]), [p]),
    lambda p: read_prompts(PreferenceConfig(inputs=[p]), [p]),
    lambda p: read_sources([p]),
], ids=["judge", "dedup", "preferences", "generate"])
def test_empty_input_is_an_error_naming_the_file(empty, read):
    with pytest.raises(InputError, match=rf"^{empty}: no records; .*allow_empty"):
        read(empty)


def test_allow_empty_accepts_it(empty):
    assert len(read_judge_inputs([empty], allow_empty=True)) == 0
    assert len(read_dedup_inputs(DedupConfig(inputs=[empty], allow_empty=True), [empty])[0]) == 0


def test_an_empty_source_beside_others_is_left_out(tmp_path, empty):
    full = tmp_path / "full.jsonl"
    full.write_text(json.dumps({"instruction": "Name a colour.", "output": "red"}) + "\n")
    assert len(read_judge_inputs([empty, full])) == 1


def test_missing_column_names_file_and_field(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text(json.dumps({"foo": "x"}) + "\n")
    with pytest.raises(InputError, match=rf"^{path}, field 'instruction': missing column"):
        read_dedup_inputs(DedupConfig(inputs=[path]), [path])


@pytest.mark.usefixtures("prefect_harness")
@pytest.mark.parametrize("command", ["judge", "dedup"])
def test_failed_cli_run_exits_2_and_leaves_no_folder(tmp_path, empty, monkeypatch, command):
    monkeypatch.setattr(flows.judge, "load_generator", lambda model: ScriptedGenerator([]))
    spec = tmp_path / "spec.yaml"
    spec.write_text(json.dumps({"inputs": [empty.name]}))
    out = tmp_path / "out"
    result = runner.invoke(app, [command, str(spec), "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert f"{empty}: no records" in result.output.replace("\n", "")
    assert not out.exists(), sorted(str(p.relative_to(out)) for p in out.rglob("*"))
