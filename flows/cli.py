"""The `tuneset` command line: one sub-command per stage, `run` for a whole config.

Each command is a thin shell over a flow in `flows/`. User errors (bad input, bad config) print
one clear message and exit with status 2; no traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from pipelines.errors import TunesetError

app = typer.Typer(name="tuneset", no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Build instruction-tuning and preference datasets and hand them to training.")
console = Console()
ConfigArg = Annotated[Path, typer.Argument(help="pipeline config (YAML)")]
OutOpt = Annotated[Path, typer.Option("--out", "-o", help="folder to write the run into")]
errors = Console(stderr=True)


def _run(action: Callable[[], Any]) -> Any:
    try:
        return action()
    except TunesetError as exc:
        errors.print(f"[bold red]error:[/] {exc}", highlight=False, markup=True, soft_wrap=True)
        raise typer.Exit(2) from None


def _print_counts(rows: list[dict[str, Any]]) -> None:
    table = Table(title="records per stage")
    for col in ("stage", "in", "kept", "rejected", "rejected_by_reason", "out"):
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*(str(row[c]) for c in ("stage", "in", "kept", "rejected",
                                              "rejected_by_reason", "out")))
    console.print(table)


@app.command()
def validate(config: ConfigArg) -> None:
    """Check a pipeline config and report every problem at once."""
    from pipelines.config import check_config

    loaded, problems = check_config(config)
    if problems:
        errors.print(f"[bold red]{config}: {len(problems)} problem(s)[/]")
        for problem in problems:
            errors.print(f"  - {problem}", highlight=False, markup=False)
        raise typer.Exit(1)
    console.print(f"{config}: ok (stages: {', '.join(loaded.stages()) or 'none'})")


@app.command()
def template(
    spec: Annotated[Path, typer.Argument(help="templating config: a pipeline config or just its "
                                              "`templating` section")],
    out: OutOpt,
    jsonl: Annotated[bool, typer.Option(help="also write JSONL copies")] = False,
) -> None:
    """Render raw task files into FLAN-style instruction examples."""
    from flows.templating import templating_flow
    from pipelines.config import load_section
    from pipelines.templating import TemplatingConfig

    config = _run(lambda: load_section(spec, "templating", TemplatingConfig))
    summary = _run(lambda: templating_flow(config, str(out), jsonl=jsonl))
    _print_counts([summary])


@app.command()
def dedup(
    spec: Annotated[Path, typer.Argument(help="dedup config: a pipeline config or just its "
                                              "`dedup` section")],
    out: OutOpt,
    jsonl: Annotated[bool, typer.Option(help="also write JSONL copies")] = False,
) -> None:
    """Drop exact and near-duplicate records, and records that match reference sets."""
    from flows.dedup import dedup_flow, dedup_sources
    from pipelines.config import load_section
    from pipelines.dedup import DedupConfig

    config = _run(lambda: load_section(spec, "dedup", DedupConfig))
    _run(lambda: dedup_sources(config))  # no inputs: say so before starting Prefect
    summary = _run(lambda: dedup_flow(config, str(out), jsonl=jsonl))
    _print_counts([summary])


@app.command()
def run(config: ConfigArg, out: OutOpt) -> None:
    """Run every stage configured in CONFIG."""
    from flows.pipeline import pipeline_flow
    from pipelines.config import load_config

    _run(lambda: load_config(config))  # report config problems before starting Prefect
    summary = _run(lambda: pipeline_flow(str(config), str(out)))
    _print_counts(summary["stages"])
    console.print(f"summary: {Path(out) / 'summary.json'}")


def main() -> None:  # pragma: no cover - console entry point
    app(prog_name="tuneset")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
