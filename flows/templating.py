"""The templating stage as a cached task (`flows.common.StageTask`), and a flow that runs it alone.

Reads every task's source, few-shot source and promptsource file; with a token budget, loads the
counting tokenizer and passes it as the stage's model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow

from flows.common import (
    StageCall,
    StageInputs,
    StageTask,
    digest_inputs,
    publish_summary,
    task_runner,
)
from flows.executor import on_ray
from pipelines.embedded import load_tokenizer
from pipelines.io import output_lock, raw_files
from pipelines.templating import (
    TemplatingConfig,
    read_task_rows,
    read_task_templates,
    render_templates,
)


def _read(call: StageCall) -> StageInputs:
    records = read_task_rows(call.config)
    options = {"templates": read_task_templates(call.config)}
    ray_config = on_ray()
    if ray_config is not None and len(records) >= ray_config.templating_min_rows:
        from pipelines.cluster.templating import ray_renderer

        options["renderer"] = ray_renderer()  # large inputs render on the cluster
    return StageInputs(records, options)


def _tokenizer(config: TemplatingConfig):
    budget = config.budget
    if budget.unit != "tokens":
        return None
    return load_tokenizer(str(budget.tokenizer) if budget.tokenizer else None)


TEMPLATING = StageTask("templating", render_templates, read=_read, code=("pipelines.templating",),
                       model=_tokenizer,
                       count_in=lambda records, result: result.stats["rows_in"])


def run_templating(config: TemplatingConfig, out: str | Path, *, jsonl: bool = False) -> dict[str, Any]:
    """Call inside a flow: run (or reuse from cache) the templating task writing to `out`."""
    paths = [p for t in config.tasks for p in (*raw_files(t.source), t.fewshot_source,
                                                t.promptsource)]
    if config.budget.unit == "tokens":
        paths.append(config.budget.tokenizer)
    return TEMPLATING.run(TEMPLATING.call(config, out, inputs=digest_inputs(paths), jsonl=jsonl))


@flow(name="tuneset-templating", task_runner=task_runner())
def templating_flow(config: TemplatingConfig, out: str, jsonl: bool = False) -> dict[str, Any]:
    """Render the configured tasks into a run folder at `out`."""
    with output_lock(out):
        summary = run_templating(config, out, jsonl=jsonl)
    publish_summary("tuneset templating", [summary])
    return summary
