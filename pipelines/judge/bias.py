"""Judge bias figures for any judge run on pairs, and the self-preference warning.

- position consistency: of the pairs whose two orders both parsed, the share where the orders
  agree (the same response preferred, or tie both times). MT-Bench found 65-77% for strong judges.
- P(prefer first): of the decisive single-order verdicts, the share that picked the response
  shown first (A). 0.5 is unbiased.
- P(prefer longer): of the decisive judgements between responses of different lengths
  (characters), the share that picked the longer one. Always picking the longer answer agrees
  with humans 62.2% of the time on AlpacaFarm, so a judge near 1.0 is mostly measuring length.
  For pairwise judging each order counts as one judgement; for rating comparison each pair does.
- self-preference: a judge favours its own generations; `self_preference_warning` names the
  model when the judge is one of the models that generated the records (compared on the model
  name, whatever the backend).

A figure with nothing to count over is None, never 0. `basis` says what each share rests on:
{"decisive": d, "of": n}, the d decisive verdicts it is computed from among the n it looked at
(a P(prefer longer) of 1.0 from 1 of 60 verdicts says little).

    >>> from pipelines.judge.pairwise import OrderVerdict
    >>> judgements = [PairJudgement(OrderVerdict("A"), OrderVerdict("B")),   # x both times
    ...               PairJudgement(OrderVerdict("A"), OrderVerdict("A"))]   # A both times
    >>> pairwise_bias(judgements, [(10, 3), (10, 3)])
    {'position_consistency': 0.5, 'p_prefer_first': 0.75, 'p_prefer_longer': 0.75, ...}
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pipelines.judge.pairwise import PairJudgement, Winner

BACKENDS = ("transformers", "vllm", "openai")


def _share(hits: int, total: int) -> float | None:
    return hits / total if total else None


def basis(decisive: int, of: int) -> dict[str, int]:
    return {"decisive": decisive, "of": of}


def pairwise_bias(judgements: Sequence[PairJudgement],
                  lengths: Sequence[tuple[int, int]]) -> dict[str, Any]:
    """Bias figures of a both-order pairwise run; `lengths[i]` = (len x, len y) of pair i."""
    both = [j for j in judgements if j.first.choice is not None and j.second.choice is not None]
    consistent = sum(j.winner != "tie" or j.first.choice == j.second.choice == "tie" for j in both)
    singles = []  # (choice, len of A, len of B) for every order that parsed
    for j, (len_x, len_y) in zip(judgements, lengths):
        singles.append((j.first.choice, len_x, len_y))
        singles.append((j.second.choice, len_y, len_x))
    decisive = [(c, la, lb) for c, la, lb in singles if c in ("A", "B")]
    first = sum(c == "A" for c, _, _ in decisive)
    unequal = [(c, la, lb) for c, la, lb in decisive if la != lb]
    longer = sum((c == "A") == (la > lb) for c, la, lb in unequal)
    return {"position_consistency": _share(consistent, len(both)),
            "p_prefer_first": _share(first, len(decisive)),
            "p_prefer_longer": _share(longer, len(unequal)),
            "pairs": len(judgements), "pairs_both_parsed": len(both),
            "decisive_verdicts": len(decisive),
            "basis": {"position_consistency": basis(sum(j.winner in ("x", "y") for j in both), len(both)),
                      "p_prefer_first": basis(len(decisive), len(singles)),
                      "p_prefer_longer": basis(len(unequal), len(singles))}}


def length_bias(winners: Sequence[Winner | None], lengths: Sequence[tuple[int, int]]) -> dict[str, Any]:
    """Bias figures of a comparison without positions (rating): P(prefer longer) only."""
    unequal = [(w, lx, ly) for w, (lx, ly) in zip(winners, lengths) if w in ("x", "y") and lx != ly]
    longer = sum((w == "x") == (lx > ly) for w, lx, ly in unequal)
    return {"position_consistency": None, "p_prefer_first": None,
            "p_prefer_longer": _share(longer, len(unequal)),
            "pairs": len(winners), "decisive_verdicts": sum(w in ("x", "y") for w in winners),
            "basis": {"p_prefer_longer": basis(len(unequal), len(winners))}}


def model_name(label: str) -> str:
    """'transformers:SmolLM2-135M-Instruct' -> 'smollm2-135m-instruct' (backend dropped)."""
    backend, _, rest = label.partition(":")
    return (rest if backend in BACKENDS and rest else label).strip().lower()


def generator_labels(rows: Iterable[dict[str, Any]]) -> set[str]:
    """Model labels that generated the records: a `model` column, `meta.model`, or `model` in
    any per-stage struct of `meta` (the judge's own struct excluded)."""
    found: set[str] = set()
    for row in rows:
        if isinstance(row.get("model"), str):
            found.add(row["model"])
        meta = row.get("meta")
        if not isinstance(meta, dict):
            continue
        if isinstance(meta.get("model"), str):
            found.add(meta["model"])
        for key, sub in meta.items():
            if key != "judge" and isinstance(sub, dict) and isinstance(sub.get("model"), str):
                found.add(sub["model"])
    return found


def self_preference_warning(judge_label: str, generators: Iterable[str]) -> str | None:
    """A warning when the judge is one of the generators, else None."""
    same = sorted(g for g in set(generators) if model_name(g) == model_name(judge_label))
    if not same:
        return None
    return (f"self-preference: the judge {judge_label!r} also generated these records "
            f"({', '.join(same)}); judges favour their own outputs, so use a different judge "
            f"model or treat its scores with care")
