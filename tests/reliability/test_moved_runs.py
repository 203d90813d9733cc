"""Caches key on content, not on where files are: a run folder copied elsewhere keeps its hits."""

from __future__ import annotations

import json
import shutil

import pytest

import flows.judge
import flows.preferences
from flows.common import make_call
from flows.pipeline import pipeline_flow
from pipelines.io import verify_run
from pipelines.preferences.scorers import RatingScorer
from tests.fakes import ScriptedGenerator

CONFIG = """
run: {name: moved}
dedup: {inputs: [records.jsonl]}
judge: {mode: parse, threshold: 3}
preferences:
  samplers: [{params: {temperature: 1.0, max_new_tokens: 8}, n: 2}]
  scorer: {judge: {mode: logprob}}
  shard_size: 2
"""


@pytest.fixture
def config(tmp_path, monkeypatch):
    rows = [{"instruction": f"Name colour number {i}.", "input": "", "output": "long answer" * i}
            for i in range(1, 5)]
    (tmp_path / "records.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "config.yaml").write_text(CONFIG)
    judge = ScriptedGenerator(lambda conv, params, k: "Score: 5" if "long answerlong" in
                              conv[0]["content"] else "Score: 2")
    sampler = ScriptedGenerator(lambda conv, params, k: "word " * (k + 1), name="fake:sampler")
    rater = ScriptedGenerator([], name="fake:rater", scores=lambda conv, prefix, cands: {
        c: -abs(float(c) - conv[-1]["content"].count("word")) for c in cands})
    monkeypatch.setattr(flows.judge, "load_generator", lambda model: judge)
    monkeypatch.setattr(flows.preferences, "load_generator", lambda model: sampler)
    monkeypatch.setattr(flows.preferences, "scorer_model",
                        lambda scorer, loader: RatingScorer(rater, scorer.judge))
    return tmp_path / "config.yaml"


@pytest.mark.usefixtures("prefect_harness")
def test_copied_run_folder_is_a_cache_hit_for_every_stage(tmp_path, config):
    first = pipeline_flow(str(config), str(tmp_path / "X"))
    assert [s["cached"] for s in first["stages"]] == [False, False, False]
    shutil.copytree(tmp_path / "X", tmp_path / "Y")
    shutil.rmtree(tmp_path / "X")
    again = pipeline_flow(str(config), str(tmp_path / "Y"))
    assert [s["cached"] for s in again["stages"]] == [True, True, True]
    assert [s["out"] for s in again["stages"]] == [str(tmp_path / "Y" / s)
                                                   for s in ("dedup", "judge", "preferences")]
    assert all(verify_run(tmp_path / "Y" / s) for s in ("dedup", "judge", "preferences"))


def test_key_counts_input_content_not_paths(tmp_path):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "records.jsonl").write_text('{"x": 1}\n')
    keys = {make_call("t", {}, tmp_path / "out", code=(), sources=[tmp_path / n / "records.jsonl"]).key
            for n in ("a", "b")}
    assert len(keys) == 1
    (tmp_path / "b" / "records.jsonl").write_text('{"x": 2}\n')
    assert make_call("t", {}, tmp_path / "out", code=(),
                     sources=[tmp_path / "b" / "records.jsonl"]).key not in keys
