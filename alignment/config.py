"""Training stage configs: one pydantic model per stage, validated before any model loads.

A training config is its own YAML file (paths relative to it), e.g. `configs/train_sft.yaml`:

    dataset: ../runs/demo/templating      # a run folder, its kept/, a folder of *.parquet, a file
    model: embedded                       # or a model folder, a training run folder, a hub id
    out: ../runs/train/sft
    max_steps: 20
    lora: {r: 8, alpha: 16}
    trainer: {learning_rate: 1.0e-4, per_device_train_batch_size: 2}   # any SFTConfig field

`trainer` passes through to the stage's TRL config class (`SFTConfig`, `RewardConfig`,
`DPOConfig`, `PPOConfig`, `GRPOConfig`, `RLOOConfig`); `alignment.args` checks it by building
that class, so a misspelt or mistyped option is a config error naming `trainer.<field>`. The
fields tuneset sets from its own keys (`out`, `seed`, `max_steps`, `epochs`, `max_length`)
are refused inside `trainer`. Which class belongs to which stage, and reading a file into a
config, are in `alignment.registry` and `alignment.run`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field, ValidationInfo

from pipelines.configbase import InputPath, RelPath, StageConfig
from pipelines.errors import ConfigError

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def _model_name(value: str, info: ValidationInfo) -> str:
    """`embedded`, a path (relative to the config file; must exist) or a hub id."""
    if value == "embedded":
        return value
    base = (info.context or {}).get("base_dir")
    path = Path(value).expanduser()
    if not path.is_absolute() and base is not None:
        path = Path(base) / path
    if path.exists():
        return str(path)
    if value.startswith((".", "/", "~")) or value.count("/") > 1 or not _HUB_ID.match(value):
        raise ValueError(f"no such model folder: {path}; expected 'embedded', an existing "
                         "folder, or a hub id such as 'HuggingFaceTB/SmolLM2-135M-Instruct'")
    return value


ModelName = Annotated[str, AfterValidator(_model_name)]


class LoraOptions(StageConfig):
    """PEFT LoRA: `r`, `alpha`, `dropout`, `target_modules` map to `peft.LoraConfig`'s `r`,
    `lora_alpha`, `lora_dropout`, `target_modules`."""

    r: int = Field(16, gt=0)
    alpha: int = Field(32, gt=0)
    dropout: float = Field(0.05, ge=0, lt=1)
    target_modules: Literal["all-linear"] | list[str] = "all-linear"

    def peft_config(self, task_type: str):
        from peft import LoraConfig

        return LoraConfig(r=self.r, lora_alpha=self.alpha, lora_dropout=self.dropout,
                          target_modules=self.target_modules, task_type=task_type)


class TrainStageConfig(StageConfig):
    stage: ClassVar[str]

    dataset: InputPath
    model: ModelName = "embedded"
    out: RelPath | None = None
    lora: LoraOptions | None = None
    eval_fraction: float = Field(0.0, ge=0, le=0.5)
    seed: int = 0
    max_steps: int | None = Field(None, gt=0)
    epochs: float = Field(1.0, gt=0)
    max_length: int = Field(512, gt=0)
    trust_remote_code: bool = False
    trainer: dict[str, Any] = Field(default_factory=dict)

    def output_dir(self) -> Path:
        if self.out is None:
            raise ConfigError([f"out: required field is missing; set `out` in the {self.stage} "
                               "config or pass --out DIR"])
        return Path(self.out)

    def checkpoints_dir(self) -> Path:
        """TRL's `output_dir` (checkpoints, when `trainer.save_strategy` asks for them)."""
        return self.output_dir() / "checkpoints"


class SFTStageConfig(TrainStageConfig):
    """Supervised fine-tuning on instruction records (loss on the assistant reply only)."""

    stage: ClassVar[str] = "sft"


class RewardStageConfig(TrainStageConfig):
    """A reward model (sequence classification, one label) on preference pairs; pairwise
    accuracy is measured on the held-out `eval_fraction`."""

    stage: ClassVar[str] = "reward"
    eval_fraction: float = Field(0.1, ge=0, le=0.5)


class DPOStageConfig(TrainStageConfig):
    """DPO on preference pairs. `ref_model` defaults to `model` (the base checkpoint, loaded
    again and frozen; with LoRA the base weights under the disabled adapter)."""

    stage: ClassVar[str] = "dpo"
    ref_model: ModelName | None = None


class PPOStageConfig(TrainStageConfig):
    """PPO (TRL's experimental PPOTrainer): the policy starts from `model`, the reward model is
    the reward stage's output, the value model starts from the reward model unless named."""

    stage: ClassVar[str] = "ppo"
    reward_model: ModelName
    value_model: ModelName | None = None
    ref_model: ModelName | None = None


class OnlineStageConfig(TrainStageConfig):
    """Online RL with the reward stage's model as the reward function (GRPO, RLOO)."""

    reward_model: ModelName


class GRPOStageConfig(OnlineStageConfig):
    stage: ClassVar[str] = "grpo"


class RLOOStageConfig(OnlineStageConfig):
    stage: ClassVar[str] = "rloo"
