"""The self-instruct bootstrap, one round at a time.

A round builds `requests_per_round` prompts from the pool as it stood when the round began (each
shows 8 numbered instructions: up to 2 machine-made, the rest seeds, shuffled; Alpaca mode shows
3 seed demonstrations instead), generates all of them in one batch, and walks the candidates in
order through the filters. An accepted instruction joins the ROUGE pool at once, so a near-copy
later in the same round is rejected. Accepted instructions are then classified (few-shot yes/no)
and given instances (output-first for classification, input-first otherwise); Alpaca tasks carry
their own instance.

    >>> out = run_round(0, seeds, [], config, model)
    >>> out.accepted, out.records, out.rejected, out.stats

Rounds are deterministic for a fixed config, seed and model (greedy or seeded sampling); a
round depends only on the seeds and on the tasks accepted before it, which is what lets the flow
cache each round and resume after a crash.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import datasets

from pipelines.models import Generator
from pipelines.records import (
    InstructionMeta,
    InstructionRecord,
    SelfInstructMeta,
    Similar,
    content_id,
    make_instruction,
    rows_to_dataset,
    to_dataset,
)
from pipelines.self_instruct.config import SelfInstructConfig
from pipelines.self_instruct.filters import P, check_instruction, filter_instances
from pipelines.self_instruct.parse import (
    Instance,
    parse_alpaca,
    parse_instances,
    parse_numbered,
    parse_yes_no,
)
from pipelines.self_instruct.prompts import (
    alpaca_prompt,
    bootstrap_prompt,
    classify_prompt,
    instances_prompt,
)
from pipelines.self_instruct.rouge import RougePool
from pipelines.self_instruct.seeds import Task
from pipelines.stage import REJECT_COLUMNS, StageResult

STAGE = "self_instruct"
REJECT_FEATURES = datasets.Features({
    "instruction": datasets.Value("string"), "input": datasets.Value("string"),
    "output": datasets.Value("string"), "round": datasets.Value("int64"),
    "kind": datasets.Value("string"), "similar": datasets.Value("string"),
    "score": datasets.Value("float64"), **REJECT_COLUMNS})
ROUGE_BINS = 20


@dataclass
class Candidate:
    text: str
    request: int
    truncated: bool
    instance: Instance | None = None  # Alpaca tasks come with one


@dataclass
class RoundOutput:
    round: int
    accepted: list[Task] = field(default_factory=list)
    records: list[InstructionRecord] = field(default_factory=list)
    rejected: list[dict[str, Any]] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)


def _reject(out: RoundOutput, reason: str, detail: str, *, instruction: str, kind: str,
            instance: Instance | None = None, similar: str | None = None, score: float | None = None) -> None:
    out.rejected.append({"instruction": instruction, "input": instance.input if instance else None,
                         "output": instance.output if instance else None, "round": out.round,
                         "kind": kind, "similar": similar, "score": score, "stage": STAGE,
                         "reason": reason, "detail": detail})


def _requests(rng: random.Random, seeds: list[Task], machine: list[Task],
              config: SelfInstructConfig) -> list[tuple[str, list[Task]]]:
    requests = []
    with_instances = [s for s in seeds if s.instances]
    for _ in range(config.requests_per_round):
        if config.mode == "alpaca":
            shown = rng.sample(with_instances, min(config.alpaca_demos, len(with_instances)))
            requests.append((alpaca_prompt(shown, count=config.alpaca_tasks), shown))
            continue
        from_machine = rng.sample(machine, min(config.prompt_machine, len(machine)))
        from_seeds = rng.sample(seeds, min(config.prompt_instructions - len(from_machine), len(seeds)))
        shown = from_machine + from_seeds
        rng.shuffle(shown)
        requests.append((bootstrap_prompt([t.instruction for t in shown],
                                          count=config.new_per_request), shown))
    return requests


def _candidates(config: SelfInstructConfig, responses) -> tuple[list[Candidate], int]:
    found, empty = [], 0
    for r, completions in enumerate(responses):
        reply = completions[0]
        cut = reply.finish_reason == "length"
        if config.mode == "alpaca":
            tasks = parse_alpaca(reply.text)
            items = [Candidate(t.instruction, r, cut and i == len(tasks) - 1, Instance(t.input, t.output))
                     for i, t in enumerate(tasks)]
        else:
            texts = parse_numbered(reply.text)
            items = [Candidate(t, r, cut and i == len(texts) - 1) for i, t in enumerate(texts)]
        empty += not items
        found.extend(items)
    return found, empty


def _classify(tasks: list[Task], seeds: list[Task], rng: random.Random, config: SelfInstructConfig,
              model: Generator, counts: Counter) -> list[bool]:
    labelled = [s for s in seeds if s.is_classification is not None]
    yes = [s for s in labelled if s.is_classification]
    no = [s for s in labelled if not s.is_classification]
    if not yes or not no:
        counts["classification_skipped"] += len(tasks)
        return [False] * len(tasks)
    examples = rng.sample(yes, min(3, len(yes))) + rng.sample(no, min(3, len(no)))
    rng.shuffle(examples)
    prompts = [classify_prompt(t.instruction, examples) for t in tasks]
    answers = model.generate(prompts, config.instances.classify_params)
    flags = []
    for a in answers:
        verdict = parse_yes_no(a[0].text)
        counts["classification_" + {True: "yes", False: "no", None: "unparsed"}[verdict]] += 1
        flags.append(bool(verdict))
    return flags


def _instances(tasks: list[Task], flags: list[bool], seeds: list[Task], rng: random.Random,
               config: SelfInstructConfig, model: Generator) -> list[tuple[list[Instance], bool]]:
    cfg = config.instances
    prompts = []
    for task, is_cls in zip(tasks, flags):
        pool = [s for s in seeds if s.instances and bool(s.is_classification) == is_cls] or \
            [s for s in seeds if s.instances]
        examples = rng.sample(pool, min(cfg.fewshot, len(pool)))
        prompts.append(instances_prompt(task.instruction, examples, output_first=is_cls,
                                        max_instances=cfg.max_instances))
    replies = model.generate(prompts, cfg.params)
    return [(parse_instances(r[0].text, output_first=is_cls), r[0].finish_reason == "length")
            for r, is_cls in zip(replies, flags)]


def run_round(index: int, seeds: list[Task], machine: list[Task], config: SelfInstructConfig,
              model: Generator) -> RoundOutput:
    started = time.perf_counter()
    rng = random.Random(f"{config.seed}/round/{index}")
    out = RoundOutput(round=index)
    counts: Counter[str] = Counter()
    requests = _requests(rng, seeds, machine, config)
    base = config.generation_params
    params = base.model_copy(update={"seed": (base.seed or 0) + index})
    responses = model.generate([[{"role": "user", "content": p}] for p, _ in requests], params)
    candidates, empty = _candidates(config, responses)
    pool = RougePool([t.instruction for t in seeds + machine])
    histogram = [0] * ROUGE_BINS
    accepted: list[tuple[Candidate, Task, list[tuple[float, int]]]] = []
    pool_tasks = seeds + machine
    for cand in candidates:
        text = " ".join(cand.text.split())
        if cand.truncated:
            _reject(out, f"{P}truncated", "last item of a reply cut off by the length limit",
                    instruction=text, kind="instruction", instance=cand.instance)
            continue
        failed = check_instruction(text, blacklist=config.blacklist, min_words=config.filters.min_words,
                                   max_words=config.filters.max_words, bad_starts=config.filters.bad_starts)
        if failed:
            _reject(out, *failed, instruction=text, kind="instruction", instance=cand.instance)
            continue
        top = pool.most_similar(text, k=max(config.filters.keep_similar, 1))
        best, best_idx = top[0] if top else (0.0, None)
        histogram[min(int(best * ROUGE_BINS), ROUGE_BINS - 1)] += 1
        if best > config.filters.rouge_threshold:
            similar = pool_tasks[best_idx].instruction
            _reject(out, f"{P}rouge_too_similar", f"ROUGE-L {best:.3f} > {config.filters.rouge_threshold}",
                    instruction=text, kind="instruction", instance=cand.instance, similar=similar, score=best)
            continue
        task = Task(content_id(text), text, machine=True)
        pool.add(text)
        pool_tasks.append(task)
        accepted.append((cand, task, top[: config.filters.keep_similar]))
    tasks = [task for _, task, _ in accepted]
    if config.mode == "alpaca":
        flags: list[bool | None] = [None] * len(tasks)
        made = [([cand.instance], False) for cand, _, _ in accepted]
    else:
        flags = _classify(tasks, seeds, rng, config, model, counts) if tasks else []
        made = _instances(tasks, flags, seeds, rng, config, model) if tasks else []
    shown = [(
        [t.id for t in requests[c.request][1] if not t.machine],
        [t.id for t in requests[c.request][1] if t.machine]) for c, _, _ in accepted]
    for (_, task, top), is_cls, (instances, truncated), (seed_ids, pool_ids) in zip(
            accepted, flags, made, shown):
        kept, dropped = filter_instances(instances, truncated=truncated,
                                         max_instances=config.instances.max_instances)
        for inst, reason, detail in dropped:
            _reject(out, reason, detail, instruction=task.instruction, kind="instance", instance=inst)
        out.accepted.append(Task(task.id, task.instruction, tuple(kept), is_cls, machine=True))
        if not kept:
            _reject(out, f"{P}no_instances", "no instance survived parsing and the instance filters",
                    instruction=task.instruction, kind="instruction")
            continue
        meta = SelfInstructMeta(
            round=index, mode=config.mode, seed_ids=seed_ids, pool_ids=pool_ids, model=model.name,
            params=params.model_dump(mode="json"), is_classification=is_cls,
            max_rouge=top[0][0] if top else 0.0,
            most_similar=[Similar(instruction=pool_tasks[i].instruction, score=s) for s, i in top])
        for inst in kept:
            out.records.append(make_instruction(task.instruction, inst.input, inst.output,
                                                meta=InstructionMeta(source=STAGE, self_instruct=meta)))
    reasons = Counter(r["reason"] for r in out.rejected)
    out.stats = {
        "round": index, "requests": len(requests), "responses_without_tasks": empty,
        "candidates": len(candidates), "accepted": len(out.accepted),
        "accepted_with_instances": sum(bool(t.instances) for t in out.accepted),
        "records": len(out.records), "rejected": dict(sorted(reasons.items())),
        "rouge_histogram": histogram, **dict(sorted(counts.items())),
        "seconds": round(time.perf_counter() - started, 3)}
    return out


def round_result(out: RoundOutput) -> StageResult:
    return StageResult(kept=to_dataset(out.records, InstructionRecord),
                       rejected=rows_to_dataset(out.rejected, REJECT_FEATURES), stats=out.stats)


def merge_stats(rounds: list[dict[str, Any]], config: SelfInstructConfig) -> dict[str, Any]:
    """Totals over rounds (plus the per-round figures)."""
    total: Counter[str] = Counter()
    rejected: Counter[str] = Counter()
    histogram = [0] * ROUGE_BINS
    for s in rounds:
        for key, value in s.items():
            if isinstance(value, int) and key != "round":
                total[key] += value
        rejected.update(s["rejected"])
        histogram = [a + b for a, b in zip(histogram, s["rouge_histogram"])]
    return {"stage": STAGE, "mode": config.mode, "rounds": len(rounds), **dict(total),
            "rejected": dict(sorted(rejected.items())), "rouge_histogram": histogram,
            "target": config.target, "per_round": rounds}


def run_self_instruct(config: SelfInstructConfig, model: Generator, seeds: list[Task], *,
                      progress: Callable[[int, int], None] | None = None) -> StageResult:
    """All rounds in this process (the flow runs the same rounds as cached tasks)."""
    machine: list[Task] = []
    outputs: list[RoundOutput] = []
    for index in range(config.max_rounds):
        if len(machine) >= config.target:
            break
        out = run_round(index, seeds, machine, config, model)
        outputs.append(out)
        machine.extend(out.accepted)
        if progress:
            progress(min(len(machine), config.target), config.target)
    records = [r for o in outputs for r in o.records]
    rejected = [r for o in outputs for r in o.rejected]
    return StageResult(kept=to_dataset(records, InstructionRecord),
                       rejected=rows_to_dataset(rejected, REJECT_FEATURES),
                       stats=merge_stats([o.stats for o in outputs], config))

