"""Self-instruct as Prefect tasks: one cached task per round, then a merge into the run folder.

    <out>/rounds/round-000/   kept/, rejected/, stats.json, manifest.json (one round)
    <out>/kept/, <out>/rejected/, <out>/stats.json, <out>/rouge_similarity.png, manifest.json

Round r is keyed on the config, the seed file, the stage's code and the tasks accepted before
it, so a re-run after a crash finds the finished rounds in the cache and resumes at the first
unfinished one. Model errors are retried; bad input and config never are.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import datasets
from prefect import flow, task
from prefect.artifacts import create_progress_artifact, update_progress_artifact

from flows.common import (
    code_digest,
    digest_inputs,
    never_retry_user_errors,
    persist_stage,
    publish_summary,
    run_stage_task,
    stage_cache_key,
)
from pipelines.io import load_run
from pipelines.models import load_generator
from pipelines.plots import histogram_png
from pipelines.self_instruct.config import SelfInstructConfig
from pipelines.self_instruct.loop import ROUGE_BINS, merge_stats, round_result, run_round
from pipelines.self_instruct.seeds import Task, load_seeds
from pipelines.stage import StageResult

STAGE = "self_instruct"
PLOT = "rouge_similarity.png"


@task(name="self-instruct-round", cache_key_fn=stage_cache_key, persist_result=True, retries=1,
      retry_condition_fn=never_retry_user_errors)
def round_task(config: SelfInstructConfig, out: str, inputs: dict[str, str], code: str,
               extra: dict[str, Any]) -> dict[str, Any]:
    seeds = load_seeds(config.seeds, config.seed_fields)
    machine = [Task(t["id"], t["instruction"], machine=True) for t in extra["machine"]]
    result = run_round(extra["round"], seeds, machine, config, load_generator(config.model))
    rows = round_result(result)
    # subtle: a generator stage's rows out (records plus rejected candidates and instances) are
    # its "in" for the counts table; stats.json has the candidate counts
    summary = persist_stage(f"{STAGE}_round_{extra['round']}", out, rows,
                            n_in=len(rows.kept) + len(rows.rejected),
                            config=config.model_dump(mode="json"), inputs=inputs)
    return {**summary, "stats": result.stats,
            "accepted": [{"id": t.id, "instruction": t.instruction} for t in result.accepted]}


def run_self_instruct_stage(config: SelfInstructConfig, out: str | Path, *,
                            jsonl: bool = False) -> dict[str, Any]:
    """Call inside a flow: run (or resume) the rounds, then merge them into `out`."""
    out = Path(out)
    inputs = digest_inputs([config.seeds])
    code = code_digest("pipelines.self_instruct")
    progress = create_progress_artifact(0.0, description="self-instruct: accepted / target")
    machine: list[dict[str, str]] = []
    rounds: list[dict[str, Any]] = []
    for index in range(config.max_rounds):
        if len(machine) >= config.target:
            break
        folder = out / "rounds" / f"round-{index:03d}"
        summary = run_stage_task(round_task, folder, config, str(folder), inputs, code,
                                 {"round": index, "machine": list(machine)})
        rounds.append(summary)
        machine.extend(summary["accepted"])
        update_progress_artifact(progress, 100.0 * min(len(machine), config.target) / config.target)
    return merge_rounds(config, out, rounds, inputs, jsonl=jsonl)


def merge_rounds(config: SelfInstructConfig, out: Path, rounds: list[dict[str, Any]],
                 inputs: dict[str, str], *, jsonl: bool = False) -> dict[str, Any]:
    folders = [Path(r["out"]) for r in rounds]
    kept = datasets.concatenate_datasets([load_run(f, "kept") for f in folders])
    rejected = datasets.concatenate_datasets([load_run(f, "rejected") for f in folders])
    stats = merge_stats([r["stats"] for r in rounds], config)
    stats["cached_rounds"] = sum(r["cached"] for r in rounds)
    edges = [i / ROUGE_BINS for i in range(ROUGE_BINS + 1)]
    histogram_png(stats["rouge_histogram"], edges, out / PLOT,
                  title="Candidates: highest ROUGE-L F1 to the pool", xlabel="ROUGE-L F1",
                  marker=config.filters.rouge_threshold, marker_label="rejection threshold")
    result = StageResult(kept=kept, rejected=rejected, stats=stats)
    return {**persist_stage(STAGE, out, result, n_in=len(kept) + len(rejected),
                            config=config.model_dump(mode="json"), inputs=inputs, jsonl=jsonl,
                            extra_files=[PLOT]),
            "rounds": len(rounds), "cached_rounds": stats["cached_rounds"]}


@flow(name="tuneset-self-instruct")
def self_instruct_flow(config: SelfInstructConfig, out: str, jsonl: bool = False) -> dict[str, Any]:
    """Bootstrap new tasks from the seed tasks into a run folder at `out`."""
    summary = run_self_instruct_stage(config, out, jsonl=jsonl)
    publish_summary("tuneset self-instruct", [summary])
    return summary
