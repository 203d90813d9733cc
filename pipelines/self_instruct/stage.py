"""The self-instruct stage: seed tasks in, machine-written instruction records out.

Rounds run until `target` tasks are accepted or `max_rounds` is reached; each round sees the
seeds and every task accepted before it (`rounds`). A generator stage: `stats` accounts for every
candidate (`candidates == accepted + rejected instructions`), and `rejected` holds each dropped
candidate or instance as its instruction / input / output, with the round, the kind
(instruction or instance), the most similar pool task and its ROUGE-L score where that decided.

    >>> from pipelines.self_instruct.seeds import read_seeds
    >>> from tests.pipelines.self_instruct.helpers import SelfInstructFake
    >>> config = SelfInstructConfig(seeds="configs/demo_data/seed_tasks.jsonl", target=2,
    ...                             max_rounds=1, requests_per_round=1)
    >>> result = bootstrap_instructions(read_seeds(config), config, model=SelfInstructFake())
    >>> result.stats["rounds"], result.stats["accepted"], len(result.kept)
    (1, 3, 6)
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import datasets

from pipelines.models import ModelSource, resolve_model
from pipelines.self_instruct.config import SelfInstructConfig
from pipelines.self_instruct.rounds import ROUGE_BINS, STAGE, new_rejections, run_round
from pipelines.self_instruct.seeds import Task, seed_tasks
from pipelines.stage import Progress, StageResult


def bootstrap_instructions(records: datasets.Dataset, config: SelfInstructConfig, *,
                           model: ModelSource | None = None,
                           progress: Progress | None = None) -> StageResult:
    """Bootstrap new tasks from the seed task records, every round in this process (the flow
    runs the same rounds as cached tasks, with instance shards side by side)."""
    generator = resolve_model(model, config.model, stage=STAGE)
    seeds = seed_tasks(records, config.seed_fields)
    machine: list[Task] = []
    rounds: list[StageResult] = []
    for index in range(config.max_rounds):
        if len(machine) >= config.target:
            break
        out = run_round(index, seeds, machine, config, generator)
        rounds.append(out.result())
        machine.extend(out.accepted)
        if progress:
            progress(min(len(machine), config.target), config.target)
    return merge_rounds(rounds, config)


def merge_rounds(rounds: list[StageResult], config: SelfInstructConfig) -> StageResult:
    """The stage's result from its rounds' results: records and rejections in round order,
    totals over rounds (plus the per-round figures)."""
    rejections = new_rejections()
    total: Counter[str] = Counter()
    histogram = [0] * ROUGE_BINS
    for result in rounds:
        rejections.extend(result.rejected)
        for key, value in result.stats.items():
            if isinstance(value, int) and key != "round":
                total[key] += value
        histogram = [a + b for a, b in zip(histogram, result.stats["rouge_histogram"])]
    kept = [r.kept for r in rounds]
    stats: dict[str, Any] = rejections.stats(
        mode=config.mode, rounds=len(rounds), **dict(total), rouge_histogram=histogram,
        target=config.target, per_round=[r.stats for r in rounds])
    return StageResult(kept=datasets.concatenate_datasets(kept) if kept else _empty_records(),
                       rejected=rejections.dataset(), stats=stats)


def _empty_records() -> datasets.Dataset:
    from pipelines.records import InstructionRecord, to_dataset

    return to_dataset([], InstructionRecord)
