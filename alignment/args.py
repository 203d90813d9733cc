"""TRL config objects for a stage: tuneset's defaults, then the user's `trainer` options.

Order (later wins): device defaults -> the stage's defaults (`alignment.registry`) -> the
user's `trainer` dict -> the fields tuneset owns (`output_dir`, `seed`, `max_steps`,
`num_train_epochs`, `max_length`).

Device defaults keep CPU runs quiet and correct: fp32 (no bf16/fp16 without CUDA), `use_cpu`,
no gradient (activation) checkpointing (TRL turns it on by default; on CPU it only costs
time), no reporting integrations, no dataloader worker processes. With CUDA, bf16 when the
GPU has it.

    >>> build_trl_args(SFTStageConfig(dataset="d.jsonl", trainer={"lerning_rate": 1}), "out")
    ConfigError: trainer.lerning_rate: unknown SFTConfig option; did you mean 'learning_rate'?
"""

from __future__ import annotations

import dataclasses
import difflib
import tempfile
import types
import typing
from pathlib import Path
from typing import Any, Literal

from alignment.config import TrainStageConfig
from alignment.registry import get_stage
from pipelines.errors import ConfigError

# TRL field -> the tuneset key that sets it
OWNED = {"output_dir": "out", "seed": "seed", "max_steps": "max_steps",
         "num_train_epochs": "epochs", "max_length": "max_length", "total_episodes": "max_steps"}


def trl_config_class(stage: str) -> type:
    """The TRL config class of a registered stage (imports TRL)."""
    return get_stage(stage).trl_config_class()


def device_defaults() -> dict[str, Any]:
    import torch

    cuda = torch.cuda.is_available()
    return {
        "use_cpu": not cuda,
        "bf16": bool(cuda and torch.cuda.is_bf16_supported()),
        "fp16": False,
        "activation_checkpointing": False,
        "report_to": [],
        "dataloader_num_workers": 0,
        "per_device_train_batch_size": 4,
        "per_device_eval_batch_size": 4,
        "logging_steps": 1,
        "save_strategy": "no",
        "eval_strategy": "no",
    }


def _owned(config: TrainStageConfig, output_dir: str | Path) -> dict[str, Any]:
    stage = get_stage(config.stage)
    owned: dict[str, Any] = {"output_dir": str(output_dir), "seed": config.seed,
                             "num_train_epochs": config.epochs}
    if stage.counts_episodes or config.max_steps is None:
        owned["max_steps"] = -1  # episode-counting stages: see total_episodes in trl_options
    else:
        owned["max_steps"] = config.max_steps
    if not stage.online:  # online stages: max_length only filters prompts
        owned["max_length"] = config.max_length
    return owned


def _kind_ok(hint: Any, value: Any) -> bool | None:
    """Whether `value` fits a simple annotation; None when the annotation is not simple."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        results = [_kind_ok(arg, value) for arg in typing.get_args(hint)]
        return None if None in results else any(results)
    if origin is Literal:
        return value in typing.get_args(hint)
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    return None


def _field_problems(cls: type, options: dict[str, Any]) -> list[str]:
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    try:
        hints = typing.get_type_hints(cls)
    except Exception:  # noqa: BLE001 - a forward reference we cannot resolve: skip type checks
        hints = {}
    problems = []
    for key, value in options.items():
        if key in OWNED:
            problems.append(f"trainer.{key}: set by the top-level `{OWNED[key]}` field; "
                            f"remove it from `trainer` (got {value!r})")
        elif key not in names:
            close = difflib.get_close_matches(key, sorted(names), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(f"trainer.{key}: unknown {cls.__name__} option{hint} (got {value!r})")
        elif key in hints and _kind_ok(hints[key], value) is False:
            problems.append(f"trainer.{key}: expected {_hint_text(hints[key])}, got {value!r}")
    return problems


def _hint_text(hint: Any) -> str:
    text = str(hint).replace("typing.", "").replace("<class '", "").replace("'>", "")
    return text.replace("NoneType", "None")


# subtle: transformers 5 renamed gradient_checkpointing* to activation_checkpointing* and warns
# whenever the old name is set, which TRL 1.12's configs always do (default True). Setting the
# new name silences it; a user's old-name option is moved to the new name so it still counts.
RENAMED = {"gradient_checkpointing": "activation_checkpointing",
           "gradient_checkpointing_kwargs": "activation_checkpointing_kwargs"}


def trl_options(config: TrainStageConfig, output_dir: str | Path) -> dict[str, Any]:
    stage = get_stage(config.stage)
    user = {RENAMED.get(k, k): v for k, v in config.trainer.items()}
    options = {**device_defaults(), **stage.defaults, **user, **_owned(config, output_dir)}
    if stage.counts_episodes and config.max_steps is not None:
        per_step = options["per_device_train_batch_size"] * options.get(
            "gradient_accumulation_steps", 1)
        options["total_episodes"] = config.max_steps * per_step
    return options


def build_trl_args(config: TrainStageConfig, output_dir: str | Path):
    """The TRL config instance for `config`; raises ConfigError naming `trainer.<field>`."""
    cls = trl_config_class(config.stage)
    problems = _field_problems(cls, config.trainer)
    if problems:
        raise ConfigError(problems)
    try:
        return cls(**trl_options(config, output_dir))
    except (ValueError, TypeError) as exc:
        keys = ", ".join(sorted(config.trainer)) or "none"
        raise ConfigError([f"trainer: {cls.__name__} refused these options ({exc}); trainer "
                           f"options given: {keys}"]) from exc


def check_trainer_options(config: TrainStageConfig) -> list[str]:
    """Every problem with `config.trainer`, found by building the TRL config (nothing is
    written: the output folder is a throw-away path)."""
    with tempfile.TemporaryDirectory(prefix="tuneset-check-") as tmp:
        try:
            build_trl_args(config, tmp)
        except ConfigError as exc:
            return exc.problems
    return []
