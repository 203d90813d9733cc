"""Scheduled pipeline runs as Prefect deployments of `tuneset-pipeline` (flows/pipeline.py).

    deployment = pipeline_deployment("configs/demo.yaml", "nightly", cron="0 2 * * *",
                                     timezone="Europe/Berlin", out="runs/nightly")
    register(deployment, pool="tuneset")       # `tuneset deploy`: a process worker runs it
    serve_deployment(deployment)               # `tuneset serve`: this process runs it

Every deployment runs `pipeline_flow(config_path, out, dated=True)`: a dated folder per run,
one response cache, publishing only what changed (flows/dated.py). Runs of one deployment
never overlap: its concurrency limit is 1, and a run that comes due while another is still
running is cancelled (collision strategy CANCEL_NEW; `enqueue` makes it wait instead). The
next run picks up whatever arrived meanwhile, so a skipped run loses nothing. Transient
failures (a model server error, a flaky disk) retry inside the run, task by task; bad input
and bad config fail the run at once and never retry (flows/common.py).

Both need a Prefect server (`prefect server start`, then PREFECT_API_URL): Prefect's
temporary in-process server does not run schedules.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from pipelines.config import load_config
from pipelines.errors import ConfigError

DEFAULT_POOL = "tuneset"
FLOW_NAME = "tuneset-pipeline"
COLLISIONS = ("cancel-new", "enqueue")
PARAMS = ("out", "dated", "response_cache")
"""Parameters `--param` may set (config_path is the CONFIG argument)."""


def parse_params(items: list[str]) -> dict[str, Any]:
    """`KEY=VALUE` pairs; values are YAML scalars (`dated=false` is a bool, `x=3` an int).

    >>> parse_params(["dated=false", "response_cache=/srv/cache.sqlite"])
    {'dated': False, 'response_cache': '/srv/cache.sqlite'}
    """
    params: dict[str, Any] = {}
    problems = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            problems.append(f"--param {item!r}: expected KEY=VALUE")
        elif key not in PARAMS:
            problems.append(f"--param {key}: expected one of {list(PARAMS)} (the config is CONFIG)")
        else:
            params[key] = yaml.safe_load(value) if value else None
    if problems:
        raise ConfigError(problems)
    return params


def make_schedule(cron: str | None, interval: float | None, timezone: str | None):
    """A Prefect schedule: exactly one of `cron` and `interval` (seconds), checked here."""
    from prefect.client.schemas.schedules import CronSchedule, IntervalSchedule

    if (cron is None) == (interval is None):
        raise ConfigError(["give exactly one of --cron EXPR and --interval SECONDS"])
    try:
        if cron is not None:
            return CronSchedule(cron=cron, timezone=timezone)
        if interval <= 0:
            raise ConfigError([f"--interval: expected a positive number of seconds, got {interval}"])
        return IntervalSchedule(interval=dt.timedelta(seconds=interval), timezone=timezone)
    except ValidationError as exc:
        what = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        raise ConfigError([f"schedule: {what} (got cron={cron!r}, timezone={timezone!r})"]) from None


def pipeline_deployment(config: str | Path, name: str, *, cron: str | None = None,
                        interval: float | None = None, timezone: str | None = None,
                        out: str | Path | None = None, params: dict[str, Any] | None = None,
                        collision: str = "cancel-new"):
    """A RunnerDeployment of the pipeline flow for `config` (checked first), writing dated runs
    to `out` (default runs/<name>); paths become absolute, so any worker finds them."""
    from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
    from prefect.deployments.runner import EntrypointType

    from flows.pipeline import pipeline_flow

    load_config(config)
    schedule = make_schedule(cron, interval, timezone)
    if collision not in COLLISIONS:
        raise ConfigError([f"--collision: expected one of {list(COLLISIONS)}, got {collision!r}"])
    parameters = {"config_path": str(Path(config).resolve()),
                  "out": str(Path(out or f"runs/{name}").resolve()), "dated": True,
                  **(params or {})}
    strategy = ConcurrencyLimitStrategy.CANCEL_NEW if collision == "cancel-new" \
        else ConcurrencyLimitStrategy.ENQUEUE
    return pipeline_flow.to_deployment(
        name, schedules=[schedule], parameters=parameters, tags=["tuneset"],
        concurrency_limit=ConcurrencyLimitConfig(limit=1, collision_strategy=strategy),
        description=f"tuneset run {config} on a schedule, dated runs in {parameters['out']}",
        entrypoint_type=EntrypointType.MODULE_PATH)


def require_server() -> str:
    """The configured Prefect API URL; ConfigError when there is none (the temporary server
    Prefect starts otherwise does not run schedules and stops with this process)."""
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    if not url:
        raise ConfigError(["no Prefect server: start one with `prefect server start` and set "
                           "PREFECT_API_URL (e.g. `prefect config set PREFECT_API_URL="
                           "http://127.0.0.1:4200/api`); a temporary server runs no schedules"])
    return url


def ensure_pool(pool: str) -> None:
    """Create the process work pool `pool` unless it exists."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_work_pool(pool)
        except ObjectNotFound:
            client.create_work_pool(WorkPoolCreate(name=pool, type="process"))


def register(deployment, *, pool: str = DEFAULT_POOL) -> str:
    """Register `deployment` with the server for `pool`'s workers; its id."""
    require_server()
    ensure_pool(pool)
    return str(deployment.apply(work_pool_name=pool))


def serve_deployment(deployment) -> None:
    """Run the deployment's schedule from this process until it is stopped (Ctrl-C)."""
    from prefect import serve

    require_server()
    serve(deployment)


def read_schedule(name: str) -> dict[str, Any]:
    """The schedule the server holds for deployment `name` of the pipeline flow."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name(f"{FLOW_NAME}/{name}")
    (found,) = deployment.schedules
    return found.schedule.model_dump(mode="json", exclude_none=True)
