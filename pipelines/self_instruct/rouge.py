"""ROUGE-L novelty against a growing pool, exact to `rouge-score` and fast at tens of thousands.

ROUGE-L F1 of token lists a, b is 2PR / (P + R) with P = lcs/len(b), R = lcs/len(a), which
simplifies to 2 * lcs / (len(a) + len(b)). Since lcs <= sum_t min(count_a(t), count_b(t)) (the
multiset overlap), that overlap gives an upper bound on F1 that an inverted index computes for
the whole pool at once with numpy. Only pool items whose bound reaches the threshold get an exact
LCS (rapidfuzz's bit-parallel LCSseq over token lists), and F1 is then computed with the same
float operations as `rouge_score.rouge_scorer` so decisions agree bit for bit.

    >>> pool = RougePool(["Give three tips for staying healthy.", "Name a primary colour."])
    >>> pool.max_similarity("Give three tips for staying healthy today.")
    (0.923076923076923, 0)
    >>> pool.add("Describe a sunset.")  # its index in the pool
    2

Tokens follow rouge-score's default tokenizer without stemming: lowercase, every run of
characters outside [a-z0-9] becomes a space, split on whitespace.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
from rapidfuzz.distance import LCSseq

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def rouge_tokens(text: str) -> list[str]:
    return [t for t in _NON_ALNUM.sub(" ", text.lower()).split() if t]


def rouge_l_f1(a: list[str], b: list[str]) -> float:
    """ROUGE-L F1 of two token lists, computed as rouge_score does (target a, prediction b)."""
    if not a or not b:
        return 0.0
    lcs = LCSseq.similarity(a, b)
    precision, recall = lcs / len(b), lcs / len(a)
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


class RougePool:
    """The instructions seen so far, indexed for fast ROUGE-L bounds."""

    def __init__(self, texts: list[str] = ()) -> None:
        self.tokens: list[list[str]] = []
        self.lengths: list[int] = []
        self._vocab: dict[str, int] = {}
        self._postings: list[tuple[list[int], list[int]]] = []  # token id -> (items, counts)
        self._arrays: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for text in texts:
            self.add(text)

    def __len__(self) -> int:
        return len(self.tokens)

    def add(self, text: str) -> int:
        toks = rouge_tokens(text)
        item = len(self.tokens)
        self.tokens.append(toks)
        self.lengths.append(len(toks))
        for tok, count in Counter(toks).items():
            tid = self._vocab.setdefault(tok, len(self._vocab))
            if tid == len(self._postings):
                self._postings.append(([], []))
            items, counts = self._postings[tid]
            items.append(item)
            counts.append(count)
            self._arrays.pop(tid, None)
        return item

    def _posting(self, tid: int) -> tuple[np.ndarray, np.ndarray]:
        if tid not in self._arrays:
            items, counts = self._postings[tid]
            self._arrays[tid] = (np.asarray(items, dtype=np.int64), np.asarray(counts, dtype=np.int64))
        return self._arrays[tid]

    def bounds(self, toks: list[str]) -> np.ndarray:
        """Upper bound of ROUGE-L F1 between `toks` and every pool item."""
        n = len(self.tokens)
        overlap = np.zeros(n, dtype=np.int64)
        for tok, count in Counter(toks).items():
            tid = self._vocab.get(tok)
            if tid is None:
                continue
            items, counts = self._posting(tid)
            overlap[items] += np.minimum(counts, count)
        lengths = np.asarray(self.lengths, dtype=np.float64)
        return 2.0 * overlap / np.maximum(lengths + len(toks), 1.0)

    def most_similar(self, text: str, k: int = 10, *, at_least: float = 0.0) -> list[tuple[float, int]]:
        """The k pool items with the highest exact ROUGE-L F1 (score, index), best first; items
        below `at_least` may be left out. Exact scores are computed in order of their bound until
        no remaining bound can beat the k-th best."""
        toks = rouge_tokens(text)
        if not toks or not self.tokens:
            return []
        bounds = self.bounds(toks)
        order = np.argsort(-bounds, kind="stable")
        best: list[tuple[float, int]] = []
        for idx in order:
            bound = bounds[idx]
            floor = best[k - 1][0] if len(best) >= k else at_least
            if bound + 1e-12 < floor or bound == 0.0:
                break
            score = rouge_l_f1(toks, self.tokens[idx])
            best.append((score, int(idx)))
            best.sort(key=lambda x: (-x[0], x[1]))
            del best[k:]
        return best

    def max_similarity(self, text: str) -> tuple[float, int | None]:
        """The highest ROUGE-L F1 against the pool and the item that has it."""
        top = self.most_similar(text, k=1)
        return top[0] if top else (0.0, None)
