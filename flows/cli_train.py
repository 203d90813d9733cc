"""`tuneset train <stage>` (one command per stage in `alignment.registry`) and `tuneset handoff`.

    tuneset train sft|reward|dpo|ppo|grpo|rloo CONFIG [--out DIR]
    tuneset handoff DATASET --out DIR

Registered on the `tuneset` app by flows/cli.py; the shared helpers (`_run`, the console) are
imported from there when a command runs.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from typer.core import TyperCommand, TyperGroup


def _check_out(out: Path | None) -> Path | None:
    from flows.cli import _check_out as check

    return check(out)


OutOpt = Annotated[Path, typer.Option("--out", "-o", help="folder to write the files into",
                                      callback=_check_out)]


class _TrainStages(TyperGroup):
    """`tuneset train`: one command per stage in `alignment.registry`, made each time the
    command line is built, so a registered stage is a command without further wiring."""

    def __init__(self, **kwargs: Any) -> None:
        from alignment.registry import STAGES

        super().__init__(**kwargs)
        self.help = f"Train on a tuneset dataset with TRL: {', '.join(STAGES)}."
        for stage in STAGES.values():
            self.add_command(_train_command(stage.name, stage.help))


train_app = typer.Typer(name="train", cls=_TrainStages, no_args_is_help=True)
TrainConfigArg = Annotated[Path, typer.Argument(
    help="training config (YAML); see configs/train_*.yaml")]
TrainOutOpt = Annotated[Path | None, typer.Option(
    "--out", "-o", help="output folder (overrides `out` in CONFIG)")]


def _train_command(stage: str, help_text: str) -> TyperCommand:
    """The click command `tuneset train <stage> CONFIG [--out DIR]`."""

    def command(config: TrainConfigArg, out: TrainOutOpt = None) -> None:
        _train(stage, config, out)

    one = typer.Typer(add_completion=False)
    one.command(stage, help=help_text)(command)
    return typer.main.get_command(one)


def _train(stage: str, config_path: Path, out: Path | None) -> None:
    from alignment.run import load_train_config, validate_data
    from flows.cli import _run, console
    from flows.training import training_flow

    config = _run(lambda: load_train_config(config_path, stage, out=out))
    _run(lambda: validate_data(config))  # report bad records before starting Prefect
    summary = _run(lambda: training_flow(stage)(config))
    report = summary["report"]
    table = Table(title=f"tuneset train {stage}")
    table.add_column("metric")
    table.add_column("value", overflow="fold")
    for key, value in sorted(report["metrics"].items()):
        if isinstance(value, (int, float)):
            table.add_row(key, f"{value:.4g}")
    table.add_row("rows (train/eval/dropped)", "/".join(str(v) for v in report["rows"].values()))
    table.add_row("seconds per step", str(report["seconds_per_step"]))
    console.print(table)
    out_dir = Path(os.path.normpath(summary["out"]))
    console.print(f"model: {os.path.normpath(report['model_dir'])}\n"
                  f"report: {out_dir / 'report.json'}\nhandoff: {out_dir / 'handoff'}")


def handoff(
    dataset: Annotated[Path, typer.Argument(help="a tuneset run folder or record file")],
    out: OutOpt,
) -> None:
    """Write LLaMA-Factory, axolotl and OpenRLHF handoff files for a dataset (no training)."""
    from alignment.data import load_any
    from alignment.handoff import write_handoff
    from flows.cli import _run, console

    data = _run(lambda: load_any(dataset))
    manifest = _run(lambda: write_handoff(data, out))
    for name, info in manifest["files"].items():
        console.print(f"{Path(out) / name}: {info['rows']} {manifest['kind']} records")
    console.print(f"LLaMA-Factory dataset_dir: {out}; axolotl: {Path(out) / 'axolotl.yaml'}; "
                  f"OpenRLHF: {Path(out) / 'openrlhf.txt'}")
