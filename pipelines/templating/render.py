"""The FLAN-style templating stage: raw task rows in, instruction examples out.

For each kept row (after no-target, cap and mixing rejections) the stage draws, from a
generator seeded by (seed, task, row), a format (zero-/few-shot x with/without options), a
template among those whose `when` holds, an options layout, a shot count, a delimiter and a
separator, and renders

    [exemplar prompt <delim> exemplar target <sep>] ... prompt [options]  ->  target

Exemplars come from the task's few-shot source, rendered with the same template and options
layout, never the target row itself (nor a row with the same text). Prompts over the budget lose
exemplars until they fit; a zero-shot prompt over budget is rejected. Rows with a rationale get
chain-of-thought rendering (cue appended, target = rationale + "so the answer is ...").

Input: raw task rows (`pipelines.templating.inputs.read_task_rows`: task, split, source, line,
raw row), plus the promptsource templates of the tasks that name a file (`templates=`). With a
token budget, `model` is the tokenizer that counts (anything with `encode(text) -> ids`).

Output: `InstructionRecord`s (`messages` + Alpaca view + `meta.template`). Rejected rows are the
input rows (task, file, position, line and raw content) with a reason:
`template_no_label`, `template_task_cap`, `template_mixing_rate`, `template_over_budget`, or, one
per dropped example (the detail names the template), `template_target_over_budget` when a target
is longer than `budget.max_target`.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import datasets

from pipelines.counts import TARGET_OVER_BUDGET
from pipelines.records import (
    InstructionMeta,
    InstructionRecord,
    Message,
    TemplateMeta,
    make_instruction,
    to_dataset,
)
from pipelines.stage import Progress, Rejections, StageResult
from pipelines.templating.config import TemplatingConfig
from pipelines.templating.mixing import mixing_quotas, sample_keep
from pipelines.templating.options import OptionsFormat, sample_options_format
from pipelines.templating.tasks import NO_LABEL, PreparedTask, TaskRow, prepare_tasks
from pipelines.templating.templates import Template, cot_phrases

STAGE = "template"


@dataclass
class _Choice:
    """Everything drawn at random for one rendered example."""

    template: Template
    options: OptionsFormat | None
    shots: int
    delimiter: str
    separator: str
    cot: tuple[str, Template] | None = None  # (cue, answer format)
    base: Template | None = None  # inverted chain of thought: the template asking the question

    @property
    def needs_rationale(self) -> bool:
        return self.cot is not None or self.base is not None


def _count_words(text: str) -> int:
    return len(text.split())


def _measure(config: TemplatingConfig, model: Any) -> Callable[[str], int]:
    if config.budget.unit == "words":
        return _count_words
    if model is None or not hasattr(model, "encode"):
        raise ValueError("budget.unit is 'tokens': pass model= the tokenizer that counts "
                         "(anything with encode(text) -> ids; the flow loads budget.tokenizer)")
    return lambda text: len(model.encode(text))


Selected = list[tuple[PreparedTask, list[TaskRow]]]
RowResult = tuple[list[InstructionRecord], list[tuple[str, int]]]
"""One row's examples, and (template id, target size) of each example dropped for a target
over `budget.max_target`."""
Renderer = Callable[[Selected, TemplatingConfig, Callable[[str], int], Progress | None],
                    list[list[RowResult]]]
"""Renders the selected rows: per task, per row, that row's `RowResult` (`render_rows` here;
`pipelines.cluster.templating.ray_renderer` on a Ray cluster). Rows render independently."""


def render_rows(selected: Selected, config: TemplatingConfig, measure: Callable[[str], int],
                progress: Progress | None = None) -> list[list[RowResult]]:
    """Every selected row's examples (and over-long targets), in this process."""
    total, done, out = sum(len(rows) for _, rows in selected), 0, []
    for task, rows in selected:
        out.append([])
        for row in rows:
            out[-1].append(_render_row(task, row, config, measure))
            done += 1
            if progress and (done % 200 == 0 or done == total):
                progress(done, total)
    return out


def render_templates(records: datasets.Dataset, config: TemplatingConfig, *, model: Any = None,
                     progress: Progress | None = None,
                     templates: Mapping[str, Sequence[Template]] | None = None,
                     renderer: Renderer | None = None) -> StageResult:
    """Render every configured task's rows. Checks all rows before rendering anything;
    `renderer` renders the selected rows (default `render_rows`, in this process)."""
    started = time.perf_counter()
    measure = _measure(config, model)
    tasks = prepare_tasks(records, config, templates)
    rejections = Rejections(STAGE, records.features)
    selected = _select_rows(tasks, config, rejections)
    made: list[InstructionRecord] = []
    stats_tasks: dict[str, Counter] = {}
    usage: Counter[str] = Counter()
    rendered = (renderer or render_rows)(selected, config, measure, progress)
    rows_rendered = 0
    for (task, rows), per_row in zip(selected, rendered):
        counts = stats_tasks.setdefault(task.spec.name, Counter())
        counts["rows_in"] = len(task.rows)
        for row, (examples, long_targets) in zip(rows, per_row):
            for template_id, size in long_targets:
                rejections.add(row.record, TARGET_OVER_BUDGET,
                               f"template {template_id}: target of {size} {config.budget.unit} "
                               f"over max_target {config.budget.max_target}")
            if not examples and not long_targets:
                rejections.add(row.record, "template_over_budget",
                               f"prompt over {config.budget.max_prompt} {config.budget.unit} "
                               "even zero-shot")
            rows_rendered += bool(examples)
            for rec in examples:
                made.append(rec)
                t = rec.meta.template
                usage[f"shots={t.shots}"] += 1
                usage[f"options={t.options_style}"] += 1
                usage["inverted"] += t.inverted
                usage["cot"] += t.cot
            counts["examples"] += len(examples)
    for name, reasons in rejections.counts_by("task").items():
        stats_tasks.setdefault(name, Counter()).update(reasons)
    stats = rejections.stats(
        rows_in=sum(len(t.rows) for t in tasks),
        rows_rendered=rows_rendered,
        examples=len(made), tasks={name: dict(c) for name, c in stats_tasks.items()},
        usage=dict(sorted(usage.items())), warnings=[w for t in tasks for w in t.warnings],
        seconds=round(time.perf_counter() - started, 3))
    return StageResult(kept=to_dataset(made, InstructionRecord), rejected=rejections.dataset(),
                       stats=stats)


def _select_rows(tasks: list[PreparedTask], config: TemplatingConfig,
                 rejections: Rejections) -> list[tuple[PreparedTask, list[TaskRow]]]:
    """Drop no-target rows, apply per-task caps, then mixing quotas (all seeded)."""
    survivors: list[tuple[PreparedTask, list[TaskRow]]] = []
    for task in tasks:
        rows = []
        for row in task.rows:
            if row.label_index == NO_LABEL:
                rejections.add(row.record, "template_no_label", "label is -1 (no target)")
            else:
                rows.append(row)
        cap = task.spec.cap
        if cap is not None and len(rows) > cap:
            mask = sample_keep(len(rows), cap, random.Random(f"{config.seed}/{task.spec.name}/cap"))
            for row, keep in zip(rows, mask):
                if not keep:
                    rejections.add(row.record, "template_task_cap", f"task cap {cap}")
            rows = [r for r, keep in zip(rows, mask) if keep]
        survivors.append((task, rows))
    mix = config.mixing
    quotas = mixing_quotas({t.spec.name: len(rows) for t, rows in survivors},
                           max_rate=mix.max_rate, total=mix.total)
    selected = []
    for task, rows in survivors:
        quota = quotas[task.spec.name]
        mask = sample_keep(len(rows), quota, random.Random(f"{config.seed}/{task.spec.name}/mix"))
        for row, keep in zip(rows, mask):
            if not keep:
                rejections.add(row.record, "template_mixing_rate",
                               f"mixing quota {quota} of {len(rows)} rows (max_rate "
                               f"{mix.max_rate}, total {mix.total})")
        selected.append((task, [r for r, keep in zip(rows, mask) if keep]))
    return selected


def _draw(rng: random.Random, task: PreparedTask, row: TaskRow, template: Template,
          config: TemplatingConfig) -> _Choice:
    weights = config.formats
    fmt = rng.choices(list(weights), weights=list(weights.values()))[0]
    base = None
    if template.id in _cot_inverted_ids():  # the question comes from a forward template
        base = rng.choice([t for t in task.templates if not t.inverted and t.applies(row.variables)])
    asks = base or template
    with_options = not fmt.endswith("no_options") and asks.options and len(task.options) <= 26
    options = sample_options_format(rng, config.options_style) if with_options else None
    shots = rng.choice(config.shots) if fmt.startswith("few_shot") else 0
    cot = None
    if row.rationale is not None and base is None and not template.inverted \
            and rng.random() < task.spec.cot_rate:
        phrases = cot_phrases()
        cot = (rng.choice(phrases.cues), rng.choice(phrases.answers))
    return _Choice(template, options, shots, rng.choice(config.delimiters),
                   rng.choice(config.separators), cot, base)


def _cot_inverted_ids() -> set[str]:
    return {t.id for t in cot_phrases().inverted}


def _example(task: PreparedTask, row: TaskRow, choice: _Choice) -> tuple[str, str]:
    """(prompt, target) for one row under one choice."""
    if choice.base is not None:
        asked = _Choice(choice.base, choice.options, 0, choice.delimiter, choice.separator)
        question, answer = _example(task, row, asked)
        prompt = choice.template.render_prompt({"rationale": row.rationale, "answer": answer})
        return prompt, question
    template, variables = choice.template, row.variables
    if task.promptsource:
        variables = {**variables, "answer_choices": template.render_choices(variables)}
    prompt, target = template.render_pair(variables)
    if choice.options is not None:
        prompt = choice.options.render(prompt, task.options)
        target = choice.options.target(row.label_index, target)
    if choice.cot is not None:
        cue, answer_format = choice.cot
        prompt = f"{prompt}\n{cue}"
        # subtle: answer formats end with their own full stop, so drop the answer's
        target = answer_format.render_pair({"rationale": row.rationale,
                                            "answer": target.rstrip(". ")})[1]
    return prompt, target


def _exemplars(rng: random.Random, task: PreparedTask, row: TaskRow, choice: _Choice) -> list[TaskRow]:
    """Up to `shots` few-shot rows: never the row itself nor one with the same content.

    Draws a few spare candidates first and filters them (cheap); scans the pool only when
    too many of those were unusable."""
    if choice.shots == 0:
        return []
    pool = task.pool_for(choice.base or choice.template)

    def usable(r: TaskRow) -> bool:
        same_row = task.fewshot_is_source and r.index == row.index
        return not same_row and r.key != row.key and (not choice.needs_rationale or
                                                       r.rationale is not None)

    picked = [r for r in rng.sample(pool, min(len(pool), choice.shots + 3)) if usable(r)]
    if len(picked) < min(choice.shots, len(pool)):
        rest = [r for r in pool if usable(r)]
        picked = rng.sample(rest, min(choice.shots, len(rest)))
    return picked[: choice.shots]


def _render_row(task: PreparedTask, row: TaskRow, config: TemplatingConfig,
                measure: Callable[[str], int]) -> RowResult:
    """The row's examples, and (template, target size) of each example whose target is over
    `budget.max_target`."""
    applicable = [t for t in task.templates if t.applies(row.variables)]
    if row.rationale is not None and task.spec.include_inverted and not task.promptsource:
        applicable += cot_phrases().inverted
    base_rng = random.Random(f"{config.seed}/{task.spec.name}/{row.index}")
    if config.templates_per_row == "all":
        templates = applicable
    else:
        templates = base_rng.sample(applicable, min(config.templates_per_row, len(applicable)))
    records, long_targets = [], []
    max_target = config.budget.max_target
    for template in templates:
        rng = random.Random(f"{config.seed}/{task.spec.name}/{row.index}/{template.id}")
        choice = _draw(rng, task, row, template, config)
        if max_target is not None:
            size = measure(_example(task, row, choice)[1])
            if size > max_target:
                long_targets.append((template.id, size))
                continue
        exemplars = _exemplars(rng, task, row, choice)
        record = _assemble(task, row, choice, exemplars, config, measure)
        if record is not None:
            records.append(record)
    return records, long_targets


def _assemble(task: PreparedTask, row: TaskRow, choice: _Choice, exemplars: list[TaskRow],
              config: TemplatingConfig, measure: Callable[[str], int]) -> InstructionRecord | None:
    prompt, target = _example(task, row, choice)
    shots = [_example(task, ex, choice) for ex in exemplars]
    while True:
        if config.fewshot_format == "chat":
            messages = [m for p, t in shots for m in (Message(role="user", content=p),
                                                      Message(role="assistant", content=t))]
            user = prompt
            size = sum(measure(m.content) for m in messages) + measure(prompt)
        else:
            blocks = [f"{p}{choice.delimiter}{t}" for p, t in shots]
            user = choice.separator.join([*blocks, prompt])
            messages = []
            size = measure(user)
        if size <= config.budget.max_prompt:
            break
        if not shots:
            return None
        shots.pop()
    messages += [Message(role="user", content=user), Message(role="assistant", content=target)]
    style = "template" if task.promptsource else (choice.options.style if choice.options else "none")
    meta = InstructionMeta(source=f"template:{task.spec.name}", template=TemplateMeta(
        task=task.spec.name, template_id=choice.template.id,
        template_name=choice.template.name + (" (chain of thought)" if choice.cot else ""),
        shots=len(shots), options_style=style, inverted=choice.template.inverted,
        cot=choice.needs_rationale, source_row=row.index))
    return make_instruction(user, "", target, meta=meta, messages=messages)

