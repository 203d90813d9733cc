"""What a stage's counts mean: the unit of each count and how the counts add up.

A filter stage counts one unit: records in = records kept + records rejected. A generator stage
takes one unit in and gives another out (templating: rows in, examples out), and its rejected
rows may hold more than one unit (a self-instruct candidate task or one of its instances), so its
counts name every unit and state each unit's own balance. The command line's counts table and
the flows' summaries both read what `describe_counts` returns.

    >>> import datasets
    >>> from pipelines.stage import StageResult
    >>> empty = datasets.Dataset.from_dict({"reason": []})
    >>> rows = describe_counts("templating", 20, StageResult(
    ...     datasets.Dataset.from_dict({"id": [str(i) for i in range(140)]}), empty,
    ...     {"rows_in": 20, "rows_rendered": 20, "examples": 140, "rejected": {}}))
    >>> rows["in_unit"], rows["kept_unit"], rows["rejected_units"]
    ('rows', 'examples', '0 rows')
    >>> for line in rows["balance"]:
    ...     print(line)
    rows: 20 in = 20 rendered + 0 rejected
    examples: 140 made = 140 kept + 0 rejected, from 20 rendered rows

What a stage counts as "in" is the flow's `n_in` (templating: the task rows read; self-instruct:
the seed tasks; preferences: the prompts).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from pipelines.stage import StageResult

TARGET_OVER_BUDGET = "template_target_over_budget"
"""The one templating reason that drops an example rather than a whole row."""


def count_of(n: int, unit: str) -> str:
    """`n` and its unit, singular for one: `count_of(1, "records")` is "1 record"."""
    return f"{n} {unit.removesuffix('s') if n == 1 else unit}"




def _column_counts(result: StageResult, column: str) -> Counter[str]:
    if column not in result.rejected.column_names:
        return Counter()
    return Counter(result.rejected[column])


def _filter(n_in: int, result: StageResult, unit: str = "records") -> dict[str, Any]:
    kept, rejected = len(result.kept), len(result.rejected)
    sign = "=" if n_in == kept + rejected else "!="
    return {"in_unit": unit, "kept_unit": unit, "rejected_units": count_of(rejected, unit),
            "balance": [f"{unit}: {n_in} in {sign} {kept} kept + {rejected} rejected"]}


def _templating(n_in: int, result: StageResult) -> dict[str, Any]:
    stats = result.stats
    by_reason = stats.get("rejected", {})
    dropped_examples = by_reason.get(TARGET_OVER_BUDGET, 0)
    dropped_rows = len(result.rejected) - dropped_examples
    rendered = stats.get("rows_rendered", n_in - dropped_rows)
    emptied = n_in - rendered - dropped_rows  # every example over the target budget
    rows = f"rows: {n_in} in = {rendered} rendered + {dropped_rows} rejected"
    if emptied:
        rows += f" + {emptied} whose every example was over the target budget"
    kept = len(result.kept)
    why = " (target over budget)" if dropped_examples else ""
    examples = f"examples: {kept + dropped_examples} made = {kept} kept + {dropped_examples} " \
               f"rejected{why}, from {rendered} rendered rows"
    units = count_of(dropped_rows, "rows")
    if dropped_examples:
        units += f" + {count_of(dropped_examples, 'examples')}"
    return {"in_unit": "rows", "kept_unit": "examples", "rejected_units": units,
            "balance": [rows, examples]}


def _self_instruct(n_in: int, result: StageResult) -> dict[str, Any]:
    stats = result.stats
    reasons = Counter(zip(result.rejected["kind"], result.rejected["reason"])) \
        if "kind" in result.rejected.column_names else Counter()
    no_instances = sum(n for (kind, reason), n in reasons.items() if reason.endswith("no_instances"))
    tasks_rejected = sum(n for (kind, _), n in reasons.items() if kind == "instruction") - no_instances
    instances_rejected = sum(n for (kind, _), n in reasons.items() if kind == "instance")
    accepted = stats.get("accepted", 0)
    candidates = stats.get("candidates", accepted + tasks_rejected)
    kept = len(result.kept)
    tasks = f"tasks: {candidates} candidates = {accepted} accepted + {tasks_rejected} rejected"
    if no_instances:
        tasks += f"; {no_instances} accepted kept no instance (rejected as no_instances)"
    units = f"{count_of(tasks_rejected + no_instances, 'tasks')} + " \
            f"{count_of(instances_rejected, 'instances')}"
    return {"in_unit": "seed tasks", "kept_unit": "records", "rejected_units": units,
            "balance": [tasks, f"instances: {kept + instances_rejected} written = {kept} kept + "
                               f"{instances_rejected} rejected (one record per kept instance)"]}


def _preferences(n_in: int, result: StageResult) -> dict[str, Any]:
    stats = result.stats
    levels = _column_counts(result, "level")
    prompt_level, pair_level = levels.get("prompt", 0), levels.get("pair", 0)
    with_pairs = stats.get("prompts_with_pairs", 0)
    emptied = n_in - with_pairs - prompt_level
    prompts = f"prompts: {n_in} in = {with_pairs} with pairs + {prompt_level} too few answers"
    if emptied:
        prompts += f" + {emptied} whose every pair was rejected"
    kept = len(result.kept)
    balance = [prompts, f"pairs: {kept + pair_level} selected = {kept} kept + {pair_level} rejected"]
    if "candidates" in stats:
        repeated = stats.get("duplicates", 0)
        balance.append(f"answers: {stats['candidates'] + repeated} sampled = {stats['candidates']} "
                       f"scored + {repeated} repeated or empty (rejected in samples/)")
    return {"in_unit": "prompts", "kept_unit": "pairs",
            "rejected_units": f"{count_of(prompt_level, 'prompts')} + {count_of(pair_level, 'pairs')}",
            "balance": balance}


def _samples(n_in: int, result: StageResult) -> dict[str, Any]:
    stats = result.stats
    rejected = len(result.rejected)
    sampled = stats.get("candidates", stats.get("unique", 0) + rejected)
    return {"in_unit": "prompts", "kept_unit": "prompts", "rejected_units": count_of(rejected, "answers"),
            "balance": [f"prompts: {n_in} in = {len(result.kept)} out (with their answers)",
                        f"answers: {sampled} sampled = {sampled - rejected} kept + {rejected} "
                        "rejected"]}


def describe_counts(stage: str, n_in: int, result: StageResult) -> dict[str, Any]:
    """The units of a stage's counts, one balance line per unit, and the stage's warnings
    (`stats["warnings"]`, and the preference stage's `self_preference_warning`): `in_unit`,
    `kept_unit`, `rejected_units`, `balance`, `warnings`."""
    if stage == "templating":
        found = _templating(n_in, result)
    elif stage.startswith("self_instruct"):
        found = _self_instruct(n_in, result)
    elif stage == "preferences_samples":
        found = _samples(n_in, result)
    elif stage == "preferences":
        found = _preferences(n_in, result)
    else:
        found = _filter(n_in, result)
    warnings = list(result.stats.get("warnings", []))
    if result.stats.get("self_preference_warning"):
        warnings.append(result.stats["self_preference_warning"])
    return {**found, "warnings": warnings}
