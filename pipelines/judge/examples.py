"""What the judge reads: an (instruction, input, response) example, taken from a record.

Instruction records give their Alpaca view (`instruction`, `input`, `output`); records with
only `messages` give the last assistant turn as the response and the turns before it as the
instruction (a single user turn as is; several turns as `role: content` lines). Preference
rows (`prompt`, `chosen`, `rejected`) hold message lists or plain strings.

    >>> example_of({"messages": [{"role": "user", "content": "Name a colour."},
    ...                          {"role": "assistant", "content": "Blue."}]})
    Example(instruction='Name a colour.', input='', response='Blue.')
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pipelines.errors import InputError


@dataclass(frozen=True)
class Example:
    instruction: str
    input: str
    response: str


def _conversation_text(messages: list[dict[str, Any]]) -> str:
    if len(messages) == 1:
        return messages[0]["content"]
    return "\n\n".join(f"{m['role']}: {m['content']}" for m in messages)


def _is_messages(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(m, dict) and isinstance(m.get("role"), str) and isinstance(m.get("content"), str)
        for m in value)


def example_of(row: dict[str, Any], *, row_index: int = 0, file: str | None = None) -> Example:
    """The example to rate for one instruction record (see the module docstring)."""
    if isinstance(row.get("instruction"), str) and isinstance(row.get("output"), str):
        if not row["instruction"].strip():
            raise InputError("expected a non-empty instruction", file=file, row=row_index,
                             field="instruction")
        return Example(row["instruction"], row.get("input") or "", row["output"])
    messages = row.get("messages")
    if not _is_messages(messages):
        raise InputError(f"expected `instruction` and `output` strings or a `messages` list of "
                         f"{{role, content}}; got columns {sorted(row)}", file=file,
                         row=row_index, field="messages")
    if len(messages) < 2 or messages[-1]["role"] != "assistant":
        raise InputError("expected a conversation that ends with an assistant turn to rate",
                         file=file, row=row_index, field="messages")
    return Example(_conversation_text(messages[:-1]), "", messages[-1]["content"])


def text_of(value: Any, *, field: str, row_index: int, file: str | None = None,
            role: str | None = None) -> str:
    """A plain string, or the content of a message list (the last `role` turn when given)."""
    if isinstance(value, str):
        return value
    if _is_messages(value) and value:
        if role is not None:
            turns = [m for m in value if m["role"] == role]
            if turns:
                return turns[-1]["content"]
        return _conversation_text(value)
    raise InputError("expected a string or a list of {role, content} messages", file=file,
                     row=row_index, field=field)


def pair_of(row: dict[str, Any], *, row_index: int = 0,
            file: str | None = None) -> tuple[Example, Example]:
    """(chosen, rejected) examples of a labelled preference row."""
    missing = [c for c in ("prompt", "chosen", "rejected") if c not in row]
    if missing:
        raise InputError(f"missing column(s) {missing}; a labelled preference file has "
                         f"`prompt`, `chosen` and `rejected`", file=file, row=row_index,
                         field=missing[0])
    prompt = text_of(row["prompt"], field="prompt", row_index=row_index, file=file)
    chosen = text_of(row["chosen"], field="chosen", row_index=row_index, file=file, role="assistant")
    rejected = text_of(row["rejected"], field="rejected", row_index=row_index, file=file,
                       role="assistant")
    if not prompt.strip():
        raise InputError("expected a non-empty prompt", file=file, row=row_index, field="prompt")
    return Example(prompt, "", chosen), Example(prompt, "", rejected)
