"""One training stage end to end: read its config, validate the data, train, write the report
and the handoff. Every step looks the stage up in `alignment.registry`.

    >>> config = load_train_config("configs/train_sft.yaml", "sft")
    >>> summary = run_training(config)
    >>> summary["report"]["metrics"]["train_loss"], summary["handoff"]["kind"]

A config also comes from a mapping, e.g. one section of a larger file, with its paths relative
to `base_dir`: `train_config({"dataset": "runs/x/preferences", "out": "runs/dpo"}, "dpo",
base_dir=".")`. Trainer modules import TRL (seconds); they are imported only when their stage
trains. Not here: Prefect (`flows.training` wraps these steps as tasks).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alignment.args import check_trainer_options
from alignment.common import TrainResult, run_trainer
from alignment.config import TrainStageConfig
from alignment.data import TrainingData, load_data
from alignment.handoff import write_handoff
from alignment.registry import get_stage
from alignment.report import write_report
from pipelines.config import read_section
from pipelines.errors import ConfigError


def train_config(section: dict[str, Any], stage: str, *, base_dir: str | Path,
                 out: str | Path | None = None, prefix: str = "",
                 file: str | Path | None = None, check_trainer: bool = True) -> TrainStageConfig:
    """The config of `stage` from a mapping (paths relative to `base_dir`), with `out`
    overridden when given and its `trainer` options checked against TRL's config class.
    Raises ConfigError listing every problem, each named `<prefix>.<field>`."""
    config = get_stage(stage).parse(section, base_dir=base_dir, prefix=prefix, file=file)
    if out is not None:
        config = config.model_copy(update={"out": Path(out)})
    where = f"{prefix}.out" if prefix else "out"
    if config.out is None:
        raise ConfigError([f"{where}: required field is missing; set `out` in the config or "
                           "pass --out DIR"], file=file)
    if check_trainer:
        problems = check_trainer_options(config)
        if problems:
            raise ConfigError([f"{prefix}.{p}" if prefix else p for p in problems], file=file)
    return config


def load_train_config(path: str | Path, stage: str, *, out: str | Path | None = None,
                      check_trainer: bool = True) -> TrainStageConfig:
    """A stage's config from `path` (the whole file, or its `<stage>:` section)."""
    get_stage(stage)  # an unknown stage is the first problem to report
    body, prefix = read_section(path, stage)
    return train_config(body, stage, base_dir=Path(path).parent, out=out, prefix=prefix,
                        file=path, check_trainer=check_trainer)


def validate_data(config: TrainStageConfig) -> TrainingData:
    """Load and check every record; raises InputError before any model loads."""
    return load_data(get_stage(config.stage).data, config.dataset)


def train(config: TrainStageConfig, data: TrainingData | None = None) -> TrainResult:
    """Train on `data` (validated from `config.dataset` when not given) and save `<out>/model`."""
    data = data if data is not None else validate_data(config)
    built = get_stage(config.stage).build_trainer(config, data)
    return run_trainer(built, stage=config.stage, out=config.output_dir())


def run_training(config: TrainStageConfig) -> dict[str, Any]:
    """Validate, train, write the report and the handoff; returns what the CLI prints."""
    data = validate_data(config)
    result = train(config, data)
    report = write_report(result, config, data)
    handoff = write_handoff(data, result.out / "handoff")
    return {"stage": config.stage, "out": str(result.out), "report": report, "handoff": handoff}
