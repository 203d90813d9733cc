"""The pairing stage: score each prompt's candidates, select chosen/rejected pairs, pick best-of-n.

Input: the samples (`sampling.SAMPLE_FEATURES`: one row per prompt with its candidates). Output,
in TRL's conversational preference format:

    {"prompt": [{"role": "user", ...}], "chosen": [{"role": "assistant", ...}],
     "rejected": [{"role": "assistant", ...}], "score_chosen": 4.6, "score_rejected": 2.1,
     "meta": {"judge": ..., "scoring": ..., "policy": ..., "verdicts": ..., "candidate_scores": [...]}}

and, with `best_of_n`, `extra["best_of_n"]`: instruction records holding each prompt's
top-scored response. `model=` is the scorer (`scorers.Scorer`), or for a judge scorer a
Generator or a loader for `scorer.judge.model`. Rejected rows are the sample rows (prompt and
every candidate) plus the pair when there is one, the level and every score:
`preferences_too_few_responses` (prompt level), `preferences_tie`, `preferences_below_margin`,
`preferences_length_ratio`, `preferences_length_balance` (pair level).

    >>> from pipelines.records import rows_to_dataset
    >>> from tests.pipelines.preferences.helpers import TableScorer
    >>> samples = rows_to_dataset([{"prompt_id": "p", "prompt": [{"role": "user", "content": "q"}],
    ...     "candidates": [{"text": t, "sampler": 0, "model": "m", "finish_reason": "stop"}
    ...                    for t in ("good", "bad")], "duplicates": 0}], SAMPLE_FEATURES)
    >>> result = pair_responses(samples, PreferenceConfig(),
    ...                         model=TableScorer({"good": 5.0, "bad": 1.0}))
    >>> result.kept[0]["chosen"][0]["content"], result.extra["best_of_n"][0]["output"]
    ('good', 'good')
"""

from __future__ import annotations

import random
import time
from collections import Counter
from typing import Any

import datasets
import numpy as np

from pipelines.judge.bias import self_preference_warning
from pipelines.models import ModelSource
from pipelines.preferences.config import PreferenceConfig
from pipelines.preferences.length import balance, length_ratio, p_chosen_longer
from pipelines.preferences.sampling import SAMPLE_FEATURES, STAGE
from pipelines.preferences.scorers import Scorer, build_scorer
from pipelines.preferences.selection import P, select_pairs
from pipelines.records import (
    BestOfNMeta,
    InstructionMeta,
    InstructionRecord,
    Message,
    PreferenceMeta,
    PreferenceRecord,
    make_instruction,
    make_preference,
    to_dataset,
)
from pipelines.stage import Progress, Rejections, StageResult, rejected_features

PAIR_COLUMNS = {"level": datasets.Value("string"), "chosen": datasets.Value("string"),
                "rejected": datasets.Value("string"), "score_chosen": datasets.Value("float64"),
                "score_rejected": datasets.Value("float64"),
                "scores": datasets.List(datasets.Value("float64"))}
"""What a rejected sample row adds: prompt or pair level, the pair, and every candidate's score."""
REJECT_FEATURES = rejected_features(SAMPLE_FEATURES, PAIR_COLUMNS)
"""The rejected rows' features (for samples with `SAMPLE_FEATURES`)."""


def _reject(rejections: Rejections, sample: dict, scores: list, reason: str, detail: str, *,
            level: str, pair: tuple[int, int] | None = None) -> None:
    texts = texts_of(sample)
    rejections.add(sample, reason, detail, level=level,
                   chosen=texts[pair[0]] if pair else None,
                   rejected=texts[pair[1]] if pair else None,
                   score_chosen=scores[pair[0]] if pair else None,
                   score_rejected=scores[pair[1]] if pair else None, scores=scores)


def _pair_verdicts(detail: dict[str, Any], chosen: int, rejected: int) -> dict[str, Any] | None:
    for pair in detail.get("pairs", []):
        if {pair["x"], pair["y"]} == {chosen, rejected}:
            return {"pair": pair, "all": detail["pairs"]}
    return detail or None


def pair_responses(records: datasets.Dataset, config: PreferenceConfig, *,
                   model: Scorer | ModelSource | None = None,
                   progress: Progress | None = None) -> StageResult:
    """Pairs from scored samples, with best-of-n in `extra` (see the module docstring)."""
    started = time.perf_counter()
    scorer = build_scorer(config.scorer, model)
    rows = records.to_list()
    texts = [texts_of(r) for r in rows]
    scores, details = scorer.score([r["prompt"] for r in rows], texts)
    if progress:
        progress(len(rows), len(rows))
    rng = random.Random(f"{config.seed}/preferences")
    pairs: list[tuple[dict, int, int, list, dict]] = []
    rejected = Rejections(STAGE, records.features, extra_columns=PAIR_COLUMNS)
    best: list[InstructionRecord] = []
    counts: Counter[str] = Counter()
    for row, sc, detail in zip(rows, scores, details):
        counts["unscored"] += sum(s is None for s in sc)
        if config.best_of_n and any(s is not None for s in sc):
            top = max((k for k, s in enumerate(sc) if s is not None), key=lambda k: (sc[k], -k))
            best.append(_best_of_n(row, top, sc, scorer))
        selection = select_pairs(sc, config.policy, margin=config.margin, rng=rng)
        if selection.too_few:
            usable = sum(s is not None for s in sc)
            _reject(rejected, row, sc, f"{P}too_few_responses",
                    f"{usable} usable of {len(sc)} (after {row['duplicates']} duplicates)", level="prompt")
            continue
        for i, j, reason, why in selection.dropped:
            _reject(rejected, row, sc, reason, why, level="pair", pair=(i, j))
        pairs.extend((row, i, j, sc, detail) for i, j in selection.pairs)
        counts["prompts_with_pairs"] += bool(selection.pairs)
    before = p_chosen_longer([(texts_of(r)[i], texts_of(r)[j]) for r, i, j, _, _ in pairs])
    if config.max_length_ratio is not None:
        kept = []
        for item in pairs:
            r, i, j, sc, _ = item
            ratio = length_ratio(texts_of(r)[i], texts_of(r)[j])
            if ratio > config.max_length_ratio:
                _reject(rejected, r, sc, f"{P}length_ratio",
                        f"length ratio {ratio:.2f} > {config.max_length_ratio:g}", level="pair", pair=(i, j))
            else:
                kept.append(item)
        pairs = kept
    if config.balance_length:
        drop = set(balance([(texts_of(r)[i], texts_of(r)[j]) for r, i, j, _, _ in pairs], rng))
        for k in sorted(drop):
            r, i, j, sc, _ = pairs[k]
            _reject(rejected, r, sc, f"{P}length_balance", "dropped to balance chosen-longer pairs",
                    level="pair", pair=(i, j))
        pairs = [p for k, p in enumerate(pairs) if k not in drop]
    made = [_pair_record(r, i, j, sc, detail, config, scorer) for r, i, j, sc, detail in pairs]
    after = p_chosen_longer([(texts_of(r)[i], texts_of(r)[j]) for r, i, j, _, _ in pairs])
    every_score = [x for sc in scores for x in sc if x is not None]
    samplers = {c["model"] for r in rows for c in r["candidates"]}
    warning = None if scorer.kind == "reward_model" else self_preference_warning(scorer.name, samplers)
    stats = rejected.stats(
        prompts=len(rows), k=config.k, candidates=sum(len(t) for t in texts),
        duplicates=sum(r["duplicates"] for r in rows), unscored=counts["unscored"],
        prompts_with_pairs=counts["prompts_with_pairs"], pairs=len(made), best_of_n=len(best),
        scorer={"kind": scorer.kind, "name": scorer.name, "mode": scorer.mode},
        policy=config.policy, margin=config.margin,
        p_chosen_longer={"selected": before, "kept": after}, self_preference_warning=warning,
        score_histogram=_histogram(every_score), seconds=round(time.perf_counter() - started, 3))
    extra = {"best_of_n": to_dataset(best, InstructionRecord)} if config.best_of_n else {}
    return StageResult(kept=to_dataset(made, PreferenceRecord), rejected=rejected.dataset(),
                       stats=stats, extra=extra)


def _histogram(values: list[float], bins: int = 20) -> dict[str, list]:
    """Counts of `values` in `bins` equal bins between their min and max (for the PNG)."""
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    counts, edges = np.histogram(values, bins=bins, range=(low, high if high > low else low + 1.0))
    return {"edges": edges.tolist(), "counts": counts.tolist()}


def texts_of(row: dict) -> list[str]:
    return [c["text"] for c in row["candidates"]]


def _messages(prompt: list[dict[str, str]]) -> list[Message]:
    return [Message(**m) for m in prompt]


def _pair_record(row, i, j, scores, detail, config, scorer) -> PreferenceRecord:
    cands = row["candidates"]
    meta = PreferenceMeta(
        source=STAGE, judge=scorer.name, scoring=f"{scorer.kind}:{scorer.mode}" if scorer.mode else scorer.kind,
        policy=config.policy, verdicts=_pair_verdicts(detail, i, j), candidate_scores=scores,
        chosen_model=cands[i]["model"], rejected_model=cands[j]["model"])
    return make_preference(_messages(row["prompt"]),
                           [Message(role="assistant", content=cands[i]["text"])],
                           [Message(role="assistant", content=cands[j]["text"])],
                           meta=meta, score_chosen=scores[i], score_rejected=scores[j])


def _best_of_n(row, top, scores, scorer) -> InstructionRecord:
    prompt = row["prompt"]
    answer = row["candidates"][top]["text"]
    meta = InstructionMeta(source=f"{STAGE}:best_of_n", best_of_n=BestOfNMeta(
        scorer=scorer.name, score=scores[top], n=len(scores), model=row["candidates"][top]["model"]))
    last_user = next(m["content"] for m in reversed(prompt) if m["role"] == "user")
    return make_instruction(last_user, "", answer, meta=meta,
                            messages=_messages(prompt) + [Message(role="assistant", content=answer)])
