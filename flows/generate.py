"""The generate stage as a cached Prefect task: a prompt file through a backend into a run folder.

Model server failures are retried by the backend itself (see the OpenAI-compatible backend);
the task retries once more on anything that is not a user error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, task

from flows.common import (
    StageProgress,
    code_digest,
    digest_inputs,
    never_retry_user_errors,
    persist_stage,
    publish_summary,
    run_stage_task,
    stage_cache_key,
)
from pipelines.generate import generate_records
from pipelines.io import read_records
from pipelines.models import GenerationParams, ModelConfig, load_generator

STAGE = "generate"


@task(name="generate", cache_key_fn=stage_cache_key, persist_result=True, retries=1,
      retry_condition_fn=never_retry_user_errors)
def generate_task(config: dict[str, Any], out: str, inputs: dict[str, str], code: str) -> dict[str, Any]:
    model = ModelConfig.model_validate(config["model"])
    params = GenerationParams.model_validate(config["params"])
    records = read_records(config["prompts"])
    progress = StageProgress(STAGE)
    try:
        result = generate_records(records, load_generator(model), params, field=config.get("field"),
                                  file=config["prompts"], progress=progress)
    finally:
        progress.close()
    return persist_stage(STAGE, out, result, n_in=len(records), config=config, inputs=inputs)


@flow(name="tuneset-generate")
def generate_flow(prompts: str, model: ModelConfig, params: GenerationParams, out: str,
                  field: str | None = None) -> dict[str, Any]:
    """Generate completions for every record of `prompts` into a run folder at `out`."""
    config = {"prompts": str(Path(prompts)), "field": field,
              "model": model.model_dump(mode="json"), "params": params.model_dump(mode="json")}
    summary = run_stage_task(generate_task, out, config, out, digest_inputs([prompts]),
                             code_digest("pipelines.models"))
    publish_summary("tuneset generate", [summary])
    return summary
