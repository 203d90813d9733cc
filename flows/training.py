"""Training stages as Prefect flows: validate -> train -> report -> handoff.

One flow per stage (`tuneset-train-sft`, `-reward`, `-dpo`, `-ppo`, `-grpo`, `-rloo`), all the same four tasks
over `alignment.run` (TRL is imported only when a training task runs). Validation never retries (a bad record stays bad); training retries once
on failures that are not tuneset's own errors (a flaky disk, a killed worker), never on a bad
input or config. Training is not cached: a second run trains again and overwrites `<out>`.
Each run leaves a markdown artifact with the final metrics and where the model went.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

from alignment.config import (
    DPOStageConfig,
    GRPOStageConfig,
    PPOStageConfig,
    RewardStageConfig,
    RLOOStageConfig,
    SFTStageConfig,
    TrainStageConfig,
)
from flows.common import never_retry_user_errors


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


@flow(name="tuneset-train-sft")
def sft_flow(config: SFTStageConfig) -> dict[str, Any]:
    """SFT on instruction records (completion-only loss)."""
    return run_stage(config)


@flow(name="tuneset-train-reward")
def reward_flow(config: RewardStageConfig) -> dict[str, Any]:
    """A reward model on preference pairs, with held-out pairwise accuracy."""
    return run_stage(config)


@flow(name="tuneset-train-dpo")
def dpo_flow(config: DPOStageConfig) -> dict[str, Any]:
    """DPO on preference pairs against a frozen reference."""
    return run_stage(config)


@flow(name="tuneset-train-ppo")
def ppo_flow(config: PPOStageConfig) -> dict[str, Any]:
    """PPO: policy, reference, reward model from the reward stage, value model."""
    return run_stage(config)


@flow(name="tuneset-train-grpo")
def grpo_flow(config: GRPOStageConfig) -> dict[str, Any]:
    """GRPO with the reward stage's model as the reward function."""
    return run_stage(config)


@flow(name="tuneset-train-rloo")
def rloo_flow(config: RLOOStageConfig) -> dict[str, Any]:
    """RLOO with the reward stage's model as the reward function."""
    return run_stage(config)


FLOWS = {"sft": sft_flow, "reward": reward_flow, "dpo": dpo_flow, "ppo": ppo_flow,
         "grpo": grpo_flow, "rloo": rloo_flow}
