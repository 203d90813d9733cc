import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from pipelines.io import verify_run

from ..pipelines.templating.helpers import NLI_ROWS, nli_spec, write_jsonl

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture(autouse=True)
def prefect_logs_to_real_stderr():
    """Prefect's console handler keeps the stream it was built with; when that happens inside
    an earlier CliRunner invocation the stream is closed by now. Point it at the process's
    real stderr (pytest still captures the file descriptor)."""
    import logging
    import sys

    from prefect.logging.handlers import PrefectConsoleHandler

    for handler in logging.getLogger().handlers:
        if isinstance(handler, PrefectConsoleHandler):
            handler.stream = sys.__stderr__
            handler.console.file = sys.__stderr__


def test_validate_accepts_the_demo_config():
    result = runner.invoke(app, ["validate", str(REPO / "configs/demo.yaml")])
    assert result.exit_code == 0, result.output
    assert "ok (stages: templating, self_instruct, dedup, judge, preferences)" in result.output


@pytest.mark.parametrize("config, problems", [
    ("run: {nme: x}\ntemplating:\n  tasks:\n    - {name: a, type: nli, source: nope.tsv}\n",
     ["run.nme: unknown field", "templating.tasks[0].source: no such file"]),
    ("dedup:\n  inputs: [nope.jsonl]\n  num_perm: 1\n  text: body\n",
     ["dedup.inputs[0]: no such file or folder", "dedup.text: input should be",
      "dedup.num_perm: input should be greater than or equal to 2 (got 1)"]),
], ids=["templating", "dedup"])
def test_validate_lists_every_problem(tmp_path, config, problems):
    bad = tmp_path / "bad.yaml"
    bad.write_text(config)
    result = runner.invoke(app, ["validate", str(bad)])
    assert result.exit_code == 1
    assert all(problem in result.output for problem in problems), result.output
    assert "value error" not in result.output


@pytest.mark.usefixtures("prefect_harness")
def test_template_command_writes_run_folder(tmp_path):
    data = write_jsonl(tmp_path / "nli.jsonl", NLI_ROWS)
    spec = tmp_path / "spec.yaml"
    spec.write_text(json.dumps({"tasks": [nli_spec(data.name)]}))  # JSON is YAML
    result = runner.invoke(app, ["template", str(spec), "--out", str(tmp_path / "out"), "--jsonl"])
    assert result.exit_code == 0, result.output
    assert verify_run(tmp_path / "out")
    assert (tmp_path / "out/kept/part-00000.jsonl").exists()


@pytest.mark.usefixtures("prefect_harness")
def test_bad_input_exits_2_with_a_clear_message(tmp_path):
    data = write_jsonl(tmp_path / "nli.jsonl", [{"p": "x", "y": "entailment"}])
    spec = tmp_path / "spec.yaml"
    spec.write_text(json.dumps({"tasks": [nli_spec(data.name)]}))
    result = runner.invoke(app, ["template", str(spec), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "nli.jsonl" in result.output and "missing column(s) ['h']" in result.output
    assert "Traceback" not in result.output


def test_run_command_runs_the_demo_config(demo_checkout):
    """The whole demo pipeline with scripted models (the real ones run in `make demo` and in
    the slow tests): every stage writes a complete run folder, each reading the one before."""
    result, out = demo_checkout.result, demo_checkout.root / "runs" / "demo"
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    stages = [s["stage"] for s in summary["stages"]]
    assert stages == ["templating", "self_instruct", "dedup", "judge", "preferences"]
    assert all(verify_run(out / stage) for stage in stages)
    by_stage = {s["stage"]: s for s in summary["stages"]}
    assert by_stage["dedup"]["in"] == by_stage["templating"]["kept"] + by_stage["self_instruct"]["kept"]
    assert by_stage["judge"]["in"] == by_stage["dedup"]["kept"]
    assert by_stage["preferences"]["in"] == by_stage["judge"]["kept"] > 0
    assert by_stage["preferences"]["kept"] > 0
    units = {s: (by_stage[s]["in_unit"], by_stage[s]["kept_unit"]) for s in stages}
    assert units == {"templating": ("rows", "examples"), "self_instruct": ("seed tasks", "records"),
                     "dedup": ("records", "records"), "judge": ("records", "records"),
                     "preferences": ("prompts", "pairs")}
    assert by_stage["self_instruct"]["in"] == 30  # the demo's seed tasks
    assert "templating  rows: 80 in = " in result.output
    (published,) = summary["publish"]["targets"]  # the demo's publish: section, last stage
    assert published["status"] == "published" and published["target"] == str(out / "dataset")
    assert sum(published["rows"]["sft"].values()) == by_stage["judge"]["kept"]
    assert sum(published["rows"]["preferences"].values()) == by_stage["preferences"]["kept"]
    assert "load_dataset" in (out / "dataset" / "README.md").read_text()
    assert "publish:" in (out / "pipeline.yaml").read_text()


@pytest.mark.usefixtures("prefect_harness", "embedded_generator")
def test_generate_command_with_the_embedded_model(tmp_path):
    prompts = tmp_path / "p.jsonl"
    prompts.write_text('{"prompt": "Name a primary colour."}\n{"prompt": "Say hi."}\n')
    result = runner.invoke(app, ["generate", str(prompts), "--out", str(tmp_path / "out"),
                                 "--max-new-tokens", "8"])
    assert result.exit_code == 0, result.output
    from pipelines.io import load_run

    rows = load_run(tmp_path / "out")
    assert len(rows) == 2 and all(r["completions"][0]["text"] for r in rows)
    assert rows[0]["completions"][0]["completion_tokens"] <= 8


def test_generate_command_rejects_bad_parameters(tmp_path):
    prompts = tmp_path / "p.jsonl"
    prompts.write_text('{"prompt": "x"}\n')
    result = runner.invoke(app, ["generate", str(prompts), "--out", str(tmp_path / "o"), "--n", "3"])
    assert result.exit_code == 2
    assert "greedy completions would be identical" in result.output
