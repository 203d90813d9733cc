"""The conversation a record asks a model to continue, shared by every stage that prompts a model
with records (generate, preference sampling).

A record gives its `messages` column (a trailing assistant turn is dropped, so instruction
records are re-answered), or a text column (`prompt`, then `instruction` + `input`) as one user
turn:

    >>> conversation_of({"instruction": "Translate.", "input": "cat"}, None, row_index=0)
    [{'role': 'user', 'content': 'Translate.\\n\\ncat'}]
    >>> conversation_of({"prompt": " "}, None, row_index=3)
    Traceback (most recent call last):
    ...
    pipelines.errors.InputError: row 3, field 'prompt': expected a non-empty prompt
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import datasets

from pipelines.errors import InputError


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


def conversations_of(records: datasets.Dataset, field: str | None) -> list[list[dict[str, str]]]:
    """The conversation of every record, in order; a bad record raises InputError with its row."""
    return [conversation_of(row, field, row_index=i) for i, row in enumerate(records)]


def check_prompts(field: str | None) -> Callable[[datasets.Dataset], None]:
    """A `read_sources` check: every record gives a conversation (errors name file and line)."""
    def check(dataset: datasets.Dataset) -> None:
        conversations_of(dataset, field)
    return check
