import json

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

import flows.judge
from flows.judge import judge_eval_flow, judge_flow
from flows.pipeline import pipeline_flow
from pipelines.errors import InputError
from pipelines.io import load_run, read_manifest, verify_run
from pipelines.judge import JudgeConfig
from tests.fakes import ScriptedGenerator

from ..pipelines.judge.helpers import instruction_rows
from ..pipelines.templating.helpers import NLI_ROWS, nli_spec, write_jsonl

pytestmark = pytest.mark.usefixtures("prefect_harness")


def scores_by_length(conv, params, k):
    """A fake judge: long answers score 5, short ones 2."""
    return "Score: 5" if "long answer" in conv[0]["content"] else "Score: 2"


@pytest.fixture
def fake(monkeypatch):
    judge = ScriptedGenerator(scores_by_length)
    monkeypatch.setattr(flows.judge, "load_generator", lambda config: judge)
    return judge


@pytest.fixture
def records(tmp_path):
    return write_jsonl(tmp_path / "records.jsonl",
                       instruction_rows("a long answer", "short", "another long answer"))


def test_flow_writes_a_run_folder_with_the_histogram(tmp_path, fake, records):
    out = tmp_path / "run"
    summary = judge_flow(JudgeConfig(inputs=[records]), str(out))
    assert verify_run(out) and summary["rows"] == {"kept": 2, "rejected": 1}
    manifest = read_manifest(out)
    assert "score_histogram.png" in manifest["files"]
    assert (out / "score_histogram.png").read_bytes()[:4] == b"\x89PNG"
    assert load_run(out)["judge_score"] == [5.0, 5.0]


def test_second_run_is_cached_and_a_new_threshold_is_not(tmp_path, fake, records):
    out = str(tmp_path / "run")
    assert judge_flow(JudgeConfig(inputs=[records]), out)["cached"] is False
    calls = len(fake.calls)
    assert judge_flow(JudgeConfig(inputs=[records]), out)["cached"] is True
    assert len(fake.calls) == calls
    assert judge_flow(JudgeConfig(inputs=[records], threshold=1.0), out)["cached"] is False


def test_changed_input_is_judged_again(tmp_path, fake, records):
    out = str(tmp_path / "run")
    judge_flow(JudgeConfig(inputs=[records]), out)
    write_jsonl(records, instruction_rows("a long answer"))
    summary = judge_flow(JudgeConfig(inputs=[records]), out)
    assert summary["cached"] is False and summary["rows"] == {"kept": 1, "rejected": 0}


def test_bad_input_fails_without_retrying_or_writing(tmp_path, fake):
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"instruction": "x", "output": "y"}, {"text": "z"}])
    with pytest.raises(InputError, match="line 2"):
        judge_flow(JudgeConfig(inputs=[bad]), str(tmp_path / "run"))
    assert fake.calls == [] and not (tmp_path / "run" / "manifest.json").exists()


def test_pipeline_judges_the_templating_stage_output(tmp_path, fake):
    source = write_jsonl(tmp_path / "nli.jsonl", NLI_ROWS)
    config = tmp_path / "pipeline.yaml"
    config.write_text(json.dumps({"templating": {"tasks": [nli_spec(source.name)]},
                                  "judge": {"threshold": 1.0}}))
    summary = pipeline_flow(str(config), str(tmp_path / "out"))
    assert [s["stage"] for s in summary["stages"]] == ["templating", "judge"]
    assert summary["stages"][1]["in"] == summary["stages"][0]["kept"] == 6
    assert len(fake.calls[0]["conversations"]) == 6


def test_judge_eval_writes_report_rows_and_a_table_artifact(tmp_path, monkeypatch):
    monkeypatch.setattr(flows.judge, "load_generator",
                        lambda config: ScriptedGenerator(lambda c, p, k: "Verdict: A"))
    labelled = write_jsonl(tmp_path / "prefs.jsonl", [
        {"prompt": "2 + 2?", "chosen": "4", "rejected": "five"},
        {"prompt": "Sky colour?", "chosen": "Blue on a clear day.", "rejected": "Green."}])
    out = tmp_path / "eval"
    report = judge_eval_flow(str(labelled), JudgeConfig(), str(out))
    assert report["rows"] == 2 and report["judge_metrics"]["tie_rate"] == 1.0
    assert json.loads((out / "judge_eval.json").read_text())["baselines"]["longest"]["agreement"] == 0.5
    assert len((out / "verdicts.jsonl").read_text().splitlines()) == 2
    assert judge_eval_flow(str(labelled), JudgeConfig(), str(out))["cached"] is True
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["judge-eval"])))
    assert artifacts and artifacts[0].type == "table" and "longest answer" in str(artifacts[0].data)
