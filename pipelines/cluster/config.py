"""Where model work runs: `run.executor` and `run.ray` in the pipeline config.

    run:
      executor: ray                 # local (default): in this process | ray: on a Ray cluster
      ray:
        address: "10.0.0.5:6379"    # null: start a local Ray instance; "auto": the one on this node
        model: {num_cpus: 1, num_gpus: 0, replicas: 2, batch_size: 16}   # every model
        models:                     # overrides by model name (null model = "embedded")
          meta-llama/Llama-3.1-8B-Instruct: {num_gpus: 1, replicas: 8, batch_size: 256}
        templating_min_rows: 100000 # templating runs on the cluster from this many input rows

    >>> ray = RayRunConfig(models={"embedded": {"replicas": 4}})
    >>> ray.resources_for(None).replicas, ray.resources_for(None).batch_size
    (4, 16)
    >>> ray.resources_for("some/other-model").replicas
    1
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from pipelines.configbase import StageConfig

Executor = Literal["local", "ray"]
EMBEDDED_KEY = "embedded"
"""The name under `run.ray.models` for the embedded model (a model config with `model: null`)."""


class ModelResources(StageConfig):
    """What one model replica (a Ray actor holding the loaded backend) asks the cluster for, how
    many replicas serve a model call, and how many records each actor call takes."""

    num_cpus: float = Field(1.0, ge=0)
    num_gpus: float = Field(0.0, ge=0)
    replicas: int = Field(1, ge=1)
    batch_size: int = Field(16, ge=1)


class ModelOverride(StageConfig):
    """Fields of `ModelResources` to change for one model; unset fields keep `run.ray.model`'s."""

    num_cpus: float | None = Field(None, ge=0)
    num_gpus: float | None = Field(None, ge=0)
    replicas: int | None = Field(None, ge=1)
    batch_size: int | None = Field(None, ge=1)


class RayRunConfig(StageConfig):
    address: str | None = None
    model: ModelResources = ModelResources()
    models: dict[str, ModelOverride] = {}
    templating_min_rows: int = Field(100_000, ge=1)
    connect_timeout: float = Field(10.0, gt=0)
    """Seconds to wait for the cluster's address to answer before giving up."""

    def resources_for(self, model: str | None) -> ModelResources:
        """The resources for a model named `model` (None: the embedded model)."""
        override = self.models.get(model or EMBEDDED_KEY)
        if override is None:
            return self.model
        return self.model.model_copy(update=override.model_dump(exclude_none=True))

