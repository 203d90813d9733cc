"""Judge evaluation: how often a judge agrees with labelled preferences, and how biased it is.

Input: a labelled preference file with `prompt`, `chosen`, `rejected` (message lists or plain
strings). Each row becomes a pair (x = chosen, y = rejected), judged with the configured
comparison: `pairwise` (both orders, `pipelines.judge.pairwise`) or `rating` (each response
rated, the higher score wins by at least `margin`). The judge's figures:

- agreement: share of rows where the judge picked `chosen` (ties and failures count against it)
- agreement_decisive: the same among rows with a winner
- tie_rate, and parse_failure_rate over every judge call
- position consistency, P(prefer first), P(prefer longer) (`pipelines.judge.bias`)

and two baselines on the same rows, with the same agreement definition: `longest` picks the
longer response (characters; equal lengths tie), `random` picks one with a seeded generator.
Every share comes with its `basis`: how many decisive verdicts it rests on, of how many
(`{"decisive": 1, "of": 60}`; for the parse-failure rate `{"failed": 3, "of": 120}` calls), and
the table prints it beside the share, e.g. `1.00 (1 of 60 decisive)`.

With `comparison: rating` the margin is `config.rating_margin`: 0.5 in parse mode and 0 in
logprob mode unless set (expected scores span about a point; a fixed 0.5 made nearly every
pair a tie).

    >>> from tests.fakes import ScriptedGenerator
    >>> labelled = datasets.Dataset.from_list(
    ...     [{"prompt": "Name a colour.", "chosen": "Blue.", "rejected": "A banana, probably."}])
    >>> first = ScriptedGenerator(lambda conv, params, k: "Verdict: A")  # always the one shown first
    >>> report, rows = evaluate_judge(labelled, JudgeConfig(), model=first)
    >>> figures = report["judge_metrics"]
    >>> figures["agreement"], figures["tie_rate"], figures["p_prefer_first"]
    (0.0, 1.0, 1.0)
    >>> report["baselines"]["longest"]["agreement"]
    0.0
"""

from __future__ import annotations

import random
import time
from collections.abc import Sequence
from typing import Any

import datasets

from pipelines.judge.bias import (
    basis,
    generator_labels,
    length_bias,
    pairwise_bias,
    self_preference_warning,
)
from pipelines.judge.config import JudgeConfig
from pipelines.judge.examples import pair_of
from pipelines.judge.pairwise import Pair, Winner, compare_scores, judge_pairs
from pipelines.judge.rating import rate
from pipelines.models.params import Generator
from pipelines.stage import Progress

TABLE_COLUMNS = ("method", "agreement", "agreement_decisive", "tie_rate", "position_consistency",
                 "p_prefer_first", "p_prefer_longer", "parse_failure_rate")


def agreement_figures(winners: Sequence[Winner | None]) -> dict[str, Any]:
    """agreement, agreement_decisive and tie_rate when x is the labelled winner.

    >>> agreement_figures(["x", "x", "y", "tie"])
    {'agreement': 0.5, 'agreement_decisive': 0.6666666666666666, 'tie_rate': 0.25}
    """
    n = len(winners)
    wins = sum(w == "x" for w in winners)
    decisive = sum(w in ("x", "y") for w in winners)
    return {"agreement": wins / n if n else None,
            "agreement_decisive": wins / decisive if decisive else None,
            "tie_rate": sum(w == "tie" for w in winners) / n if n else None}


def agreement_basis(winners: Sequence[Winner | None]) -> dict[str, dict[str, int]]:
    """What agreement, agreement_decisive and tie_rate rest on: decisive verdicts of all rows."""
    both = basis(sum(w in ("x", "y") for w in winners), len(winners))
    return {"agreement": both, "agreement_decisive": both, "tie_rate": both}


def with_basis(winners: Sequence[Winner | None], bias: dict[str, Any], **more: Any) -> dict[str, Any]:
    """Agreement figures, bias figures and `more`, with one merged `basis`."""
    merged = {**agreement_basis(winners), **bias.get("basis", {}), **more.pop("basis", {})}
    rest = {k: v for k, v in bias.items() if k != "basis"}
    return {**agreement_figures(winners), **rest, **more, "basis": merged}


def longest_baseline(lengths: Sequence[tuple[int, int]]) -> list[Winner]:
    return ["x" if lx > ly else "y" if ly > lx else "tie" for lx, ly in lengths]


def random_baseline(count: int, seed: int) -> list[Winner]:
    rng = random.Random(seed)
    return [rng.choice(("x", "y")) for _ in range(count)]


def evaluate_judge(records: datasets.Dataset, config: JudgeConfig, *, model: Generator,
                   file: str | None = None,
                   progress: Progress | None = None) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(report, one detail row per input row). Raises InputError before any model call."""
    started = time.perf_counter()
    rows = records.to_list()
    pairs = [pair_of(row, row_index=i, file=file) for i, row in enumerate(rows)]
    lengths = [(len(c.response), len(r.response)) for c, r in pairs]
    details: list[dict[str, Any]] = [{"row": i, "chosen_chars": lx, "rejected_chars": ly}
                                     for i, (lx, ly) in enumerate(lengths)]
    opts = {"aspect": config.aspect, "mode": config.mode, "max_new_tokens": config.max_new_tokens,
            "progress": progress}
    if config.comparison == "pairwise":
        judgements = judge_pairs([Pair(c.instruction, c.input, c.response, r.response)
                                  for c, r in pairs], model, **opts)
        winners = [j.winner for j in judgements]
        failures = sum((j.first.choice is None) + (j.second.choice is None) for j in judgements)
        bias = pairwise_bias(judgements, lengths)
        for detail, j in zip(details, judgements):
            detail.update(j.verdicts())
    else:
        ratings = rate([e for pair in pairs for e in pair], model, **opts)
        chosen, rejected = ratings[0::2], ratings[1::2]
        winners = [compare_scores(c.score, r.score, config.rating_margin)
                   for c, r in zip(chosen, rejected)]
        failures = sum(not r.ok for r in ratings)
        bias = length_bias(winners, lengths)
        for detail, c, r, w in zip(details, chosen, rejected, winners):
            detail.update({"score_chosen": c.score, "score_rejected": r.score, "winner": w,
                           "raw_chosen": c.raw, "raw_rejected": r.raw})
    calls = 2 * len(rows)
    warning = self_preference_warning(model.name, generator_labels(rows))
    longest = longest_baseline(lengths)
    report = {
        "file": file, "rows": len(rows),
        "judge": {"model": model.name, "aspect": config.aspect, "mode": config.mode,
                  "comparison": config.comparison,
                  **({"margin": config.rating_margin} if config.comparison == "rating" else {})},
        "judge_metrics": with_basis(winners, bias,
                                    parse_failure_rate=failures / calls if calls else None,
                                    pairs_without_verdict=sum(w is None for w in winners),
                                    basis={"parse_failure_rate": {"failed": failures, "of": calls}}),
        "baselines": {
            "longest": with_basis(longest, length_bias(longest, lengths)),
            "random": with_basis(random_baseline(len(rows), config.seed), {}, seed=config.seed),
        },
        "self_preference": warning,
        "seconds": round(time.perf_counter() - started, 3),
    }
    return report, details


def share_cell(value: float | None, rests_on: dict[str, int] | None) -> str | None:
    """A share with what it rests on: '1.00 (1 of 60 decisive)', '0.05 (3 of 60 calls failed)'.

    >>> share_cell(None, {"decisive": 0, "of": 60})
    '- (0 of 60 decisive)'
    """
    if rests_on is None:
        return None if value is None else f"{value:.2f}"
    shown = "-" if value is None else f"{value:.2f}"
    if "failed" in rests_on:
        return f"{shown} ({rests_on['failed']} of {rests_on['of']} calls failed)"
    return f"{shown} ({rests_on['decisive']} of {rests_on['of']} decisive)"


def report_table(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The report as table rows (judge, longest, random); every share as `share_cell` text."""
    def row(method: str, figures: dict[str, Any]) -> dict[str, Any]:
        rests_on = figures.get("basis", {})
        return {c: method if c == "method" else share_cell(figures.get(c), rests_on.get(c))
                for c in TABLE_COLUMNS}
    judge = report["judge"]
    name = f"judge {judge['model']} ({judge['comparison']}, {judge['mode']})"
    return [row(name, report["judge_metrics"]),
            row("longest answer", report["baselines"]["longest"]),
            row(f"random (seed {report['baselines']['random']['seed']})", report["baselines"]["random"])]
