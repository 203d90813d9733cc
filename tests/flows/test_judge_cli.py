import json

import pytest
from typer.testing import CliRunner

import flows.judge
from flows.cli import app
from pipelines.io import load_run, verify_run
from tests.fakes import ScriptedGenerator

from ..pipelines.judge.helpers import instruction_rows, rte_preferences
from ..pipelines.templating.helpers import write_jsonl
from .test_cli import prefect_logs_to_real_stderr  # noqa: F401 - autouse fixture

runner = CliRunner()


@pytest.fixture
def records(tmp_path):
    return write_jsonl(tmp_path / "records.jsonl", instruction_rows("Blue.", "Red."))


@pytest.mark.usefixtures("prefect_harness")
def test_judge_command_writes_a_run_folder(tmp_path, records, monkeypatch):
    judge = ScriptedGenerator(["Score: 5\nRight.", "Score: 3\nMeh."])
    monkeypatch.setattr(flows.judge, "load_generator", lambda config: judge)
    config = tmp_path / "judge.yaml"
    config.write_text("judge:\n  threshold: 4\n")
    result = runner.invoke(app, ["judge", str(config), "--input", str(records),
                                 "--out", str(tmp_path / "out"), "--jsonl"])
    assert result.exit_code == 0, result.output
    assert verify_run(tmp_path / "out") and load_run(tmp_path / "out")["output"] == ["Blue."]
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())
    assert stats["rejected"] == {"judge_below_threshold": 1}
    assert (tmp_path / "out" / "kept" / "part-00000.jsonl").exists()


@pytest.mark.parametrize("body, message", [
    ("judge: {threshold: 7}", "judge.threshold: input should be less than or equal to 5"),
    ("judge: {mode: guess}", "judge.mode: input should be 'parse' or 'logprob'"),
    ("judge: {}", "judge.inputs: nothing to judge"),
])
def test_bad_judge_config_exits_2_with_the_problem(tmp_path, body, message):
    config = tmp_path / "judge.yaml"
    config.write_text(body + "\n")
    result = runner.invoke(app, ["judge", str(config), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output


def test_judge_eval_with_an_unknown_comparison_exits_2(tmp_path):
    labelled = write_jsonl(tmp_path / "p.jsonl", [{"prompt": "a", "chosen": "b", "rejected": "c"}])
    result = runner.invoke(app, ["judge-eval", str(labelled), "--comparison", "vote",
                                 "--out", str(tmp_path / "out")])
    assert result.exit_code == 2 and "judge.comparison" in result.output


@pytest.mark.usefixtures("prefect_harness", "embedded_generator")
def test_judge_eval_on_rte_with_the_embedded_model(tmp_path, shared_data):
    labelled = write_jsonl(tmp_path / "rte_prefs.jsonl", rte_preferences(shared_data, 16))
    result = runner.invoke(app, ["judge-eval", str(labelled), "--mode", "logprob",
                                 "--out", str(tmp_path / "eval")])
    assert result.exit_code == 0, result.output
    report = json.loads((tmp_path / "eval" / "judge_eval.json").read_text())
    judge = report["judge_metrics"]
    assert report["rows"] == 16 and report["judge"]["mode"] == "logprob"
    assert judge["parse_failure_rate"] == 0.0 and 0 <= judge["agreement"] <= 1
    assert 0 <= judge["position_consistency"] <= 1 and 0 <= judge["p_prefer_first"] <= 1
    assert report["baselines"]["longest"]["agreement"] == 0.5  # "no" is the longer answer
    assert 0 <= report["baselines"]["random"]["agreement"] <= 1
    assert "longest" in result.output and "random" in result.output


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness", "embedded_generator")
def test_demo_config_with_the_embedded_models(tmp_path):
    """`make demo` for real: every stage with the embedded model, judge included."""
    from pathlib import Path

    demo = Path(__file__).resolve().parents[2] / "configs" / "demo.yaml"
    result = runner.invoke(app, ["run", str(demo), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    stats = json.loads((tmp_path / "judge" / "stats.json").read_text())
    dedup = json.loads((tmp_path / "dedup" / "manifest.json").read_text())
    assert stats["rows_in"] == dedup["rows"]["kept"] and stats["kept"] > 0
    assert stats["parse_errors"] == {}
    assert all(verify_run(tmp_path / s) for s in ("judge", "preferences"))
    pairs = json.loads((tmp_path / "preferences" / "stats.json").read_text())
    assert pairs["prompts"] == stats["kept"] and pairs["pairs"] > 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["publish"]["new_version"] and (tmp_path / "dataset" / "README.md").exists()
