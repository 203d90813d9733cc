"""The dataset repository's data: which configs a run yields, their splits, and their shards.

    data/sft/train-00000-of-00001.parquet          instruction records (`messages`, ...)
    data/preferences/train-00000-of-00001.parquet  prompt / chosen / rejected (TRL conversational)
    data/best_of_n/...                             the top-scored sampled answer per prompt
    data/rejected/...                              every dropped record, one uniform schema

A record's split is a hash of its content id, so it stays in the same split in every version:
`split_of("3f2a...", 0.1)` is "test" for about one id in ten, always the same ones. Rows keep
their order inside a split; a split or config without rows is left out (a 0-row Parquet file
does not load with `load_dataset`). Shards are contiguous and sized by their in-memory Arrow
bytes, as `datasets.push_to_hub` sizes them.

The `rejected` config gives every stage's dropped records one schema:

    stage   the pipeline stage that dropped it (templating, self_instruct, dedup, judge, preferences)
    reason  the stage's reason (prefixed by the stage, e.g. dedup_exact)
    detail  the stage's explanation, or null
    id      the record's content id when it had one, else null
    record  the whole original row (the stage's own columns included) as a JSON object string
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets
import pyarrow as pa

from pipelines.io import write_parquet
from pipelines.publish.run import RunFolder, sft_sources
from pipelines.records import content_id

CONFIG_ORDER = ("sft", "preferences", "best_of_n", "rejected")
SPLITS = ("train", "test")
REJECTED_FEATURES = datasets.Features({
    "stage": datasets.Value("string"), "reason": datasets.Value("string"),
    "detail": datasets.Value("string"), "id": datasets.Value("string"),
    "record": datasets.Value("string")})


@dataclass
class ConfigData:
    """One config's rows, split into train and test (empty splits left out)."""

    name: str
    splits: dict[str, datasets.Dataset]
    source: str
    """Where the rows come from, for the card (e.g. "judge/kept")."""

    @property
    def rows(self) -> dict[str, int]:
        return {split: len(ds) for split, ds in self.splits.items()}


def split_of(key: str, test_fraction: float) -> str:
    """"test" or "train" from a hash of `key` (a content id); the same key, the same split."""
    bucket = int.from_bytes(hashlib.sha256(f"split:{key}".encode()).digest()[:8], "big")
    return "test" if bucket < test_fraction * 2**64 else "train"


def row_key(config: str, row: dict[str, Any]) -> str:
    """A row's identity across versions: its content id, or for a rejected row without one a
    hash of where it stopped and what it held."""
    if row.get("id"):
        return str(row["id"])
    return content_id(config, row.get("stage"), row.get("reason"), row.get("record"))


def row_keys(config: str, dataset: datasets.Dataset) -> list[str]:
    if "id" in dataset.column_names and config != "rejected":
        return [str(v) for v in dataset["id"]]
    return [row_key(config, row) for row in dataset]


def split_dataset(name: str, dataset: datasets.Dataset, test_fraction: float,
                  source: str) -> ConfigData | None:
    """The config's splits by content-id hash; None when `dataset` has no rows."""
    if len(dataset) == 0:
        return None
    assigned: dict[str, list[int]] = {split: [] for split in SPLITS}
    for index, key in enumerate(row_keys(name, dataset)):
        assigned[split_of(key, test_fraction)].append(index)
    table = dataset.with_format("arrow")[:]
    splits = {split: _dataset(table.take(rows), dataset.info)
              for split, rows in assigned.items() if rows}
    return ConfigData(name, splits, source)


def _dataset(table: pa.Table, info: datasets.DatasetInfo) -> datasets.Dataset:
    """A Dataset over `table` without hashing it (`datasets` would pickle the whole table to
    fingerprint it; these datasets are written, never cached)."""
    return datasets.Dataset(table, info=info.copy(), fingerprint=uuid.uuid4().hex)


def _concat(parts: list[datasets.Dataset]) -> datasets.Dataset:
    return parts[0] if len(parts) == 1 else datasets.concatenate_datasets(parts)


def rejected_rows(stage: str, dataset: datasets.Dataset) -> Iterator[dict[str, Any]]:
    """A stage's rejected records in the uniform `rejected` schema."""
    for row in dataset:
        record_id = row.get("id")
        yield {"stage": stage, "reason": str(row.get("reason") or f"{stage}_unknown"),
               "detail": None if row.get("detail") is None else str(row["detail"]),
               "id": record_id if isinstance(record_id, str) and record_id else None,
               "record": json.dumps(row, ensure_ascii=False, sort_keys=True, default=str)}


def build_configs(run: RunFolder, *, sft_from: list[str] | None, best_of_n: bool,
                  rejected: bool, test_fraction: float) -> dict[str, ConfigData]:
    """Every config the run has rows for, in CONFIG_ORDER."""
    found: dict[str, ConfigData | None] = {}
    sources = sft_sources(run, sft_from)
    parts = [s.records("kept") for s in sources]
    parts = [p for p in parts if p is not None and len(p)]
    if parts:
        found["sft"] = split_dataset("sft", _concat(parts), test_fraction,
                                     ", ".join(f"{s.name}/kept" for s in sources))
    prefs = run.stages.get("preferences")
    if prefs is not None:
        found["preferences"] = split_dataset("preferences", prefs.records("kept"), test_fraction,
                                             "preferences/kept")
        best = prefs.records("best_of_n") if best_of_n else None
        if best is not None:
            found["best_of_n"] = split_dataset("best_of_n", best, test_fraction,
                                               "preferences/best_of_n")
    if rejected:
        rows = [r for stage in run.stages.values()
                for r in rejected_rows(stage.name, stage.records("rejected") or [])]
        table = _dataset(pa.Table.from_pylist(rows, schema=REJECTED_FEATURES.arrow_schema),
                         datasets.DatasetInfo(features=REJECTED_FEATURES))
        found["rejected"] = split_dataset("rejected", table, test_fraction,
                                          ", ".join(f"{s}/rejected" for s in run.stages))
    return {name: found[name] for name in CONFIG_ORDER if found.get(name) is not None}


def shard_count(nbytes: int, max_bytes: int) -> int:
    """Shards for `nbytes` of data at most `max_bytes` each: shard_count(1200, 500) == 3."""
    return max(1, math.ceil(nbytes / max_bytes))


def write_configs(configs: dict[str, ConfigData], root: Path,
                  max_bytes: int) -> dict[str, dict[str, list[str]]]:
    """Write `data/<config>/<split>-NNNNN-of-NNNNN.parquet` under `root`; the files written,
    relative to `root`, per config and split."""
    written: dict[str, dict[str, list[str]]] = {}
    for name, config in configs.items():
        for split, dataset in config.splits.items():
            n = shard_count(dataset.data.nbytes, max_bytes)
            files = []
            for index in range(n):
                rel = f"data/{name}/{split}-{index:05d}-of-{n:05d}.parquet"
                start, stop = len(dataset) * index // n, len(dataset) * (index + 1) // n
                write_parquet(_dataset(dataset.data.table.slice(start, stop - start),
                                       dataset.info), root / rel)
                files.append(rel)
            written.setdefault(name, {})[split] = files
    return written


def data_digest(dataset: datasets.Dataset) -> str:
    """sha256 over the rows' canonical JSON, in order: equal rows, equal digest, whatever the
    Parquet writer's version."""
    digest = hashlib.sha256()
    for batch in dataset.with_format("arrow").iter(batch_size=1000):
        for row in batch.to_pylist():
            digest.update(json.dumps(row, ensure_ascii=False, sort_keys=True,
                                     default=str).encode())
            digest.update(b"\n")
    return digest.hexdigest()


def read_ids(root: Path) -> dict[str, Counter]:
    """The row keys of every config published under `root/data/` (a previous version)."""
    import pyarrow.parquet as pq

    found: dict[str, Counter] = {}
    for folder in sorted(p for p in (root / "data").glob("*") if p.is_dir()):
        keys: Counter = Counter()
        for file in sorted(folder.glob("*.parquet")):
            table = pq.read_table(file)
            keys.update(row_keys(folder.name, _dataset(table, datasets.DatasetInfo())))
        found[folder.name] = keys
    return found


def current_ids(configs: dict[str, ConfigData]) -> dict[str, Counter]:
    return {name: Counter(k for ds in c.splits.values() for k in row_keys(name, ds))
            for name, c in configs.items()}
