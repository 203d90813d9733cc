"""SIGTERM and Ctrl-C stop a run at once and cleanly; the temporary Prefect server never
outlives the `tuneset` process that started it, even when that process is SIGKILLed.

Real processes: `tuneset judge` (the console entry point) with a slow scripted judge, started
as a subprocess with its own temporary Prefect server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import psutil
import pytest

from pipelines.io import verify_run

RUN = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    import flows.judge
    from tests.fakes import ScriptedGenerator

    MARKER = Path(sys.argv[3])

    def slow(conversation, params, k):
        MARKER.touch()
        time.sleep(0.5)
        return "Score: 5"

    flows.judge.load_generator = lambda model: ScriptedGenerator(slow)
    from flows.cli import main
    sys.argv = ["tuneset", "judge", sys.argv[1], "--out", sys.argv[2]]
    main()
""")


def _server_of(proc: psutil.Process) -> psutil.Process | None:
    for child in proc.children(recursive=True):
        if "uvicorn" in " ".join(child.cmdline()):
            return child
    return None


@pytest.fixture
def running(tmp_path):
    """A `tuneset judge` run that has started judging: (process, its Prefect server, out)."""
    rows = [{"instruction": f"Question {i}", "input": "", "output": "answer"} for i in range(200)]
    (tmp_path / "r.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (tmp_path / "spec.yaml").write_text(json.dumps({"inputs": ["r.jsonl"]}))
    marker, out = tmp_path / "judging", tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    env.pop("PREFECT_API_URL", None)
    proc = subprocess.Popen([sys.executable, "-c", RUN, str(tmp_path / "spec.yaml"), str(out),
                             str(marker)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=env, text=True)
    deadline = time.monotonic() + 240
    while not marker.exists():
        assert proc.poll() is None, proc.stdout.read()
        assert time.monotonic() < deadline, "the run did not start judging"
        time.sleep(0.2)
    server = _server_of(psutil.Process(proc.pid))
    assert server is not None
    yield proc, server, out
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def _gone(process: psutil.Process, seconds: float) -> bool:
    try:
        process.wait(timeout=seconds)
    except psutil.TimeoutExpired:
        return False
    return True


def test_sigterm_stops_the_run_at_once(running):
    proc, server, out = running
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    output = proc.stdout.read()
    assert time.monotonic() - started < 30
    assert proc.returncode == 130, output
    assert "error: interrupted" in output and "Traceback" not in output
    assert _gone(server, 15)
    assert not verify_run(out)  # the in-flight run was dropped, not half-written


def test_sigkill_takes_the_prefect_server_with_it(running):
    proc, server, _ = running
    proc.kill()
    proc.wait(timeout=10)
    assert _gone(server, 15)
