"""The Generator protocol on a Ray cluster: model calls stream through a pool of actors.

    conversations --ray.data.from_items--> blocks of `batch_size` records
        --map_batches(ModelActor, concurrency=replicas, num_cpus, num_gpus)--> completions
        --iter_batches, keyed by record index--> results in input order

Each `ModelActor` loads its backend once (`load(config)`: transformers on CPU nodes, an actor
holding `vllm.LLM` with `backend: vllm` on GPU nodes, or any loader a caller passes) and answers
batches of records for the rest of the call. Stages call a `RayGenerator` exactly as they call
a local backend, so their code does not change:

    gen = RayGenerator(ModelConfig(), ModelResources(replicas=2, batch_size=8))
    gen.generate(conversations, GenerationParams(max_new_tokens=32))   # on the cluster

Every record comes back exactly once: results are keyed by record index, a record Ray ran twice
(a batch retried after its actor died, whose first attempt had already been counted) is kept
once, and a record missing at the end is an error. Output does not depend on which actor ran a
record or which batch it was in, because backends seed sampling per record
(`pipelines.models.params.record_seeds`).

Ray must be initialised (`pipelines.cluster.connect.connected`); actors are created per call
and stop when the call's dataset is done.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from pipelines.cluster.config import ModelResources, RayRunConfig
from pipelines.cluster.connect import import_ray
from pipelines.errors import TunesetError
from pipelines.models import ModelConfig, load_generator
from pipelines.models.params import Completion, Conversation, GenerationParams, Generator, as_dicts
from pipelines.stage import Progress

Loader = Callable[[ModelConfig], Generator]


class ModelActor:
    """One replica: the backend loaded once, then called per batch of records."""

    def __init__(self, load: Loader, config_json: str, threads: int) -> None:
        from pipelines.threads import configure_threads

        configure_threads(threads)
        self.generator = load(ModelConfig.model_validate_json(config_json))

    def __call__(self, batch: dict[str, np.ndarray], op: str, args: dict[str, Any]
                 ) -> dict[str, np.ndarray]:
        conversations = [json.loads(c) for c in batch["conversation"]]
        if op == "generate":
            params = GenerationParams.model_validate_json(args["params"])
            out = self.generator.generate(conversations, params)
            results = [json.dumps([c.model_dump() for c in comps]) for comps in out]
        else:
            scores = self.generator.score_tokens(conversations, args["prefix"], args["candidates"])
            results = [json.dumps(s) for s in scores]
        return {"i": batch["i"], "result": np.array(results, dtype=object)}


class RecordsLost(TunesetError, RuntimeError):
    """A model call on the cluster ended without a result for some records."""


def label_of(load: Loader, config: ModelConfig) -> str:
    """The name the loaded model will report: the config's label for the built-in loader;
    another loader is called once here to ask."""
    return config.label if load is load_generator else load(config).name


class RayGenerator:
    def __init__(self, config: ModelConfig, resources: ModelResources | None = None, *,
                 load: Loader | None = None) -> None:
        self.config, self.resources = config, resources or ModelResources()
        self.load = load or load_generator
        if config.backend == "vllm" and self.resources.num_gpus < config.vllm.tensor_parallel_size:
            raise TunesetError(
                f"the vllm backend on Ray needs num_gpus >= tensor_parallel_size "
                f"({config.vllm.tensor_parallel_size}) per replica, got num_gpus="
                f"{self.resources.num_gpus}: set run.ray.models.<model>.num_gpus")
        self.name = label_of(self.load, config)

    def generate(self, conversations: list[Conversation], params: GenerationParams,
                 n: int | None = None, *, progress: Progress | None = None) -> list[list[Completion]]:
        args = {"params": params.with_n(n).model_dump_json()}
        return [[Completion(**c) for c in row]
                for row in self._run("generate", conversations, args, progress)]

    def score_tokens(self, conversations: list[Conversation], prefix: str, candidates: list[str],
                     *, progress: Progress | None = None) -> list[dict[str, float]]:
        args = {"prefix": prefix, "candidates": list(candidates)}
        return self._run("score_tokens", conversations, args, progress)

    def _run(self, op: str, conversations: list[Conversation], args: dict[str, Any],
             progress: Progress | None) -> list[Any]:
        total = len(conversations)
        if not total:
            return []
        ray = import_ray()
        res = self.resources
        items = [{"i": i, "conversation": json.dumps(as_dicts(c), ensure_ascii=False)}
                 for i, c in enumerate(conversations)]
        blocks = math.ceil(total / res.batch_size)  # one block per actor call
        done = ray.data.from_items(items, override_num_blocks=blocks).map_batches(
            ModelActor, fn_constructor_args=(self.load, self.config.model_dump_json(),
                                             max(1, int(res.num_cpus))),
            fn_kwargs={"op": op, "args": args}, batch_size=res.batch_size,
            batch_format="numpy", concurrency=res.replicas, num_cpus=res.num_cpus,
            num_gpus=res.num_gpus or None)
        results: dict[int, str] = {}
        for batch in done.iter_batches(batch_format="numpy", batch_size=None):
            for i, value in zip(batch["i"].tolist(), batch["result"]):
                results.setdefault(int(i), value)
            if progress:
                progress(len(results), total)
        missing = [i for i in range(total) if i not in results]
        if missing:
            raise RecordsLost(f"{self.name} on Ray: {len(missing)} of {total} records came back "
                              f"without a result (first: record {missing[0]})")
        return [json.loads(results[i]) for i in range(total)]


def ray_loader(load: Loader, ray_config: RayRunConfig) -> Loader:
    """A loader like `load` whose models run on the cluster, with `run.ray`'s resources."""

    def on_cluster(config: ModelConfig) -> Generator:
        return RayGenerator(config, ray_config.resources_for(config.model), load=load)

    return on_cluster
