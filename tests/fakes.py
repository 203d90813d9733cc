"""A scripted fake backend for stage tests: no model, fully predictable.

    >>> fake = ScriptedGenerator(lambda conv, params, k: f"echo: {conv[-1]['content']}")
    >>> fake.generate([[{"role": "user", "content": "hi"}]], GenerationParams())
    [[Completion(text='echo: hi', finish_reason='stop', ...)]]

`respond(conversation, params, k)` returns the k-th completion's text (or a Completion);
`scores(conversation, prefix, candidates)` returns the log-prob dict for `score_tokens`.
Every call is recorded in `calls` for assertions on prompts and parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pipelines.models.params import Completion, GenerationParams, as_dicts


class ScriptedGenerator:
    def __init__(self, respond: Callable[[list[dict], GenerationParams, int], Any] | Iterable[str],
                 scores: Callable[[list[dict], str, list[str]], dict[str, float]] | None = None,
                 name: str = "fake:scripted") -> None:
        if not callable(respond):
            queue = list(respond)
            respond = lambda conv, params, k: queue.pop(0)  # noqa: E731
        self.respond, self.scores, self.name = respond, scores, name
        self.calls: list[dict[str, Any]] = []

    def generate(self, conversations, params: GenerationParams, n: int | None = None, *,
                 progress=None) -> list[list[Completion]]:
        params = params.with_n(n)
        self.calls.append({"method": "generate", "conversations": [as_dicts(c) for c in conversations],
                           "params": params})
        out = []
        for conv in conversations:
            conv = as_dicts(conv)
            completions = []
            for k in range(params.n):
                value = self.respond(conv, params, k)
                if not isinstance(value, Completion):
                    value = Completion(text=value, finish_reason="stop", prompt_tokens=len(str(conv)),
                                       completion_tokens=len(value.split()))
                completions.append(value)
            out.append(completions)
        if progress:
            progress(len(conversations), len(conversations))
        return out

    def score_tokens(self, conversations, prefix: str, candidates: list[str]) -> list[dict[str, float]]:
        self.calls.append({"method": "score_tokens", "conversations": [as_dicts(c) for c in conversations],
                           "prefix": prefix, "candidates": candidates})
        if self.scores is None:
            raise AssertionError("this fake was built without `scores`")
        return [self.scores(as_dicts(c), prefix, candidates) for c in conversations]
