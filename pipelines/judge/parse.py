"""Read a judge's answer: a 0-5 score, or an A / B / tie verdict, from the first line.

The rubrics ask for the answer alone on the first line (`Score: 4`, `Verdict: A`), then a short
reason. The first line is the first line with any non-space character; markdown decoration
(`*`, `_`, `#`, backticks) is removed before reading it.

Scores: an optional label (`score`, `rating`, `final score`), a number (decimals allowed), an
optional scale `/5` or `out of 5`, then nothing, or a separator (`.`, `:`, `-`, `,`, `;`, `|`)
before a reason:

    >>> parse_score("Score: 4\\nThe answer is right.")
    4.0
    >>> [parse_score(t) for t in ("**4**", "4/5", "Rating: 3.5 out of 5", "4. Correct.")]
    [4.0, 4.0, 3.5, 4.0]

Anything else raises `ParseError` with a `kind` and the raw text: `empty`, `no_score` (words
only), `not_first_line` (a score line appears only later), `out_of_range` (outside 0-5),
`wrong_scale` (`4/10`), `extra_text` (`Score: 4 because ...`, `I would say 4`).

Verdicts: an optional label (`verdict`, `winner`, `better`), then `A`, `B`, `Response A`,
`[[A]]`, `tie` (also `draw`, `equal`, `both`), optionally `is better`, then nothing or a separator and a reason.
"""

from __future__ import annotations

import math
import re
from typing import Literal

from pipelines.judge.config import SCORE_MAX, SCORE_MIN

Verdict = Literal["A", "B", "tie"]


class ParseError(ValueError):
    def __init__(self, kind: str, message: str, raw: str) -> None:
        self.kind, self.raw = kind, raw
        super().__init__(f"{kind}: {message}")


_DECORATION = re.compile(r"[*_#`]")
_TAIL = r"(?:[.!]?\s*|\s*[-–—:;,|]\s*\S.*|\.\s+\S.*)"
_SCORE = re.compile(
    r"(?:(?:final\s+)?(?:score|rating)\s*[:=]?\s*)?"
    r"(?P<number>[+-]?\d+(?:\.\d+)?)"
    r"\s*(?:(?:/|out\s+of)\s*(?P<scale>\d+(?:\.\d+)?))?"
    rf"(?P<tail>{_TAIL})", re.IGNORECASE)
_ANY_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?!\w)")
_VERDICT = re.compile(
    r"(?:(?:final\s+)?(?:verdict|winner|better|answer|choice)\s*[:=]?\s*)?"
    r"(?:\[\[\s*)?(?:(?:response|assistant|answer|output)\s+)?"
    r"(?P<choice>a|b|tie|draw|equal|both)(?:\s*\]\])?(?:\s+is\s+better)?"
    rf"(?P<tail>{_TAIL})", re.IGNORECASE)


def first_line(text: str) -> str:
    """The first line holding a non-space character, decoration removed, stripped."""
    for line in text.splitlines():
        if line.strip():
            return _DECORATION.sub("", line).strip()
    return ""


def parse_score(text: str, low: float = SCORE_MIN, high: float = SCORE_MAX) -> float:
    """The score on the first line of `text` (see the module docstring for what is accepted)."""
    line = first_line(text)
    if not line:
        raise ParseError("empty", "the judge wrote nothing", text)
    match = _SCORE.fullmatch(line)
    if match is None:
        later = any(_SCORE.fullmatch(_DECORATION.sub("", other).strip())
                    for other in text.splitlines()[1:] if other.strip())
        if later and not _ANY_NUMBER.search(line):
            raise ParseError("not_first_line", "the score is not on the first line", text)
        kind = "extra_text" if _ANY_NUMBER.search(line) else "no_score"
        message = ("the first line holds more than a score" if kind == "extra_text"
                   else "the first line holds no score")
        raise ParseError(kind, message, text)
    scale = match.group("scale")
    if scale is not None and float(scale) != high:
        raise ParseError("wrong_scale", f"scored out of {scale}, expected out of {high:g}", text)
    score = float(match.group("number"))
    if not (low <= score <= high) or math.isnan(score):
        raise ParseError("out_of_range", f"{score:g} is outside {low:g}-{high:g}", text)
    return score


def parse_verdict(text: str) -> Verdict:
    """A, B or tie from the first line of `text`."""
    line = first_line(text)
    if not line:
        raise ParseError("empty", "the judge wrote nothing", text)
    match = _VERDICT.fullmatch(line)
    if match is None:
        raise ParseError("no_verdict", "the first line names neither A, B nor a tie", text)
    choice = match.group("choice").lower()
    return "A" if choice == "a" else "B" if choice == "b" else "tie"
