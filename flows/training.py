"""Training stages as Prefect flows: validate -> train -> report -> handoff.

One flow per registered stage (`alignment.registry`), made by `training_flow`:
`tuneset-train-sft`, `-reward`, `-dpo`, `-ppo`, `-grpo`, `-rloo`, all the same four tasks over
`alignment.run` (TRL is imported only when a training task runs). Validation never retries (a
bad record stays bad); training retries once on failures that are not tuneset's own errors (a
flaky disk, a killed worker), never on a bad input or config. Training is not cached: a second
run trains again and overwrites `<out>`. Each run leaves a markdown artifact with the final
metrics and where the model went.

Inside `tuneset run`, the config's `train:` entries (`alignment.wiring`) run after the data
stages and publishing, each one cached task `train-<name>` writing `<out>/train/<name>/`: the
key covers the stage config (dataset and model paths resolved), the sha256 of the records it
reads, the report of every earlier entry it starts from, and the training code. A hit needs
the folder's report.json and model/ too; delete the folder and the next run trains again.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import Flow, flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

from alignment.config import TrainStageConfig
from alignment.registry import STAGES, TrainingStage, get_stage
from flows.common import (
    CACHE_DIR,
    digest_inputs,
    make_call,
    never_retry_user_errors,
    stage_cache_key,
)


@task(name="validate-training-data", cache_policy=NO_CACHE)
def validate_task(config: TrainStageConfig):
    from alignment.run import validate_data

    data = validate_data(config)
    get_run_logger().info("%s: %d %s records from %s", config.stage, len(data), data.kind,
                          config.dataset)
    return data


@task(name="train", cache_policy=NO_CACHE, retries=1,
      retry_condition_fn=never_retry_user_errors)
def train_task(config: TrainStageConfig, data):
    from alignment.run import train

    return train(config, data)


@task(name="training-report", cache_policy=NO_CACHE)
def report_task(result, config: TrainStageConfig, data) -> dict[str, Any]:
    from alignment.report import write_report

    return write_report(result, config, data)


@task(name="handoff", cache_policy=NO_CACHE)
def handoff_task(data, folder: str) -> dict[str, Any]:
    from alignment.handoff import write_handoff

    return write_handoff(data, folder)


def _markdown(stage: str, out: str, report: dict[str, Any]) -> str:
    metrics = {k: v for k, v in report["metrics"].items() if isinstance(v, (int, float))}
    lines = [f"# tuneset train {stage}", "", f"model: `{report['model_dir']}`",
             f"base: `{report['base_model']}`", f"rows: {report['rows']}",
             f"steps: {report['steps']}, seconds per step: {report['seconds_per_step']}",
             "", "| metric | value |", "|---|---|"]
    lines += [f"| {k} | {v:.4g} |" for k, v in sorted(metrics.items())]
    lines += ["", f"report: `{out}/report.json`, handoff: `{out}/handoff/`"]
    return "\n".join(lines)


def run_stage(config: TrainStageConfig) -> dict[str, Any]:
    """Call inside a flow: the four tasks in order; returns the summary the CLI prints."""
    data = validate_task(config)
    result = train_task(config, data)
    report = report_task(result, config, data)
    out = str(result.out)
    handoff = handoff_task(data, f"{out}/handoff")
    create_markdown_artifact(_markdown(config.stage, out, report),
                             key=f"train-{config.stage}-summary",
                             description=f"tuneset train {config.stage}")
    return {"stage": config.stage, "out": out, "report": report, "handoff": handoff}


_FLOWS: dict[str, tuple[TrainingStage, Flow]] = {}  # name -> (registry entry, its flow)


def training_flow(stage: str) -> Flow:
    """The Prefect flow `tuneset-train-<stage>` of a registered stage, made on first use (and
    again when the registry entry was replaced). Its parameter is the stage's config class."""
    entry = get_stage(stage)
    cached = _FLOWS.get(stage)
    if cached is not None and cached[0] is entry:
        return cached[1]

    def run(config: TrainStageConfig) -> dict[str, Any]:
        return run_stage(config)

    run.__name__ = run.__qualname__ = f"{stage}_flow"
    run.__doc__ = entry.help
    run.__annotations__ = {"config": entry.config, "return": dict[str, Any]}
    made = flow(name=f"tuneset-train-{stage}", description=entry.help)(run)
    _FLOWS[stage] = (entry, made)
    return made


def __getattr__(name: str) -> Flow:
    """`sft_flow`, `dpo_flow`, ...: each stage's flow as a module attribute, for deployment
    entrypoints such as `flows/training.py:sft_flow`."""
    stage = name.removesuffix("_flow")
    if name.endswith("_flow") and stage in STAGES:
        return training_flow(stage)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# -- the `train:` section of a pipeline run ---------------------------------------------------
@task(cache_key_fn=stage_cache_key, persist_result=True, retries=1,
      retry_condition_fn=never_retry_user_errors)
def pipeline_train_task(call) -> dict[str, Any]:
    from alignment.run import run_training

    summary = run_training(call.config)
    report = summary["report"]
    get_run_logger().info("train %s: %d steps, model %s", call.task, report["steps"],
                          report["model_dir"])
    create_markdown_artifact(_markdown(call.config.stage, summary["out"], report),
                             key=f"train-{call.task.replace('_', '-')}-summary",
                             description=f"{call.task}: {call.config.stage} in the pipeline")
    return {"name": call.task, "stage": call.config.stage, "out": summary["out"],
            "model": report["model_dir"], "steps": report["steps"],
            "data": report["data"], "metrics": {k: v for k, v in report["metrics"].items()
                                                if isinstance(v, (int, float))}}


def trained(out: Path) -> bool:
    return (out / "report.json").is_file() and (out / "model").is_dir()


def run_pipeline_training(entries, stages: list[str], published: bool, run_dir: Path, *,
                          base_dir: Path) -> list[dict[str, Any]]:
    """Call inside a flow: every `train:` entry in order, each trained or taken from the cache;
    their summaries (with `cached`)."""
    from alignment.wiring import stage_config, train_dir, wire
    from pipelines.errors import ConfigError

    plans, problems = wire(entries, stages, published)
    if problems:
        raise ConfigError(problems)
    summaries = []
    for plan in plans:
        config = stage_config(plan, run_dir, base_dir=base_dir)
        inputs = digest_inputs([config.dataset])
        inputs.update({ref: next(iter(digest_inputs([train_dir(run_dir, ref) / "report.json"])
                                      .values())) for ref in plan["refs"].values()})
        call = make_call(plan["name"], config, config.out, code=("alignment",), inputs=inputs)
        state = pipeline_train_task.with_options(
            name=f"train-{plan['name']}", result_storage=Path(config.out).parent / CACHE_DIR,
            refresh_cache=not trained(Path(config.out)))(call, return_state=True)
        summaries.append({**state.result(), "cached": state.name == "Cached"})
    return summaries
