"""Sample K responses per prompt from one or several samplers, dropping duplicates.

A sampler is a model (any backend) with its own generation parameters and response count, so
diversity can come from different models and from temperature, as in UltraFeedback:

    samplers:
      - {model: {backend: transformers}, params: {temperature: 0.7, top_p: 0.95}, n: 2}
      - {model: {backend: transformers}, params: {temperature: 1.0}, n: 2}

Responses are compared after collapsing whitespace; a repeat is dropped (counted per prompt)
and the first copy keeps its place. Empty responses are dropped the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pipelines.models import GenerationParams, Generator


@dataclass(frozen=True)
class Candidate:
    text: str
    sampler: int       # index into the config's samplers
    model: str         # the backend's label, for lineage and self-preference checks
    finish_reason: str


def _key(text: str) -> str:
    return " ".join(text.split())


def sample_candidates(conversations: list[list[dict[str, str]]],
                      samplers: list[tuple[Generator, GenerationParams, int]], *,
                      progress: Callable[[int, int], None] | None = None,
                      ) -> tuple[list[list[Candidate]], list[int]]:
    """(candidates per prompt, duplicates dropped per prompt)."""
    per_prompt: list[list[Candidate]] = [[] for _ in conversations]
    for index, (model, params, n) in enumerate(samplers):
        outputs = model.generate(conversations, params.with_n(n))
        for slot, completions in zip(per_prompt, outputs):
            slot.extend(Candidate(c.text, index, model.name, c.finish_reason) for c in completions)
        if progress:
            progress(index + 1, len(samplers))
    unique, dropped = [], []
    for candidates in per_prompt:
        seen: set[str] = set()
        kept = []
        for cand in candidates:
            key = _key(cand.text)
            if key and key not in seen:
                seen.add(key)
                kept.append(cand)
        unique.append(kept)
        dropped.append(len(candidates) - len(kept))
    return unique, dropped
