"""How much of each source task, template or source the stage removed.

Deduplication on `instruction_input` can remove almost a whole task (hundreds of different
questions about one passage are one cluster), so the stats say, for each grouping column the
records have, the share of records removed per value, largest share first:

    >>> records = datasets.Dataset.from_dict({"task": ["qa", "qa", "qa", "nli"]})
    >>> removed_by(records, np.array([False, True, True, False]))
    {'task': {'qa': {'rows': 3, 'removed': 2, 'share': 0.667}, 'nli': {'rows': 1, 'removed': 0, 'share': 0.0}}}

Columns looked for (dotted paths reach into structs; the first present of each line is used,
and one holding only nulls is left out):

    task      meta.template.task, task
    template  meta.template.template_id, template_id
    source    meta.source, source
"""

from __future__ import annotations

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

GROUPINGS = (("meta.template.task", "task"), ("meta.template.template_id", "template_id"),
             ("meta.source", "source"))


def _path(table: pa.Table, path: str) -> pa.Array | None:
    head, *rest = path.split(".")
    if head not in table.column_names:
        return None
    values = table.column(head).combine_chunks()
    for part in rest:
        if not pa.types.is_struct(values.type) or values.type.get_field_index(part) < 0:
            return None
        values = pc.struct_field(values, part)
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)
            or pa.types.is_integer(values.type)) or values.null_count == len(values):
        return None
    return values


def removed_by(records: datasets.Dataset, removed: np.ndarray) -> dict[str, dict[str, dict]]:
    """{column: {value: {rows, removed, share}}} for each grouping column found (see above)."""
    if not len(records):
        return {}
    table = records.with_format("arrow")[:]
    found: dict[str, dict[str, dict]] = {}
    for paths in GROUPINGS:
        present = [(p, v) for p, v in ((p, _path(table, p)) for p in paths) if v is not None]
        if not present:
            continue
        name, values = present[0]
        encoded = values.cast(pa.string()).dictionary_encode()
        unique = [*encoded.dictionary.to_pylist(), "null"]
        inverse = encoded.indices.fill_null(len(unique) - 1).to_numpy(zero_copy_only=False)
        rows = np.bincount(inverse, minlength=len(unique))
        gone = np.bincount(inverse, weights=removed, minlength=len(unique)).astype(np.int64)
        present = np.flatnonzero(rows)
        order = sorted(present.tolist(), key=lambda k: (-gone[k] / rows[k], unique[k]))
        found[name] = {str(unique[k]): {"rows": int(rows[k]), "removed": int(gone[k]),
                                        "share": round(float(gone[k] / rows[k]), 3)}
                       for k in order}
    return found
