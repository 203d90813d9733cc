"""Scheduled runs against a real Prefect server (`prefect server start` in a subprocess, its own
PREFECT_HOME and SQLite database, a free port): `tuneset serve` with a short interval, the judge
on a local OpenAI-compatible server that counts requests, and `tuneset deploy --cron` read back.

The served runs: the first publishes v1; an unchanged run is all cache hits and publishes
nothing; after the raw file gains rows, a run publishes v2 and only the new prompts reach the
model (the response cache answers the others). Server and runner are stopped by process id.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from ..pipelines.templating.helpers import NLI_ROWS, nli_spec, write_jsonl

TUNESET = Path(sys.executable).with_name("tuneset")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(proc: subprocess.Popen) -> None:
    """Ctrl-C (serve pauses its schedule and exits; the server shuts down), then SIGKILL."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def wait_for(check, timeout: float, what: str, proc: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"{what}: the process exited with {proc.returncode}")
        time.sleep(0.5)
    raise AssertionError(f"{what}: not within {timeout} s")


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    """A real Prefect server; yields the environment that points a process at it."""
    port = free_port()
    tmp_path = tmp_path_factory.mktemp("prefect-server")
    home = tmp_path / "prefect-home"
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_UI_ENABLED": "false", "PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2",
           "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home}/server.db"}
    env.pop("PREFECT_API_URL", None)
    api = f"http://127.0.0.1:{port}/api"

    def healthy():
        try:
            with urllib.request.urlopen(f"{api}/health", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    with open(tmp_path / "server.log", "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host",
                                 "127.0.0.1", "--port", str(port)], env=env, stdout=log,
                                stderr=subprocess.STDOUT)
        try:
            wait_for(healthy, 120, "prefect server health", proc)
            yield {**env, "PREFECT_API_URL": api, "PREFECT_RUNNER_POLL_FREQUENCY": "2"}
        finally:
            stop(proc)


class CountingModel:
    """An OpenAI-compatible chat endpoint that answers every judge prompt 'Score: 5' and counts
    the requests per prompt text."""

    def __init__(self) -> None:
        self.prompts: Counter[str] = Counter()
        model = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                model.prompts[body["messages"][-1]["content"]] += 1
                n = body.get("n", 1)
                data = json.dumps({"id": "x", "object": "chat.completion", "choices": [
                    {"index": i, "message": {"role": "assistant", "content": "Score: 5"},
                     "finish_reason": "stop"} for i in range(n)],
                    "usage": {"prompt_tokens": 5, "completion_tokens": 2}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _config(tmp_path: Path, url: str) -> Path:
    (tmp_path / "raw").mkdir()
    write_jsonl(tmp_path / "raw/a.jsonl", NLI_ROWS[:3])
    path = tmp_path / "nightly.yaml"
    path.write_text(yaml.safe_dump({
        "run": {"name": "nightly", "threads": 1},
        # zero-shot: an old row's prompt never changes when rows are added (no new exemplars)
        "templating": {"tasks": [nli_spec("raw/*.jsonl")],
                       "formats": {"zero_shot_options": 1.0, "zero_shot_no_options": 1.0}},
        "judge": {"threshold": 1.0, "model": {"backend": "openai", "model": "counted",
                                              "openai": {"base_url": url, "max_retries": 0}}},
        "publish": {"license": "apache-2.0", "test_fraction": 0.0}}))
    return path


def _runs(out: Path) -> list[dict]:
    """run.json of every finished dated run, oldest first."""
    return [json.loads(p.read_text()) for p in sorted(out.glob("20*/run.json"))]


def _serve(runner, model, tmp_path, out) -> dict:
    """Watch the served runs: two on the first file, then the glob grows; stops the runner."""
    try:
        runs = wait_for(lambda: len(_runs(out)) >= 2 and _runs(out), 150, "two served runs", runner)
        first, second = runs[:2]
        assert first["publish"]["new_version"] is True and first["publish"]["version"] == "v1"
        assert second["publish"]["new_version"] is False
        assert all(stage["cached"] for stage in second["stages"])
        judged = set(model.prompts)
        assert len(judged) == 3 and set(model.prompts.values()) == {1}

        write_jsonl(tmp_path / "raw/b.jsonl", NLI_ROWS[3:])   # the glob grows by three rows
        before = len(_runs(out))
        wait_for(lambda: any(r["publish"]["version"] == "v2" for r in _runs(out)[before:]),
                 150, "a run publishing v2", runner)
        wait_for(lambda: len(_runs(out)) > before + 1, 60, "one more run", runner)
        return {"runs": before, "judged": judged}
    finally:
        stop(runner)
        model.close()


READ_DEPLOYMENT = """
import json, sys
from prefect.client.orchestration import get_client
with get_client(sync_client=True) as c:
    d = c.read_deployment_by_name("tuneset-pipeline/" + sys.argv[1])
    pool = c.read_work_pool(d.work_pool_name)
print(json.dumps({"schedule": d.schedules[0].schedule.model_dump(mode="json"),
                  "parameters": d.parameters, "limit": d.global_concurrency_limit.limit,
                  "strategy": d.concurrency_options.collision_strategy.value,
                  "pool": d.work_pool_name, "pool_type": pool.type, "steps": d.pull_steps}))
"""


def read_deployment(name: str, env: dict[str, str]) -> dict:
    """A deployment as the server holds it (schedule, parameters, concurrency, work pool)."""
    read = subprocess.run([sys.executable, "-c", READ_DEPLOYMENT, name], env=env,
                          capture_output=True, text=True, timeout=60)
    assert read.returncode == 0, read.stderr
    return json.loads(read.stdout.strip().splitlines()[-1])


@pytest.mark.slow  # waits for scheduled runs: about 1 min on two free cores, 3 on a busy machine
def test_served_schedule_publishes_only_changes_and_pays_only_for_new_prompts(
        prefect_server, tmp_path):
    model = CountingModel()
    config, out = _config(tmp_path, model.url), tmp_path / "out"
    env = {**prefect_server, "OPENAI_API_KEY": "test", "TUNESET_THREADS": "1"}
    with open(tmp_path / "serve.log", "w") as log:
        runner = subprocess.Popen([str(TUNESET), "serve", str(config), "--name", "nightly",
                                   "--interval", "3", "--out", str(out)], env=env,
                                  cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
        before = _serve(runner, model, tmp_path, out)
    later = _runs(out)[before["runs"]:]
    judged = before["judged"]
    published = [r["publish"]["new_version"] for r in later]
    assert published.count(True) == 1   # v2 once; every run after it is unchanged
    assert all(all(s["cached"] for s in r["stages"]) for r in later[published.index(True) + 1:])
    new = set(model.prompts) - judged
    assert len(new) == 3 and all(model.prompts[p] == 1 for p in model.prompts), model.prompts
    latest = json.loads((out / "latest/inputs.json").read_text())
    assert sorted(Path(f).name for f in latest["files"]) == ["a.jsonl", "b.jsonl"]
    assert not (tmp_path / "serve.log").read_text().count("Traceback")


def test_deploy_schedule_reads_back_exactly(prefect_server, tmp_path):
    config = tmp_path / "p.yaml"
    write_jsonl(tmp_path / "a.jsonl", NLI_ROWS)
    config.write_text(yaml.safe_dump({"templating": {"tasks": [nli_spec("a.jsonl")]}}))
    deploy = subprocess.run(
        [str(TUNESET), "deploy", str(config), "--name", "weekdays", "--cron", "30 2 * * 1-5",
         "--timezone", "Europe/Berlin", "--param", "response_cache=/srv/cache.sqlite",
         "--out", str(tmp_path / "out")], env=prefect_server, capture_output=True, text=True,
        timeout=120)
    assert deploy.returncode == 0, deploy.stdout + deploy.stderr
    assert "prefect worker start --pool tuneset" in deploy.stdout
    found = read_deployment("weekdays", prefect_server)
    assert found["schedule"]["cron"] == "30 2 * * 1-5"
    assert found["schedule"]["timezone"] == "Europe/Berlin"
    assert found["parameters"] == {"config_path": str(config), "out": str(tmp_path / "out"),
                                   "dated": True, "response_cache": "/srv/cache.sqlite"}
    assert (found["limit"], found["strategy"], found["pool_type"]) == (1, "CANCEL_NEW", "process")


def test_prefect_yaml_deploys_the_example(prefect_server, tmp_path):
    """`prefect deploy` reads prefect.yaml at the repository root: the example deployment, its
    schedule, parameters and concurrency land on the server as written."""
    repo = Path(__file__).resolve().parents[2]
    env = {**prefect_server, "PWD": str(repo)}
    subprocess.run([sys.executable, "-m", "prefect", "work-pool", "create", "tuneset", "--type",
                    "process", "--overwrite"], env=env, cwd=repo, capture_output=True, timeout=120)
    done = subprocess.run([sys.executable, "-m", "prefect", "--no-prompt", "deploy", "--name",
                           "demo-nightly"], env=env, cwd=repo, capture_output=True, text=True,
                          timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    spec = yaml.safe_load((repo / "prefect.yaml").read_text())["deployments"][0]
    found = read_deployment("demo-nightly", env)
    assert found["schedule"]["cron"] == spec["schedules"][0]["cron"]
    assert found["parameters"] == spec["parameters"] and found["limit"] == 1
    assert found["pool"] == "tuneset"
    assert found["steps"][0]["prefect.deployments.steps.set_working_directory"] == {
        "directory": str(repo)}
