"""`tuneset validate` reads the data too: every bad file is reported together, before any run."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from flows.cli import app
from tests.conftest import REPO

runner = CliRunner()
NLI = {"premise": "It rained.", "hypothesis": "It was wet.", "label": "entailment"}


def _config(tmp_path) -> str:
    (tmp_path / "nli.jsonl").write_text(json.dumps(NLI) + "\n" +
                                        json.dumps({**NLI, "label": "maybe"}) + "\n")
    (tmp_path / "broken.jsonl").write_text(json.dumps(NLI) + "\n{not json\n")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "notes.txt").write_text("hello")
    (tmp_path / "empty.jsonl").write_text("")
    nli = {"type": "nli", "label_field": "label", "positive_label": "entailment",
           "labels": {"entailment": "yes", "not_entailment": "no"}}
    config = {
        "templating": {"tasks": [{"name": "bad_label", "source": "nli.jsonl", **nli},
                                 {"name": "broken_line", "source": "broken.jsonl", **nli}]},
        "self_instruct": {"seeds": "empty.jsonl"},
    }
    path = tmp_path / "config.yaml"
    path.write_text(json.dumps(config))
    return str(path)


def test_every_data_problem_is_reported_at_once(tmp_path):
    result = runner.invoke(app, ["validate", _config(tmp_path)])
    text = " ".join(result.output.split())
    assert result.exit_code == 1, result.output
    assert "3 problem(s)" in text
    assert "templating.tasks[0] (bad_label)" in text and "line 2, field 'label'" in text
    assert "templating.tasks[1] (broken_line)" in text and f"{tmp_path / 'broken.jsonl'}, line 2" in text
    assert f"self_instruct.seeds: {tmp_path / 'empty.jsonl'}: no records" in text


def test_folder_and_empty_inputs_of_a_consuming_stage(tmp_path):
    _config(tmp_path)
    (tmp_path / "dedup.yaml").write_text(json.dumps({"dedup": {"inputs": ["folder"]}}))
    result = runner.invoke(app, ["validate", str(tmp_path / "dedup.yaml")])
    assert result.exit_code == 1
    assert f"dedup.inputs[0]: {tmp_path / 'folder'}: expected a file" in " ".join(result.output.split())
    (tmp_path / "judge.yaml").write_text(json.dumps({"judge": {"inputs": ["empty.jsonl"]}}))
    result = runner.invoke(app, ["validate", str(tmp_path / "judge.yaml")])
    assert result.exit_code == 1
    assert f"judge.inputs[0]: {tmp_path / 'empty.jsonl'}: no records" in " ".join(result.output.split())


def test_no_data_checks_the_config_only(tmp_path):
    result = runner.invoke(app, ["validate", _config(tmp_path), "--no-data"])
    assert result.exit_code == 0, result.output


def test_the_demo_config_and_its_data_are_valid():
    result = runner.invoke(app, ["validate", str(REPO / "configs/demo.yaml")])
    assert result.exit_code == 0, result.output
