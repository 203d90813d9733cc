"""OpenAI-compatible backend: chat completions against vLLM, SGLang, TGI, llama.cpp, Ollama, ...

Requests run on a thread pool of `max_concurrency` workers sharing one `httpx.Client`. A request
is retried (tenacity: exponential backoff with jitter, honouring `Retry-After`) on timeouts,
connection errors, 429, 5xx and malformed responses, up to `max_retries` more times; any other
4xx fails at once. The API key comes from `openai.api_key` or the environment variable named by
`openai.api_key_env`; it is sent only in the Authorization header and scrubbed from every error.

Not part of the chat-completions API, so refused: beam search (num_beams, length_penalty);
top_k and repetition_penalty unless `openai.extensions` says the server accepts the vLLM/SGLang
sampling extensions. `score_tokens` needs those extensions too (assistant-prefix continuation
with `continue_final_message`) and reads candidates from the top-20 log-probs of the next token;
a candidate outside the top 20 scores -inf.
"""

from __future__ import annotations

import json
import math
import os
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential_jitter,
)

from pipelines.models.config import ModelConfig
from pipelines.models.params import (
    BackendError,
    Completion,
    Conversation,
    GenerationParams,
    UnsupportedParameter,
    as_dicts,
    cut_at_stop,
    record_seeds,
    unsupported,
)
from pipelines.stage import Progress

TOP_LOGPROBS = 20


class TransientError(Exception):
    """A failure worth retrying; `retry_after` is the server's hint in seconds, if any."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class OpenAIGenerator:
    def __init__(self, config: ModelConfig) -> None:
        self.config = config
        self.options = config.openai
        self.name = config.label
        key = self.options.api_key.get_secret_value() if self.options.api_key else \
            os.environ.get(self.options.api_key_env)
        self._secret = key or None
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.client = httpx.Client(base_url=self.options.base_url.rstrip("/") + "/",
                                   headers=headers, timeout=self.options.timeout)
        self._exponential = wait_exponential_jitter(initial=self.options.backoff_initial,
                                                    max=self.options.backoff_max,
                                                    jitter=self.options.backoff_initial)

    def close(self) -> None:
        self.client.close()

    # requests ------------------------------------------------------------------------------
    def _scrub(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text

    def _wait(self, state: RetryCallState) -> float:
        computed = self._exponential(state)
        exc = state.outcome.exception() if state.outcome else None
        hint = getattr(exc, "retry_after", None)
        return min(max(computed, hint or 0.0), self.options.backoff_max)

    def _post_once(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self.client.post("chat/completions", json=body)
        except httpx.TimeoutException as exc:
            raise TransientError(f"timed out after {self.options.timeout}s") from exc
        except httpx.TransportError as exc:
            raise TransientError(f"connection failed: {type(exc).__name__}") from exc
        status = response.status_code
        if status == 429 or status >= 500:
            retry_after = response.headers.get("retry-after")
            hint = float(retry_after) if retry_after and retry_after.isdigit() else None
            raise TransientError(f"HTTP {status}: {self._scrub(response.text[:200])}", hint)
        if status >= 400:
            raise BackendError(f"{self.options.base_url} answered HTTP {status} (not retried): "
                               f"{self._scrub(response.text[:300])}")
        try:
            data = response.json()
            data["choices"][0]["message"]  # noqa: B018 - shape check
        except (json.JSONDecodeError, KeyError, IndexError, TypeError) as exc:
            raise TransientError(f"malformed JSON in the response: {self._scrub(response.text[:120])!r}") from exc
        return data

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        retrying = Retrying(stop=stop_after_attempt(self.options.max_retries + 1), wait=self._wait,
                            retry=retry_if_exception_type(TransientError), reraise=True)
        try:
            return retrying(self._post_once, body)
        except TransientError as exc:
            raise BackendError(f"{self.options.base_url}: gave up after "
                               f"{self.options.max_retries + 1} tries; last error: {exc}") from None

    def _map(self, bodies: list[dict[str, Any]], progress: Progress | None) -> list[dict[str, Any]]:
        results: list[dict[str, Any] | None] = [None] * len(bodies)
        with ThreadPoolExecutor(max_workers=self.options.max_concurrency) as pool:
            futures = {pool.submit(self._post, body): i for i, body in enumerate(bodies)}
            for done, future in enumerate(as_completed(futures), start=1):
                results[futures[future]] = future.result()
                if progress:
                    progress(done, len(bodies))
        return results  # type: ignore[return-value]

    # protocol ------------------------------------------------------------------------------
    def _check(self, params: GenerationParams) -> None:
        unsupported(params, "openai", {
            "num_beams": "beam search is not part of the chat-completions API",
            "length_penalty": "beam search is not part of the chat-completions API"})
        if not self.options.extensions:
            unsupported(params, "openai", {
                "top_k": "set openai.extensions: true if the server (vLLM, SGLang) accepts it",
                "repetition_penalty": "set openai.extensions: true if the server accepts it"})

    def _body(self, conversation: Conversation, params: GenerationParams,
              seed: int | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"model": self.config.model, "messages": as_dicts(conversation),
                                "max_tokens": params.max_new_tokens, "n": params.n,
                                "temperature": params.temperature}
        optional = {"top_p": params.top_p, "presence_penalty": params.presence_penalty,
                    "frequency_penalty": params.frequency_penalty, "seed": seed,
                    "top_k": params.top_k, "repetition_penalty": params.repetition_penalty}
        body.update({k: v for k, v in optional.items() if v is not None})
        if params.stop:
            body["stop"] = list(params.stop)
        if params.logprobs:
            body["logprobs"] = True
        return body

    def generate(self, conversations: list[Conversation], params: GenerationParams,
                 n: int | None = None, *, progress: Progress | None = None) -> list[list[Completion]]:
        params = params.with_n(n)
        self._check(params)
        seeds = record_seeds(params, conversations) or [params.seed] * len(conversations)
        responses = self._map([self._body(c, params, s) for c, s in zip(conversations, seeds)],
                              progress)
        return [self._completions(r, params) for r in responses]

    def _completions(self, data: dict[str, Any], params: GenerationParams) -> list[Completion]:
        usage = data.get("usage") or {}
        choices = sorted(data["choices"], key=lambda c: c.get("index", 0))
        out = []
        for choice in choices:
            text, stopped = cut_at_stop(choice["message"].get("content") or "", params.stop)
            content = ((choice.get("logprobs") or {}).get("content")) or None
            logprobs = [float(t["logprob"]) for t in content] if content else None
            if logprobs is not None:
                tokens = len(logprobs)
            else:  # subtle: usage counts all n choices together; split it evenly
                tokens = round(usage.get("completion_tokens", 0) / max(len(choices), 1))
            reason = "length" if choice.get("finish_reason") == "length" and not stopped else "stop"
            out.append(Completion(text=text, finish_reason=reason,
                                  prompt_tokens=usage.get("prompt_tokens", 0),
                                  completion_tokens=tokens,
                                  logprobs=logprobs if params.logprobs else None))
        return out

    def score_tokens(self, conversations: list[Conversation], prefix: str, candidates: list[str],
                     *, progress: Progress | None = None) -> list[dict[str, float]]:
        if not self.options.extensions:
            raise UnsupportedParameter("score_tokens", "openai", "it continues an assistant "
                                       "prefix, a vLLM/SGLang extension: set openai.extensions: true")
        bodies = [{"model": self.config.model, "max_tokens": 1, "temperature": 0.0,
                   "logprobs": True, "top_logprobs": TOP_LOGPROBS,
                   "messages": as_dicts(c) + [{"role": "assistant", "content": prefix}],
                   "continue_final_message": True, "add_generation_prompt": False}
                  for c in conversations]
        scores = []
        for data in self._map(bodies, progress):
            content = (data["choices"][0].get("logprobs") or {}).get("content") or []
            top = {t["token"]: float(t["logprob"]) for t in (content[0]["top_logprobs"] if content else [])}
            scores.append({c: top.get(c, -math.inf) for c in candidates})
        return scores
