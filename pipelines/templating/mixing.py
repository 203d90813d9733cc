"""Per-task caps and examples-proportional mixing with a maximum rate (FLAN 2021).

Task i with n_i examples gets the mixing share min(n_i, K) / sum_j min(n_j, K), K = max_rate:
large tasks stop dominating once they pass K. Turned into row counts for a static dataset:

    >>> mixing_quotas({"a": 10_000, "b": 500, "c": 40}, max_rate=3000, total=None)
    {'a': 3000, 'b': 500, 'c': 40}
    >>> mixing_quotas({"a": 10_000, "b": 500, "c": 40}, max_rate=3000, total=1000)
    {'a': 848, 'b': 141, 'c': 11}

Without `total` every task keeps min(n_i, K) rows, which is exactly the share above times the
mixture's natural size. With `total`, shares are scaled to `total` (never above n_i; rounding by
largest remainder so the quotas add up to `total` when the tasks have enough rows).
Which rows stay is a seeded sample, kept in file order.
"""

from __future__ import annotations

import math
import random


def mixing_quotas(sizes: dict[str, int], *, max_rate: int | None, total: int | None) -> dict[str, int]:
    capped = {t: min(n, max_rate) if max_rate else n for t, n in sizes.items()}
    if total is None:
        return capped
    denominator = sum(capped.values())
    if denominator == 0:
        return dict.fromkeys(sizes, 0)
    exact = {t: total * c / denominator for t, c in capped.items()}
    quotas = {t: min(sizes[t], math.floor(x)) for t, x in exact.items()}
    leftover = min(total, sum(sizes.values())) - sum(quotas.values())
    by_remainder = sorted(exact, key=lambda t: (-(exact[t] - math.floor(exact[t])), t))
    while leftover > 0:
        grew = False
        for t in by_remainder:
            if leftover and quotas[t] < sizes[t]:
                quotas[t] += 1
                leftover -= 1
                grew = True
        if not grew:
            break
    return quotas


def sample_keep(n: int, keep: int, rng: random.Random) -> list[bool]:
    """A seeded mask keeping `keep` of `n` positions."""
    if keep >= n:
        return [True] * n
    chosen = set(rng.sample(range(n), keep))
    return [i in chosen for i in range(n)]
