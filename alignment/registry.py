"""The training stages, one entry each. Config loading, TRL arguments, `alignment.run`, the
Prefect flows (`tuneset-train-<stage>`) and the `tuneset train <stage>` commands are all made
from these entries, so a new stage is one `register(TrainingStage(...))` plus its trainer
module:

    register(TrainingStage(
        "sft", SFTStageConfig, trl_config=("trl", "SFTConfig"),
        builder=("alignment.sft", "build_sft_trainer"), data="instructions",
        help="Supervised fine-tuning on instruction records (loss on the assistant reply only).",
        defaults={"completion_only_loss": True}))

A builder is `(config, data: TrainingData) -> alignment.common.BuiltTrainer`; its module, like
the TRL config class, is imported only when the stage builds arguments or trains (TRL takes
seconds to import). Not here: reading config files and running a stage (`alignment.run`),
the TRL option checks (`alignment.args`).
"""

from __future__ import annotations

import importlib
import os
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ValidationError

from alignment.config import (
    DPOStageConfig,
    GRPOStageConfig,
    PPOStageConfig,
    RewardStageConfig,
    RLOOStageConfig,
    SFTStageConfig,
    TrainStageConfig,
)
from pipelines.configbase import format_validation_error
from pipelines.errors import ConfigError

if TYPE_CHECKING:
    from alignment.common import BuiltTrainer
    from alignment.data import TrainingData

DataKind = Literal["instructions", "preferences", "prompts"]
"""What a stage trains on (`alignment.data.LOADERS`): instruction records, preference pairs,
or the prompts of either."""

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_DOTTED = re.compile(r"^[A-Za-z_][\w.]*$")


def _import(module: str, name: str) -> Any:
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True, eq=False)
class TrainingStage:
    """Everything tuneset knows about one training stage.

    `online`: max_length only filters prompts (the trainer generates the rest), so it is not
    passed to TRL. `counts_episodes`: TRL counts episodes, not steps (PPO): `max_steps` sets
    `total_episodes` = max_steps x per_device_train_batch_size x gradient_accumulation_steps.
    `curves`: the log_history keys plotted into `loss.png`.
    """

    name: str
    config: type[TrainStageConfig]
    trl_config: tuple[str, str]            # (module, class), e.g. ("trl", "DPOConfig")
    builder: tuple[str, str]               # (module, function) -> BuiltTrainer
    data: DataKind
    help: str                              # one line: CLI help, flow description
    defaults: Mapping[str, Any] = field(default_factory=dict)   # under the user's `trainer`
    online: bool = False
    counts_episodes: bool = False
    curves: tuple[str, ...] = ("loss", "eval_loss")

    def __post_init__(self) -> None:
        problems = []
        if not _NAME.match(self.name):
            problems.append(f"name: expected lower-case letters, digits and _, got {self.name!r}")
        if not (isinstance(self.config, type) and issubclass(self.config, TrainStageConfig)):
            problems.append(f"config: expected a TrainStageConfig subclass, got {self.config!r}")
        elif getattr(self.config, "stage", None) != self.name:
            problems.append(f"config: {self.config.__name__}.stage is "
                            f"{getattr(self.config, 'stage', None)!r}, expected {self.name!r}")
        for key in ("trl_config", "builder"):
            value = getattr(self, key)
            if not (isinstance(value, tuple) and len(value) == 2
                    and all(isinstance(v, str) and _DOTTED.match(v) for v in value)):
                problems.append(f"{key}: expected (module, name), got {value!r}")
        if self.data not in typing.get_args(DataKind):
            problems.append(f"data: expected one of {list(typing.get_args(DataKind))}, "
                            f"got {self.data!r}")
        if not self.help.strip() or "\n" in self.help.strip():
            problems.append(f"help: expected one line, got {self.help!r}")
        if problems:
            raise ValueError(f"training stage {self.name!r}: " + "; ".join(problems))
        object.__setattr__(self, "defaults", MappingProxyType(dict(self.defaults)))

    def trl_config_class(self) -> type:
        # TRL warns on importing `trl.experimental`; tuneset uses PPO from there on purpose
        os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
        return _import(*self.trl_config)

    def build_trainer(self, config: TrainStageConfig, data: TrainingData) -> BuiltTrainer:
        """The stage's BuiltTrainer for `config` on validated `data` (imports the builder)."""
        return _import(*self.builder)(config, data)

    def parse(self, section: dict[str, Any], *, base_dir: str | Path, prefix: str = "",
              file: str | Path | None = None) -> TrainStageConfig:
        """The stage config from a mapping (a YAML file or one section of a larger one), paths
        relative to `base_dir`; problems are named `<prefix>.<field>`."""
        if not isinstance(section, dict):
            where = prefix or self.name
            raise ConfigError([f"{where}: expected a mapping of fields, got "
                               f"{type(section).__name__}"], file=file)
        try:
            return self.config.model_validate(section, context={"base_dir": Path(base_dir)})
        except ValidationError as exc:
            raise ConfigError(format_validation_error(exc, self.config, prefix),
                              file=file) from None


STAGES: dict[str, TrainingStage] = {}
"""Registered stages by name, in the order `tuneset train --help` lists them."""


def register(stage: TrainingStage, *, replace: bool = False) -> TrainingStage:
    if stage.name in STAGES and not replace:
        raise ValueError(f"training stage {stage.name!r} is registered already; pass "
                         "replace=True to replace it")
    STAGES[stage.name] = stage
    return stage


def unregister(name: str) -> None:
    STAGES.pop(name, None)


def get_stage(name: str) -> TrainingStage:
    """The registered stage `name`; ConfigError listing the known ones otherwise."""
    try:
        return STAGES[name]
    except KeyError:
        raise ConfigError([f"stage: expected one of {list(STAGES)}, got {name!r}"]) from None


register(TrainingStage(
    "sft", SFTStageConfig, trl_config=("trl", "SFTConfig"),
    builder=("alignment.sft", "build_sft_trainer"), data="instructions",
    help="Supervised fine-tuning on instruction records (loss on the assistant reply only).",
    defaults={"completion_only_loss": True, "assistant_only_loss": False}))
register(TrainingStage(
    "reward", RewardStageConfig, trl_config=("trl", "RewardConfig"),
    builder=("alignment.reward", "build_reward_trainer"), data="preferences",
    help="A reward model on preference pairs, with held-out pairwise accuracy."))
register(TrainingStage(
    "dpo", DPOStageConfig, trl_config=("trl", "DPOConfig"),
    builder=("alignment.dpo", "build_dpo_trainer"), data="preferences",
    help="DPO on preference pairs against a frozen reference model."))
register(TrainingStage(
    "ppo", PPOStageConfig, trl_config=("trl.experimental.ppo", "PPOConfig"),
    builder=("alignment.ppo", "build_ppo_trainer"), data="prompts",
    help="PPO with the reward stage's model (TRL 1.12's experimental PPOTrainer).",
    # stop each response at eos, no sample tables, one optimisation epoch per batch
    defaults={"stop_token": "eos", "num_sample_generations": 0, "response_length": 32,
              "num_ppo_epochs": 1, "local_rollout_forward_batch_size": 16},
    online=True, counts_episodes=True,
    curves=("loss/policy_avg", "loss/value_avg", "objective/scores")))
# GRPO, RLOO: 4 completions of up to 32 tokens per prompt (one prompt per batch of 4)
register(TrainingStage(
    "grpo", GRPOStageConfig, trl_config=("trl", "GRPOConfig"),
    builder=("alignment.grpo", "build_grpo_trainer"), data="prompts",
    help="GRPO with the reward stage's model as the reward function.",
    defaults={"num_generations": 4, "max_completion_length": 32},
    online=True, curves=("loss", "reward")))
register(TrainingStage(
    "rloo", RLOOStageConfig, trl_config=("trl", "RLOOConfig"),
    builder=("alignment.rloo", "build_rloo_trainer"), data="prompts",
    help="RLOO with the reward stage's model as the reward function.",
    defaults={"num_generations": 4, "max_completion_length": 32},
    online=True, curves=("loss", "reward")))
