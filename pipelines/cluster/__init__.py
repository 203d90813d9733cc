"""Running model work on a Ray cluster: the `run.executor: ray` path (docs/ray.md).

- `config`: `run.ray` (address, resources per model).
- `connect`: joining the cluster (an unreachable address is one clear error).
- `generator`: `RayGenerator`, the Generator protocol over a Ray Data actor pool.

`ray` is imported only where it is used; without it a MissingExtraError names the `ray` extra.
"""

from pipelines.cluster.config import Executor, ModelOverride, ModelResources, RayRunConfig

__all__ = ["Executor", "ModelOverride", "ModelResources", "RayRunConfig"]
