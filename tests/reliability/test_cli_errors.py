"""Every command-line failure is one clear line: exit 2 for bad input or config, 1 otherwise."""

from __future__ import annotations

import json
import os

import pytest
from typer.testing import CliRunner

import flows.dedup
from flows.cli import STARTUP_TIMEOUT, app
from pipelines.io import FolderBusyError

runner = CliRunner()


def _one_line(result) -> str:
    text = " ".join(result.output.split())
    assert "Traceback" not in result.output and text.startswith("error: "), result.output
    return text


@pytest.fixture
def spec(tmp_path):
    (tmp_path / "r.jsonl").write_text(json.dumps({"instruction": "x", "input": ""}) + "\n")
    path = tmp_path / "spec.yaml"
    path.write_text(json.dumps({"inputs": ["r.jsonl"]}))
    return path


@pytest.fixture
def no_flow(monkeypatch):
    """The dedup flow must not start."""
    def refuse(*args, **kwargs):
        raise AssertionError("the flow started")
    monkeypatch.setattr(flows.dedup, "dedup_flow", refuse)


@pytest.mark.parametrize("args", [["validate"], ["dedup", "--out", "o"], ["run", "--out", "o"]])
def test_config_path_that_is_a_folder(tmp_path, args, no_flow):
    result = runner.invoke(app, [args[0], str(tmp_path), *args[1:]])
    assert result.exit_code in (1, 2) and f"{tmp_path}: a folder; expected a YAML config file" in \
        " ".join(result.output.split())
    assert "Traceback" not in result.output and "IsADirectoryError" not in result.output


def test_out_naming_a_file_fails_before_any_work(tmp_path, spec, no_flow):
    (tmp_path / "taken").write_text("mine")
    result = runner.invoke(app, ["dedup", str(spec), "--out", str(tmp_path / "taken")])
    assert result.exit_code == 2
    assert f"--out {tmp_path / 'taken'}: an existing file" in _one_line(result)
    assert (tmp_path / "taken").read_text() == "mine"


@pytest.mark.parametrize("error, code, line", [
    (RuntimeError("Timed out while attempting to connect to ephemeral Prefect API server. "
                  "stdout: ...\n" * 40), 1, f"raise {STARTUP_TIMEOUT}, or start a server"),
    (RuntimeError("model server went away"), 1, "RuntimeError: model server went away"),
    (FolderBusyError("out: process 123 is writing this folder"), 1, "process 123 is writing"),
    (KeyboardInterrupt(), 130, "interrupted; finished stages and shards stay cached"),
], ids=["prefect startup", "other failure", "busy folder", "ctrl-c"])
def test_failures_are_one_line_with_their_exit_code(tmp_path, spec, monkeypatch, error, code, line):
    def fail(*args, **kwargs):
        raise error
    monkeypatch.setattr(flows.dedup, "dedup_flow", fail)
    result = runner.invoke(app, ["dedup", str(spec), "--out", str(tmp_path / "o")])
    assert result.exit_code == code and line in _one_line(result)


def test_the_temporary_server_gets_a_longer_startup_timeout():
    assert int(os.environ[STARTUP_TIMEOUT]) >= 60
