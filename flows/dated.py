"""Dated runs: what a scheduled pipeline run leaves in its output folder.

    OUT/work/                the stages' run folders and their caches, the same path every run,
                             so an unchanged stage is a cache hit and a changed one recomputes
    OUT/2026-05-04T02-00-00Z/  a copy of work/ as this run left it (caches left out), plus
                             inputs.json (every raw file used, with sha256) and run.json
    OUT/latest               a symbolic link to the newest finished run's folder
    OUT/dataset/             the published dataset repository (unless `publish.repo` names others)
    OUT/cache/responses.sqlite  the response cache every model of every run shares
    OUT/.lock                held while a run writes OUT; a second run fails at once

A dated folder never changes once written: files equal (size and modification time) to the
previous dated folder's are hard links to it, every other file is a copy, so work/ may be
rewritten by the next run without touching earlier runs.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from pipelines.errors import TunesetError
from pipelines.io import is_glob, raw_files, sha256_file, write_json

WORK, LATEST, LOCK, CACHE = "work", "latest", ".lock", "cache"
SKIPPED = frozenset({".cache"})  # Prefect cache records stay with work/


class RunCollision(TunesetError):
    """Another run is writing the same output folder."""


def run_stamp(now: dt.datetime | None = None) -> str:
    """The dated folder's name: UTC, seconds, no colons (valid on every filesystem).

    >>> run_stamp(dt.datetime(2026, 5, 4, 2, 0, 0, tzinfo=dt.timezone.utc))
    '2026-05-04T02-00-00Z'
    """
    now = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
    return now.strftime("%Y-%m-%dT%H-%M-%SZ")


@contextlib.contextmanager
def output_lock(root: Path) -> Iterator[None]:
    """Hold OUT/.lock while a run writes OUT; RunCollision when another process holds it."""
    root.mkdir(parents=True, exist_ok=True)
    with open(root / LOCK, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise RunCollision(f"another run is writing {root} ({holder}); runs of one output "
                               "never overlap: wait for it, or give this run its own --out") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        try:
            yield
        finally:
            handle.truncate(0)


# -- which raw files a run read ---------------------------------------------------------------
def _paths(value: Any, name: str = "") -> Iterator[Path]:
    if isinstance(value, BaseModel):
        for field_name in type(value).model_fields:
            yield from _paths(getattr(value, field_name), field_name)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _paths(item, name)
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, str(key))
    elif isinstance(value, Path) and name not in ("cache", "response_cache", "out"):
        yield value


def input_files(config: BaseModel, *, base_dir: Path) -> dict[str, str]:
    """{file: sha256} of every input file a pipeline config names as it is now: globs and
    folders expanded, datasets folders file by file; training files named by `dataset`."""
    paths = list(_paths(config))
    for entry in getattr(config, "train", []):
        if "dataset" in entry.fields:
            paths.append(base_dir / str(entry.fields["dataset"]))
    found: dict[str, str] = {}
    for path in paths:
        files = raw_files(path) if is_glob(path) or path.exists() else []
        for file in files:
            inner = sorted(p for p in file.rglob("*") if p.is_file()) if file.is_dir() else [file]
            found.update({str(p): sha256_file(p) for p in inner})
    return dict(sorted(found.items()))


# -- one response cache for every model ---------------------------------------------------------
def with_response_cache(config: BaseModel, path: str | Path) -> BaseModel:
    """`config` with every model that has no `cache` of its own using `path`."""
    from pipelines.models import ModelConfig

    def visit(value: Any) -> Any:
        if isinstance(value, ModelConfig):
            return value if value.cache is not None else value.model_copy(update={"cache": Path(path)})
        if isinstance(value, BaseModel):
            update = {}
            for field_name in type(value).model_fields:
                old = getattr(value, field_name)
                new = visit(old)
                if new is not old:
                    update[field_name] = new
            return value.model_copy(update=update) if update else value
        if isinstance(value, (list, tuple)):
            items = [visit(v) for v in value]
            return type(value)(items) if any(a is not b for a, b in zip(items, value)) else value
        return value

    return visit(config)


# -- the dated folder ---------------------------------------------------------------------------
def snapshot(work: Path, dest: Path, previous: Path | None) -> int:
    """Copy `work` to `dest` (see the module docstring); the number of files copied, not linked."""
    copied = 0
    for src in sorted(work.rglob("*")):
        rel = src.relative_to(work)
        if SKIPPED & set(rel.parts):
            continue
        target = dest / rel
        if src.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        old = previous / rel if previous is not None else None
        stat = src.stat()
        if old is not None and old.is_file() and (old.stat().st_size, old.stat().st_mtime_ns) \
                == (stat.st_size, stat.st_mtime_ns):
            os.link(old, target)
        else:
            shutil.copy2(src, target)
            copied += 1
    return copied


def previous_run(root: Path) -> Path | None:
    latest = root / LATEST
    return latest.resolve() if latest.is_symlink() and latest.resolve().is_dir() else None


def point_latest(root: Path, dest: Path) -> None:
    """OUT/latest -> dest, replaced atomically (a reader sees the old or the new run)."""
    tmp = root / f".{LATEST}.{os.getpid()}"
    if tmp.is_symlink():
        tmp.unlink()
    tmp.symlink_to(dest.name, target_is_directory=True)
    os.replace(tmp, root / LATEST)


def finish_run(root: Path, stamp: str, info: dict[str, Any]) -> Path:
    """Write OUT/<stamp>/ from work/, its run.json, and move OUT/latest to it."""
    dest = root / stamp
    info = {**info, "copied_files": snapshot(root / WORK, dest, previous_run(root))}
    write_json(dest / "run.json", info)
    point_latest(root, dest)
    return dest


def start_run(root: Path, stamp: str, inputs: dict[str, str]) -> Path:
    """OUT/<stamp>/inputs.json, written before any stage runs (a failed run keeps it)."""
    dest = root / stamp
    if dest.exists():
        raise RunCollision(f"{dest} exists already: another run started in the same second")
    write_json(dest / "inputs.json", {"files": inputs, "count": len(inputs)})
    return dest
