"""Run folders change hands whole: one writer at a time, and a new run swapped in at once.

    with output_lock(out):                 # exclusive: a second process fails, naming our pid
        with staged_folder(out) as tmp:    # a temporary sibling, `.<name>.tmp-<hex>`
            ...write the run into tmp, its manifest last...
        # here `out` is the new run: renamed into place in one step

The lock is `<out>/.lock` (an `flock`, so it dies with the process that holds it; the file
stays, unless the run created the folder and left nothing else in it: a run that fails
before writing leaves no folder behind). Within one process the lock is re-entrant: a flow holding `out` may write the run
folder `out` (and any folder inside it) without deadlocking itself.

A swap keeps what lives in `out` but is not the run's own output: its cache records
(`.cache`), the lock, nested run folders (`rounds/`, `samples/`). They move into the new folder
before it replaces the old one. A crash leaves either the old folder or the new one at `out`
(plus a stale temporary sibling that the next write removes).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import os
import re
import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

from pipelines.errors import InputError, TunesetError

LOCK = ".lock"
_held: dict[Path, int] = {}
_held_guard = threading.Lock()


class FolderBusyError(TunesetError):
    """Another process is writing the same output folder."""


def _holder(path: Path) -> str:
    with contextlib.suppress(OSError):
        pid = path.read_text(encoding="utf-8").strip()
        if pid:
            return f"process {pid}"
    return "another process"


def _make_folder(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise InputError("the output folder is an existing file; name a folder (new or a "
                         "previous run of this command)", file=out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise InputError("cannot create the output folder: a parent of it is a file",
                         file=out) from None


@contextlib.contextmanager
def output_lock(out: str | Path) -> Iterator[Path]:
    """Hold the exclusive lock of folder `out` (created if missing) for the block.

    Raises `FolderBusyError` at once, naming the holder's pid, if another process holds it."""
    out = Path(os.path.abspath(out))
    with _held_guard:
        if any(out == held or held in out.parents for held in _held):
            _held[out] = _held.get(out, 0) + 1
            reentrant = True
        else:
            reentrant = False
    if reentrant:
        try:
            yield out
        finally:
            with _held_guard:
                _held[out] -= 1
                if not _held[out]:
                    del _held[out]
        return
    created = not out.exists()
    _make_folder(out)
    fd = os.open(out / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise FolderBusyError(f"{out}: {_holder(out / LOCK)} is writing this folder; wait "
                                  "for it to finish or choose another --out") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        with _held_guard:
            _held[out] = 1
        try:
            yield out
        finally:
            with _held_guard:
                del _held[out]
            os.ftruncate(fd, 0)
            drop_failure_records(out)
            if created:
                _remove_if_unused(out)
    finally:
        os.close(fd)  # closing the descriptor releases the flock


def drop_failure_records(out: Path) -> None:
    """Remove the records the orchestrator keeps of failed task attempts (named by a 32-hex
    run id, where a cache record is named by its 64-hex key) from every `.cache` under `out`:
    they serve no later run."""
    for cache in out.rglob(".cache"):
        for record in cache.iterdir() if cache.is_dir() else ():
            if re.fullmatch(r"[0-9a-f]{32}", record.name) and record.is_file():
                record.unlink(missing_ok=True)


def _remove_if_unused(out: Path) -> None:
    """Remove a folder that holds nothing but the lock and empty cache folders."""
    for cache in out.glob(".cache"):
        if cache.is_dir() and not any(p.is_file() for p in cache.rglob("*")):
            shutil.rmtree(cache, ignore_errors=True)
    if [p.name for p in out.iterdir()] == [LOCK]:
        (out / LOCK).unlink()
        with contextlib.suppress(OSError):
            out.rmdir()


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EPERM):
        return False
    raise OSError(code, os.strerror(code), str(a))


def _remove_stale(out: Path) -> None:
    for stale in out.parent.glob(f".{out.name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)


def swap_in(tmp: Path, out: Path, own: set[str]) -> None:
    """Make `tmp` the folder `out`: move `out`'s entries that are not named in `own` (nor
    written to `tmp`) into `tmp`, then swap the two folders and remove the old one."""
    if out.is_dir():
        for entry in out.iterdir():
            if entry.name not in own and not (tmp / entry.name).exists():
                os.replace(entry, tmp / entry.name)
        if not _exchange(tmp, out):
            old = out.with_name(f".{out.name}.tmp-{uuid.uuid4().hex[:8]}-old")
            os.replace(out, old)
            os.replace(tmp, out)
            tmp = old
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        os.replace(tmp, out)


@contextlib.contextmanager
def staged_folder(out: str | Path, own: set[str] = frozenset()) -> Iterator[Path]:
    """A temporary sibling of `out` to write a run into; swapped in as `out` when the block
    succeeds, removed when it fails. `own` names entries of the old `out` that the new run
    replaces even if it does not write them (the old run's outputs)."""
    out = Path(os.path.abspath(out))
    with output_lock(out):
        _remove_stale(out)
        tmp = out.with_name(f".{out.name}.tmp-{uuid.uuid4().hex[:8]}")
        tmp.mkdir(parents=True)
        try:
            yield tmp
            swap_in(tmp, out, set(own))
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
