"""Which text of a record is compared, pulled out of the Arrow columns without a Python loop.

The record kind comes from the columns: `prompt` + `chosen` means a preference pair, anything
else an instruction example. Per `text` setting:

| text              | instruction example                     | preference pair                 |
|-------------------|-----------------------------------------|---------------------------------|
| instruction       | `instruction`                           | user contents of `prompt`       |
| instruction_input | `instruction` + blank line + `input`    | user contents of `prompt`       |
| conversation      | every message content of `messages`     | contents of `prompt` + `chosen` |

Message contents are joined with a newline; the input is appended only when not empty:

    {"instruction": "Add.", "input": "2 + 2"}  --instruction_input-->  "Add.\\n\\n2 + 2"

(For a preference pair the prompt's user turn already holds the input, so `instruction_input`
reads the same as `instruction`.) With `field`, the text is that string column as it is (for
reference files of plain texts). A missing column or a null value raises InputError naming the
row and field.

Not here: system prompts or tool calls as separate parts; they are contents like any other.
"""

from __future__ import annotations

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pipelines.errors import InputError


def record_kind(columns: list[str]) -> str:
    """'preference' when the records have `prompt` and `chosen`, else 'instruction'."""
    return "preference" if {"prompt", "chosen"} <= set(columns) else "instruction"


def _column(table: pa.Table, name: str, why: str) -> pa.Array:
    if name not in table.column_names:
        raise InputError(f"missing column {name!r} needed for {why}; the records have "
                         f"{table.column_names}", field=name)
    column = table.column(name)
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def _no_nulls(values: pa.Array, field: str, what: str) -> pa.Array:
    if values.null_count:
        row = int(np.flatnonzero(values.is_null().to_numpy(zero_copy_only=False))[0])
        raise InputError(f"expected {what}, got null", row=row, field=field)
    return values


def _string(table: pa.Table, name: str, why: str) -> pa.Array:
    values = _column(table, name, why)
    if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
        raise InputError(f"expected a string column for {why}, got {values.type}", field=name)
    return _no_nulls(values, name, "a string")


def _joined_contents(table: pa.Table, name: str, why: str, role: str | None = None) -> pa.Array:
    """Per row: the `content` of each message in list column `name` (only `role`'s, if given),
    joined with newlines."""
    messages = _no_nulls(_column(table, name, why), name, "a list of messages")
    if not pa.types.is_list(messages.type) and not pa.types.is_large_list(messages.type):
        raise InputError(f"expected a list of {{role, content}} messages, got {messages.type}",
                         field=name)
    values = messages.flatten()
    if not pa.types.is_struct(values.type) or values.type.get_field_index("content") < 0:
        raise InputError(f"expected messages with a `content` field, got {values.type}", field=name)
    contents = pc.struct_field(values, "content")
    parents = pc.list_parent_indices(messages).to_numpy()
    if role is not None:
        keep = pc.equal(pc.struct_field(values, "role"), role).fill_null(False)
        contents = contents.filter(keep)
        parents = parents[keep.to_numpy(zero_copy_only=False)]
    counts = np.bincount(parents, minlength=len(messages))
    offsets = np.zeros(len(messages) + 1, np.int32)
    np.cumsum(counts, out=offsets[1:])
    joined = pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets), contents), "\n")
    return _no_nulls(joined, f"{name}[].content", "message contents that are strings")


def compared_texts(records: datasets.Dataset, text: str, field: str | None = None) -> pa.Array:
    """The compared text of every record, as an Arrow string array (see the module docstring)."""
    table = records.with_format("arrow")[:] if len(records) else records.data.table.slice(0, 0)
    if field is not None:
        return _string(table, field, f"reference_field {field!r}")
    why = f"text: {text}"
    if record_kind(table.column_names) == "preference":
        prompt = _joined_contents(table, "prompt", why, role="user" if text != "conversation" else None)
        if text != "conversation":
            return prompt
        return pc.binary_join_element_wise(prompt, _joined_contents(table, "chosen", why), "\n")
    if text == "conversation":
        return _joined_contents(table, "messages", why)
    instruction = _string(table, "instruction", why)
    if text == "instruction":
        return instruction
    inputs = _string(table, "input", why)
    with_input = pc.binary_join_element_wise(instruction, inputs, "\n\n")
    return pc.if_else(pc.equal(pc.utf8_length(inputs), 0), instruction, with_input)
