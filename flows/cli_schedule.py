"""`tuneset deploy` and `tuneset serve`: the pipeline on a schedule (flows/schedule.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

NameOpt = Annotated[str, typer.Option("--name", help="deployment name (one per output folder)")]
CronOpt = Annotated[str | None, typer.Option("--cron", help="cron expression, e.g. '0 2 * * *'")]
IntervalOpt = Annotated[float | None, typer.Option("--interval", help="seconds between runs")]
TimezoneOpt = Annotated[str | None, typer.Option(
    "--timezone", help="IANA time zone of the schedule, e.g. Europe/Berlin (default UTC)")]
ParamOpt = Annotated[list[str] | None, typer.Option(
    "--param", help="flow parameter KEY=VALUE (repeatable): out, dated, response_cache")]
OutOpt = Annotated[Path | None, typer.Option(
    "--out", "-o", help="folder the dated runs go to (default runs/NAME)")]
CollisionOpt = Annotated[str, typer.Option(
    "--collision", help="a run that comes due while the last one still runs: cancel-new "
                        "(skip it) or enqueue (wait)")]
ConfigArg = Annotated[Path, typer.Argument(help="pipeline config (YAML)")]


def _deployment(config, name, cron, interval, timezone, params, out, collision):
    from flows.cli import _run
    from flows.schedule import parse_params, pipeline_deployment

    return _run(lambda: pipeline_deployment(
        config, name, cron=cron, interval=interval, timezone=timezone, out=out,
        params=parse_params(params or []), collision=collision))


def _describe(deployment) -> str:
    (schedule,) = deployment.schedules
    when = schedule.schedule.model_dump(mode="json", exclude_none=True)
    return (f"{deployment.flow_name}/{deployment.name}: {when}, runs in "
            f"{deployment.parameters['out']}, concurrency 1 "
            f"({deployment.concurrency_options.collision_strategy.value.lower().replace('_', '-')})")


def deploy(config: ConfigArg, name: NameOpt, cron: CronOpt = None, interval: IntervalOpt = None,
           timezone: TimezoneOpt = None, param: ParamOpt = None, out: OutOpt = None,
           collision: CollisionOpt = "cancel-new",
           pool: Annotated[str, typer.Option(help="process work pool (created when missing)")]
           = "tuneset") -> None:
    """Register a scheduled deployment of the pipeline with the Prefect server; a worker of
    POOL (`prefect worker start --pool POOL`) runs it."""
    from flows.cli import _run, console
    from flows.schedule import register

    deployment = _deployment(config, name, cron, interval, timezone, param, out, collision)
    deployment_id = _run(lambda: register(deployment, pool=pool))
    console.print(f"deployment {_describe(deployment)}\nid: {deployment_id}\n"
                  f"start a worker: prefect worker start --pool {pool}", soft_wrap=True)


def serve(config: ConfigArg, name: NameOpt, cron: CronOpt = None, interval: IntervalOpt = None,
          timezone: TimezoneOpt = None, param: ParamOpt = None, out: OutOpt = None,
          collision: CollisionOpt = "cancel-new") -> None:
    """Serve a scheduled deployment of the pipeline from this process until stopped (Ctrl-C)."""
    from flows.cli import _run, console
    from flows.schedule import serve_deployment

    deployment = _deployment(config, name, cron, interval, timezone, param, out, collision)
    console.print(f"serving {_describe(deployment)}", soft_wrap=True)
    _run(lambda: serve_deployment(deployment))
