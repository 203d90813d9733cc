"""GRPO (TRL's GRPOTrainer): several completions per prompt, each scored by the reward stage's
model, advantages relative to the group's mean; no value model. See `alignment.online`."""

from __future__ import annotations

from trl import GRPOTrainer

from alignment.common import BuiltTrainer
from alignment.config import GRPOStageConfig
from alignment.data import TrainingData
from alignment.online import build_online_trainer


def build_grpo_trainer(config: GRPOStageConfig, data: TrainingData) -> BuiltTrainer:
    return build_online_trainer(GRPOTrainer, config, data)
