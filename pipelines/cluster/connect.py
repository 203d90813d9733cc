"""Joining the Ray cluster that `run.ray.address` names, with one clear error when it cannot.

    with connected(RayRunConfig(address="10.0.0.5:6379")):
        ...   # ray.data work goes to that cluster

`address` null starts a local Ray instance for the run (stopped afterwards); `auto` joins the
cluster this node belongs to; `host:port` is a head node's GCS address; `ray://host:port` a Ray
Client server. Before `ray.init`, a `host:port` address must accept a TCP connection within
`connect_timeout` seconds, so a wrong address fails at once instead of after Ray's own retries:

    >>> check_reachable("127.0.0.1:1", timeout=1.0)
    Traceback (most recent call last):
    ...
    pipelines.cluster.connect.ClusterUnreachable: cannot reach the Ray cluster at 127.0.0.1:1 ...
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from typing import Any

from pipelines.cluster.config import RayRunConfig
from pipelines.errors import MissingExtraError, TunesetError

CLIENT_PORT, GCS_PORT = 10001, 6379
HINT = ("start one with `ray start --head` (docs/ray.md) or correct run.ray.address / "
        "`tuneset run --address`")


class ClusterUnreachable(TunesetError, ConnectionError):
    """The configured Ray cluster did not answer."""

    def __init__(self, address: str, reason: str) -> None:
        self.address = address
        super().__init__(f"cannot reach the Ray cluster at {address} ({reason}); {HINT}")


def import_ray() -> Any:
    """`ray` with Ray Data, or a MissingExtraError naming the `ray` extra."""
    try:
        import ray
        import ray.data  # noqa: F401 - the Data library comes with the `ray[data]` extra
    except ImportError as exc:
        raise MissingExtraError("ray", "ray", "the ray executor") from exc
    return ray


def host_port(address: str) -> tuple[str, int]:
    """(host, port) of a `host:port` or `ray://host:port` address.

    >>> host_port("ray://head:10001"), host_port("10.0.0.5")
    (('head', 10001), ('10.0.0.5', 6379))
    """
    client = address.startswith("ray://")
    rest = address.removeprefix("ray://")
    host, sep, port = rest.rpartition(":")
    if not sep:
        return rest, CLIENT_PORT if client else GCS_PORT
    if not port.isdigit():
        raise ClusterUnreachable(address, f"port {port!r} is not a number")
    return host.strip("[]"), int(port)


def check_reachable(address: str, timeout: float) -> None:
    """Raise ClusterUnreachable unless `address` (host:port) accepts a TCP connection."""
    host, port = host_port(address)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        raise ClusterUnreachable(address, exc.strerror or str(exc) or type(exc).__name__) from exc


@contextlib.contextmanager
def connected(config: RayRunConfig) -> Iterator[Any]:
    """Inside: `ray` initialised against `config.address` (left as it is when this process is
    connected already). Shuts Ray down afterwards when it connected here."""
    ray = import_ray()
    if ray.is_initialized():
        yield ray
        return
    address = config.address
    if address not in (None, "auto", "local"):
        check_reachable(address, config.connect_timeout)
    try:
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 configure_logging=False)
    except ConnectionError as exc:
        raise ClusterUnreachable(address or "local", str(exc).splitlines()[0]) from exc
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        yield ray
    finally:
        ray.shutdown()
