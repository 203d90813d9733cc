"""Turn scored responses into chosen/rejected pairs, UltraFeedback-style.

Policies, over the usable (scored) responses of one prompt:

- `best_vs_random` (UltraFeedback binarized): chosen = the highest score; rejected = a seeded
  random pick among the responses scoring strictly lower (equal scores are ties, dropped as
  Argilla's cleaned variant does);
- `best_vs_worst`: the highest against the lowest;
- `all_pairs_with_margin`: every pair whose score gap is at least `margin`.

    >>> select_pairs([4.0, 2.0, 4.0, 1.0], "best_vs_worst", margin=0.0, rng=random.Random(0))
    Selection(pairs=[(0, 3)], dropped=[], too_few=False)

A prompt with fewer than two usable responses yields nothing (`preferences_too_few_responses`);
pairs whose gap is zero are `preferences_tie`, below the margin `preferences_below_margin`.
Indices refer to the prompt's response list; ties for "best" go to the earlier response.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Literal

Policy = Literal["best_vs_random", "best_vs_worst", "all_pairs_with_margin"]
P = "preferences_"


@dataclass
class Selection:
    pairs: list[tuple[int, int]] = field(default_factory=list)           # (chosen, rejected)
    dropped: list[tuple[int, int, str, str]] = field(default_factory=list)  # (i, j, reason, detail)
    too_few: bool = False


def _judge_gap(i: int, j: int, scores: list[float], margin: float, out: Selection) -> None:
    gap = scores[i] - scores[j]
    if gap == 0:
        out.dropped.append((i, j, f"{P}tie", f"both scored {scores[i]:g}"))
    elif gap < margin:
        out.dropped.append((i, j, f"{P}below_margin", f"gap {gap:g} < margin {margin:g}"))
    else:
        out.pairs.append((i, j))


def select_pairs(scores: list[float | None], policy: Policy, *, margin: float,
                 rng: random.Random) -> Selection:
    usable = [i for i, s in enumerate(scores) if s is not None]
    out = Selection()
    if len(usable) < 2:
        out.too_few = True
        return out
    vals: list[float] = [s if s is not None else float("nan") for s in scores]
    best = max(usable, key=lambda i: (vals[i], -i))
    others = [i for i in usable if i != best]
    if policy == "best_vs_worst":
        _judge_gap(best, min(others, key=lambda i: (vals[i], i)), vals, margin, out)
    elif policy == "best_vs_random":
        lower = [i for i in others if vals[i] < vals[best]]
        if not lower:
            out.dropped.append((best, others[0], f"{P}tie", f"every response scored {vals[best]:g}"))
        else:
            _judge_gap(best, rng.choice(lower), vals, margin, out)
    else:
        for a_pos, a in enumerate(usable):
            for b in usable[a_pos + 1:]:
                hi, lo = (a, b) if vals[a] >= vals[b] else (b, a)
                _judge_gap(hi, lo, vals, margin, out)
    return out
