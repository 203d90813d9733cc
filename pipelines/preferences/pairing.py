"""The preference stage: sample K responses per prompt, score them, select chosen/rejected pairs.

Two steps, so a crash loses little: `sample_prompts` (per shard of prompts; the flow caches each
shard) and `build_pairs` (score every candidate, apply the policy and length control, write the
pairs and the best-of-n picks).

Outputs, in TRL's conversational preference format:

    {"prompt": [{"role": "user", ...}], "chosen": [{"role": "assistant", ...}],
     "rejected": [{"role": "assistant", ...}], "score_chosen": 4.6, "score_rejected": 2.1,
     "meta": {"judge": ..., "scoring": ..., "policy": ..., "verdicts": ..., "candidate_scores": [...]}}

and, with `best_of_n`, instruction records holding each prompt's top-scored response.
Rejected rows keep the prompt, the pair (when there is one), every candidate and its score:
`preferences_too_few_responses` (prompt level), `preferences_tie`, `preferences_below_margin`,
`preferences_length_ratio`, `preferences_length_balance` (pair level).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from typing import Any

import datasets
import numpy as np

from pipelines.generate import conversation_of
from pipelines.judge.bias import self_preference_warning
from pipelines.models import Generator
from pipelines.preferences.config import PreferenceConfig
from pipelines.preferences.length import balance, length_ratio, p_chosen_longer
from pipelines.preferences.sampling import sample_candidates
from pipelines.preferences.scorers import Scorer
from pipelines.preferences.selection import P, select_pairs
from pipelines.records import (
    BestOfNMeta,
    InstructionMeta,
    InstructionRecord,
    Message,
    PreferenceMeta,
    PreferenceRecord,
    content_id,
    make_instruction,
    make_preference,
    rows_to_dataset,
    to_dataset,
)
from pipelines.stage import REJECT_COLUMNS, StageResult

STAGE = "preferences"
MESSAGES = datasets.List({"role": datasets.Value("string"), "content": datasets.Value("string")})
CANDIDATE = {"text": datasets.Value("string"), "sampler": datasets.Value("int64"),
             "model": datasets.Value("string"), "finish_reason": datasets.Value("string")}
SAMPLE_FEATURES = datasets.Features({
    "prompt_id": datasets.Value("string"), "prompt": MESSAGES,
    "candidates": datasets.List(CANDIDATE), "duplicates": datasets.Value("int64")})
REJECT_FEATURES = datasets.Features({
    "prompt_id": datasets.Value("string"), "prompt": MESSAGES, "level": datasets.Value("string"),
    "chosen": datasets.Value("string"), "rejected": datasets.Value("string"),
    "score_chosen": datasets.Value("float64"), "score_rejected": datasets.Value("float64"),
    "candidates": datasets.List(datasets.Value("string")),
    "scores": datasets.List(datasets.Value("float64")), **REJECT_COLUMNS})


def prompts_of(records: datasets.Dataset, field: str | None = None,
               file: str | None = None) -> list[list[dict[str, str]]]:
    """The conversation to answer for each record (a trailing assistant turn is dropped)."""
    return [conversation_of(row, field, row_index=i, file=file) for i, row in enumerate(records)]


def sample_prompts(conversations: list[list[dict[str, str]]],
                   samplers: list[tuple[Generator, Any, int]], *, progress=None) -> datasets.Dataset:
    """K candidates per prompt (duplicates dropped) as a dataset of SAMPLE_FEATURES rows."""
    candidates, duplicates = sample_candidates(conversations, samplers, progress=progress)
    rows = [{"prompt_id": content_id(conv), "prompt": conv,
             "candidates": [c.__dict__ for c in cands], "duplicates": dup}
            for conv, cands, dup in zip(conversations, candidates, duplicates)]
    return rows_to_dataset(rows, SAMPLE_FEATURES)


def _reject(rows: list[dict], sample: dict, scores: list, reason: str, detail: str, *,
            level: str, pair: tuple[int, int] | None = None) -> None:
    texts = [c["text"] for c in sample["candidates"]]
    rows.append({"prompt_id": sample["prompt_id"], "prompt": sample["prompt"], "level": level,
                 "chosen": texts[pair[0]] if pair else None,
                 "rejected": texts[pair[1]] if pair else None,
                 "score_chosen": scores[pair[0]] if pair else None,
                 "score_rejected": scores[pair[1]] if pair else None,
                 "candidates": texts, "scores": scores, "stage": STAGE, "reason": reason,
                 "detail": detail})


def _pair_verdicts(detail: dict[str, Any], chosen: int, rejected: int) -> dict[str, Any] | None:
    for pair in detail.get("pairs", []):
        if {pair["x"], pair["y"]} == {chosen, rejected}:
            return {"pair": pair, "all": detail["pairs"]}
    return detail or None


def build_pairs(samples: datasets.Dataset, config: PreferenceConfig, scorer: Scorer
                ) -> tuple[StageResult, datasets.Dataset]:
    """(pairs with rejections and stats, best-of-n instruction records)."""
    started = time.perf_counter()
    rows = samples.to_list()
    texts = [[c["text"] for c in r["candidates"]] for r in rows]
    scores, details = scorer.score([r["prompt"] for r in rows], texts)
    rng = random.Random(f"{config.seed}/preferences")
    pairs: list[tuple[dict, int, int, list, dict]] = []
    rejected: list[dict] = []
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
    records = [_pair_record(r, i, j, sc, detail, config, scorer) for r, i, j, sc, detail in pairs]
    after = p_chosen_longer([(texts_of(r)[i], texts_of(r)[j]) for r, i, j, _, _ in pairs])
    reasons = Counter(r["reason"] for r in rejected)
    every_score = [x for sc in scores for x in sc if x is not None]
    samplers = {c["model"] for r in rows for c in r["candidates"]}
    warning = None if scorer.kind == "reward_model" else self_preference_warning(scorer.name, samplers)
    stats = {
        "stage": STAGE, "prompts": len(rows), "k": config.k,
        "candidates": sum(len(t) for t in texts), "duplicates": sum(r["duplicates"] for r in rows),
        "unscored": counts["unscored"], "prompts_with_pairs": counts["prompts_with_pairs"],
        "pairs": len(records), "best_of_n": len(best), "rejected": dict(sorted(reasons.items())),
        "scorer": {"kind": scorer.kind, "name": scorer.name, "mode": scorer.mode},
        "policy": config.policy, "margin": config.margin,
        "p_chosen_longer": {"selected": before, "kept": after},
        "self_preference_warning": warning, "score_histogram": _histogram(every_score),
        "seconds": round(time.perf_counter() - started, 3)}
    result = StageResult(kept=to_dataset(records, PreferenceRecord),
                         rejected=rows_to_dataset(rejected, REJECT_FEATURES), stats=stats)
    return result, to_dataset(best, InstructionRecord)


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
