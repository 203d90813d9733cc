"""Self-instruct as cached tasks: per round a plan (bootstrap, filters, classification), instance
shards submitted together, and the round's run folder; then the merge into the stage's folder.

    <out>/rounds/round-000/   kept/, rejected/, stats.json, manifest.json (one round)
    <out>/kept/, <out>/rejected/, <out>/stats.json, <out>/rouge_similarity.png, manifest.json

Round r is keyed on the config, the seed file, the stage's code and the tasks accepted before
it, so a re-run after a crash finds the finished rounds (and instance shards) in the cache.
Rounds run in order, each on the tasks accepted before it; a round's instance shards are
independent, so a parallel task runner generates them side by side.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from pathlib import Path
from typing import Any

from prefect import flow
from prefect.artifacts import create_progress_artifact, update_progress_artifact

from flows.common import (
    cached_task,
    digest_inputs,
    make_call,
    persist_stage,
    publish_summary,
    run_cached,
    run_folder,
    submit_cached,
    task_runner,
    wait_cached,
)
from flows.executor import on_executor
from pipelines.io import load_run, output_lock, raw_files
from pipelines.models import load_generator
from pipelines.plots import histogram_png
from pipelines.self_instruct import SelfInstructConfig, merge_rounds, read_seeds, seed_tasks
from pipelines.self_instruct.rounds import (
    ROUGE_BINS,
    finish_round,
    generate_instances,
    plan_round,
)
from pipelines.self_instruct.seeds import Task
from pipelines.stage import StageResult

PLOT = "rouge_similarity.png"
CODE = ("pipelines.self_instruct", "pipelines.models")


@cached_task
def plan_task(call):
    config = call.config
    machine = [Task(t["id"], t["instruction"], machine=True) for t in call.extra["machine"]]
    return plan_round(call.extra["round"], seed_tasks(read_seeds(config), config.seed_fields),
                      machine, config, on_executor(load_generator)(config.model))


@cached_task
def instances_task(call, plan):
    started = time.perf_counter()
    made = generate_instances(plan, tuple(call.extra["shard"]), call.config,
                              on_executor(load_generator)(call.config.model))
    return made, time.perf_counter() - started


@cached_task
def round_task(call, plan, shards) -> dict[str, Any]:
    out = finish_round(plan, [item for made, _ in shards for item in made], call.config,
                       seconds=sum(seconds for _, seconds in shards))
    result = out.result()
    with run_folder(call) as target:
        # a generator's "in" is its seed tasks; pipelines.counts balances candidates and instances
        summary = persist_stage(target, result, n_in=len(read_seeds(call.config)))
    return {**summary, "accepted": [{"id": t.id, "instruction": t.instruction} for t in out.accepted]}


@cached_task
def merge_task(call) -> dict[str, Any]:
    rounds = [StageResult(load_run(f, "kept"), load_run(f, "rejected"),
                          json.loads((Path(f) / "stats.json").read_text(encoding="utf-8")))
              for f in call.sources]
    result = merge_rounds(rounds, call.config)
    with run_folder(call) as target:
        histogram_png(result.stats["rouge_histogram"], [i / ROUGE_BINS for i in range(ROUGE_BINS + 1)],
                      Path(target.out) / PLOT, title="Candidates: highest ROUGE-L F1 to the pool",
                      xlabel="ROUGE-L F1", marker=call.config.filters.rouge_threshold,
                      marker_label="rejection threshold")
        return persist_stage(target, result, n_in=len(read_seeds(call.config)), extra_files=[PLOT])


def run_round_tasks(call) -> tuple[dict[str, Any], bool]:
    """One round: its plan, its instance shards side by side, its run folder; (summary, cached)."""
    plan, _ = run_cached(plan_task, dataclasses.replace(call, task="self_instruct_plan"),
                         folder=False)
    shards = [dataclasses.replace(call, task="self_instruct_instances", extra={
        **call.extra, "shard": list(shard), "prompts": hashlib.sha256(json.dumps(
            plan.instance_prompts[shard[0]:shard[1]]).encode()).hexdigest()})
        for shard in plan.shards(call.config.instances.shard_size)]
    made = wait_cached([submit_cached(instances_task, s, plan, folder=False) for s in shards])
    return run_cached(round_task, call, plan, [result for result, _ in made])


def run_self_instruct_stage(config: SelfInstructConfig, out: str | Path, *,
                            jsonl: bool = False) -> dict[str, Any]:
    """Call inside a flow: run (or resume) the rounds, then merge them into `out`."""
    read_seeds(config)  # every seed checked before any model runs
    inputs = digest_inputs(raw_files(config.seeds))
    progress = create_progress_artifact(0.0, description="self-instruct: accepted / target")
    machine: list[dict[str, str]] = []
    rounds: list[tuple[dict[str, Any], bool]] = []
    for index in range(config.max_rounds):
        if len(machine) >= config.target:
            break
        folder = Path(out) / "rounds" / f"round-{index:03d}"
        call = make_call(f"self_instruct_round_{index}", config, folder, code=CODE, inputs=inputs,
                         extra={"round": index, "machine": list(machine)})
        rounds.append(run_round_tasks(call))
        machine.extend(rounds[-1][0]["accepted"])
        update_progress_artifact(progress, 100.0 * min(len(machine), config.target) / config.target)
    folders = [summary["out"] for summary, _ in rounds]
    parts = [Path(f) / name for f in folders for name in ("kept", "rejected", "stats.json")]
    merged, cached = run_cached(merge_task, make_call("self_instruct", config, out, code=CODE,
                                                      sources=folders, inputs=digest_inputs(parts),
                                                      jsonl=jsonl))
    return {**merged, "cached": cached, "rounds": len(rounds),
            "cached_rounds": sum(cached for _, cached in rounds)}


@flow(name="tuneset-self-instruct", task_runner=task_runner())
def self_instruct_flow(config: SelfInstructConfig, out: str, jsonl: bool = False) -> dict[str, Any]:
    """Bootstrap new tasks from the seed tasks into a run folder at `out`."""
    with output_lock(out):
        summary = run_self_instruct_stage(config, out, jsonl=jsonl)
    publish_summary("tuneset self-instruct", [summary])
    return summary
