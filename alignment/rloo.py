"""RLOO (TRL's RLOOTrainer): several completions per prompt, each one's baseline the mean
reward of the others (leave one out), rewards from the reward stage's model, a KL penalty to
the starting policy. See `alignment.online`."""

from __future__ import annotations

from trl import RLOOTrainer

from alignment.common import BuiltTrainer, TrainResult, run_trainer
from alignment.config import RLOOStageConfig
from alignment.data import TrainingData, load_any
from alignment.online import build_online_trainer


def build_rloo_trainer(config: RLOOStageConfig, data: TrainingData) -> BuiltTrainer:
    return build_online_trainer(RLOOTrainer, config, data)


def train_rloo(config: RLOOStageConfig, data: TrainingData | None = None) -> TrainResult:
    data = data if data is not None else load_any(config.dataset)
    return run_trainer(build_rloo_trainer(config, data), stage="rloo", out=config.output_dir())
