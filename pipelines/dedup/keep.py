"""Keep policies: which member of each duplicate cluster survives.

Every record gets a priority (lower is better); the keeper of a cluster is the member with the
lowest (priority, input position), so ties always go to the earliest record and the choice is
deterministic:

| policy   | priority                           |
|----------|------------------------------------|
| first    | 0 for everyone (input order wins)  |
| longest  | minus the compared text's length in characters |
| score    | minus the value of a numeric column; null / NaN rank last |

    >>> keepers(np.array([0, 0, 2]), np.array([0.0, -5.0, 0.0]))   # cluster 0: {0, 1}
    array([1, 1, 2])

Not here: how clusters are found (`clusters.py`).
"""

from __future__ import annotations

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.dedup.config import KeepConfig
from pipelines.errors import InputError


def score_values(records: datasets.Dataset, column: str) -> np.ndarray:
    """The numeric values of `column` (a dotted path reaches into structs: `meta.score`) as
    float64, with NaN for nulls. Raises InputError when it is missing or not numeric."""
    head, *rest = column.split(".")
    table = records.with_format("arrow")[:] if len(records) else records.data.table.slice(0, 0)
    numeric = [f.name for f in table.schema if pa.types.is_integer(f.type) or pa.types.is_floating(f.type)]
    if head not in table.column_names:
        raise InputError(f"keep: score:{column} names no column of the records; numeric columns: "
                         f"{numeric}", field=column)
    values = table.column(head).combine_chunks()
    for i, part in enumerate(rest):
        if not pa.types.is_struct(values.type) or values.type.get_field_index(part) < 0:
            raise InputError(f"keep: score:{column}: {'.'.join([head, *rest[:i]])!r} has no "
                             f"field {part!r} (type {values.type})", field=column)
        values = pc.struct_field(values, part)
    if not (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
        raise InputError(f"keep: score:{column} must be a numeric column, got {values.type}",
                         field=column)
    return values.cast(pa.float64()).fill_null(np.nan).to_numpy(zero_copy_only=False)


def priorities(records: datasets.Dataset, texts: pa.Array, keep: KeepConfig) -> np.ndarray:
    """Per record: lower is kept first (see the table in the module docstring)."""
    if keep.policy == "first":
        return np.zeros(len(records), np.float64)
    if keep.policy == "longest":
        return -pc.utf8_length(texts).to_numpy(zero_copy_only=False).astype(np.float64)
    scores = score_values(records, keep.column)
    return np.where(np.isnan(scores), np.inf, -scores)


def keepers(labels: np.ndarray, priority: np.ndarray) -> np.ndarray:
    """keeper[i] = the member of i's cluster (same label) with the lowest (priority, index)."""
    n = len(labels)
    if n == 0:
        return np.zeros(0, np.int64)
    index = np.arange(n, dtype=np.int64)
    order = np.lexsort((index, priority, labels))
    sorted_labels = labels[order]
    head = np.ones(n, bool)
    head[1:] = sorted_labels[1:] != sorted_labels[:-1]
    run_keeper = order[np.flatnonzero(head)]
    run_of = np.cumsum(head) - 1
    keeper = np.empty(n, np.int64)
    keeper[order] = run_keeper[run_of]
    return keeper
