"""Preference pairs as two cached stages: sampling per shard of prompts (submitted together, the
resume unit), then pairing over every shard's samples.

    <out>/samples/shard-00000/   kept/ = prompt + K candidates, rejected/ = repeated answers
    <out>/kept/                  preference pairs (TRL conversational format)
    <out>/rejected/              prompts and pairs that stopped, with reasons
    <out>/best_of_n/             the top-scored response per prompt, as instruction records
    <out>/scores.png             every candidate's score
    <out>/stats.json, manifest.json

A crash while sampling loses at most the shards in flight: finished shards are cache hits on the
next run. Shards are independent, so a parallel task runner samples them side by side.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow

from flows.common import StageInputs, StageTask, digest_sources, publish_summary, task_runner
from flows.executor import on_executor
from pipelines.io import output_lock, read_sources
from pipelines.models import load_generator
from pipelines.plots import histogram_png
from pipelines.preferences import (
    PreferenceConfig,
    pair_responses,
    preference_sources,
    read_prompts,
    sample_responses,
    scorer_model,
)

PLOT = "scores.png"
CODE = ("pipelines.preferences", "pipelines.generate", "pipelines.models")


def _shard(call) -> StageInputs:
    start, stop = call.extra["rows"]
    return StageInputs(read_sources(call.sources, allow_empty=True).select(range(start, stop)))


def _plot_scores(result, call) -> list[str]:
    stats = result.stats  # its self-preference warning is logged with the counts
    hist = stats["score_histogram"]
    histogram_png(hist["counts"], hist["edges"], Path(call.out) / PLOT,
                  title=f"Candidate scores ({stats['scorer']['kind']})", xlabel="score")
    return [PLOT]


SAMPLE = StageTask("preferences_samples", sample_responses, read=_shard, code=CODE,
                   model=lambda config: on_executor(load_generator))
PAIRS = StageTask("preferences", pair_responses, code=(*CODE, "pipelines.judge"),
                  read=lambda call: StageInputs(read_sources(call.sources, allow_empty=True)),
                  model=lambda config: scorer_model(config.scorer, on_executor(load_generator)),
                  artifacts=_plot_scores)


def run_preferences(config: PreferenceConfig, out: str | Path, *, sources: list[str | Path],
                    jsonl: bool = False) -> dict[str, Any]:
    """Call inside a flow: sample every shard (cached), then score and pair into `out`."""
    n = len(read_prompts(config, sources))  # every prompt checked before any model runs
    size = config.shard_size
    shards = [(i, min(i + size, n)) for i in range(0, n, size)] or [(0, 0)]
    inputs = digest_sources(sources)
    calls = [SAMPLE.call(config, Path(out) / "samples" / f"shard-{k:05d}", sources=sources,
                         inputs=inputs, extra={"rows": list(rows)}) for k, rows in enumerate(shards)]
    SAMPLE.map(calls, progress="preferences: shards sampled")
    files = [Path(c.out) / "kept" / "part-00000.parquet" for c in calls]
    return PAIRS.run(PAIRS.call(config, out, sources=files, jsonl=jsonl))


@flow(name="tuneset-preferences", task_runner=task_runner())
def preferences_flow(config: PreferenceConfig, out: str, jsonl: bool = False) -> dict[str, Any]:
    """Sample, score and pair responses for the records of `config.inputs` into `out`."""
    with output_lock(out):
        summary = run_preferences(config, out, sources=preference_sources(config), jsonl=jsonl)
    publish_summary("tuneset preferences", [summary])
    return summary
