"""Dated runs: OUT/<date>/ per run, OUT/latest, the files each run read, one output at a time."""

import json
import os
import time
from pathlib import Path

import pytest
import yaml

from flows.dated import (
    RunCollision,
    input_files,
    output_lock,
    point_latest,
    snapshot,
    with_response_cache,
)
from pipelines.config import load_config
from pipelines.io import sha256_file

from ..pipelines.templating.helpers import NLI_ROWS, nli_spec, write_jsonl
from .test_cli import prefect_logs_to_real_stderr  # noqa: F401 - autouse fixture

REPO = Path(__file__).resolve().parents[2]


def test_snapshot_links_unchanged_files_and_copies_changed_ones(tmp_path):
    work = tmp_path / "work"
    (work / "stage/.cache").mkdir(parents=True)
    (work / "stage/.cache/record").write_text("cache")
    (work / "stage/a.txt").write_text("same")
    (work / "stage/b.txt").write_text("old")
    assert snapshot(work, tmp_path / "r1", None) == 2
    time.sleep(0.01)
    (work / "stage/b.txt").write_text("new")
    assert snapshot(work, tmp_path / "r2", tmp_path / "r1") == 1
    assert os.path.samefile(tmp_path / "r1/stage/a.txt", tmp_path / "r2/stage/a.txt")
    assert (tmp_path / "r1/stage/b.txt").read_text() == "old"
    assert (tmp_path / "r2/stage/b.txt").read_text() == "new"
    assert not (tmp_path / "r2/stage/.cache").exists()


def test_latest_points_at_the_newest_run(tmp_path):
    for name in ("r1", "r2"):
        (tmp_path / name).mkdir()
        point_latest(tmp_path, tmp_path / name)
    assert os.readlink(tmp_path / "latest") == "r2"


def test_a_second_run_on_one_output_fails_at_once(tmp_path):
    with output_lock(tmp_path):
        with pytest.raises(RunCollision, match=f"another run is writing {tmp_path} \\(pid {os.getpid()}\\)"):
            with output_lock(tmp_path):
                pass
    with output_lock(tmp_path):  # released
        pass


def _config(tmp_path, **run):
    raw = tmp_path / "raw"
    raw.mkdir(exist_ok=True)
    write_jsonl(raw / "a.jsonl", NLI_ROWS[:3])
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump({
        "run": {"name": "nightly", "threads": 1, **run},
        "templating": {"tasks": [nli_spec("raw/*.jsonl")]},
        "judge": {"mode": "logprob", "threshold": 1.0},
        "publish": {"license": "apache-2.0", "test_fraction": 0.0}}))
    return path


def test_inputs_follow_a_growing_glob(tmp_path):
    path = _config(tmp_path)
    first = input_files(load_config(path), base_dir=tmp_path)
    assert first == {str(tmp_path / "raw/a.jsonl"): sha256_file(tmp_path / "raw/a.jsonl")}
    write_jsonl(tmp_path / "raw/b.jsonl", NLI_ROWS[3:])
    assert len(input_files(load_config(path), base_dir=tmp_path)) == 2


def test_one_response_cache_for_every_model_without_its_own(tmp_path):
    config = with_response_cache(load_config(_config(tmp_path)), tmp_path / "r.sqlite")
    assert config.judge.model.cache == tmp_path / "r.sqlite"
    assert config.templating is not None and config.run.name == "nightly"


@pytest.mark.usefixtures("prefect_harness")
def test_dated_runs_keep_each_run_and_publish_only_changes(tmp_path, monkeypatch):
    import flows.judge
    from flows.pipeline import pipeline_flow
    from tests.fakes import ScriptedGenerator

    judge = ScriptedGenerator([], scores=lambda conv, prefix, cands: {c: -1.0 for c in cands})
    monkeypatch.setattr(flows.judge, "load_generator", lambda config: judge)
    config, out = _config(tmp_path), tmp_path / "out"

    def run():
        summary = pipeline_flow(str(config), str(out), dated=True)
        return summary, json.loads((out / "latest/run.json").read_text())

    first, info = run()
    calls = len(judge.calls)
    assert info["publish"]["new_version"] is True and info["publish"]["version"] == "v1"
    folder = out / os.readlink(out / "latest")
    assert first["run_folder"] == str(folder) and (folder / "judge/manifest.json").exists()
    assert json.loads((folder / "inputs.json").read_text())["files"] == {
        str(tmp_path / "raw/a.jsonl"): sha256_file(tmp_path / "raw/a.jsonl")}
    time.sleep(1.1)  # one dated folder per second
    second, info = run()
    assert [s["cached"] for s in info["stages"]] == [True, True] and len(judge.calls) == calls
    assert info["publish"]["new_version"] is False
    assert len([p for p in out.iterdir() if p.name[:2] == "20"]) == 2
    time.sleep(1.1)
    write_jsonl(tmp_path / "raw/b.jsonl", NLI_ROWS[3:])
    third, info = run()
    assert info["publish"] == {**info["publish"], "new_version": True, "version": "v2"}
    assert json.loads((out / "latest/inputs.json").read_text())["count"] == 2
    assert len(judge.calls) > calls and third["stages"][0]["kept"] == len(NLI_ROWS)


@pytest.mark.usefixtures("prefect_harness")
def test_a_run_on_a_locked_output_exits_2_naming_the_holder(tmp_path):
    from typer.testing import CliRunner

    from flows.cli import app

    config, out = _config(tmp_path), tmp_path / "out"
    with output_lock(out):
        result = CliRunner().invoke(app, ["run", str(config), "--out", str(out), "--dated"])
    assert result.exit_code == 2, result.output
    assert f"another run is writing {out} (pid {os.getpid()})" in " ".join(result.output.split())
    assert "Traceback" not in result.output and not (out / "latest").exists()


def test_seed_tasks_may_be_a_folder_that_grows(tmp_path):
    from pipelines.self_instruct import SelfInstructConfig, read_seeds

    lines = (REPO / "configs/demo_data/seed_tasks.jsonl").read_text().splitlines(keepends=True)
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds/a.jsonl").write_text("".join(lines[:4]))
    config = SelfInstructConfig.model_validate({"seeds": "seeds"}, context={"base_dir": tmp_path})
    assert len(read_seeds(config)) == 4
    (tmp_path / "seeds/b.jsonl").write_text("".join(lines[4:6]))
    assert len(read_seeds(config)) == 6


def test_a_glob_that_matches_nothing_is_a_config_error(tmp_path):
    from pipelines.config import check_config

    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({"templating": {"tasks": [nli_spec("raw/*.jsonl")]}}))
    _, problems = check_config(path)
    assert problems == [f"templating.tasks[0].source: no file matches {tmp_path}/raw/*.jsonl "
                        "(got 'raw/*.jsonl')"]
