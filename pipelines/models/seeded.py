"""Seeded sampling per row for the transformers backend, whatever the batch.

transformers samples a batch from torch's one global generator, so the tokens a prompt gets
depend on which prompts share its batch and in what order. Here every row has its own
`torch.Generator`, seeded from its record's seed (`pipelines.models.params.record_seed`) and its
sample number; the row's logits go through temperature, top-k and top-p, a token is drawn from
the row's generator, and the scores handed back leave only that token, so transformers' greedy
loop picks it. A row's draws then depend on its own seed and tokens only.

    >>> sampler = SeededSampler([7, 7], temperature=1.0)
    >>> scores = torch.tensor([[0.0, 1.0, 2.0], [0.0, 1.0, 2.0]])
    >>> picked = sampler(torch.zeros(2, 1, dtype=torch.long), scores)
    >>> int((picked == 0).sum()), int(picked[0].argmax()) == int(picked[1].argmax())
    (2, True)
"""

from __future__ import annotations

import torch
from transformers import LogitsProcessor
from transformers.generation.logits_process import (
    TemperatureLogitsWarper,
    TopKLogitsWarper,
    TopPLogitsWarper,
)

MASK = (1 << 63) - 1


def sample_seed(record: int, k: int) -> int:
    """The seed of the k-th sample of a record (k = 0 is the record's seed itself)."""
    return (record ^ (k * 0x9E3779B97F4A7C15)) & MASK


class SeededSampler(LogitsProcessor):
    """Draws each row's next token from its own generator (seeds in row order)."""

    def __init__(self, seeds: list[int], *, temperature: float, top_k: int | None = None,
                 top_p: float | None = None) -> None:
        self.generators = [torch.Generator().manual_seed(s) for s in seeds]
        self.warpers: list[LogitsProcessor] = [TemperatureLogitsWarper(temperature)]
        if top_k:
            self.warpers.append(TopKLogitsWarper(top_k))
        if top_p is not None and top_p < 1.0:
            self.warpers.append(TopPLogitsWarper(top_p))

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        for warper in self.warpers:
            scores = warper(input_ids, scores)
        probs = torch.softmax(scores.float(), dim=-1).cpu()
        picks = torch.cat([torch.multinomial(probs[row], 1, generator=gen)
                           for row, gen in enumerate(self.generators)])
        only = torch.full_like(scores, float("-inf"))
        only[torch.arange(len(picks), device=scores.device), picks.to(scores.device)] = 0.0
        return only
