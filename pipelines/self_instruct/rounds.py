"""The self-instruct bootstrap, one round at a time, in three steps.

1. `plan_round`: build `requests_per_round` prompts from the pool as it stood when the round
   began (each shows 8 numbered instructions: up to 2 machine-made, the rest seeds, shuffled;
   Alpaca mode shows 3 seed demonstrations instead), generate all of them in one batch, and walk
   the candidates in order through the filters. An accepted instruction joins the ROUGE pool at
   once, so a near-copy later in the same round is rejected. Accepted instructions are then
   classified (few-shot yes/no) and their instance prompts built (output-first for
   classification, input-first otherwise).
2. `generate_instances`: one shard of instance prompts through the model. Shards are
   independent (`RoundPlan.shards`), so a flow can run them side by side.
3. `finish_round`: filter the instances, build the records, count every rejection.

`run_round(index, seeds, machine, config, model)` does the three in order and returns the
round's accepted tasks, records, rejections and stats (`RoundOutput`).

A round is deterministic for a fixed config, seed and model (greedy or seeded sampling) and
depends only on the seeds and on the tasks accepted before it, which is what lets the flow cache
each round (and each instance shard) and resume after a crash. Alpaca tasks carry their own
instance, so an Alpaca round has no instance shards.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import datasets

from pipelines.models import GenerationParams, Generator
from pipelines.records import (
    InstructionMeta,
    InstructionRecord,
    SelfInstructMeta,
    Similar,
    content_id,
    make_instruction,
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
from pipelines.stage import Rejections, StageResult

STAGE = "self_instruct"
CANDIDATE_FEATURES = datasets.Features({
    "instruction": datasets.Value("string"), "input": datasets.Value("string"),
    "output": datasets.Value("string")})
"""A rejected candidate's own columns: the Alpaca view of the task it would have made."""
REJECT_EXTRA = {"round": datasets.Value("int64"), "kind": datasets.Value("string"),
                "similar": datasets.Value("string"), "score": datasets.Value("float64")}
ROUGE_BINS = 20

Made = list[tuple[list[Instance], bool]]
"""Per accepted task: its parsed instances and whether the reply was cut off."""


@dataclass
class Candidate:
    text: str
    request: int
    truncated: bool
    instance: Instance | None = None  # Alpaca tasks come with one


@dataclass
class RoundPlan:
    """A round up to instance generation (step 1)."""

    round: int
    model: str
    params: GenerationParams
    accepted: list[tuple[Task, list[tuple[float, int]], list[str], list[str]]]
    """Per accepted task: the task, its most similar pool items, seed and pool ids shown."""
    pool: list[Task]
    flags: list[bool | None]
    instance_prompts: list[list[dict[str, str]]]
    alpaca: Made
    rejections: Rejections
    figures: dict[str, int]
    """requests, responses_without_tasks, candidates, and the classification counts."""
    rouge_histogram: list[int]
    seconds: float

    def shards(self, size: int) -> list[tuple[int, int]]:
        """(start, stop) of each instance shard of at most `size` prompts."""
        n = len(self.instance_prompts)
        return [(i, min(i + size, n)) for i in range(0, n, size)]


@dataclass
class RoundOutput:
    round: int
    accepted: list[Task] = field(default_factory=list)
    records: list[InstructionRecord] = field(default_factory=list)
    rejections: Rejections = field(default_factory=lambda: new_rejections())
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def rejected(self) -> datasets.Dataset:
        return self.rejections.dataset()

    def result(self) -> StageResult:
        return StageResult(kept=to_dataset(self.records, InstructionRecord),
                           rejected=self.rejected, stats=self.stats)


def new_rejections() -> Rejections:
    return Rejections(STAGE, CANDIDATE_FEATURES, extra_columns=REJECT_EXTRA)


def _reject(rejections: Rejections, index: int, reason: str, detail: str, *, instruction: str,
            kind: str, instance: Instance | None = None, similar: str | None = None,
            score: float | None = None) -> None:
    row = {"instruction": instruction, "input": instance.input if instance else None,
           "output": instance.output if instance else None}
    rejections.add(row, reason, detail, round=index, kind=kind, similar=similar, score=score)


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


def _instance_prompts(tasks: list[Task], flags: list[bool], seeds: list[Task], rng: random.Random,
                      config: SelfInstructConfig) -> list[list[dict[str, str]]]:
    prompts = []
    for task, is_cls in zip(tasks, flags):
        pool = [s for s in seeds if s.instances and bool(s.is_classification) == is_cls] or \
            [s for s in seeds if s.instances]
        examples = rng.sample(pool, min(config.instances.fewshot, len(pool)))
        prompts.append(instances_prompt(task.instruction, examples, output_first=is_cls,
                                        max_instances=config.instances.max_instances))
    return prompts


def plan_round(index: int, seeds: list[Task], machine: list[Task], config: SelfInstructConfig,
               model: Generator) -> RoundPlan:
    """Step 1: bootstrap, filter and classify (see the module docstring)."""
    started = time.perf_counter()
    rng = random.Random(f"{config.seed}/round/{index}")
    rejections = new_rejections()
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
        reject = dict(instruction=text, kind="instruction", instance=cand.instance)
        if cand.truncated:
            _reject(rejections, index, f"{P}truncated",
                    "last item of a reply cut off by the length limit", **reject)
            continue
        failed = check_instruction(text, blacklist=config.blacklist, min_words=config.filters.min_words,
                                   max_words=config.filters.max_words, bad_starts=config.filters.bad_starts)
        if failed:
            _reject(rejections, index, *failed, **reject)
            continue
        top = pool.most_similar(text, k=max(config.filters.keep_similar, 1))
        best, best_idx = top[0] if top else (0.0, None)
        histogram[min(int(best * ROUGE_BINS), ROUGE_BINS - 1)] += 1
        if best > config.filters.rouge_threshold:
            _reject(rejections, index, f"{P}rouge_too_similar",
                    f"ROUGE-L {best:.3f} > {config.filters.rouge_threshold}", **reject,
                    similar=pool_tasks[best_idx].instruction, score=best)
            continue
        task = Task(content_id(text), text, machine=True)
        pool.add(text)
        pool_tasks.append(task)
        accepted.append((cand, task, top[: config.filters.keep_similar]))
    tasks = [task for _, task, _ in accepted]
    if config.mode == "alpaca":
        flags: list[bool | None] = [None] * len(tasks)
        prompts, alpaca = [], [([cand.instance], False) for cand, _, _ in accepted]
    else:
        flags = _classify(tasks, seeds, rng, config, model, counts) if tasks else []
        prompts, alpaca = _instance_prompts(tasks, flags, seeds, rng, config), []
    shown = [requests[c.request][1] for c, _, _ in accepted]
    return RoundPlan(
        round=index, model=model.name, params=params,
        accepted=[(task, top, [t.id for t in ts if not t.machine], [t.id for t in ts if t.machine])
                  for (_, task, top), ts in zip(accepted, shown)],
        pool=pool_tasks, flags=flags, instance_prompts=prompts, alpaca=alpaca,
        rejections=rejections, rouge_histogram=histogram,
        figures={"requests": len(requests), "responses_without_tasks": empty,
                 "candidates": len(candidates), **dict(sorted(counts.items()))},
        seconds=time.perf_counter() - started)


def generate_instances(plan: RoundPlan, shard: tuple[int, int], config: SelfInstructConfig,
                       model: Generator) -> Made:
    """Step 2, one shard: the instances the model writes for `plan.instance_prompts[start:stop]`."""
    start, stop = shard
    replies = model.generate(plan.instance_prompts[start:stop], config.instances.params)
    return [(parse_instances(r[0].text, output_first=bool(is_cls)), r[0].finish_reason == "length")
            for r, is_cls in zip(replies, plan.flags[start:stop])]


def finish_round(plan: RoundPlan, made: Made, config: SelfInstructConfig, *,
                 seconds: float = 0.0) -> RoundOutput:
    """Step 3: filter every accepted task's instances (`made`: all shards, in order, or the Alpaca
    instances) and build the round's records. `seconds` is the time spent in step 2."""
    started = time.perf_counter()
    made = plan.alpaca or made
    out = RoundOutput(round=plan.round)
    out.rejections.extend(plan.rejections.dataset())
    for (task, top, seed_ids, pool_ids), is_cls, (instances, truncated) in zip(
            plan.accepted, plan.flags, made):
        kept, dropped = filter_instances(instances, truncated=truncated,
                                         max_instances=config.instances.max_instances)
        for inst, reason, detail in dropped:
            _reject(out.rejections, plan.round, reason, detail, instruction=task.instruction,
                    kind="instance", instance=inst)
        out.accepted.append(Task(task.id, task.instruction, tuple(kept), is_cls, machine=True))
        if not kept:
            _reject(out.rejections, plan.round, f"{P}no_instances",
                    "no instance survived parsing and the instance filters",
                    instruction=task.instruction, kind="instruction")
            continue
        meta = SelfInstructMeta(
            round=plan.round, mode=config.mode, seed_ids=seed_ids, pool_ids=pool_ids,
            model=plan.model, params=plan.params.model_dump(mode="json"), is_classification=is_cls,
            max_rouge=top[0][0] if top else 0.0,
            most_similar=[Similar(instruction=plan.pool[i].instruction, score=s) for s, i in top])
        for inst in kept:
            out.records.append(make_instruction(task.instruction, inst.input, inst.output,
                                                meta=InstructionMeta(source=STAGE, self_instruct=meta)))
    out.stats = out.rejections.stats(
        round=plan.round, **plan.figures, accepted=len(out.accepted),
        accepted_with_instances=sum(bool(t.instances) for t in out.accepted),
        records=len(out.records), rouge_histogram=plan.rouge_histogram,
        seconds=round(plan.seconds + seconds + time.perf_counter() - started, 3))
    return out


def run_round(index: int, seeds: list[Task], machine: list[Task], config: SelfInstructConfig,
              model: Generator) -> RoundOutput:
    """One whole round: plan, every instance shard in order, finish."""
    plan = plan_round(index, seeds, machine, config, model)
    started = time.perf_counter()
    made = [item for shard in plan.shards(config.instances.shard_size)
            for item in generate_instances(plan, shard, config, model)]
    return finish_round(plan, made, config, seconds=time.perf_counter() - started)
