"""The generate stage: run prompt records through a model and keep every completion.

Each record gives a conversation (`pipelines.generate.prompts.conversation_of`). Output records
are the input columns plus `completions`, a list of {text, finish_reason, prompt_tokens,
completion_tokens}. Nothing is dropped: every prompt gets `params.n` completions, and stats count
them per finish reason.

    >>> from tests.fakes import ScriptedGenerator
    >>> echo = ScriptedGenerator(lambda conv, params, k: conv[-1]["content"].upper())
    >>> result = generate_records(datasets.Dataset.from_list([{"prompt": "hi"}]),
    ...                           GenerateConfig(), model=echo)
    >>> result.kept[0]["completions"][0]["text"], result.stats["completions"]
    ('HI', 1)
"""

from __future__ import annotations

import time
from collections import Counter

import datasets

from pipelines.generate.config import GenerateConfig
from pipelines.generate.prompts import conversations_of
from pipelines.models import ModelSource, resolve_model
from pipelines.records import rows_to_dataset
from pipelines.stage import Progress, Rejections, StageResult

STAGE = "generate"
COMPLETION = {"text": datasets.Value("string"), "finish_reason": datasets.Value("string"),
              "prompt_tokens": datasets.Value("int64"), "completion_tokens": datasets.Value("int64")}


def generate_records(records: datasets.Dataset, config: GenerateConfig, *,
                     model: ModelSource | None = None,
                     progress: Progress | None = None) -> StageResult:
    """Every record of `records` with `config.params.n` completions from `model`."""
    started = time.perf_counter()
    generator = resolve_model(model, config.model, stage=STAGE)
    rows = records.to_list()
    conversations = conversations_of(records, config.field)
    completions = generator.generate(conversations, config.params, progress=progress)
    features = datasets.Features({**records.features, "completions": datasets.List(COMPLETION)})
    out_rows = [{**row, "completions": [c.model_dump(exclude={"logprobs"}) for c in comps]}
                for row, comps in zip(rows, completions)]
    seconds = time.perf_counter() - started
    new_tokens = sum(c.completion_tokens for comps in completions for c in comps)
    reasons = Counter(c.finish_reason for comps in completions for c in comps)
    rejections = Rejections(STAGE, records.features)
    stats = rejections.stats(
        model=generator.name, params=config.params.model_dump(mode="json"), prompts=len(rows),
        completions=sum(len(c) for c in completions), finish_reasons=dict(reasons),
        new_tokens=new_tokens, seconds=round(seconds, 3),
        tokens_per_second=round(new_tokens / max(seconds, 1e-9), 2))
    return StageResult(kept=rows_to_dataset(out_rows, features), rejected=rejections.dataset(),
                       stats=stats)
