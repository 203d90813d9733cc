"""A cache hit serves only the run it was written for; a run folder changes hands whole; one
writer per output folder at a time."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from typer.testing import CliRunner

from flows.cli import app
from flows.common import make_call, run_folder
from flows.dedup import dedup_flow
from pipelines.dedup import DedupConfig
from pipelines.errors import TunesetError
from pipelines.io import (
    FolderBusyError,
    load_run,
    output_lock,
    read_manifest,
    verify_run,
    write_run,
)

ROWS_A = [{"id": "a1", "instruction": "Name a colour.", "input": ""},
          {"id": "a2", "instruction": "Name a planet.", "input": ""}]
ROWS_B = [{"id": "b1", "instruction": "Add two and three.", "input": ""}]


def _file(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.mark.usefixtures("prefect_harness")
def test_cache_hit_requires_the_key_the_folder_was_written_for(tmp_path):
    a = DedupConfig(inputs=[_file(tmp_path / "a.jsonl", ROWS_A)])
    b = DedupConfig(inputs=[_file(tmp_path / "b.jsonl", ROWS_B)])
    out = str(tmp_path / "X")
    dedup_flow(a, out)
    dedup_flow(b, out)
    third = dedup_flow(a, out)
    assert third["cached"] is False
    assert load_run(out)["id"] == ["a1", "a2"]
    assert verify_run(out) and read_manifest(out)["key"]


@pytest.mark.usefixtures("prefect_harness")
def test_cli_sequence_a_b_a_serves_a(tmp_path):
    runner = CliRunner()
    _file(tmp_path / "a.jsonl", ROWS_A)
    _file(tmp_path / "b.jsonl", ROWS_B)
    for name in ("A", "B"):
        (tmp_path / f"{name}.yaml").write_text(json.dumps({"inputs": [f"{name.lower()}.jsonl"]}))
    out = str(tmp_path / "X")
    for name in ("A", "B", "A"):
        result = runner.invoke(app, ["dedup", str(tmp_path / f"{name}.yaml"), "--out", out])
        assert result.exit_code == 0, result.output
    assert load_run(out)["id"] == ["a1", "a2"]


HOLDER = textwrap.dedent("""
    import sys
    from pipelines.io import output_lock
    with output_lock(sys.argv[1]):
        print("held", flush=True)
        sys.stdin.readline()
""")


@pytest.fixture
def held(tmp_path):
    """A second process holding the lock of tmp_path/X until the test ends; its pid."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path / "X")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    yield proc.pid
    proc.stdin.close()
    proc.wait(timeout=30)


@pytest.mark.usefixtures("prefect_harness")
def test_a_second_run_on_one_out_fails_naming_the_holder(tmp_path, held):
    config = DedupConfig(inputs=[_file(tmp_path / "a.jsonl", ROWS_A)])
    with pytest.raises(FolderBusyError, match=f"process {held} is writing this folder"):
        dedup_flow(config, str(tmp_path / "X"))
    assert not (tmp_path / "X" / "kept").exists()


def test_lock_is_released_when_the_holder_ends(tmp_path, held):
    with pytest.raises(FolderBusyError):
        with output_lock(tmp_path / "X"):
            pass
    (tmp_path / "Y").mkdir()
    with output_lock(tmp_path / "Y"), output_lock(tmp_path / "Y" / "inner"):
        pass  # re-entrant inside one process


def _records(n):
    import datasets
    return datasets.Dataset.from_list([{"id": str(i)} for i in range(n)])


def test_failed_write_leaves_the_previous_run_whole(tmp_path):
    out = tmp_path / "X"
    call = make_call("demo", {"n": 1}, out, code=("pipelines.io",))
    with run_folder(call) as target:
        write_run(target.out, stage="demo", kept=_records(2), rejected=_records(0), stats={},
                  key=target.key)
    (out / ".cache").mkdir()
    (out / ".cache" / "record").write_text("kept across swaps")
    (out / "rounds").mkdir()
    with pytest.raises(TunesetError), run_folder(call) as target:
        write_run(target.out, stage="demo", kept=_records(5), rejected=_records(0), stats={})
        raise TunesetError("the stage failed after writing")
    assert verify_run(out, key=call.key) and len(load_run(out)) == 2
    with run_folder(call) as target:
        write_run(target.out, stage="demo", kept=_records(3), rejected=_records(0), stats={},
                  key=target.key)
    assert len(load_run(out)) == 3 and (out / ".cache" / "record").exists() and (out / "rounds").is_dir()
    assert not list(tmp_path.glob(".X.tmp-*"))
