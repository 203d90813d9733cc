"""What the judge stage reads: record files or run folders, checked before any model call.

A run folder (one with `kept/*.parquet`, as every stage writes) contributes its kept records;
anything else is read as a record file (`pipelines.io.read_table`). Every row of every source
must give an example (`pipelines.judge.examples.example_of`), and all sources must share their
columns; a problem names the file and the line or row.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import datasets

from pipelines.errors import InputError
from pipelines.io import load_run, read_table
from pipelines.judge.examples import example_of


def is_run_folder(path: str | Path) -> bool:
    return Path(path).is_dir() and any((Path(path) / "kept").glob("*.parquet"))


def read_judge_inputs(paths: Sequence[str | Path]) -> datasets.Dataset:
    """The records of every source, concatenated in order."""
    if not paths:
        raise InputError("no inputs to judge; name record files or run folders")
    parts = []
    for path in paths:
        if is_run_folder(path):
            dataset, line_of = load_run(path), None
        else:
            table = read_table(path)
            dataset, line_of = table.dataset, table.line_of
        for i, row in enumerate(dataset):
            line = line_of(i) if line_of else None
            try:
                example_of(row, row_index=i, file=str(path))
            except InputError as exc:
                if line is None:
                    raise
                raise InputError(exc.detail, file=path, line=line, field=exc.field) from None
        parts.append(dataset)
    if len(parts) == 1:
        return parts[0]
    first = parts[0].features
    for path, part in zip(paths[1:], parts[1:]):
        if part.features != first:
            raise InputError(f"columns {sorted(part.features)} differ from those of {paths[0]} "
                             f"({sorted(first)}); judge files of one schema together", file=path)
    return datasets.concatenate_datasets(parts)
