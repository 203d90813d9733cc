"""The generate stage as a cached task (`flows.common.StageTask`): a prompt file through a model
backend into a run folder.

Model server failures are retried by the backend itself (see the OpenAI-compatible backend);
the task retries once more on anything that is not a user error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow

from flows.common import StageInputs, StageTask, publish_summary, task_runner
from flows.executor import on_executor
from pipelines.generate import GenerateConfig, check_prompts, generate_records
from pipelines.io import output_lock, read_sources
from pipelines.models import GenerationParams, ModelConfig, load_generator

GENERATE = StageTask(
    "generate", generate_records, code=("pipelines.generate", "pipelines.models"),
    model=lambda config: on_executor(load_generator),
    read=lambda call: StageInputs(read_sources(call.sources,
                                               check=check_prompts(call.config.field))))


@flow(name="tuneset-generate", task_runner=task_runner())
def generate_flow(prompts: str, model: ModelConfig, params: GenerationParams, out: str,
                  field: str | None = None) -> dict[str, Any]:
    """Generate completions for every record of `prompts` into a run folder at `out`."""
    config = GenerateConfig(model=model, params=params, field=field)
    with output_lock(out):
        summary = GENERATE.run(GENERATE.call(config, out, sources=[Path(prompts)]))
    publish_summary("tuneset generate", [summary])
    return summary
