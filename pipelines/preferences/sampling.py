"""The sampling stage: K responses per prompt record, from one or several samplers.

A sampler is a model (any backend) with its own generation parameters and response count, so
diversity can come from different models and from temperature, as in UltraFeedback:

    samplers:
      - {model: {backend: transformers}, params: {temperature: 0.7, top_p: 0.95}, n: 2}
      - {model: {backend: transformers}, params: {temperature: 1.0}, n: 2}

`model=` is a Generator (it answers for every sampler) or a loader called with each sampler's
`ModelConfig` (`pipelines.models.load_generator`). Responses are compared after collapsing
whitespace; a repeat (`preferences_duplicate_response`) or an empty response
(`preferences_empty_response`) is rejected, with the prompt record and the candidate, and the
first copy keeps its place. Every candidate is accounted for:
`stats["candidates"] == stats["unique"] + len(rejected)`.

    >>> from tests.pipelines.preferences.helpers import sampler
    >>> records = datasets.Dataset.from_list([{"prompt": "q1"}])
    >>> config = PreferenceConfig(samplers=[{"params": {"temperature": 1.0}, "n": 3}])
    >>> result = sample_responses(records, config, model=sampler({"q1": ["a", " a ", "b"]}))
    >>> [c["text"] for c in result.kept[0]["candidates"]], list(result.rejected["reason"])
    (['a', 'b'], ['preferences_duplicate_response'])
"""

from __future__ import annotations

import time

import datasets

from pipelines.generate import conversations_of
from pipelines.models import ModelSource, resolve_model
from pipelines.preferences.config import PreferenceConfig
from pipelines.records import content_id, rows_to_dataset
from pipelines.stage import Progress, Rejections, StageResult

STAGE = "preferences"
MESSAGES = datasets.List({"role": datasets.Value("string"), "content": datasets.Value("string")})
CANDIDATE = {"text": datasets.Value("string"), "sampler": datasets.Value("int64"),
             "model": datasets.Value("string"), "finish_reason": datasets.Value("string")}
SAMPLE_FEATURES = datasets.Features({
    "prompt_id": datasets.Value("string"), "prompt": MESSAGES,
    "candidates": datasets.List(CANDIDATE), "duplicates": datasets.Value("int64")})
"""The samples: one row per prompt with its unique candidates (what pairing reads)."""


def _key(text: str) -> str:
    return " ".join(text.split())


def sample_responses(records: datasets.Dataset, config: PreferenceConfig, *,
                     model: ModelSource | None = None,
                     progress: Progress | None = None) -> StageResult:
    """K = sum of the samplers' `n` candidates per prompt record (see the module docstring)."""
    started = time.perf_counter()
    conversations = conversations_of(records, config.prompt_field)
    candidates: list[list[dict]] = [[] for _ in conversations]
    for index, sampler in enumerate(config.samplers):
        generator = resolve_model(model, sampler.model, stage=STAGE)
        outputs = generator.generate(conversations, sampler.params.with_n(sampler.n))
        for slot, completions in zip(candidates, outputs):
            slot.extend({"text": c.text, "sampler": index, "model": generator.name,
                         "finish_reason": c.finish_reason} for c in completions)
        if progress:
            progress(index + 1, len(config.samplers))
    rejections = Rejections(STAGE, records.features, extra_columns={
        "prompt_id": datasets.Value("string"), "candidate": CANDIDATE})
    rows = []
    for record, conversation, made in zip(records, conversations, candidates):
        prompt_id = content_id(conversation)
        first: dict[str, int] = {}
        unique = []
        for cand in made:
            key = _key(cand["text"])
            if not key:
                rejections.add(record, f"{STAGE}_empty_response",
                               f"sampler {cand['sampler']} returned an empty response",
                               prompt_id=prompt_id, candidate=cand)
            elif key in first:
                rejections.add(record, f"{STAGE}_duplicate_response",
                               f"repeats candidate {first[key]} (whitespace collapsed)",
                               prompt_id=prompt_id, candidate=cand)
            else:
                first[key] = len(unique)
                unique.append(cand)
        rows.append({"prompt_id": prompt_id, "prompt": conversation, "candidates": unique,
                     "duplicates": len(made) - len(unique)})
    stats = rejections.stats(
        prompts=len(rows), k=config.k, candidates=sum(len(c) for c in candidates),
        unique=sum(len(r["candidates"]) for r in rows),
        seconds=round(time.perf_counter() - started, 3))
    return StageResult(kept=rows_to_dataset(rows, SAMPLE_FEATURES), rejected=rejections.dataset(),
                       stats=stats)
