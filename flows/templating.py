"""The templating stage as a cached Prefect task, and a flow that runs it alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, task

from flows.common import (
    StageProgress,
    code_digest,
    digest_inputs,
    persist_stage,
    publish_summary,
    run_stage_task,
    stage_cache_key,
)
from pipelines.embedded import load_tokenizer
from pipelines.templating import TemplatingConfig, render_templates

STAGE = "templating"


def templating_inputs(config: TemplatingConfig) -> dict[str, str]:
    paths = [p for t in config.tasks for p in (t.source, t.fewshot_source, t.promptsource)]
    if config.budget.unit == "tokens" and config.budget.tokenizer is not None:
        paths.append(config.budget.tokenizer)
    return digest_inputs(paths)


@task(name="templating", cache_key_fn=stage_cache_key, persist_result=True)
def templating_task(config: TemplatingConfig, out: str, inputs: dict[str, str], code: str,
                    jsonl: bool = False) -> dict[str, Any]:
    count_tokens = None
    if config.budget.unit == "tokens":
        tokenizer = load_tokenizer(str(config.budget.tokenizer) if config.budget.tokenizer else None)
        count_tokens = lambda text: len(tokenizer(text)["input_ids"])  # noqa: E731
    progress = StageProgress(STAGE)
    try:
        result = render_templates(config, count_tokens=count_tokens, progress=progress)
    finally:
        progress.close()
    return persist_stage(STAGE, out, result, n_in=result.stats["rows_in"],
                         config=config.model_dump(mode="json"), inputs=inputs, jsonl=jsonl)


def run_templating(config: TemplatingConfig, out: str | Path, *, jsonl: bool = False) -> dict[str, Any]:
    """Call inside a flow: run (or reuse from cache) the templating task writing to `out`."""
    return run_stage_task(templating_task, out, config, str(out), templating_inputs(config),
                          code_digest("pipelines.templating"), jsonl)


@flow(name="tuneset-templating")
def templating_flow(config: TemplatingConfig, out: str, jsonl: bool = False) -> dict[str, Any]:
    """Render the configured tasks into a run folder at `out`."""
    summary = run_templating(config, out, jsonl=jsonl)
    publish_summary("tuneset templating", [summary])
    return summary
