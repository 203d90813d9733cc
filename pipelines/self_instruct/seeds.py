"""Seed tasks: the self-instruct JSONL layout, or any record file mapped to instruction/input/output.

Self-instruct layout, one task per line:

    {"id": "seed_task_0", "name": "...", "instruction": "...",
     "instances": [{"input": "...", "output": "..."}], "is_classification": false}

Any other file (JSONL, CSV, Parquet, ...) gives one instance per row from its `instruction`,
`input` and `output` columns (names set by `seed_fields`); rows sharing an instruction become one
task. `read_seeds` reads the configured file and checks every row (errors name the file, line
and field); `seed_tasks` turns records into tasks:

    >>> import datasets
    >>> rows = [{"instruction": "Add the numbers.", "input": "2, 3", "output": "5"},
    ...         {"instruction": "Add the numbers.", "input": "1, 1", "output": "2"}]
    >>> [(t.instruction, len(t.instances)) for t in seed_tasks(datasets.Dataset.from_list(rows))]
    [('Add the numbers.', 2)]
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import datasets

from pipelines.errors import InputError
from pipelines.io import raw_files, read_sources, require_values
from pipelines.records import content_id
from pipelines.self_instruct.config import SeedFields, SelfInstructConfig
from pipelines.self_instruct.parse import Instance


@dataclass(frozen=True)
class Task:
    """A task in the pool: a seed, or one the model wrote and the filters accepted."""

    id: str
    instruction: str
    instances: tuple[Instance, ...] = ()
    is_classification: bool | None = None
    machine: bool = False


def _error(row: int, field: str | None, message: str) -> InputError:
    return InputError(message, row=row, field=field)


def _require(records: datasets.Dataset, columns: dict[str, str], nonempty: list[str]) -> None:
    require_values(records.column_names, records.__getitem__, columns, nonempty=nonempty,
                   file=None, error=_error)


def seed_tasks(records: datasets.Dataset, fields: SeedFields | None = None) -> list[Task]:
    """The seed tasks of `records`; a bad record raises InputError naming its row and field."""
    fields = fields or SeedFields()
    if fields.instances in records.column_names:
        _require(records, {fields.instruction: "string", fields.instances: "list"},
                 [fields.instruction])
        seeds = []
        for row, rec in enumerate(records.to_list()):
            instances = []
            for j, inst in enumerate(rec[fields.instances]):
                if not isinstance(inst, dict) or not isinstance(inst.get(fields.output), str):
                    raise _error(row, f"{fields.instances}[{j}]",
                                 f"expected an object with a string {fields.output!r}")
                instances.append(Instance(str(inst.get(fields.input) or ""), inst[fields.output]))
            label = rec.get(fields.is_classification)
            if label is not None and not isinstance(label, bool):
                raise _error(row, fields.is_classification, f"expected true or false, got {label!r}")
            seeds.append(Task(str(rec.get(fields.id) or content_id(rec[fields.instruction])),
                              rec[fields.instruction].strip(), tuple(instances), label))
        return seeds
    _require(records, {fields.instruction: "string", fields.output: "string"},
             [fields.instruction, fields.output])
    grouped: dict[str, list[Instance]] = {}
    for rec in records.to_list():
        grouped.setdefault(rec[fields.instruction].strip(), []).append(
            Instance(str(rec.get(fields.input) or ""), rec[fields.output]))
    return [Task(content_id(text), text, tuple(insts)) for text, insts in grouped.items()]


def check_seeds(fields: SeedFields | None = None) -> Callable[[datasets.Dataset], None]:
    """A `read_sources` check: every record is a valid seed task."""
    def check(dataset: datasets.Dataset) -> None:
        seed_tasks(dataset, fields)
    return check


def read_seeds(config: SelfInstructConfig) -> datasets.Dataset:
    """The configured seed files' records (a file, or every file of a folder or glob), checked
    (errors name the file, line and field)."""
    return read_sources(raw_files(config.seeds), check=check_seeds(config.seed_fields))
