"""The judge filter stage (AlpaGasus): rate every instruction record, keep score >= threshold.

Input: records with `instruction` / `input` / `output` (or `messages` ending in an assistant
turn), any other columns. Output: the same columns plus `judge_score` (float; null on a parse
failure) and `meta.judge` (`pipelines.records.JudgeMeta`: judge model, aspect, mode, raw output,
score distribution). Rejections:

- `judge_below_threshold`: detail "score 4.25 < threshold 4.5"
- `judge_parse_error`: detail "<kind>: <message>; raw output: '...'"

    >>> from tests.fakes import ScriptedGenerator
    >>> records = datasets.Dataset.from_list([{"instruction": "Add 2 and 2.", "output": "4"},
    ...                                       {"instruction": "Add 2 and 3.", "output": "6"}])
    >>> judge = ScriptedGenerator(["Score: 5", "Score: 1"])  # one reply per record
    >>> result = judge_filter(records, JudgeConfig(threshold=4.5), model=judge)
    >>> list(result.kept["output"]), list(result.rejected["detail"])
    (['4'], ['score 1 < threshold 4.5'])

`model=` is the judge: a Generator, or a loader for `config.model`.

Stats: counts per reason and per parse-error kind, the AlpaGasus score table (<3, 3, 3.5, 4,
4.5, 5; scores floored to the half point), mean score, timing, and the self-preference warning
when the judge also generated the records.
"""

from __future__ import annotations

import logging
import math
import time
from collections import Counter
from typing import Any

import datasets

from pipelines.errors import InputError
from pipelines.judge.bias import generator_labels, self_preference_warning
from pipelines.judge.config import JudgeConfig
from pipelines.judge.examples import example_of
from pipelines.judge.rating import Rating, rate
from pipelines.models import ModelSource, resolve_model
from pipelines.records import JudgeMeta, features_of, rows_to_dataset
from pipelines.stage import Progress, Rejections, StageResult

STAGE = "judge"
log = logging.getLogger(__name__)


def judged_features(features: datasets.Features) -> datasets.Features:
    """The input's features plus `judge_score` and `meta.judge` (a `meta` struct is added when
    the input has none)."""
    judge = dict(features_of(JudgeMeta))
    meta = features.get("meta")
    if meta is not None and not isinstance(meta, dict):
        raise InputError(f"column `meta` must be a struct to hold the judge's lineage, got {meta}",
                         field="meta")
    out = dict(features)
    out["meta"] = {**(meta or {}), "judge": judge}
    out["judge_score"] = datasets.Value("float64")
    return datasets.Features(out)


def score_table(scores: list[float]) -> dict[str, int]:
    """AlpaGasus' table: counts of scores < 3, then per half point from 3 to 5 (floored).

    >>> score_table([2.0, 3.2, 4.5, 4.74, 5.0])
    {'<3': 1, '3': 1, '3.5': 0, '4': 0, '4.5': 2, '5': 1}
    """
    table = {"<3": 0, "3": 0, "3.5": 0, "4": 0, "4.5": 0, "5": 0}
    for s in scores:
        key = "<3" if s < 3 else f"{math.floor(s * 2) / 2:g}"
        table[key] += 1
    return table


def _detail(rating: Rating) -> str:
    raw = rating.raw if rating.raw is None or len(rating.raw) <= 2000 else rating.raw[:2000] + "..."
    return f"{rating.error}; raw output: {raw!r}"


def judge_filter(records: datasets.Dataset, config: JudgeConfig, *,
                 model: ModelSource | None = None, progress: Progress | None = None) -> StageResult:
    """Rate `records` with `model` and keep those scoring at least `config.threshold`."""
    started = time.perf_counter()
    model = resolve_model(model, config.model, stage=STAGE)
    features = judged_features(records.features)
    rows = records.to_list()
    examples = [example_of(row, row_index=i) for i, row in enumerate(rows)]
    warning = self_preference_warning(model.name, generator_labels(rows))
    if warning:
        log.warning(warning)
    ratings = rate(examples, model, aspect=config.aspect, mode=config.mode,
                   max_new_tokens=config.max_new_tokens, progress=progress)
    kept: list[dict[str, Any]] = []
    rejections = Rejections(STAGE, features)
    for row, rating in zip(rows, ratings):
        judge = JudgeMeta(model=model.name, aspect=config.aspect, mode=config.mode, raw=rating.raw,
                          distribution=rating.distribution, score_mass=rating.score_mass)
        out = {**row, "judge_score": rating.score,
               "meta": {**(row.get("meta") or {}), "judge": judge.model_dump()}}
        if not rating.ok:
            rejections.add(out, "judge_parse_error", _detail(rating))
        elif rating.score < config.threshold:
            rejections.add(out, "judge_below_threshold",
                           f"score {rating.score:.6g} < threshold {config.threshold:g}")
        else:
            kept.append(out)
    seconds = time.perf_counter() - started
    scores = [r.score for r in ratings if r.ok]
    stats = rejections.stats(
        model=model.name, aspect=config.aspect, mode=config.mode, threshold=config.threshold,
        rows_in=len(rows), kept=len(kept),
        parse_errors=dict(Counter(r.error.kind for r in ratings if r.error)),
        scores={"table": score_table(scores),
                "mean": round(sum(scores) / len(scores), 4) if scores else None},
        seconds=round(seconds, 3), examples_per_second=round(len(rows) / max(seconds, 1e-9), 2),
        self_preference=warning)
    return StageResult(kept=rows_to_dataset(kept, features), rejected=rejections.dataset(),
                       stats=stats)
