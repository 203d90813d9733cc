"""A real two-node Ray cluster on this machine for tests: a head and a second node, started as
`ray start --block` subprocesses (each in its own process group), stopped by their ids.

    with local_cluster(tmp) as address:     # "127.0.0.1:PORT"
        ...
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

RAY = Path(sys.executable).with_name("ray")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env() -> dict[str, str]:
    # subtle: a token in ~/.ray/auth_token turns token authentication on for `ray start`; the
    # test cluster and its driver agree to run without it
    return {**os.environ, "RAY_USAGE_STATS_ENABLED": "0", "RAY_AUTH_MODE": "disabled",
            "TUNESET_THREADS": "1", "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}


def _start(args: list[str], log: Path) -> subprocess.Popen:
    with open(log, "w") as out:
        return subprocess.Popen([str(RAY), "start", "--block", "--disable-usage-stats", *args],
                                stdout=out, stderr=subprocess.STDOUT, env=_env(),
                                start_new_session=True)


def _wait_nodes(address: str, nodes: int, procs: list[subprocess.Popen],
                timeout: float = 400) -> None:
    deadline = time.monotonic() + timeout
    probe = (f"import ray; ray.init(address={address!r}, log_to_driver=False); "
             "print(sum(n['Alive'] for n in ray.nodes()))")
    while time.monotonic() < deadline:
        dead = [p.args[3:5] for p in procs if p.poll() is not None]
        if dead:
            raise RuntimeError(f"a Ray node process ended while starting: {dead}")
        try:
            out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                                 env=_env(), timeout=120)
        except subprocess.TimeoutExpired:
            continue
        if out.returncode == 0 and out.stdout.strip().endswith(str(nodes)):
            return
        time.sleep(1)
    raise RuntimeError(f"the Ray cluster at {address} did not reach {nodes} nodes")


def _stop(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)  # `ray start --block` stops its node's processes
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=30)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # anything of that node still running
    proc.wait(timeout=10)


@contextlib.contextmanager
def local_cluster(logs: Path, *, cpus_per_node: int = 1) -> Iterator[str]:
    """A head node and a second node with `cpus_per_node` CPUs each; yields the address (this
    process's drivers connect without token authentication, as the nodes run)."""
    before = os.environ.get("RAY_AUTH_MODE")
    os.environ["RAY_AUTH_MODE"] = "disabled"
    port = free_port()
    address = f"127.0.0.1:{port}"
    temp = tempfile.mkdtemp(prefix="tsray", dir="/tmp")  # Ray's socket paths must stay short
    procs = [_start(["--head", "--num-cpus", str(cpus_per_node), "--port", str(port),
                     "--node-ip-address", "127.0.0.1", "--include-dashboard=false",
                     "--temp-dir", temp], logs / "head.log")]
    try:
        _wait_nodes(address, 1, procs)
        procs.append(_start(["--address", address, "--num-cpus", str(cpus_per_node),
                             "--node-ip-address", "127.0.0.1"], logs / "node.log"))
        _wait_nodes(address, 2, procs)
        yield address
    finally:
        for proc in reversed(procs):
            _stop(proc)
        shutil.rmtree(temp, ignore_errors=True)
        if before is None:
            os.environ.pop("RAY_AUTH_MODE", None)
        else:
            os.environ["RAY_AUTH_MODE"] = before
