"""Where a flow's model work runs: in this process, or on the Ray cluster of `run.executor: ray`.

    with executor(config.run):                 # the pipeline flow, around its stages
        ...
    model = on_executor(load_generator)        # a stage task: the loader its stage gets

Locally `on_executor(load)` is `load` itself. Under `executor: ray` it is a loader of
`pipelines.cluster.generator.RayGenerator`s: the stage calls the Generator protocol as before and
each call streams its records through a pool of Ray actors that hold `load(config)`'s backend.
The Prefect flow stays the orchestrator: every stage is still a cached task writing its run
folder here; only the model calls inside it go to the cluster. The executor is not part of any
cache key, because the output is the same on both.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

from pipelines.cluster.config import RayRunConfig

_ACTIVE: list[RayRunConfig] = []


@contextlib.contextmanager
def executor(run: Any) -> Iterator[None]:
    """Inside: model work on `run.executor` (a `RunConfig`), Ray connected when it is `ray`."""
    if run.executor != "ray":
        yield
        return
    from pipelines.cluster.connect import connected

    with connected(run.ray):
        _ACTIVE.append(run.ray)
        try:
            yield
        finally:
            _ACTIVE.pop()


def with_executor(config: Any, name: str | None = None, address: str | None = None) -> Any:
    """A pipeline config with `run.executor` / `run.ray.address` replaced where given (an
    address alone means `ray`)."""
    if name is None and address is None:
        return config
    run = config.run
    ray = run.ray if address is None else run.ray.model_copy(update={"address": address})
    name = name or "ray"
    if name not in ("local", "ray"):
        from pipelines.errors import ConfigError

        raise ConfigError([f"--executor: expected 'local' or 'ray', got {name!r}"])
    return config.model_copy(update={"run": run.model_copy(update={"executor": name, "ray": ray})})


def on_ray() -> RayRunConfig | None:
    """The `run.ray` settings when model work goes to a cluster now, else None."""
    return _ACTIVE[-1] if _ACTIVE else None


def on_executor(load: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """The model loader a stage gets: `load`, or its Ray counterpart under `executor: ray`."""
    ray_config = on_ray()
    if ray_config is None:
        return load
    from pipelines.cluster.generator import ray_loader

    return ray_loader(load, ray_config)
