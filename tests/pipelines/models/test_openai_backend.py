"""The OpenAI-compatible backend against a real HTTP server on 127.0.0.1 that injects faults."""

import json
import logging
import math
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pipelines.models import BackendError, GenerationParams, ModelConfig, UnsupportedParameter
from pipelines.models.openai_backend import OpenAIGenerator
from pipelines.models.params import record_seed

KEY = "sk-test-very-secret-0123456789"
ASK = [{"role": "user", "content": "hi"}]


def reply(text="hello", n=1, finish="stop", logprobs=None):
    choices = [{"index": i, "message": {"role": "assistant", "content": f"{text}{i if n > 1 else ''}"},
                "finish_reason": finish, **({"logprobs": logprobs} if logprobs else {})}
               for i in range(n)]
    return {"id": "x", "object": "chat.completion", "choices": choices,
            "usage": {"prompt_tokens": 5, "completion_tokens": 2 * n}}


class FaultServer:
    """Answers chat-completions requests from a script of actions, one per request:
    ("ok", body) | ("status", code) | ("status", code, retry_after) | ("malformed",) |
    ("sleep", seconds, body) | ("echo_auth", code). The last action repeats."""

    def __init__(self, script):
        self.script, self.requests = list(script), []
        self.in_flight = self.max_in_flight = 0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server.lock:
                    server.requests.append({"path": self.path, "body": body,
                                            "auth": self.headers.get("Authorization")})
                    action = server.script.pop(0) if len(server.script) > 1 else server.script[0]
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    self.act(action)
                finally:
                    with server.lock:
                        server.in_flight -= 1

            def send(self, code, payload, headers=()):
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers:
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def act(self, action):
                kind = action[0]
                if kind == "ok":
                    self.send(200, action[1])
                elif kind == "status":
                    headers = [("Retry-After", str(action[2]))] if len(action) > 2 else []
                    self.send(action[1], {"error": {"message": f"status {action[1]}"}}, headers)
                elif kind == "malformed":
                    self.send(200, b'{"choices": [ {"message": ')
                elif kind == "sleep":
                    time.sleep(action[1])
                    self.send(200, action[2])
                elif kind == "echo_auth":
                    self.send(action[1], {"error": f"bad request from {self.headers['Authorization']}"})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def generator(url, **options):
    opts = {"base_url": url, "api_key": KEY, "max_retries": 2, "timeout": 2.0,
            "backoff_initial": 0.01, "backoff_max": 0.05, **options}
    return OpenAIGenerator(ModelConfig(backend="openai", model="served-model", openai=opts))


def test_429_then_success_is_retried():
    with FaultServer([("status", 429, 0), ("ok", reply("fine"))]) as server:
        out = generator(server.url).generate([ASK], GenerationParams(max_new_tokens=5))
    assert out[0][0].text == "fine" and len(server.requests) == 2
    assert server.requests[0]["auth"] == f"Bearer {KEY}"
    assert server.requests[0]["body"]["model"] == "served-model"


def test_500_storm_gives_up_after_the_configured_tries():
    with FaultServer([("status", 500)]) as server:
        with pytest.raises(BackendError, match=r"gave up after 3 tries; last error: HTTP 500"):
            generator(server.url).generate([ASK], GenerationParams())
    assert len(server.requests) == 3


def test_malformed_json_is_retried_then_reported():
    with FaultServer([("malformed",), ("ok", reply("ok"))]) as server:
        assert generator(server.url).generate([ASK], GenerationParams())[0][0].text == "ok"
    with FaultServer([("malformed",)]) as server:
        with pytest.raises(BackendError, match="malformed JSON"):
            generator(server.url).generate([ASK], GenerationParams())


def test_slow_reply_past_the_timeout_is_retried():
    with FaultServer([("sleep", 1.5, reply("late")), ("ok", reply("quick"))]) as server:
        out = generator(server.url, timeout=0.5).generate([ASK], GenerationParams())
    assert out[0][0].text == "quick" and len(server.requests) == 2
    with FaultServer([("sleep", 1.0, reply("late"))]) as server:
        with pytest.raises(BackendError, match="timed out after 0.3s"):
            generator(server.url, timeout=0.3, max_retries=1).generate([ASK], GenerationParams())


def test_400_is_not_retried():
    with FaultServer([("status", 400), ("ok", reply())]) as server:
        with pytest.raises(BackendError, match="HTTP 400 \\(not retried\\)"):
            generator(server.url).generate([ASK], GenerationParams())
    assert len(server.requests) == 1


def test_the_key_never_appears_in_errors_or_logs(caplog):
    caplog.set_level(logging.DEBUG)
    with FaultServer([("echo_auth", 401)]) as server, pytest.raises(BackendError) as err:
        generator(server.url).generate([ASK], GenerationParams())
    assert KEY not in str(err.value) and "***" in str(err.value)
    assert KEY not in caplog.text
    assert KEY not in repr(generator("http://127.0.0.1:9/v1").config)


def test_key_from_environment(monkeypatch):
    monkeypatch.setenv("MY_KEY", "from-env")
    with FaultServer([("ok", reply())]) as server:
        gen = OpenAIGenerator(ModelConfig(backend="openai", model="m",
                                          openai={"base_url": server.url, "api_key_env": "MY_KEY"}))
        gen.generate([ASK], GenerationParams())
    assert server.requests[0]["auth"] == "Bearer from-env"


def test_concurrency_is_bounded():
    with FaultServer([("sleep", 0.2, reply())]) as server:
        generator(server.url, max_concurrency=2).generate([ASK] * 6, GenerationParams())
    assert server.max_in_flight == 2 and len(server.requests) == 6


def test_sampling_parameters_n_and_logprobs_are_sent_and_read():
    logprobs = {"content": [{"token": "he", "logprob": -0.1}, {"token": "llo", "logprob": -0.2}]}
    with FaultServer([("ok", reply("x", n=2, logprobs=logprobs))]) as server:
        out = generator(server.url).generate([ASK], GenerationParams(
            temperature=0.7, top_p=0.5, presence_penalty=2.0, stop=["\n\n"], n=2, seed=3, logprobs=True))
    body = server.requests[0]["body"]
    assert (body["temperature"], body["top_p"], body["presence_penalty"], body["n"], body["seed"]) == \
        (0.7, 0.5, 2.0, 2, record_seed(3, ASK))
    assert body["stop"] == ["\n\n"] and body["logprobs"] is True
    assert [c.text for c in out[0]] == ["x0", "x1"]
    assert out[0][0].logprobs == [-0.1, -0.2]


def test_parameters_the_api_lacks_are_errors():
    gen = generator("http://127.0.0.1:9/v1")
    with pytest.raises(UnsupportedParameter, match="openai backend cannot honour `num_beams`"):
        gen.generate([ASK], GenerationParams(num_beams=2))
    with pytest.raises(UnsupportedParameter, match="`top_k`.*extensions"):
        gen.generate([ASK], GenerationParams(temperature=1.0, top_k=5))
    with pytest.raises(UnsupportedParameter, match="score_tokens"):
        gen.score_tokens([ASK], "Score: ", ["1"])


def test_score_tokens_reads_top_logprobs_with_extensions():
    top = [{"token": "4", "logprob": -0.5}, {"token": "5", "logprob": -1.5}]
    logprobs = {"content": [{"token": "4", "logprob": -0.5, "top_logprobs": top}]}
    with FaultServer([("ok", reply("4", logprobs=logprobs))]) as server:
        scores = generator(server.url, extensions=True).score_tokens([ASK], "Score: ", ["4", "5", "0"])
    body = server.requests[0]["body"]
    assert body["messages"][-1] == {"role": "assistant", "content": "Score: "}
    assert body["continue_final_message"] is True and body["max_tokens"] == 1
    assert scores[0]["4"] == -0.5 and scores[0]["5"] == -1.5 and scores[0]["0"] == -math.inf


def test_score_tokens_reports_progress_per_finished_request():
    top = [{"token": "4", "logprob": -0.5}]
    logprobs = {"content": [{"token": "4", "logprob": -0.5, "top_logprobs": top}]}
    seen = []
    with FaultServer([("ok", reply("4", logprobs=logprobs))]) as server:
        generator(server.url, extensions=True).score_tokens(
            [ASK] * 3, "Score: ", ["4"], progress=lambda done, total: seen.append((done, total)))
    assert seen == [(1, 3), (2, 3), (3, 3)]
