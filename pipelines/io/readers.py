"""Read record files into `datasets.Dataset`, with errors that point at the bad line.

Formats: JSONL, JSON (a list of objects), CSV, TSV, Parquet (a file, or a folder of `*.parquet`
parts such as a run folder's `kept/`, read as one table) and folders written by
`Dataset.save_to_disk`. Text formats are parsed with the standard library so every record
keeps its line number; Parquet and HF folders load through pyarrow / `datasets` directly.

    >>> recs = read_table("configs/demo_data/nli.jsonl")
    >>> recs.dataset.num_rows, recs.line_of(0)
    (24, 1)
    >>> require_columns(recs, {"premise": "string", "label": "any"}, nonempty=["premise"])
    >>> require_columns(recs, {"premise": "int"})
    Traceback (most recent call last):
    ...
    pipelines.errors.InputError: configs/demo_data/nli.jsonl, line 1, field 'premise': expected an integer, got 'Maria left her umbrella at home this mor...

TSV is read the GLUE way: tab-separated, no quoting (quote characters are text). CSV uses
standard quoting. CSV/TSV values are strings; JSON values keep their JSON types.

Not here: streaming of files larger than memory (stages work on Arrow tables in memory).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.errors import InputError

FORMATS = ("jsonl", "json", "csv", "tsv", "parquet", "hf")
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv",
             ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet"}


@dataclass
class RecordTable:
    """A loaded file: its records, where they came from, and the line each record started on."""

    path: Path
    format: str
    dataset: datasets.Dataset
    lines: list[int] | None = None

    def line_of(self, row: int) -> int | None:
        return self.lines[row] if self.lines is not None else None

    def error(self, row: int, field: str | None, message: str) -> InputError:
        line = self.line_of(row)
        return InputError(message, file=self.path, line=line,
                          row=None if line is not None else row, field=field)


def parquet_parts(folder: Path) -> list[Path]:
    """The `*.parquet` files directly inside `folder`, in name order (part-00000, ...)."""
    return sorted(p for p in folder.glob("*.parquet") if p.is_file())


def detect_format(path: str | Path) -> str:
    path = Path(path)
    if path.is_dir():
        if (path / "dataset_info.json").exists() or (path / "dataset_dict.json").exists():
            return "hf"
        if parquet_parts(path):
            return "parquet"
        hint = "; for a tuneset run folder, name its kept/" if (path / "kept").is_dir() else ""
        raise InputError("expected a file, a folder of *.parquet files (such as a run folder's "
                         "kept/) or a folder written by Dataset.save_to_disk (with "
                         f"dataset_info.json); found a folder with neither{hint}", file=path)
    fmt = _SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"cannot tell the format from the suffix {path.suffix!r}; expected one "
                         f"of {sorted(_SUFFIXES)} or pass format= one of {list(FORMATS)}", file=path)
    return fmt


def read_table(path: str | Path, format: str | None = None, *, split: str = "train") -> RecordTable:
    """Load `path` (format from its suffix unless given). Raises InputError on bad input."""
    path = Path(path)
    if not path.exists():
        raise InputError("no such file or folder", file=path)
    fmt = format or detect_format(path)
    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r}; expected one of {list(FORMATS)}", file=path)
    if fmt == "parquet":
        return RecordTable(path, fmt, _read_parquet(path))
    if fmt == "hf":
        return RecordTable(path, fmt, _load_hf_folder(path, split))
    text = _decode(path)
    if fmt == "jsonl":
        rows, lines = _parse_jsonl(text, path)
    elif fmt == "json":
        rows, lines = _parse_json_list(text, path)
    else:
        rows, lines = _parse_delimited(text, path, delimiter="\t" if fmt == "tsv" else ",",
                                       quoting=fmt == "csv")
    return RecordTable(path, fmt, _to_dataset(rows, lines, path), lines)


def read_records(path: str | Path, format: str | None = None, *, split: str = "train") -> datasets.Dataset:
    return read_table(path, format, split=split).dataset


def _read_parquet(path: Path) -> datasets.Dataset:
    """One Parquet file, or every part in a folder as one table (the parts must share columns;
    rows are numbered across parts in name order)."""
    files = parquet_parts(path) if path.is_dir() else [path]
    if not files:
        raise InputError("no *.parquet files in this folder", file=path)
    tables = []
    for file in files:
        try:
            tables.append(pq.read_table(file))
        except (pa.ArrowException, OSError) as exc:
            raise InputError(f"not a readable Parquet file ({exc})", file=file) from exc
        if not tables[-1].schema.equals(tables[0].schema, check_metadata=False):
            raise InputError(f"columns {tables[-1].schema.names} differ from those of "
                             f"{files[0].name} ({tables[0].schema.names}); expected the parts "
                             "of one table", file=file)
    return datasets.Dataset(tables[0] if len(tables) == 1 else pa.concat_tables(tables))


def _load_hf_folder(path: Path, split: str) -> datasets.Dataset:
    loaded = datasets.load_from_disk(str(path))
    if isinstance(loaded, datasets.DatasetDict):
        if split not in loaded:
            raise InputError(f"folder holds splits {sorted(loaded)}; expected split {split!r}",
                             file=path)
        return loaded[split]
    return loaded


def _decode(path: Path) -> str:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise InputError(f"undecodable bytes {data[exc.start:exc.end]!r} at byte {exc.start}; "
                         "expected UTF-8 text", file=path, line=line) from exc
    return text.removeprefix("\ufeff")


_JSON_KIND = {str: "string", bool: "boolean", int: "number", float: "number", list: "list",
              dict: "object"}


def _json_kind(value: Any) -> str | None:
    return None if value is None else _JSON_KIND[type(value)]


def _check_kinds(rows: list[dict], path: Path, lines: list[int] | None) -> None:
    """Each top-level field keeps one JSON type across records (null is always allowed).
    Positions are reported as lines when `lines` is given, else as 0-based rows."""
    first: dict[str, tuple[str, int]] = {}
    unit = "line" if lines is not None else "row"
    for i, row in enumerate(rows):
        pos = lines[i] if lines is not None else i
        for key, value in row.items():
            kind = _json_kind(value)
            if kind is None:
                continue
            seen = first.setdefault(key, (kind, pos))
            if seen[0] != kind:
                raise InputError(f"expected {seen[0]} (as on {unit} {seen[1]}), got {kind} "
                                 f"{_short(value)}", file=path, field=key, **{unit: pos})


def _parse_jsonl(text: str, path: Path) -> tuple[list[dict], list[int]]:
    rows, lines = [], []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InputError(f"malformed JSON at column {exc.colno}: {exc.msg}; expected one JSON "
                             "object per line", file=path, line=number) from exc
        if not isinstance(value, dict):
            raise InputError(f"expected a JSON object, got {_json_kind(value) or 'null'}",
                             file=path, line=number)
        rows.append(value)
        lines.append(number)
    _check_kinds(rows, path, lines)
    return rows, lines


def _parse_json_list(text: str, path: Path) -> tuple[list[dict], list[int] | None]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"malformed JSON at column {exc.colno}: {exc.msg}", file=path,
                         line=exc.lineno) from exc
    if not isinstance(value, list):
        raise InputError(f"expected a JSON list of objects, got {_json_kind(value) or 'null'}",
                         file=path)
    for i, item in enumerate(value):
        if not isinstance(item, dict):
            raise InputError(f"expected a JSON object, got {_json_kind(item) or 'null'}",
                             file=path, row=i)
    _check_kinds(value, path, None)
    return value, None


def _parse_delimited(text: str, path: Path, *, delimiter: str, quoting: bool) -> tuple[list[dict], list[int]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter,
                        quoting=csv.QUOTE_MINIMAL if quoting else csv.QUOTE_NONE, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        raise InputError("empty file; expected a header row", file=path, line=1) from None
    except csv.Error as exc:
        raise InputError(f"malformed header ({exc})", file=path, line=1) from exc
    if len(set(header)) != len(header) or any(not h.strip() for h in header):
        raise InputError(f"header must name each column once, got {header}", file=path, line=1)
    rows, lines = [], []
    while True:
        start = reader.line_num + 1
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise InputError(f"malformed row ({exc})", file=path, line=reader.line_num) from exc
        if not values:
            continue
        if len(values) != len(header):
            raise InputError(f"expected {len(header)} fields as in the header {header}, got "
                             f"{len(values)}", file=path, line=start)
        rows.append(dict(zip(header, values)))
        lines.append(start)
    return rows, lines


def _to_dataset(rows: list[dict], lines: list[int] | None, path: Path) -> datasets.Dataset:
    if not rows:
        return datasets.Dataset(pa.table({}))
    try:
        return datasets.Dataset(pa.Table.from_pylist(rows))
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise InputError(f"records do not share one structure ({exc}); expected the same "
                         "fields with the same nested types on every record", file=path) from exc


KINDS = ("string", "int", "number", "bool", "list", "object", "messages", "any")


def _matches(kind: str, value: Any) -> bool:
    if kind == "any":
        return True
    if kind == "string":
        return isinstance(value, str)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "list":
        return isinstance(value, list)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "messages":
        return isinstance(value, list) and all(
            isinstance(m, dict) and isinstance(m.get("role"), str)
            and isinstance(m.get("content"), str) for m in value)
    raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")


_KIND_TEXT = {"messages": "a list of {role, content} messages", "int": "an integer",
              "number": "a number", "bool": "true or false", "string": "a string",
              "list": "a list", "object": "an object", "any": "a value"}


def require_columns(table: RecordTable, columns: dict[str, str], *,
                    nonempty: Iterable[str] = ()) -> None:
    """Check that every column exists, every value has its kind, and `nonempty` strings are
    not blank. The first problem raises InputError naming file, line/row and field."""
    ds = table.dataset
    require_values(ds.column_names, ds.__getitem__, columns, nonempty=nonempty, file=table.path,
                   error=table.error)


def require_values(names: list[str], values: Callable[[str], list[Any]], columns: dict[str, str],
                   *, nonempty: Iterable[str] = (), file: str | Path | None,
                   error: Callable[[int, str, str], InputError]) -> None:
    """`require_columns` over any column source: `names` are the columns present, `values(name)`
    one column's values, `error(row, field, message)` the error for a bad value."""
    missing = [c for c in columns if c not in names]
    if missing:
        raise InputError(f"missing column(s) {missing}; the file has {list(names)}", file=file,
                         field=missing[0])
    nonempty = set(nonempty)
    for name, kind in columns.items():
        for row, value in enumerate(values(name)):
            if value is None:
                raise error(row, name, f"expected {_KIND_TEXT[kind]}, got null")
            if not _matches(kind, value):
                raise error(row, name, f"expected {_KIND_TEXT[kind]}, got {_short(value)}")
            if name in nonempty and isinstance(value, str) and not value.strip():
                raise error(row, name, "expected a non-empty string, got an empty one")


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
