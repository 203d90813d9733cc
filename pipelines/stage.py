"""The stage contract: records in, `StageResult` out.

A stage is a plain function `stage(records, config, *, model=None) -> StageResult`. It never
imports Prefect and never writes files; flows persist its result (see `pipelines.io.write_run`).

Every record a stage drops goes to `rejected` with a `stage`, a snake_case `reason` prefixed by
the stage (`template_no_label`) and a free-text `detail`. For filters,
`len(kept) + len(rejected) == len(input)`; generator stages put their candidate counts in
`stats` instead.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import datasets

from pipelines.records import rows_to_dataset

REJECT_COLUMNS = {
    "stage": datasets.Value("string"),
    "reason": datasets.Value("string"),
    "detail": datasets.Value("string"),
}


@dataclass(frozen=True)
class StageResult:
    kept: datasets.Dataset
    rejected: datasets.Dataset
    stats: dict[str, Any] = field(default_factory=dict)


def rejected_features(features: datasets.Features) -> datasets.Features:
    """The input's features plus `stage`, `reason`, `detail`."""
    clash = sorted(set(features) & set(REJECT_COLUMNS))
    if clash:
        raise ValueError(f"input already has reserved rejection columns {clash}")
    return datasets.Features({**features, **REJECT_COLUMNS})


class Rejections:
    """Collects dropped records and counts them per reason.

    >>> r = Rejections("dedup", features)
    >>> r.add(row, "dedup_exact", "same text as 3f2a...")
    >>> r.counts        # Counter({'dedup_exact': 1})
    >>> r.dataset()     # input columns + stage, reason, detail
    """

    def __init__(self, stage: str, features: datasets.Features) -> None:
        self.stage = stage
        self.features = rejected_features(features)
        self.rows: list[dict[str, Any]] = []
        self.counts: Counter[str] = Counter()

    def add(self, row: dict[str, Any], reason: str, detail: str = "") -> None:
        if not reason.startswith(f"{self.stage}_"):
            raise ValueError(f"reason {reason!r} must start with the stage name {self.stage!r}_")
        self.rows.append({**row, "stage": self.stage, "reason": reason, "detail": detail})
        self.counts[reason] += 1

    def __len__(self) -> int:
        return len(self.rows)

    def dataset(self) -> datasets.Dataset:
        return rows_to_dataset(self.rows, self.features)
