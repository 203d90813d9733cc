"""How many CPU threads torch and numba use: what the process may really run on, or what the
user says.

torch and numba size their thread pools from the machine's core count. In a container with a
CPU quota that is too many (64 threads on a 2-CPU quota), and on a shared machine where other
work already keeps the cores busy, threads then wait for each other at every operation and a
run takes many times longer (figures in docs/models.md). The count is chosen, first match
wins, from

1. the environment variable `TUNESET_THREADS` (a whole number or `auto`),
2. the pipeline config's `run.threads` (the `setting` passed in),
3. `OMP_NUM_THREADS`, if the user set it,
4. the CPUs available to the process: its CPU affinity (`os.sched_getaffinity`), capped by the
   cgroup CPU quota (v2 `cpu.max`, v1 `cpu.cfs_quota_us / cpu.cfs_period_us`, the tightest
   over the process's cgroup and its parents), rounded down, at least 1.

`configure_threads` applies the count: torch intra-op and inter-op threads, numba's threads,
and `OMP_NUM_THREADS` / `MKL_NUM_THREADS` / `OPENBLAS_NUM_THREADS` / `NUMBA_NUM_THREADS` for
libraries and child processes that start later. Call it at process start; code that imports
torch later calls `apply_configured` before heavy work (the transformers backend does).

    configure_threads()      # TUNESET_THREADS, else OMP_NUM_THREADS, else the CPUs found: 2
    configure_threads(1)     # run.threads: 1

Not here: picking threads from the machine's current load (it changes while a run goes on;
on a shared machine set 1, see docs/models.md). Limits of the libraries: numba's pool size is
fixed once numba is imported (later counts only lower it, in the calling thread, which is where
flows run their tasks), and torch's inter-op count can be set once, before inter-op work.
"""

from __future__ import annotations

import logging
import math
import os
import sys
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field

from pipelines.errors import ConfigError

ENV = "TUNESET_THREADS"
CGROUP_ROOT = Path("/sys/fs/cgroup")
PROC_SELF_CGROUP = Path("/proc/self/cgroup")
LIBRARY_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")

Threads = Annotated[int, Field(ge=1)] | Literal["auto"]
log = logging.getLogger(__name__)
_configured: int | None = None
_user_omp: str | None = None
"""OMP_NUM_THREADS as the user set it, kept when `configure_threads` first overwrites it."""


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _upwards(mount: Path, cgroup_path: str) -> list[Path]:
    """`mount/cgroup_path` and its parents up to `mount` (a path from another namespace may not
    exist under the mount; its parents, down to the mount itself, still may)."""
    here = mount / cgroup_path.strip("/")
    folders = [here, *here.parents]
    return [f for f in folders[:folders.index(mount) + 1] if f.is_dir()] if mount in folders else []


def _v2_limit(folder: Path) -> float | None:
    text = _read(folder / "cpu.max")
    if not text:
        return None
    quota, _, period = text.partition(" ")
    if quota == "max":
        return None
    try:
        return int(quota) / int(period or 100000)
    except ValueError:
        return None


def _v1_limit(folder: Path) -> float | None:
    quota, period = _read(folder / "cpu.cfs_quota_us"), _read(folder / "cpu.cfs_period_us")
    try:
        return int(quota) / int(period) if quota and period and int(quota) > 0 else None
    except ValueError:
        return None


def cgroup_cpu_limit(root: Path = CGROUP_ROOT, self_cgroup: Path = PROC_SELF_CGROUP) -> float | None:
    """The tightest CPU quota over the process's cgroup and its parents, in CPUs (1.5 = one and a
    half), or None when there is none (or no cgroup file system)."""
    limits: list[float] = []
    for line in (_read(self_cgroup) or "").splitlines():
        _, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        if controllers == "" and (root / "cgroup.controllers").exists():  # v2, unified at root
            limits += [x for f in _upwards(root, path) if (x := _v2_limit(f)) is not None]
        elif "cpu" in controllers.split(","):  # v1: the cpu controller's own mount
            for mount in (root / "cpu", root / "cpu,cpuacct", root / "cpuacct,cpu"):
                limits += [x for f in _upwards(mount, path) if (x := _v1_limit(f)) is not None]
    return min(limits) if limits else None


def available_cpus(root: Path = CGROUP_ROOT, self_cgroup: Path = PROC_SELF_CGROUP) -> int:
    """CPUs the process may run on: affinity, capped by the cgroup quota (rounded down), >= 1."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # no affinity API (macOS, Windows)
        cpus = os.cpu_count() or 1
    limit = cgroup_cpu_limit(root, self_cgroup)
    if limit is not None:
        cpus = min(cpus, math.floor(limit))
    return max(1, cpus)


def _parse(value: str, source: str) -> Threads:
    text = value.strip().lower()
    if text == "auto":
        return "auto"
    if text.isdigit() and int(text) >= 1:
        return int(text)
    raise ConfigError([f"{source}: expected a whole number of threads (1 or more) or 'auto', "
                       f"got {value!r}"])


def resolve_threads(setting: Threads | None = None) -> int:
    """The thread count to use (see the module docstring for the order)."""
    chosen: Threads = "auto"
    if os.environ.get(ENV, "").strip():
        chosen = _parse(os.environ[ENV], ENV)
    elif setting is not None:
        chosen = setting
    if chosen != "auto":
        return int(chosen)
    omp = _user_omp if _configured is not None else os.environ.get("OMP_NUM_THREADS")
    first = (omp or "").split(",")[0].strip()  # OpenMP allows a list for nested levels
    return int(first) if first.isdigit() and int(first) >= 1 else available_cpus()


def configure_threads(setting: Threads | None = None) -> int:
    """Choose the thread count and apply it to torch, numba and the environment; returns it."""
    global _configured, _user_omp
    count = resolve_threads(setting)
    if _configured is None:
        _user_omp = os.environ.get("OMP_NUM_THREADS")
    for name in LIBRARY_ENV:
        os.environ[name] = str(count)
    if "numba" not in sys.modules:
        # subtle: numba re-reads this at every compile and refuses a change once its threads
        # run, so it is set only before numba is imported
        os.environ["NUMBA_NUM_THREADS"] = str(count)
    _configured = count
    apply_configured()
    return count


def apply_configured() -> None:
    """Apply the count `configure_threads` chose to torch and numba, if they are imported."""
    if _configured is None:
        return
    if "torch" in sys.modules:
        import torch

        torch.set_num_threads(_configured)
        if torch.get_num_interop_threads() != _configured:
            try:
                torch.set_num_interop_threads(_configured)
            except RuntimeError:  # inter-op work already started; torch allows no change then
                log.debug("torch inter-op threads stay at %d", torch.get_num_interop_threads())
    if "numba" in sys.modules:
        import numba

        numba.set_num_threads(min(_configured, numba.config.NUMBA_NUM_THREADS))
