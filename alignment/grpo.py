"""GRPO (TRL's GRPOTrainer): several completions per prompt, each scored by the reward stage's
model, advantages relative to the group's mean; no value model. See `alignment.online`."""

from __future__ import annotations

from trl import GRPOTrainer

from alignment.common import BuiltTrainer, TrainResult, run_trainer
from alignment.config import GRPOStageConfig
from alignment.data import TrainingData, load_any
from alignment.online import build_online_trainer


def build_grpo_trainer(config: GRPOStageConfig, data: TrainingData) -> BuiltTrainer:
    return build_online_trainer(GRPOTrainer, config, data)


def train_grpo(config: GRPOStageConfig, data: TrainingData | None = None) -> TrainResult:
    data = data if data is not None else load_any(config.dataset)
    return run_trainer(build_grpo_trainer(config, data), stage="grpo", out=config.output_dir())
