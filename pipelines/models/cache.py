"""An on-disk response cache in front of any backend, so a re-run pays only for unfinished prompts.

The key hashes the backend and model label, the generation parameters (n and seed included) and
the conversation. Results are committed to a SQLite file after every chunk of prompts, so a
crash loses at most the chunk in flight.

    >>> import tempfile
    >>> from tests.fakes import ScriptedGenerator
    >>> inner = ScriptedGenerator(lambda conv, params, k: "Paris.")
    >>> gen = CachedGenerator(inner, f"{tempfile.mkdtemp()}/responses.sqlite")
    >>> question = [[{"role": "user", "content": "Capital of France?"}]]
    >>> gen.generate(question, GenerationParams())[0][0].text
    'Paris.'
    >>> gen.generate(question, GenerationParams())[0][0].text  # second call: no model work
    'Paris.'
    >>> gen.hits, gen.misses, len(inner.calls)
    (1, 1, 1)

`score_tokens` results are cached the same way (key: prefix and candidates instead of params).
Progress counts cached prompts as done at once, then follows the inner backend's batches.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

from pipelines.models.params import (
    Completion,
    Conversation,
    GenerationParams,
    Generator,
    as_dicts,
    shifted,
)
from pipelines.records import content_id
from pipelines.stage import Progress


class CachedGenerator:
    def __init__(self, inner: Generator, path: str | Path, *, chunk: int = 32) -> None:
        self.inner, self.chunk = inner, chunk
        self.name = inner.name
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT)")
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def __getattr__(self, name: str) -> Any:  # tokenizer, model, ... of the inner backend
        return getattr(self.inner, name)

    def _get(self, keys: list[str]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        with self._lock:
            for start in range(0, len(keys), 500):
                part = keys[start:start + 500]
                marks = ",".join("?" * len(part))
                rows = self._db.execute(f"SELECT key, value FROM responses WHERE key IN ({marks})", part)
                found.update({k: json.loads(v) for k, v in rows})
        return found

    def _put(self, items: dict[str, Any]) -> None:
        with self._lock, self._db:
            self._db.executemany("INSERT OR REPLACE INTO responses VALUES (?, ?)",
                                 [(k, json.dumps(v)) for k, v in items.items()])

    def _run(self, keys: list[str], compute, progress: Progress | None) -> list[Any]:
        cached = self._get(keys)
        todo = [i for i, k in enumerate(keys) if k not in cached]
        self.hits += len(keys) - len(todo)
        self.misses += len(todo)
        if progress:
            progress(len(keys) - len(todo), len(keys))
        for start in range(0, len(todo), self.chunk):
            part = todo[start:start + self.chunk]
            before = len(keys) - len(todo) + start
            values = compute(part, shifted(progress, before, len(keys)))
            fresh = {keys[i]: v for i, v in zip(part, values)}
            self._put(fresh)
            cached.update(fresh)
            if progress:
                progress(before + len(part), len(keys))
        return [cached[k] for k in keys]

    def generate(self, conversations: list[Conversation], params: GenerationParams,
                 n: int | None = None, *, progress: Progress | None = None) -> list[list[Completion]]:
        params = params.with_n(n)
        head = [self.name, params.model_dump(mode="json")]
        keys = ["g" + content_id(*head, as_dicts(c)) for c in conversations]

        def compute(indices: list[int], inner: Progress | None) -> list[Any]:
            out = self.inner.generate([conversations[i] for i in indices], params, progress=inner)
            return [[c.model_dump() for c in completions] for completions in out]

        values = self._run(keys, compute, progress)
        return [[Completion(**c) for c in completions] for completions in values]

    def score_tokens(self, conversations: list[Conversation], prefix: str, candidates: list[str],
                     *, progress: Progress | None = None) -> list[dict[str, float]]:
        keys = ["s" + content_id(self.name, prefix, candidates, as_dicts(c)) for c in conversations]
        return self._run(keys, lambda idx, inner: self.inner.score_tokens(
            [conversations[i] for i in idx], prefix, candidates, progress=inner), progress)
