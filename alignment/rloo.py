"""RLOO (TRL's RLOOTrainer): several completions per prompt, each one's baseline the mean
reward of the others (leave one out), rewards from the reward stage's model, a KL penalty to
the starting policy. See `alignment.online`."""

from __future__ import annotations

from trl import RLOOTrainer

from alignment.common import BuiltTrainer
from alignment.config import RLOOStageConfig
from alignment.data import TrainingData
from alignment.online import build_online_trainer


def build_rloo_trainer(config: RLOOStageConfig, data: TrainingData) -> BuiltTrainer:
    return build_online_trainer(RLOOTrainer, config, data)
