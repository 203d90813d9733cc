"""Read a consuming stage's inputs: record files, or run folders standing for their kept records.

    >>> from pipelines.errors import InputError
    >>> def short_premises(dataset):
    ...     for i, text in enumerate(dataset["premise"]):
    ...         if len(text) > 100:
    ...             raise InputError("expected at most 100 characters", row=i, field="premise")
    >>> read_sources(["configs/demo_data/nli.jsonl"], check=short_premises)
    Traceback (most recent call last):
    ...
    pipelines.errors.InputError: configs/demo_data/nli.jsonl, line 1, field 'premise': expected at most 100 characters

A run folder (one with `kept/*.parquet`, as every stage writes) contributes its kept records,
a folder of `*.parquet` parts (such as a run folder's `kept/` or `best_of_n/`) each of its
parts; anything else is read as a record file (`read_table`). `check(dataset)` validates one
source before any work and raises InputError with a 0-based `row`; the error then names the
file, and the row becomes the file's line number where the format has lines. All sources must
share their columns; a source without records is left out.

No records at all is an error naming the sources, unless the caller allows it (`allow_empty`,
a stage config's `allow_empty: true`): one rule for every stage that reads records.

Raw inputs that grow between runs (`raw_files`): a glob (`data/reviews/*.jsonl`) or a folder
of record files stands for every file it holds now, in name order.
"""

from __future__ import annotations

import glob
from collections.abc import Callable, Sequence
from pathlib import Path

import datasets

from pipelines.errors import InputError
from pipelines.io.readers import detect_format, parquet_parts, read_table

GLOB_CHARS = frozenset("*?[")


def is_glob(path: str | Path) -> bool:
    return any(c in GLOB_CHARS for c in str(path))


def raw_files(path: str | Path) -> list[Path]:
    """The files a raw input stands for now: a glob's matching files (`**` recurses), a folder's
    files (hidden ones left out, subfolders included), in name order; a dataset folder (parquet
    parts, `save_to_disk`) or a file is itself."""
    if is_glob(path):
        return sorted(p for p in map(Path, glob.glob(str(path), recursive=True)) if p.is_file())
    path = Path(path)
    if not path.is_dir() or (path / "dataset_info.json").exists() \
            or (path / "dataset_dict.json").exists() or parquet_parts(path):
        return [path]
    return sorted(p for p in path.rglob("*") if p.is_file()
                  and not any(part.startswith(".") for part in p.relative_to(path).parts))


def is_run_folder(path: str | Path) -> bool:
    return Path(path).is_dir() and (Path(path) / "kept").is_dir()


def source_files(paths: Sequence[str | Path]) -> list[Path]:
    """The files to read: a run folder stands for its `kept/*.parquet`, a folder of parquet
    parts for its parts (so errors name the part file)."""
    files: list[Path] = []
    for path in map(Path, paths):
        if is_run_folder(path):
            found = parquet_parts(path / "kept")
            if not found:
                raise InputError("run folder has no kept/*.parquet; did its stage finish?", file=path)
            files.extend(found)
        elif path.is_dir() and detect_format(path) == "parquet":
            files.extend(parquet_parts(path))
        else:
            files.append(path)
    return files


def read_sources(paths: Sequence[str | Path], *,
                 check: Callable[[datasets.Dataset], None] | None = None,
                 allow_empty: bool = False) -> datasets.Dataset:
    """Every source's records, checked and concatenated in order."""
    files = source_files(paths)
    if not files:
        raise InputError("no inputs; name record files or run folders")
    tables = [read_table(path) for path in files]
    if not any(len(t.dataset) for t in tables):
        if allow_empty:
            return tables[0].dataset
        raise InputError("no records; a stage stops on empty input (set `allow_empty: true` in "
                         "the stage's config to accept it)",
                         file=", ".join(str(p) for p in dict.fromkeys(map(str, paths))))
    tables = [t for t in tables if len(t.dataset)]
    files = [t.path for t in tables]
    parts = []
    for table in tables:
        path = table.path
        if check is not None:
            try:
                check(table.dataset)
            except InputError as exc:
                if exc.file is not None:
                    raise
                if exc.row is None:
                    raise InputError(exc.detail, file=path, field=exc.field) from None
                raise table.error(exc.row, exc.field, exc.detail) from None
        parts.append(table.dataset)
    first = parts[0].features
    for path, part in zip(files[1:], parts[1:]):
        if part.features != first:
            raise InputError(f"columns {sorted(part.features)} differ from those of {files[0]} "
                             f"({sorted(first)}); read files of one schema together", file=path)
    return parts[0] if len(parts) == 1 else datasets.concatenate_datasets(parts)
