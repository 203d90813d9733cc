"""Templating on a Ray cluster: the selected rows rendered by `map_batches` over an actor pool.

Row selection (no-target rows, caps, mixing quotas) needs every row and stays on the driver;
rendering a row needs only its task (templates and few-shot pool) and is seeded by (seed,
task, row), so rows render anywhere in any batch with the same result. The prepared tasks go to
the object store once; each actor takes them once and renders batches of (task, row) indices.

    render_templates(records, config, renderer=ray_renderer(batch_size=2048))

The flow picks this renderer under `executor: ray` when the input has at least
`run.ray.templating_min_rows` rows; below that, shipping the tasks costs more than it saves.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from pipelines.cluster.connect import import_ray
from pipelines.records import InstructionRecord
from pipelines.stage import Progress
from pipelines.templating.config import TemplatingConfig
from pipelines.templating.render import Renderer, RowResult, Selected, render_rows


class RowRenderer:
    """One actor: the selected tasks, fetched once, and the config."""

    def __init__(self, boxed: list[Any], config_json: str, measure: Callable[[str], int]) -> None:
        import ray

        self.selected: Selected = ray.get(boxed[0])
        self.config = TemplatingConfig.model_validate_json(config_json)
        self.measure = measure

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        out = []
        for t, r in zip(batch["task"].tolist(), batch["row"].tolist()):
            task, rows = self.selected[t]
            records, long_targets = render_rows([(task, [rows[r]])], self.config, self.measure)[0][0]
            out.append(json.dumps([[rec.model_dump(mode="json") for rec in records], long_targets]))
        return {"task": batch["task"], "row": batch["row"], "result": np.array(out, dtype=object)}


def ray_renderer(batch_size: int = 2048, actors: int | None = None) -> Renderer:
    """A `Renderer` for `render_templates` that renders on the connected Ray cluster with
    `actors` actors (default: one per CPU of the cluster)."""

    def render(selected: Selected, config: TemplatingConfig, measure: Callable[[str], int],
               progress: Progress | None = None) -> list[list[RowResult]]:
        ray = import_ray()
        items = [{"task": t, "row": r} for t, (_, rows) in enumerate(selected)
                 for r in range(len(rows))]
        out: list[list[RowResult | None]] = [[None] * len(rows) for _, rows in selected]
        if not items:
            return out  # type: ignore[return-value]
        pool = actors or max(1, int(ray.cluster_resources().get("CPU", 1)))
        boxed = [ray.put(selected)]  # subtle: boxed, so Ray passes the reference, not the value
        done = ray.data.from_items(items, override_num_blocks=math.ceil(len(items) / batch_size)
                                   ).map_batches(
            RowRenderer, fn_constructor_args=(boxed, config.model_dump_json(), measure),
            batch_size=batch_size, batch_format="numpy", concurrency=pool, num_cpus=1)
        count = 0
        for batch in done.iter_batches(batch_format="numpy", batch_size=None):
            for t, r, value in zip(batch["task"].tolist(), batch["row"].tolist(), batch["result"]):
                if out[t][r] is None:
                    count += 1
                records, long_targets = json.loads(value)
                out[t][r] = ([InstructionRecord.model_validate(v) for v in records],
                             [(template_id, size) for template_id, size in long_targets])
            if progress:
                progress(count, len(items))
        if count != len(items):
            raise RuntimeError(f"templating on Ray: {len(items) - count} rows came back unrendered")
        return out  # type: ignore[return-value]

    return render
