"""What the offline stages (sft, reward, dpo) do before and after building their TRL trainer.

Each of them turns its config into TRL arguments, splits the records into train and held-out
rows, seeds, resolves the base model and loads its tokenizer; then builds its own trainer from
`setup.trainer_kwargs()` and its models, and hands it back with `setup.built(trainer)`, which
counts the rows the trainer kept (TRL drops examples that do not fit, e.g. over `max_length`).

Not here: the online stages (PPO, GRPO, RLOO), which read prompts and score with a reward model
(`alignment.online`, `alignment.ppo`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import datasets
from transformers import set_seed

from alignment.args import build_trl_args
from alignment.base_model import load_tokenizer_for, resolve_model
from alignment.common import BuiltTrainer
from alignment.config import TrainStageConfig
from alignment.data import TrainingData, split


@dataclass
class OfflineSetup:
    args: Any
    train: datasets.Dataset
    held: datasets.Dataset | None
    path: str
    tokenizer: Any

    def trainer_kwargs(self) -> dict[str, Any]:
        return {"args": self.args, "train_dataset": self.train, "eval_dataset": self.held,
                "processing_class": self.tokenizer}

    def built(self, trainer, **kwargs) -> BuiltTrainer:
        kept = len(trainer.train_dataset)
        rows = {"train": kept, "eval": len(self.held) if self.held is not None else 0,
                "dropped": len(self.train) - kept}
        return BuiltTrainer(trainer, self.tokenizer, self.path, rows,
                            evaluate=self.held is not None, **kwargs)


def offline_setup(config: TrainStageConfig, data: TrainingData) -> OfflineSetup:
    args = build_trl_args(config, config.checkpoints_dir())
    train, held = split(data.dataset, config.eval_fraction, config.seed)
    set_seed(config.seed)
    path = resolve_model(config.model)
    tokenizer = load_tokenizer_for(path, trust_remote_code=config.trust_remote_code)
    return OfflineSetup(args, train, held, path, tokenizer)
