"""Render a classification task's label set as an options block (FLAN 2021 and Flan 2022 styles).

FLAN 2021: a blank line, `OPTIONS:`, then one option per line prefixed `- `; the target is the
answer text. Flan 2022 randomises the header (including none), the item marker and the item
ending; when the marker enumerates (letters, numbers, roman numerals) the target becomes the
marker's label, e.g.

    >>> fmt = OptionsFormat(header="Choose from:", marker="(A)", ending=".", lead="\\n")
    >>> fmt.render("Is the sky blue?", ["yes", "no"])
    'Is the sky blue?\\nChoose from:\\n(A) yes.\\n(B) no.'
    >>> fmt.target(1, "no")
    '(B)'
"""

from __future__ import annotations

import random
from dataclasses import dataclass

HEADERS = ("", "OPTIONS:", "Options:", "Choose from:", "Pick one:", "Select one of:",
           "Possible answers:", "Answer choices:", "Pick your answer from:", "Available options:")
MARKERS = ("-", "+", "*", "•", "(A)", "A)", "A.", "(a)", "a)", "1.", "1)", "(1)", "i.", "(i)")
ENDINGS = ("", ";", ".")
LEADS = ("\n", "\n\n")

_ROMAN = (("x", 10), ("ix", 9), ("v", 5), ("iv", 4), ("i", 1))


def _roman(n: int) -> str:
    out = ""
    for sym, val in _ROMAN:
        while n >= val:
            out, n = out + sym, n - val
    return out


def _label(marker: str, index: int) -> str | None:
    """The marker's label for the index-th option, or None for symbol markers."""
    if "A" in marker:
        return marker.replace("A", chr(ord("A") + index))
    if "a" in marker:
        return marker.replace("a", chr(ord("a") + index))
    if "1" in marker:
        return marker.replace("1", str(index + 1))
    if "i" in marker:
        return marker.replace("i", _roman(index + 1))
    return None


@dataclass(frozen=True)
class OptionsFormat:
    header: str
    marker: str
    ending: str
    lead: str
    style: str = "flan2022"

    @property
    def enumerated(self) -> bool:
        return _label(self.marker, 0) is not None

    def item(self, index: int, text: str) -> str:
        mark = _label(self.marker, index) or self.marker
        return f"{mark} {text}{self.ending}"

    def render(self, prompt: str, options: list[str]) -> str:
        lines = ([self.header] if self.header else []) + [self.item(i, o) for i, o in enumerate(options)]
        return prompt + self.lead + "\n".join(lines)

    def target(self, index: int, answer: str) -> str:
        return _label(self.marker, index) if self.enumerated else answer


FLAN2021 = OptionsFormat(header="OPTIONS:", marker="-", ending="", lead="\n\n", style="flan2021")


def sample_options_format(rng: random.Random, style: str) -> OptionsFormat:
    if style == "flan2021":
        return FLAN2021
    return OptionsFormat(header=rng.choice(HEADERS), marker=rng.choice(MARKERS),
                         ending=rng.choice(ENDINGS), lead=rng.choice(LEADS))
