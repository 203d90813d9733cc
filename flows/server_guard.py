"""The temporary Prefect server dies with the `tuneset` process that started it.

Prefect starts its temporary server as a child process and stops it at exit; a `tuneset` killed
with SIGKILL never reaches that, and the server lived on (reparented to pid 1). `guard_server()`
makes Prefect start the server through this module instead:

    python -m flows.server_guard <parent pid> -m uvicorn ...

which watches its parent and stops the server (SIGTERM, then exit) once the parent is gone,
then runs uvicorn as Prefect asked.
"""

from __future__ import annotations

import os
import runpy
import signal
import subprocess
import sys
import threading
import time
from typing import Any

POLL_SECONDS = 0.5


class _GuardedSubprocess:
    """`subprocess` as Prefect's server module sees it: `Popen` of uvicorn goes through the
    guard; everything else is the real module."""

    def __getattr__(self, name: str) -> Any:
        return getattr(subprocess, name)

    @staticmethod
    def Popen(args, *rest: Any, **kwargs: Any):  # noqa: N802 - stands in for subprocess.Popen
        if list(args[1:3]) == ["-m", "uvicorn"]:
            args = [args[0], "-m", "flows.server_guard", str(os.getpid()), *args[1:]]
        return subprocess.Popen(args, *rest, **kwargs)


def guard_server() -> None:
    """Start Prefect's temporary server under the guard from here on (idempotent)."""
    from prefect.server.api import server

    if not isinstance(server.subprocess, _GuardedSubprocess):
        server.subprocess = _GuardedSubprocess()


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(POLL_SECONDS)
    os.kill(os.getpid(), signal.SIGTERM)  # uvicorn shuts down on SIGTERM
    time.sleep(5)
    os._exit(1)


def main(argv: list[str]) -> None:
    parent, rest = int(argv[0]), argv[1:]
    if rest[:1] != ["-m"] or len(rest) < 2:
        raise SystemExit("usage: python -m flows.server_guard PARENT_PID -m MODULE [ARGS...]")
    threading.Thread(target=_watch, args=(parent,), daemon=True).start()
    sys.argv = [rest[1], *rest[2:]]
    runpy.run_module(rest[1], run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
