"""Preference pairs as Prefect tasks: sampling per shard of prompts (cached, the resume unit),
then one scoring-and-selection task.

    <out>/samples/shard-00000/   kept/ = prompt + K candidates (one run folder per shard)
    <out>/kept/                  preference pairs (TRL conversational format)
    <out>/rejected/              prompts and pairs that stopped, with reasons
    <out>/best_of_n/             the top-scored response per prompt, as instruction records
    <out>/scores.png             every candidate's score
    <out>/stats.json, manifest.json

A crash while sampling loses at most the shard in flight: finished shards are cache hits on the
next run. Model errors are retried; bad input and config never are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import datasets
from prefect import flow, task
from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.logging import get_run_logger

from flows.common import (
    code_digest,
    digest_inputs,
    digest_sources,
    never_retry_user_errors,
    persist_stage,
    publish_summary,
    run_stage_task,
    stage_cache_key,
)
from pipelines.generate import conversation_of
from pipelines.io import read_sources, write_run
from pipelines.models import load_generator
from pipelines.plots import histogram_png
from pipelines.preferences.config import PreferenceConfig
from pipelines.preferences.scorers import build_scorer
from pipelines.preferences.stage import build_pairs, sample_prompts

STAGE = "preferences"
PLOT = "scores.png"


def _check_prompts(field: str | None):
    def check(dataset: datasets.Dataset) -> None:
        for i, row in enumerate(dataset):
            conversation_of(row, field, row_index=i)
    return check


@task(name="preferences-sample", cache_key_fn=stage_cache_key, persist_result=True, retries=1,
      retry_condition_fn=never_retry_user_errors)
def sample_task(config: PreferenceConfig, out: str, inputs: dict[str, str], code: str,
                extra: dict[str, Any]) -> dict[str, Any]:
    samplers = [(load_generator(s.model), s.params, s.n) for s in config.samplers]
    samples = sample_prompts(extra["prompts"], samplers)
    empty = samples.select([])
    manifest = write_run(out, stage=f"{STAGE}_samples", kept=samples, rejected=empty,
                         stats={"shard": extra["shard"], "prompts": len(samples)},
                         config=config.model_dump(mode="json"), inputs=inputs)
    return {"out": out, "rows": manifest["rows"]}


@task(name="preferences", cache_key_fn=stage_cache_key, persist_result=True, retries=1,
      retry_condition_fn=never_retry_user_errors)
def pairs_task(config: PreferenceConfig, out: str, inputs: dict[str, str], code: str,
               jsonl: bool = False) -> dict[str, Any]:
    samples = read_sources(sorted(inputs))
    scorer = build_scorer(config.scorer, load_generator)
    result, best = build_pairs(samples, config, scorer)
    if result.stats["self_preference_warning"]:
        get_run_logger().warning(result.stats["self_preference_warning"])
    _plot_scores(result.stats, Path(out) / PLOT)
    return persist_stage(STAGE, out, result, n_in=len(samples), config=config.model_dump(mode="json"),
                         inputs=inputs, jsonl=jsonl, extra_files=[PLOT],
                         extra_datasets={"best_of_n": best} if config.best_of_n else None)


def _plot_scores(stats: dict[str, Any], path: Path) -> None:
    hist = stats["score_histogram"]
    histogram_png(hist["counts"], hist["edges"], path,
                  title=f"Candidate scores ({stats['scorer']['kind']})", xlabel="score")


def prompt_records(config: PreferenceConfig, sources: list[str | Path]) -> list[list[dict[str, str]]]:
    records = read_sources(sources, check=_check_prompts(config.prompt_field))
    return [conversation_of(row, config.prompt_field, row_index=i) for i, row in enumerate(records)]


def run_preferences(config: PreferenceConfig, out: str | Path, *, sources: list[str | Path],
                    jsonl: bool = False) -> dict[str, Any]:
    """Call inside a flow: sample each shard (cached), then score and select into `out`."""
    out = Path(out)
    conversations = prompt_records(config, sources)
    inputs = digest_sources(sources)
    code = code_digest("pipelines.preferences")
    progress = create_progress_artifact(0.0, description="preferences: shards sampled")
    shard_files: list[Path] = []
    size = config.shard_size
    shards = [conversations[i:i + size] for i in range(0, len(conversations), size)] or [[]]
    for index, prompts in enumerate(shards):
        folder = out / "samples" / f"shard-{index:05d}"
        run_stage_task(sample_task, folder, config, str(folder), inputs, code,
                       {"shard": index, "prompts": prompts})
        shard_files.append(folder / "kept" / "part-00000.parquet")
        update_progress_artifact(progress, 100.0 * (index + 1) / len(shards))
    return run_stage_task(pairs_task, out, config, str(out), digest_inputs(shard_files),
                          code + code_digest("pipelines.judge"), jsonl)


@flow(name="tuneset-preferences")
def preferences_flow(config: PreferenceConfig, out: str, jsonl: bool = False) -> dict[str, Any]:
    """Sample, score and pair responses for the records of `config.inputs` into `out`."""
    summary = run_preferences(config, out, sources=list(config.inputs), jsonl=jsonl)
    publish_summary("tuneset preferences", [summary])
    return summary
