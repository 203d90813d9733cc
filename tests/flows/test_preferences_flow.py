import json
import math

import pytest
from prefect.task_runners import ThreadPoolTaskRunner
from typer.testing import CliRunner

import flows.preferences as pref_flow
from flows.cli import app
from pipelines.io import load_run, read_manifest, verify_run
from pipelines.preferences.config import PreferenceConfig
from pipelines.preferences.scorers import RatingScorer
from tests.fakes import Meeting, ScriptedGenerator

pytestmark = pytest.mark.usefixtures("prefect_harness")


class Models:
    """Sampler answers: three lengths per prompt; judge scores: longer answers rate higher.
    `fail_after` makes sampling crash once that many prompts have been answered."""

    def __init__(self, fail_after=None):
        self.fail_after, self.answered = fail_after, 0
        self.sampler = ScriptedGenerator(self.respond, name="fake:sampler")
        self.judge = ScriptedGenerator([], scores=self.scores, name="fake:judge")

    def respond(self, conv, params, k):
        self.answered += 1
        if self.fail_after is not None and self.answered > self.fail_after:
            raise RuntimeError("simulated crash")
        return " ".join(["word"] * (k + 1)) + f" for {conv[-1]['content']}"

    def scores(self, conv, prefix, cands):
        words = conv[-1]["content"].count("word")
        return {c: (0.0 if int(c.strip()) == min(words, 5) else -math.inf) for c in cands}


def _prompts(tmp_path, n=5):
    path = tmp_path / "prompts.jsonl"
    path.write_text("".join(json.dumps({"prompt": f"question {i}"}) + "\n" for i in range(n)))
    return path


def _config(tmp_path, **kw):
    return PreferenceConfig(inputs=[_prompts(tmp_path)], shard_size=2,
                            samplers=[{"params": {"temperature": 1.0, "max_new_tokens": 8}, "n": 3}],
                            scorer={"judge": {"mode": "logprob"}}, **kw)


def _patch(monkeypatch, models):
    """Samplers get the scripted sampler; the scorer rates with the scripted judge."""
    monkeypatch.setattr(pref_flow, "load_generator", lambda config: models.sampler)
    monkeypatch.setattr(pref_flow, "scorer_model",
                        lambda config, loader: RatingScorer(models.judge, config.judge))


def test_flow_writes_pairs_best_of_n_and_a_plot(tmp_path, monkeypatch):
    models = Models()
    _patch(monkeypatch, models)
    out = tmp_path / "out"
    summary = pref_flow.preferences_flow(_config(tmp_path), str(out))
    assert verify_run(out) and summary["kept"] == 5
    pairs = load_run(out)
    assert all(p["score_chosen"] > p["score_rejected"] for p in pairs)
    assert read_manifest(out)["rows"]["best_of_n"] == 5
    assert (out / "scores.png").read_bytes()[:4] == b"\x89PNG"
    assert sorted(p.name for p in (out / "samples").iterdir()) == ["shard-00000", "shard-00001", "shard-00002"]


def test_crash_mid_sampling_resumes_from_finished_shards(tmp_path, monkeypatch):
    crashing = Models(fail_after=7)  # shard 0 (2 prompts x 3) and part of shard 1
    _patch(monkeypatch, crashing)
    out = tmp_path / "out"
    config = _config(tmp_path)
    with pytest.raises(RuntimeError, match="simulated crash"):
        pref_flow.preferences_flow(config, str(out))
    assert verify_run(out / "samples/shard-00000") and not verify_run(out / "samples/shard-00001")
    healthy = Models()
    _patch(monkeypatch, healthy)
    pref_flow.preferences_flow(config, str(out))
    answered = [c["conversations"] for c in healthy.sampler.calls]
    assert sum(len(c) for c in answered) == 3  # shards 1 and 2 only: prompts 2, 3, 4
    assert verify_run(out)


def test_cli_needs_inputs_and_runs(tmp_path, monkeypatch):
    _patch(monkeypatch, Models())
    spec = tmp_path / "p.yaml"
    spec.write_text("preferences:\n  samplers: [{params: {temperature: 1.0}, n: 2}]\n")
    result = CliRunner().invoke(app, ["preferences", str(spec), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "preferences.inputs" in result.output
    spec.write_text(f"preferences:\n  inputs: [{_prompts(tmp_path)}]\n"
                    "  samplers: [{params: {temperature: 1.0}, n: 2}]\n"
                    "  scorer: {judge: {mode: logprob}}\n")
    result = CliRunner().invoke(app, ["preferences", str(spec), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert verify_run(tmp_path / "o")


def test_shards_run_side_by_side_with_the_serial_output(tmp_path, monkeypatch):
    config = _config(tmp_path)
    _patch(monkeypatch, Models())
    serial = pref_flow.preferences_flow(config, str(tmp_path / "serial"))
    models, meeting = Models(), Meeting()
    inner = models.sampler.generate
    models.sampler.generate = lambda *args, **kw: (meeting(), inner(*args, **kw))[1]
    _patch(monkeypatch, models)
    parallel = pref_flow.preferences_flow.with_options(
        task_runner=ThreadPoolTaskRunner(max_workers=3))(config, str(tmp_path / "parallel"))
    assert meeting.calls == 3 and serial["rows"] == parallel["rows"]
    for part in ("kept", "rejected", "best_of_n"):
        assert load_run(tmp_path / "serial", part).to_list() == \
            load_run(tmp_path / "parallel", part).to_list()
