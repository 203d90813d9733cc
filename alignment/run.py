"""One training stage end to end: validate the data, train, write the report and the handoff.

    >>> summary = run_training(load_train_config("configs/train_sft.yaml", "sft"))
    >>> summary["report"]["metrics"]["train_loss"], summary["handoff"]["kind"]

Stage modules import TRL (seconds); they are imported only when their stage runs.
"""

from __future__ import annotations

import importlib
from typing import Any

from alignment.common import TrainResult
from alignment.config import TrainStageConfig
from alignment.data import TrainingData, load_for_stage

TRAINERS = {"sft": ("alignment.sft", "train_sft"), "reward": ("alignment.reward", "train_reward"),
            "dpo": ("alignment.dpo", "train_dpo"), "ppo": ("alignment.ppo", "train_ppo"),
            "grpo": ("alignment.grpo", "train_grpo"), "rloo": ("alignment.rloo", "train_rloo")}


def validate_data(config: TrainStageConfig) -> TrainingData:
    """Load and check every record; raises InputError before any model loads."""
    return load_for_stage(config.stage, config.dataset)


def train(config: TrainStageConfig, data: TrainingData) -> TrainResult:
    module, name = TRAINERS[config.stage]
    return getattr(importlib.import_module(module), name)(config, data)


def run_training(config: TrainStageConfig) -> dict[str, Any]:
    from alignment.handoff import write_handoff
    from alignment.report import write_report

    data = validate_data(config)
    result = train(config, data)
    report = write_report(result, config, data)
    handoff = write_handoff(data, result.out / "handoff")
    return {"stage": config.stage, "out": str(result.out), "report": report, "handoff": handoff}
