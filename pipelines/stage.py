"""The stage contract: records in, `StageResult` out.

A stage is a plain function with one shape,

    verb(records, config, *, model=None, progress=None) -> StageResult

It never imports Prefect and never reads or writes files; flows read its inputs and persist its
result (see `pipelines.io.write_run`). `progress(done, total)` is called as work advances.

Every record a stage drops goes to `rejected` through `Rejections`, with a `stage`, a snake_case
`reason` prefixed by the stage (`template_no_label`) and a free-text `detail`. For filters,
`len(kept) + len(rejected) == len(input)`; generator stages account for every candidate they
made in `stats` instead. Further named outputs (`best_of_n`) go in `StageResult.extra` and are
written beside `kept/`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import datasets
import pyarrow as pa

from pipelines.records import rows_to_dataset

Progress = Callable[[int, int], None]
"""`progress(done, total)`: how a stage reports work as it advances."""

REJECT_COLUMNS = {
    "stage": datasets.Value("string"),
    "reason": datasets.Value("string"),
    "detail": datasets.Value("string"),
}


@dataclass(frozen=True)
class StageResult:
    """What a stage returns. `extra` holds further named datasets (e.g. `best_of_n`), which the
    flow writes beside `kept/` as `<name>/part-00000.parquet`."""

    kept: datasets.Dataset
    rejected: datasets.Dataset
    stats: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, datasets.Dataset] = field(default_factory=dict)

    def __post_init__(self) -> None:
        reserved = sorted(set(self.extra) & {"kept", "rejected", "stats", "manifest"})
        if reserved:
            raise ValueError(f"extra dataset names {reserved} are reserved; choose other names")


def rejected_features(features: datasets.Features,
                      extra_columns: dict[str, Any] | None = None) -> datasets.Features:
    """The input's features, then `extra_columns`, then `stage`, `reason`, `detail`."""
    extra_columns = dict(extra_columns or {})
    clash = sorted(set(features) & (set(REJECT_COLUMNS) | set(extra_columns)))
    if clash:
        raise ValueError(f"input already has reserved rejection columns {clash}")
    return datasets.Features({**features, **extra_columns, **REJECT_COLUMNS})


class Rejections:
    """Collects the records a stage drops, counts them per reason, and builds the rejected
    dataset (the input columns, any `extra_columns`, then `stage`, `reason`, `detail`).

    Rows come one at a time (`add`) or as a whole Arrow table (`add_table`, for stages that
    work on columns); the dataset keeps the order in which they were added.

    >>> features = datasets.Features({"id": datasets.Value("string")})
    >>> r = Rejections("dedup", features, extra_columns={"cluster": datasets.Value("int64")})
    >>> r.add({"id": "a"}, "dedup_exact", "same text as b", cluster=1)
    >>> r.add_table(pa.table({"id": ["c", "d"]}), "dedup_near", ["~b", "~a"], cluster=[1, 2])
    >>> dict(r.counts), len(r)
    ({'dedup_exact': 1, 'dedup_near': 2}, 3)
    >>> list(r.dataset()["detail"])
    ['same text as b', '~b', '~a']
    >>> r.stats(kept=5)
    {'stage': 'dedup', 'kept': 5, 'rejected': {'dedup_exact': 1, 'dedup_near': 2}}

    Rejections made elsewhere (a shard, a round) join with `extend`:

    >>> total = Rejections("dedup", features, extra_columns={"cluster": datasets.Value("int64")})
    >>> total.extend(r.dataset())
    >>> dict(total.counts), len(total)
    ({'dedup_exact': 1, 'dedup_near': 2}, 3)
    """

    def __init__(self, stage: str, features: datasets.Features, *,
                 extra_columns: dict[str, Any] | None = None) -> None:
        self.stage = stage
        self.input_features = datasets.Features(features)
        self.extra_columns = dict(extra_columns or {})
        self.features = rejected_features(self.input_features, self.extra_columns)
        self.counts: Counter[str] = Counter()
        self._rows: list[dict[str, Any]] = []
        self._tables: list[pa.Table] = []
        self._size = 0

    def _check(self, reason: str) -> None:
        if not reason.startswith(f"{self.stage}_"):
            raise ValueError(f"reason {reason!r} must start with the stage name {self.stage!r}_")

    def add(self, row: dict[str, Any], reason: str, detail: str = "", **extra: Any) -> None:
        """Drop one record (`row` holds at least the input columns)."""
        self._check(reason)
        unknown = sorted(set(extra) - set(self.extra_columns))
        if unknown:
            raise ValueError(f"unknown extra rejection columns {unknown}; declared: "
                             f"{sorted(self.extra_columns)}")
        self._rows.append({**row, **extra, "stage": self.stage, "reason": reason,
                           "detail": detail})
        self.counts[reason] += 1
        self._size += 1

    def add_table(self, table: pa.Table | datasets.Dataset, reason: str | Sequence[str],
                  detail: str | Sequence[str] = "", **extra: Sequence[Any]) -> None:
        """Drop every row of `table` (the input's columns) at once; `reason` and `detail` are one
        value for all rows or one per row, each `extra` column one value per row."""
        if isinstance(table, datasets.Dataset):
            table = table.with_format("arrow")[:] if len(table) else table.data.table.slice(0, 0)
        n = table.num_rows
        reasons = [reason] * n if isinstance(reason, str) else list(reason)
        details = [detail] * n if isinstance(detail, str) else list(detail)
        if len(reasons) != n or len(details) != n or any(len(v) != n for v in extra.values()):
            raise ValueError(f"add_table: {n} rows but reasons, details or extra columns of "
                             "another length")
        for name in set(reasons):
            self._check(name)
        if set(extra) != set(self.extra_columns):
            raise ValueError(f"add_table needs every extra column {sorted(self.extra_columns)}, "
                             f"got {sorted(extra)}")
        self._flush()
        columns = {name: table.column(name) for name in self.input_features}
        extra_rows = [dict(zip(extra, values)) for values in zip(*extra.values())]
        extras = rows_to_dataset(extra_rows, datasets.Features(self.extra_columns))
        tail = rows_to_dataset([{"stage": self.stage, "reason": r, "detail": d}
                                for r, d in zip(reasons, details)], datasets.Features(REJECT_COLUMNS))
        arrays = [*columns.values(), *extras.data.table.columns, *tail.data.table.columns]
        self._tables.append(pa.Table.from_arrays(arrays, schema=self.features.arrow_schema))
        self.counts.update(reasons)
        self._size += n

    def extend(self, rejected: datasets.Dataset) -> None:
        """Append rows already dropped by this stage elsewhere (another shard's or round's
        `dataset()`): the same features, reasons counted again here."""
        if rejected.features != self.features:
            raise ValueError(f"extend: rejected rows with features {rejected.features} do not "
                             f"match {self.features}")
        reasons = list(rejected["reason"])
        for name in set(reasons):
            self._check(name)
        self._flush()
        if len(rejected):
            self._tables.append(rejected.with_format("arrow")[:])
        self.counts.update(reasons)
        self._size += len(rejected)

    def _flush(self) -> None:
        if self._rows:
            self._tables.append(rows_to_dataset(self._rows, self.features).data.table)
            self._rows = []

    def __len__(self) -> int:
        return self._size

    def dataset(self, fingerprint: str | None = None) -> datasets.Dataset:
        """Every dropped record so far, in the order added (also when there is none). A given
        `fingerprint` spares `datasets` hashing the whole table for one."""
        self._flush()
        if not self._tables:
            return rows_to_dataset([], self.features)
        table = pa.concat_tables(self._tables) if len(self._tables) > 1 else self._tables[0]
        return datasets.Dataset(table.combine_chunks(), fingerprint=fingerprint)

    def counts_by(self, column: str) -> dict[Any, dict[str, int]]:
        """Counts per reason for each value of one column of the dropped records (e.g. per
        source task), in order of first appearance."""
        found: dict[Any, Counter[str]] = {}
        data = self.dataset()
        for value, reason in zip(data[column], data["reason"]):
            found.setdefault(value, Counter())[reason] += 1
        return {value: dict(counts) for value, counts in found.items()}

    def stats(self, **figures: Any) -> dict[str, Any]:
        """The stats skeleton every stage shares: the stage, its own figures, and the count of
        dropped records per reason (sorted by reason)."""
        return {"stage": self.stage, **figures, "rejected": dict(sorted(self.counts.items()))}
