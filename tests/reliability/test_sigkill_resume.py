"""SIGKILL in the middle of preference sampling, then a re-run: the output is identical to a
clean run's, finished shards are not sampled again, and no record is lost or duplicated.

Real processes: `tuneset preferences` (the console entry point) with scripted models."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time

from pipelines.io import load_run, read_manifest, verify_run

RUN = textwrap.dedent("""
    import math, sys, time
    from pathlib import Path
    import flows.preferences as pref
    from pipelines.preferences.scorers import RatingScorer
    from tests.fakes import ScriptedGenerator

    LOG, DELAY = Path(sys.argv[3]), float(sys.argv[4])

    def respond(conversation, params, k):
        with LOG.open("a") as log:
            log.write(conversation[-1]["content"] + "\\n")
        time.sleep(DELAY)
        return " ".join(["word"] * (k + 1)) + " for " + conversation[-1]["content"]

    def scores(conversation, prefix, candidates):
        words = conversation[-1]["content"].count("word")
        return {c: (0.0 if int(c.strip()) == min(words, 5) else -math.inf) for c in candidates}

    sampler = ScriptedGenerator(respond, name="fake:sampler")
    judge = ScriptedGenerator([], scores=scores, name="fake:judge")
    pref.load_generator = lambda model: sampler
    pref.scorer_model = lambda config, loader: RatingScorer(judge, config.judge)
    from flows.cli import main
    sys.argv = ["tuneset", "preferences", sys.argv[1], "--out", sys.argv[2]]
    main()
""")
PROMPTS = 8


def _start(tmp_path, out, log, delay):
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    env.pop("PREFECT_API_URL", None)
    return subprocess.Popen([sys.executable, "-c", RUN, str(tmp_path / "spec.yaml"), str(out),
                             str(log), str(delay)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, env=env, text=True)


def _answered(log) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def _finished(shard) -> bool:
    """A shard's task has finished: its run folder is complete and Prefect has recorded the
    task's result in the folder's cache (a kill between the two redoes the shard)."""
    cache = shard / ".cache"
    return verify_run(shard) and cache.is_dir() and any(p.is_file() for p in cache.iterdir())


def test_sigkill_mid_sampling_then_rerun_equals_a_clean_run(tmp_path):
    (tmp_path / "prompts.jsonl").write_text(
        "".join(json.dumps({"prompt": f"question {i}"}) + "\n" for i in range(PROMPTS)))
    (tmp_path / "spec.yaml").write_text(json.dumps({"preferences": {
        "inputs": ["prompts.jsonl"], "shard_size": 2, "scorer": {"judge": {"mode": "logprob"}},
        "samplers": [{"params": {"temperature": 1.0, "max_new_tokens": 8}, "n": 3}]}}))
    out, log = tmp_path / "out", tmp_path / "killed.log"
    killed = _start(tmp_path, out, log, delay=0.4)
    deadline = time.monotonic() + 240
    while not _finished(out / "samples" / "shard-00001"):
        assert killed.poll() is None, killed.stdout.read()
        assert time.monotonic() < deadline, "sampling did not get past two shards"
        time.sleep(0.1)
    killed.kill()
    killed.wait()
    assert not verify_run(out)
    done_before = _answered(log)

    resumed = _start(tmp_path, out, tmp_path / "resumed.log", delay=0)
    assert resumed.wait(timeout=300) == 0, resumed.stdout.read()
    clean = _start(tmp_path, tmp_path / "clean", tmp_path / "clean.log", delay=0)
    assert clean.wait(timeout=300) == 0, clean.stdout.read()

    again = set(_answered(tmp_path / "resumed.log"))
    assert {"question 0", "question 1", "question 2", "question 3"} <= set(done_before)
    assert not again & {"question 0", "question 1", "question 2", "question 3"}
    for part in ("kept", "rejected", "best_of_n"):
        assert load_run(out, part).to_list() == load_run(tmp_path / "clean", part).to_list()
    rows = read_manifest(out)["rows"]
    assert rows == read_manifest(tmp_path / "clean")["rows"] and rows["best_of_n"] == PROMPTS
