"""The generate stage: run a prompt file through a backend and keep every completion.

Each input record gives a conversation: its `messages` column (a trailing assistant turn is
dropped, so instruction records are re-answered), or a text column (`prompt`, then
`instruction` + `input`) as one user turn. Output records are the input columns plus
`completions`, a list of {text, finish_reason, prompt_tokens, completion_tokens}.

    >>> result = generate_records(read_records("prompts.jsonl"), load_generator(ModelConfig()),
    ...                           GenerationParams(max_new_tokens=64))
    >>> result.kept[0]["completions"][0]["text"]
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import datasets

from pipelines.errors import InputError
from pipelines.models.params import GenerationParams, Generator, Progress
from pipelines.records import rows_to_dataset
from pipelines.stage import Rejections, StageResult

STAGE = "generate"
COMPLETION = {"text": datasets.Value("string"), "finish_reason": datasets.Value("string"),
              "prompt_tokens": datasets.Value("int64"), "completion_tokens": datasets.Value("int64")}


def conversation_of(row: dict[str, Any], field: str | None, *, row_index: int,
                    file: str | None = None) -> list[dict[str, str]]:
    """The conversation to send for one record (see the module docstring)."""
    field = field or next((f for f in ("messages", "prompt", "instruction") if f in row), None)
    if field is None or field not in row:
        raise InputError(f"no prompt column; expected 'messages', 'prompt' or 'instruction', "
                         f"got {sorted(row)}", file=file, row=row_index, field=field)
    value = row[field]
    if field == "messages" or isinstance(value, list):
        messages = [{"role": m["role"], "content": m["content"]} for m in value or []]
        if messages and messages[-1]["role"] == "assistant":
            messages = messages[:-1]
        if not messages or not all(m["content"].strip() for m in messages):
            raise InputError("expected a conversation with non-empty turns", file=file,
                             row=row_index, field=field)
        return messages
    text = value if isinstance(value, str) else ""
    if field == "instruction" and row.get("input"):
        text = f"{text}\n\n{row['input']}"
    if not text.strip():
        raise InputError("expected a non-empty prompt", file=file, row=row_index, field=field)
    return [{"role": "user", "content": text}]


def generate_records(records: datasets.Dataset, generator: Generator, params: GenerationParams, *,
                     field: str | None = None, file: str | None = None,
                     progress: Progress | None = None) -> StageResult:
    started = time.perf_counter()
    rows = records.to_list()
    conversations = [conversation_of(r, field, row_index=i, file=file) for i, r in enumerate(rows)]
    completions = generator.generate(conversations, params, progress=progress)
    features = datasets.Features({**records.features, "completions": datasets.List(COMPLETION)})
    out_rows = [{**row, "completions": [c.model_dump(exclude={"logprobs"}) for c in comps]}
                for row, comps in zip(rows, completions)]
    seconds = time.perf_counter() - started
    new_tokens = sum(c.completion_tokens for comps in completions for c in comps)
    reasons = Counter(c.finish_reason for comps in completions for c in comps)
    stats = {"stage": STAGE, "model": generator.name, "params": params.model_dump(mode="json"),
             "prompts": len(rows), "completions": sum(len(c) for c in completions),
             "finish_reasons": dict(reasons), "new_tokens": new_tokens,
             "seconds": round(seconds, 3), "tokens_per_second": round(new_tokens / max(seconds, 1e-9), 2)}
    rejected = Rejections(STAGE, records.features).dataset()
    return StageResult(kept=rows_to_dataset(out_rows, features), rejected=rejected, stats=stats)
