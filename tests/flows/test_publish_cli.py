"""`tuneset publish` and the publish task (Prefect) on small run folders."""

import json
import subprocess

import pytest
import yaml
from typer.testing import CliRunner

from flows.cli import app

from ..pipelines.publish.fake_hub import serving
from ..pipelines.publish.helpers import make_run
from .test_cli import prefect_logs_to_real_stderr  # noqa: F401 - autouse fixture

runner = CliRunner()
pytestmark = pytest.mark.usefixtures("prefect_harness")


def tags(repo):
    return subprocess.run(["git", "-C", str(repo), "tag"], capture_output=True, text=True,
                          check=True).stdout.split()


def test_publish_then_unchanged_then_list(tmp_path):
    run, repo = make_run(tmp_path / "run"), tmp_path / "dataset"
    first = runner.invoke(app, ["publish", str(run), "--repo", str(repo), "--message", "first cut"])
    assert first.exit_code == 0, first.output
    assert f"{repo}: published v1 (" in first.output and tags(repo) == ["v1"]
    again = runner.invoke(app, ["publish", str(run), "--repo", str(repo)])
    assert again.exit_code == 0 and f"{repo}: unchanged (latest: v1)" in again.output
    listed = runner.invoke(app, ["publish", "--list", str(repo)])
    assert listed.exit_code == 0 and "v1" in listed.output and "first cut" in listed.output


def test_default_target_is_the_run_folders_dataset(tmp_path):
    run = make_run(tmp_path / "run", publish={"pretty_name": "Tiny sums"})
    result = runner.invoke(app, ["publish", str(run), "--version", "2024-06"])
    assert result.exit_code == 0, result.output
    assert tags(run / "dataset") == ["2024-06"]
    assert "# Tiny sums" in (run / "dataset" / "README.md").read_text()
    # the published train split, again as handoff folders for other trainers
    for config in ("sft", "preferences"):
        handoff = json.loads((run / "handoff" / config / "handoff.json").read_text())
        published = sorted((run / "dataset/data" / config).glob("train-*.parquet"))
        assert published and list(handoff["sources"]) == [str(p) for p in published]


def test_a_config_without_license_exits_2(tmp_path):
    run = make_run(tmp_path / "run")
    config = tmp_path / "pipeline.yaml"
    config.write_text(yaml.safe_dump({"run": {"name": "tiny"}, "publish": {"pretty_name": "x"}}))
    result = runner.invoke(app, ["publish", str(run), "--config", str(config)])
    assert result.exit_code == 2
    assert "publish.license: required field is missing" in result.output
    assert not (run / "dataset").exists()


def test_uncommitted_edits_exit_2_naming_the_file(tmp_path):
    run, repo = make_run(tmp_path / "run"), tmp_path / "dataset"
    assert runner.invoke(app, ["publish", str(run), "--repo", str(repo)]).exit_code == 0
    (repo / "README.md").write_text("edited\n")
    bigger = make_run(tmp_path / "run2", n=16)
    result = runner.invoke(app, ["publish", str(bigger), "--repo", str(repo)])
    assert result.exit_code == 2 and "uncommitted changes" in result.output
    assert "README.md" in result.output and "Traceback" not in result.output
    forced = runner.invoke(app, ["publish", str(bigger), "--repo", str(repo), "--force"])
    assert forced.exit_code == 0 and tags(repo) == ["v1", "v2"]


def test_local_then_hub_through_the_command_line(tmp_path, monkeypatch):
    token = "hf_cliTestToken_9876543210fedcba"
    run = make_run(tmp_path / "run")
    with serving(monkeypatch, tmp_path, token) as hub:
        args = ["publish", str(run), "--repo", str(tmp_path / "dataset"), "--repo",
                "hf://datasets/org/cli", "--private"]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert "hf://datasets/org/cli: published v1" in result.output
        again = runner.invoke(app, args)
        listed = runner.invoke(app, ["publish", "--list", "hf://datasets/org/cli"])
    assert "hf://datasets/org/cli: unchanged (latest: v1)" in again.output
    assert "v1" in listed.output and hub.repos["org/cli"].private
    assert len(hub.calls("POST", "/commit/")) == 1
    assert token not in result.output + again.output + listed.output
    assert not [p for p in tmp_path.rglob("*") if p.is_file() and token.encode() in p.read_bytes()]
