"""Seed tasks: the self-instruct JSONL layout, or any record file mapped to instruction/input/output.

Self-instruct layout, one task per line:

    {"id": "seed_task_0", "name": "...", "instruction": "...",
     "instances": [{"input": "...", "output": "..."}], "is_classification": false}

Any other file (JSONL, CSV, Parquet, ...) gives one instance per row from its `instruction`,
`input` and `output` columns (names set by `seed_fields`); rows sharing an instruction become one
task. Bad rows raise InputError naming the file, line and field.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.io import read_table, require_columns
from pipelines.records import content_id
from pipelines.self_instruct.config import SeedFields
from pipelines.self_instruct.parse import Instance


@dataclass(frozen=True)
class Task:
    """A task in the pool: a seed, or one the model wrote and the filters accepted."""

    id: str
    instruction: str
    instances: tuple[Instance, ...] = ()
    is_classification: bool | None = None
    machine: bool = False


def load_seeds(path, fields: SeedFields | None = None) -> list[Task]:
    fields = fields or SeedFields()
    table = read_table(path)
    ds = table.dataset
    if fields.instances in ds.column_names:
        require_columns(table, {fields.instruction: "string", fields.instances: "list"},
                        nonempty=[fields.instruction])
        seeds = []
        for row, rec in enumerate(ds.to_list()):
            instances = []
            for j, inst in enumerate(rec[fields.instances]):
                if not isinstance(inst, dict) or not isinstance(inst.get(fields.output), str):
                    raise table.error(row, f"{fields.instances}[{j}]",
                                      f"expected an object with a string {fields.output!r}")
                instances.append(Instance(str(inst.get(fields.input) or ""), inst[fields.output]))
            label = rec.get(fields.is_classification)
            if label is not None and not isinstance(label, bool):
                raise table.error(row, fields.is_classification, f"expected true or false, got {label!r}")
            seeds.append(Task(str(rec.get(fields.id) or content_id(rec[fields.instruction])),
                              rec[fields.instruction].strip(), tuple(instances), label))
        return seeds
    require_columns(table, {fields.instruction: "string", fields.output: "string"},
                    nonempty=[fields.instruction, fields.output])
    grouped: dict[str, list[Instance]] = {}
    for rec in ds.to_list():
        grouped.setdefault(rec[fields.instruction].strip(), []).append(
            Instance(str(rec.get(fields.input) or ""), rec[fields.output]))
    return [Task(content_id(text), text, tuple(insts)) for text, insts in grouped.items()]
