"""Compare two responses to one instruction: pairwise in both orders, or by rating with a margin.

Pairwise (MT-Bench's rule against position bias): the judge sees x as A and y as B, then y as A
and x as B. x wins only when both orders prefer x; if the orders disagree (or either says tie)
the pair is a tie. Both verdicts are kept. A verdict that does not parse leaves the pair
without a winner (`winner is None`), counted as a parse failure, never guessed.

    first order (x=A)   second order (y=A)   winner
    A                   B                    x
    B                   A                    y
    A                   A                    tie   (position-driven: the orders disagree)
    tie                 anything             tie

Scoring modes as for ratings: `parse` generates and reads "Verdict: A|B|tie" from the first
line; `logprob` compares p(A) and p(B) for the token after "Verdict:" (equal: tie).

Rating comparison, the alternative: rate x and y separately; the higher score wins when the gap
is at least `margin` (and not zero), else tie.

    >>> compare_scores(4.5, 3.0, margin=1.0), compare_scores(4.5, 4.0, margin=1.0)
    ('x', 'tie')
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pipelines.judge.config import ScoringMode
from pipelines.judge.parse import ParseError, Verdict, parse_verdict
from pipelines.judge.prompts import VERDICT_LABEL, pairwise_prompt
from pipelines.judge.rating import score_in_chunks
from pipelines.judge.tokens import pick_split
from pipelines.models.params import GenerationParams, Generator
from pipelines.stage import Progress

Winner = Literal["x", "y", "tie"]


@dataclass(frozen=True)
class Pair:
    """Two responses (x, y) to one instruction."""

    instruction: str
    input: str
    x: str
    y: str


@dataclass(frozen=True)
class OrderVerdict:
    """What the judge said in one order: A, B or tie (None when it did not parse)."""

    choice: Verdict | None
    raw: str | None = None
    p_a: float | None = None
    error: ParseError | None = None


@dataclass(frozen=True)
class PairJudgement:
    first: OrderVerdict    # x shown as A
    second: OrderVerdict   # y shown as A

    @property
    def winner(self) -> Winner | None:
        return both_orders_winner(self.first.choice, self.second.choice)

    def verdicts(self) -> dict[str, Any]:
        """Both verdicts and the outcome, for a preference record's `meta.verdicts`."""
        def one(v: OrderVerdict) -> dict[str, Any]:
            return {"choice": v.choice, "raw": v.raw, "p_a": v.p_a,
                    "error": str(v.error) if v.error else None}
        return {"x_first": one(self.first), "y_first": one(self.second), "winner": self.winner}


def both_orders_winner(first: Verdict | None, second: Verdict | None) -> Winner | None:
    """The both-order rule: `first` is the verdict with x as A, `second` with y as A."""
    if first is None or second is None:
        return None
    as_x = {"A": "x", "B": "y", "tie": "tie"}[first]
    as_y = {"A": "y", "B": "x", "tie": "tie"}[second]
    return as_x if as_x == as_y else "tie"


def compare_scores(score_x: float | None, score_y: float | None, margin: float) -> Winner | None:
    """Rating comparison: the higher score wins by at least `margin` (and more than 0)."""
    if score_x is None or score_y is None:
        return None
    gap = score_x - score_y
    if gap == 0 or abs(gap) < margin:
        return "tie"
    return "x" if gap > 0 else "y"


def judge_pairs(pairs: Sequence[Pair], generator: Generator, *, aspect: str = "accuracy",
                mode: ScoringMode = "parse", max_new_tokens: int = 64,
                progress: Progress | None = None) -> list[PairJudgement]:
    """Ask about every pair in both orders; one PairJudgement per pair, in order."""
    conversations = []
    for p in pairs:
        for a, b in ((p.x, p.y), (p.y, p.x)):
            prompt = pairwise_prompt(p.instruction, p.input, a, b, aspect)
            conversations.append([{"role": "user", "content": prompt}])
    if not conversations:
        return []
    if mode == "parse":
        if progress:
            progress(0, len(conversations))
        outputs = generator.generate(conversations, GenerationParams(max_new_tokens=max_new_tokens),
                                     progress=progress)
        verdicts = [_parsed(out[0].text) for out in outputs]
    else:
        prefix, candidates = pick_split(generator, VERDICT_LABEL, ["A", "B"])
        scored = score_in_chunks(generator, conversations, prefix, candidates, progress)
        verdicts = [_compared(s[candidates[0]], s[candidates[1]]) for s in scored]
    return [PairJudgement(verdicts[i], verdicts[i + 1]) for i in range(0, len(verdicts), 2)]


def _parsed(text: str) -> OrderVerdict:
    try:
        return OrderVerdict(choice=parse_verdict(text), raw=text)
    except ParseError as exc:
        return OrderVerdict(choice=None, raw=text, error=exc)


def _compared(logprob_a: float, logprob_b: float) -> OrderVerdict:
    raw = f"log p(A) = {logprob_a:.3f}, log p(B) = {logprob_b:.3f}"
    if not (math.isfinite(logprob_a) or math.isfinite(logprob_b)):
        return OrderVerdict(choice=None, raw=raw,
                            error=ParseError("no_mass", "neither A nor B has any probability", raw))
    top = max(lp for lp in (logprob_a, logprob_b) if math.isfinite(lp))
    a, b = (math.exp(lp - top) if math.isfinite(lp) else 0.0 for lp in (logprob_a, logprob_b))
    p_a = a / (a + b)
    choice: Verdict = "A" if p_a > 0.5 else "B" if p_a < 0.5 else "tie"
    return OrderVerdict(choice=choice, raw=raw, p_a=p_a)
