"""Length control for preference pairs: judges prefer longer answers (AlpacaEval: always picking
the longer answer agrees with humans 62% of the time), so report it and optionally correct it.

- `p_chosen_longer`: the share of pairs whose chosen answer has more words;
- `max_length_ratio`: drop pairs whose longer answer has more than `ratio` times the words of
  the shorter (`preferences_length_ratio`);
- `balance_length`: drop seeded random pairs from the larger side (chosen-longer or
  chosen-shorter) until the two sides are equal (`preferences_length_balance`), so a model
  trained on the pairs cannot learn "longer wins" from them.

    >>> p_chosen_longer([("a b c", "a"), ("a", "a b")])
    0.5
"""

from __future__ import annotations

import random


def words(text: str) -> int:
    return len(text.split())


def p_chosen_longer(pairs: list[tuple[str, str]]) -> float | None:
    """Share of (chosen, rejected) pairs with a longer chosen answer; equal lengths count half."""
    if not pairs:
        return None
    score = sum(1.0 if words(c) > words(r) else 0.5 if words(c) == words(r) else 0.0 for c, r in pairs)
    return score / len(pairs)


def length_ratio(chosen: str, rejected: str) -> float:
    a, b = max(words(chosen), 1), max(words(rejected), 1)
    return max(a, b) / min(a, b)


def balance(pairs: list[tuple[str, str]], rng: random.Random) -> list[int]:
    """Indices of pairs to drop so chosen-longer and chosen-shorter pairs are equally many
    (pairs of equal length are kept and count for neither side)."""
    longer = [i for i, (c, r) in enumerate(pairs) if words(c) > words(r)]
    shorter = [i for i, (c, r) in enumerate(pairs) if words(c) < words(r)]
    big, small = (longer, shorter) if len(longer) > len(shorter) else (shorter, longer)
    return sorted(rng.sample(big, len(big) - len(small)))
