"""Rate examples 0-5 on one aspect, by reading the judge's first line or by G-Eval expectation.

Two modes, same rubric (`prompts/rating.jinja`):

- `parse` (AlpaGasus): generate greedily, read the score from the first line
  (`pipelines.judge.parse`). The raw text is kept; a failed parse is a Rating with `error`.
- `logprob` (G-Eval): no generation; `raw` holds the six log-probs as text. `score_tokens` gives log p(s) of each score token
  s = 0..5 after the assistant prefix "Score:" (split as the tokenizer needs, see `tokens`);
  p is renormalised over the six tokens and the score is the expectation sum(p(s) * s).
  `score_mass` keeps how much probability the six tokens had before renormalising: a judge
  that would not have written a number at all has a small mass. Zero mass (every score token
  outside what the backend reports) is an error, not a score.

    >>> from tests.fakes import ScriptedGenerator
    >>> p = [0.01, 0.01, 0.03, 0.05, 0.3, 0.6]                   # the judge's p(0..5)
    >>> judge = ScriptedGenerator([], scores=lambda conv, prefix, candidates:
    ...                           {c: math.log(p[int(c)]) for c in candidates})
    >>> rate([Example("2+2?", "", "4")], judge, mode="logprob")[0]
    Rating(score=4.42, raw='log p(0..5) = -4.605, -4.605, -3.507, -2.996, -1.204, -0.511', ...)

Used by the filter stage and by preference scoring; it writes nothing and keeps no state.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from pipelines.judge.config import SCORE_MAX, SCORE_MIN, ScoringMode
from pipelines.judge.examples import Example
from pipelines.judge.parse import ParseError, parse_score
from pipelines.judge.prompts import SCORE_LABEL, rating_prompt
from pipelines.judge.tokens import pick_split
from pipelines.models.params import GenerationParams, Generator, shifted
from pipelines.stage import Progress

SCORE_VALUES = [str(s) for s in range(SCORE_MIN, SCORE_MAX + 1)]
SCORE_CHUNK = 64


@dataclass(frozen=True)
class Rating:
    score: float | None
    raw: str | None = None
    distribution: list[float] | None = None
    score_mass: float | None = None
    error: ParseError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def expected_score(logprobs: Sequence[float], raw: str = "") -> tuple[float, list[float], float]:
    """(expected score, renormalised distribution, probability mass) from log p(0..5).

    >>> expected_score([math.log(0.1)] * 4 + [math.log(0.2), math.log(0.4)])[0]
    3.4000...
    """
    finite = [lp for lp in logprobs if math.isfinite(lp)]
    if not finite:
        raise ParseError("no_mass", "no score token has any probability", raw)
    top = max(finite)
    weights = [math.exp(lp - top) if math.isfinite(lp) else 0.0 for lp in logprobs]
    total = sum(weights)
    distribution = [w / total for w in weights]
    score = sum(p * s for p, s in zip(distribution, range(SCORE_MIN, SCORE_MAX + 1)))
    return score, distribution, total * math.exp(top)


def rating_conversations(examples: Sequence[Example], aspect: str) -> list[list[dict[str, str]]]:
    return [[{"role": "user", "content": rating_prompt(e, aspect)}] for e in examples]


def rate(examples: Sequence[Example], generator: Generator, *, aspect: str = "accuracy",
         mode: ScoringMode = "parse", max_new_tokens: int = 64,
         progress: Progress | None = None) -> list[Rating]:
    """One Rating per example, in order."""
    conversations = rating_conversations(examples, aspect)
    if not conversations:
        return []
    if mode == "parse":
        params = GenerationParams(max_new_tokens=max_new_tokens)
        if progress:
            progress(0, len(conversations))
        outputs = generator.generate(conversations, params, progress=progress)
        return [_parsed(out[0].text) for out in outputs]
    prefix, candidates = pick_split(generator, SCORE_LABEL, SCORE_VALUES)
    scored = score_in_chunks(generator, conversations, prefix, candidates, progress)
    return [_expected([lp[c] for c in candidates]) for lp in scored]


def score_in_chunks(generator: Generator, conversations: list, prefix: str, candidates: list[str],
                    progress: Progress | None = None, chunk: int = SCORE_CHUNK) -> list[dict[str, float]]:
    """`score_tokens` over `chunk` conversations at a time. Progress, over all conversations,
    starts at 0 and moves after every batch the backend runs."""
    scored: list[dict[str, float]] = []
    total = len(conversations)
    if progress:
        progress(0, total)
    for start in range(0, total, chunk):
        scored.extend(generator.score_tokens(conversations[start:start + chunk], prefix, candidates,
                                             progress=shifted(progress, start, total)))
        if progress:
            progress(len(scored), total)
    return scored


def _parsed(text: str) -> Rating:
    try:
        return Rating(score=parse_score(text), raw=text)
    except ParseError as exc:
        return Rating(score=None, raw=text, error=exc)


def _expected(logprobs: list[float]) -> Rating:
    raw = "log p(0..5) = " + ", ".join(f"{lp:.3f}" for lp in logprobs)
    try:
        score, distribution, mass = expected_score(logprobs, raw)
    except ParseError as exc:
        return Rating(score=None, raw=raw, error=exc)
    return Rating(score=score, raw=raw, distribution=distribution, score_mass=mass)
