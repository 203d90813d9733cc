"""`tuneset deploy` / `tuneset serve` refuse bad schedules, parameters and a missing server with
one line each, before anything is registered (the real server runs in test_schedules_server)."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.schedule import make_schedule, pipeline_deployment

REPO = Path(__file__).resolve().parents[2]
DEMO = str(REPO / "configs/demo.yaml")
runner = CliRunner()


@pytest.mark.parametrize("args, message", [
    (["--cron", "0 2 * * *", "--interval", "60"], "give exactly one of --cron EXPR and --interval"),
    ([], "give exactly one of --cron EXPR and --interval"),
    (["--cron", "61 2 * * *"], "schedule: "),
    (["--cron", "0 2 * * *", "--timezone", "Mars/Olympus"], "Mars/Olympus"),
    (["--interval", "-5"], "--interval: expected a positive number of seconds, got -5"),
    (["--interval", "60", "--param", "colour=red"], "--param colour: expected one of ['out'"),
    (["--interval", "60", "--param", "dated"], "--param 'dated': expected KEY=VALUE"),
    (["--interval", "60", "--collision", "queue"], "--collision: expected one of"),
], ids=["both", "neither", "cron", "timezone", "interval", "param-key", "param-form", "collision"])
@pytest.mark.parametrize("command", ["deploy", "serve"])
def test_bad_schedule_or_parameter_exits_2_with_one_line(command, args, message):
    result = runner.invoke(app, [command, DEMO, "--name", "n", *args])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_a_bad_config_is_reported_before_any_deployment(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("run: {nme: x}\n")
    result = runner.invoke(app, ["deploy", str(bad), "--name", "n", "--interval", "60"])
    assert result.exit_code == 2 and "run.nme: unknown field" in result.output


def test_without_a_server_the_command_says_how_to_start_one():
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: None}):
        result = runner.invoke(app, ["deploy", DEMO, "--name", "n", "--interval", "60"])
    assert result.exit_code == 2
    assert "no Prefect server: start one with `prefect server start`" in result.output


def test_deployment_carries_schedule_parameters_and_concurrency(tmp_path):
    deployment = pipeline_deployment(DEMO, "nightly", cron="0 2 * * *", timezone="Europe/Berlin",
                                     params={"response_cache": "/srv/r.sqlite"})
    (schedule,) = deployment.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 2 * * *", "Europe/Berlin")
    assert deployment.parameters == {"config_path": DEMO, "out": str(Path("runs/nightly").resolve()),
                                     "dated": True, "response_cache": "/srv/r.sqlite"}
    assert deployment.concurrency_limit == 1
    assert deployment.concurrency_options.collision_strategy.value == "CANCEL_NEW"
    assert deployment.entrypoint == "flows.pipeline.pipeline_flow"
    assert make_schedule(None, 90, None).interval.total_seconds() == 90
