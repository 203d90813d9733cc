"""A scripted fake backend for stage tests: no model, fully predictable.

    >>> fake = ScriptedGenerator(lambda conv, params, k: f"echo: {conv[-1]['content']}")
    >>> fake.generate([[{"role": "user", "content": "hi"}]], GenerationParams())
    [[Completion(text='echo: hi', finish_reason='stop', ...)]]

`respond(conversation, params, k)` returns the k-th completion's text (or a Completion);
`scores(conversation, prefix, candidates)` returns the log-prob dict for `score_tokens`.
Every call is recorded in `calls` for assertions on prompts and parameters. Like a real backend
it works in batches (`batch_size` conversations, default all of a call) and reports
`progress(done, total)` after each. `Meeting` makes calls wait for each other, to show that
work runs side by side.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from pipelines.models.params import Completion, GenerationParams, as_dicts


class ScriptedGenerator:
    def __init__(self, respond: Callable[[list[dict], GenerationParams, int], Any] | Iterable[str],
                 scores: Callable[[list[dict], str, list[str]], dict[str, float]] | None = None,
                 name: str = "fake:scripted", batch_size: int | None = None) -> None:
        if not callable(respond):
            queue = list(respond)
            respond = lambda conv, params, k: queue.pop(0)  # noqa: E731
        self.respond, self.scores, self.name = respond, scores, name
        self.batch_size = batch_size
        self.calls: list[dict[str, Any]] = []

    def _batched(self, conversations, one, progress) -> list:
        size = self.batch_size or max(len(conversations), 1)
        out: list = []
        for start in range(0, len(conversations), size):
            out.extend(one(as_dicts(c)) for c in conversations[start:start + size])
            if progress:
                progress(len(out), len(conversations))
        return out

    def generate(self, conversations, params: GenerationParams, n: int | None = None, *,
                 progress=None) -> list[list[Completion]]:
        params = params.with_n(n)
        self.calls.append({"method": "generate", "conversations": [as_dicts(c) for c in conversations],
                           "params": params})
        return self._batched(conversations, lambda conv: [self._completion(conv, params, k)
                                                          for k in range(params.n)], progress)

    def _completion(self, conv, params: GenerationParams, k: int) -> Completion:
        value = self.respond(conv, params, k)
        if isinstance(value, Completion):
            return value
        return Completion(text=value, finish_reason="stop", prompt_tokens=len(str(conv)),
                          completion_tokens=len(value.split()))

    def score_tokens(self, conversations, prefix: str, candidates: list[str], *,
                     progress=None) -> list[dict[str, float]]:
        self.calls.append({"method": "score_tokens", "conversations": [as_dicts(c) for c in conversations],
                           "prefix": prefix, "candidates": candidates})
        if self.scores is None:
            raise AssertionError("this fake was built without `scores`")
        return self._batched(conversations, lambda conv: self.scores(conv, prefix, candidates), progress)


class Meeting:
    """The first `parties` calls wait for each other: they only return when that many run at
    once (a serial runner would time out here)."""

    def __init__(self, parties=2):
        self.barrier, self.lock, self.calls = threading.Barrier(parties, timeout=60), threading.Lock(), 0

    def __call__(self):
        with self.lock:
            self.calls += 1
            first = self.calls <= self.barrier.parties
        if first:
            self.barrier.wait()
