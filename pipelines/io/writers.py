"""Write datasets and run folders so that a crash never leaves a file that looks complete.

Every file is written under a temporary name in the same folder and renamed into place
(`os.replace` is atomic on one filesystem). A run folder's `manifest.json` is written last: a
folder with a manifest whose checksums match is complete, anything else is not.

Run folder layout (one per stage run):

    <out>/kept/part-00000.parquet      records that go on (zstd Parquet)
    <out>/rejected/part-00000.parquet  records that stopped here, with stage / reason / detail
    <out>/stats.json                   counts per reason, timings, the stage's own figures
    <out>/manifest.json                row counts, sha256 per file, config, package versions
    <out>/*.png                        plots the stage made, if any

Open the records with `datasets.load_dataset("parquet", data_files="<out>/kept/*.parquet")`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
import uuid
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import datasets
import pyarrow.parquet as pq

MANIFEST = "manifest.json"
VERSIONED_PACKAGES = ("tuneset", "datasets", "pyarrow", "transformers", "torch", "prefect",
                      "datasketch", "trl", "peft", "vllm")


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary sibling of `path`; rename it to `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text(path: str | Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | Path, value: Any) -> Path:
    return write_text(path, json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")


def write_parquet(dataset: datasets.Dataset, path: str | Path) -> Path:
    """zstd Parquet that keeps the `datasets` features in its schema metadata.

    A dataset without rows becomes a file with the schema and no row groups: one row group of
    zero rows is a file that `datasets`' Parquet reader fails on ("BatchSize must be greater
    than 0"), while no row groups read as an empty table everywhere."""
    schema = dataset.features.arrow_schema
    with atomic_path(path) as tmp:
        if len(dataset):
            table = dataset.with_format("arrow")[:].replace_schema_metadata(schema.metadata)
            pq.write_table(table, tmp, compression="zstd")
        else:
            pq.ParquetWriter(tmp, schema, compression="zstd").close()
    return Path(path)


def write_jsonl(dataset: datasets.Dataset, path: str | Path) -> Path:
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        for row in dataset:
            fh.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
    return Path(path)


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def package_versions() -> dict[str, str]:
    found = {}
    for name in VERSIONED_PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[name] = metadata.version(name)
    return found


def write_run(out: str | Path, *, stage: str, kept: datasets.Dataset, rejected: datasets.Dataset,
              stats: dict[str, Any], config: dict[str, Any] | None = None,
              inputs: dict[str, str] | None = None, jsonl: bool = False,
              extra_files: list[str] = (),
              extra_datasets: dict[str, datasets.Dataset] | None = None,
              run_info: dict[str, Any] | None = None, key: str | None = None) -> dict[str, Any]:
    """Write a complete run folder and return its manifest.

    `inputs` maps each input file to its sha256; `extra_files` names files the caller already
    wrote into `out` (plots, reports) so the manifest checksums them too; `extra_datasets` are
    further outputs written like `kept` (e.g. `best_of_n/part-00000.parquet`); `run_info`
    (orchestrator run ids, records in, code digest) goes into the manifest as `run`, and `key`
    (the cache key the folder was written for) as `key`.
    """
    out = Path(out)
    invalidate_run(out)
    files: list[tuple[str, int | None]] = []
    outputs = {"kept": kept, "rejected": rejected, **(extra_datasets or {})}
    for name, ds in outputs.items():
        rel = f"{name}/part-00000.parquet"
        write_parquet(ds, out / rel)
        files.append((rel, len(ds)))
        if jsonl:
            write_jsonl(ds, out / f"{name}/part-00000.jsonl")
            files.append((f"{name}/part-00000.jsonl", len(ds)))
    write_json(out / "stats.json", stats)
    files.append(("stats.json", None))
    files.extend((rel, None) for rel in extra_files)
    return write_manifest(out, stage=stage, files=files,
                          rows={name: len(ds) for name, ds in outputs.items()},
                          inputs=inputs, config=config, run_info=run_info, key=key)


def invalidate_run(out: str | Path) -> None:
    """Remove `out`'s manifest: the folder is incomplete from here until a new one lands."""
    old = Path(out) / MANIFEST
    if old.exists():
        old.unlink()


def write_manifest(out: str | Path, *, stage: str, files: list[tuple[str, int | None]],
                   rows: dict[str, int], inputs: dict[str, str] | None = None,
                   config: dict[str, Any] | None = None,
                   run_info: dict[str, Any] | None = None, key: str | None = None
                   ) -> dict[str, Any]:
    """Write `out`'s manifest (last, so a folder with a matching manifest is complete): the
    sha256, size and row count of each of `files` (paths relative to `out`, already written),
    `run_info` as `run`, and the cache `key` the folder was written for."""
    out = Path(out)
    manifest = {
        "stage": stage,
        **({"key": key} if key is not None else {}),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "rows": rows,
        "files": {rel: {"sha256": sha256_file(out / rel), "bytes": (out / rel).stat().st_size,
                        **({"rows": n} if n is not None else {})}
                  for rel, n in files},
        "inputs": inputs or {},
        "config": config or {},
        "versions": package_versions(),
        **({"run": run_info} if run_info is not None else {}),
    }
    write_json(out / MANIFEST, manifest)
    return manifest


def read_manifest(out: str | Path) -> dict[str, Any] | None:
    """`out`'s manifest, or None when it has none or it is damaged (not a JSON object listing
    files): either way the folder is incomplete."""
    path = Path(out) / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        return None
    return manifest


def verify_run(out: str | Path, key: str | None = None) -> bool:
    """True when `out` holds a manifest and every file it lists has the recorded sha256; with
    `key`, also only when the manifest was written for that cache key.

    >>> verify_run("/nonexistent/folder")
    False
    """
    manifest = read_manifest(out)
    if manifest is None or (key is not None and manifest.get("key") != key):
        return False
    for rel, info in manifest["files"].items():
        path = Path(out) / rel
        if (not isinstance(info, dict) or not path.is_file()
                or sha256_file(path) != info.get("sha256")):
            return False
    return True


def load_run(out: str | Path, part: str = "kept") -> datasets.Dataset:
    """The `kept` (or `rejected`) records of a run folder, with their original features."""
    files = sorted(str(p) for p in (Path(out) / part).glob("*.parquet"))
    if not files:
        raise FileNotFoundError(f"{out}: no {part}/*.parquet; is this a tuneset run folder?")
    return datasets.Dataset(pq.read_table(files[0])) if len(files) == 1 else \
        datasets.concatenate_datasets([datasets.Dataset(pq.read_table(f)) for f in files])
