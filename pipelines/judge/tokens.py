"""How logprob mode asks for the answer token: the prefix/candidate split that the model's own
tokenizer would produce.

`score_tokens(conversations, prefix, candidates)` continues the assistant turn after `prefix` and
scores each candidate. For the score to mean what the model would write, prefix + candidate must
tokenize as tokens(prefix) + tokens(candidate), and ideally each candidate is one token (one
forward pass for all of them). Tokenizers disagree on where the space goes:

    SmolLM2 (digits split from spaces):  "Score: 4" -> "Score" ":" " " "4"
        -> prefix "Score: ", candidates "0".."5"
    GPT-2-style BPE:                     "Verdict: A" -> "Ver" "dict" ":" " A"
        -> prefix "Verdict:", candidates " A", " B"

`pick_split` tries both splits against the backend's tokenizer (when it has one) and takes the
first whose candidates are single tokens and tokenize naturally; failing that, the first that
tokenizes naturally (the backend then scores multi-token candidates as sequences); with no
tokenizer (OpenAI-compatible servers) the first split, "label " + value.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def _ids(tokenizer: Any, text: str) -> list[int]:
    return list(tokenizer(text, add_special_tokens=False)["input_ids"])


def _natural(tokenizer: Any, prefix: str, candidate: str) -> bool:
    return _ids(tokenizer, prefix + candidate) == _ids(tokenizer, prefix) + _ids(tokenizer, candidate)


def pick_split(generator: Any, label: str, values: Sequence[str]) -> tuple[str, list[str]]:
    """(prefix, candidates) for asking `generator` which of `values` follows `label`.

    The candidates come back in the order of `values`, possibly with a leading space.

    >>> from types import SimpleNamespace
    >>> def by_character(text, add_special_tokens):  # digits split from spaces, as in SmolLM2
    ...     return {"input_ids": [ord(c) for c in text]}
    >>> pick_split(SimpleNamespace(tokenizer=by_character), "Score:", ["0", "1"])
    ('Score: ', ['0', '1'])
    >>> def by_word(text, add_special_tokens):       # " A" is one token, as in GPT-2's BPE
    ...     return {"input_ids": [hash(w) for w in text.replace(" ", "| ").split("|") if w]}
    >>> pick_split(SimpleNamespace(tokenizer=by_word), "Verdict:", ["A", "B"])
    ('Verdict:', [' A', ' B'])
    """
    options = [(f"{label} ", list(values)), (label, [f" {v}" for v in values])]
    tokenizer = getattr(generator, "tokenizer", None)
    if tokenizer is None:
        return options[0]
    natural = [(p, c) for p, c in options if all(_natural(tokenizer, p, x) for x in c)]
    for prefix, candidates in natural:
        if all(len(_ids(tokenizer, x)) == 1 for x in candidates):
            return prefix, candidates
    return natural[0] if natural else options[0]
