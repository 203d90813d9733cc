"""Load a training dataset, check every record, and shape it the way TRL's trainers read it.

Input: a tuneset run folder (its `kept/*.parquet`), a folder of `*.parquet` files (such as a
run folder's `kept/` or `best_of_n/`), or one record file (JSONL, JSON, CSV, TSV, Parquet, a
`save_to_disk` folder). Every record is checked BEFORE any model loads; the first problem
raises InputError naming the file, line (or row) and field:

    data/pairs.jsonl, line 4, field 'chosen[0].role': expected 'assistant' (chosen holds only
    the reply), got 'user'

Shapes handed to TRL (its conversational formats):

- SFT: prompt/completion, `{"prompt": messages[:-1], "completion": [messages[-1]]}`, so
  `completion_only_loss` masks every prompt token. Alpaca columns (`instruction`, `input`,
  `output`) without `messages` are accepted and turned into a user/assistant pair.
- reward, DPO: `{"prompt", "chosen", "rejected"}` as message lists.
- PPO, GRPO, RLOO prompts: the `prompt` of either shape above.

Not here: multi-turn loss on earlier assistant turns (only the last reply is trained;
earlier turns are context), tool messages.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import datasets

from pipelines.errors import InputError
from pipelines.io import RecordTable, read_table, require_columns, sha256_file, source_files
from pipelines.records import alpaca_messages

ROLES = ("system", "user", "assistant")
Kind = Literal["instruction", "preference"]


@dataclass
class TrainingData:
    """Validated records in a trainer's shape, plus where they came from."""

    kind: Kind
    dataset: datasets.Dataset
    files: dict[str, str] = field(default_factory=dict)   # file -> sha256
    ids: list[str | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.dataset)


def load_tables(path: str | Path) -> list[RecordTable]:
    """One RecordTable per file: every `kept/*.parquet` of a run folder, every `*.parquet` of a
    folder of parts, else `path` itself."""
    return [read_table(f) for f in source_files([path])]


def _check_messages(table: RecordTable, row: int, name: str, msgs: list[dict[str, Any]]) -> None:
    if not msgs:
        raise table.error(row, name, "expected at least one message, got an empty list")
    for i, msg in enumerate(msgs):
        if msg["role"] not in ROLES:
            raise table.error(row, f"{name}[{i}].role",
                              f"expected one of {list(ROLES)}, got {msg['role']!r}")
        if not msg["content"].strip():
            raise table.error(row, f"{name}[{i}].content",
                              "expected a non-empty string, got an empty one")


def check_conversation(table: RecordTable, row: int, msgs: list[dict[str, Any]],
                       name: str = "messages") -> None:
    """A conversation to learn from: ends with the assistant's reply, a user turn before it."""
    _check_messages(table, row, name, msgs)
    roles = [m["role"] for m in msgs]
    if "assistant" not in roles:
        raise table.error(row, name, f"no assistant turn (roles {roles}); expected the "
                          "conversation to end with the assistant's reply")
    if roles[-1] != "assistant":
        raise table.error(row, f"{name}[{len(msgs) - 1}].role", f"expected the last message to "
                          f"be the assistant's reply, got {roles[-1]!r}")
    if "user" not in roles[:-1]:
        raise table.error(row, name, f"no user turn before the reply (roles {roles})")


def check_prompt(table: RecordTable, row: int, msgs: list[dict[str, Any]],
                 name: str = "prompt") -> None:
    _check_messages(table, row, name, msgs)
    if msgs[-1]["role"] != "user":
        raise table.error(row, f"{name}[{len(msgs) - 1}].role",
                          f"expected the prompt to end with a user turn, got {msgs[-1]['role']!r}")


def check_reply(table: RecordTable, row: int, msgs: list[dict[str, Any]], name: str) -> None:
    _check_messages(table, row, name, msgs)
    for i, msg in enumerate(msgs):
        if msg["role"] != "assistant":
            raise table.error(row, f"{name}[{i}].role", f"expected 'assistant' ({name} holds "
                              f"only the reply), got {msg['role']!r}")


def digest(path: Path) -> str:
    """sha256 of a file; of a folder, sha256 over its files' names and sha256s."""
    if path.is_file():
        return sha256_file(path)
    h = hashlib.sha256()
    for child in sorted(p for p in path.rglob("*") if p.is_file()):
        h.update(f"{child.relative_to(path)}:{sha256_file(child)}".encode())
    return h.hexdigest()


def _plain(msgs: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{"role": m["role"], "content": m["content"]} for m in msgs]


def _ids(table: RecordTable) -> list[str | None]:
    ds = table.dataset
    return list(ds["id"]) if "id" in ds.column_names else [None] * len(ds)


def _conversations(table: RecordTable) -> list[list[dict[str, Any]]]:
    cols = table.dataset.column_names
    if "messages" in cols:
        require_columns(table, {"messages": "messages"})
        return list(table.dataset["messages"])
    if "instruction" in cols and "output" in cols:
        require_columns(table, {"instruction": "string", "output": "string"},
                        nonempty=["instruction", "output"])
        inputs = table.dataset["input"] if "input" in cols else [""] * len(table.dataset)
        return [[m.model_dump() for m in alpaca_messages(i, x or "", o)] for i, x, o in
                zip(table.dataset["instruction"], inputs, table.dataset["output"])]
    raise InputError(f"missing column 'messages'; the file has {cols}; expected tuneset "
                     "instruction records (messages) or Alpaca columns instruction/input/output",
                     file=table.path, field="messages")


def _empty(table: RecordTable) -> None:
    if len(table.dataset) == 0:
        raise InputError("no records; expected at least one", file=table.path)


def load_instructions(path: str | Path) -> TrainingData:
    """SFT data: `{"prompt": [...], "completion": [assistant reply]}` per record."""
    rows, ids, files = [], [], {}
    for table in load_tables(path):
        _empty(table)
        for row, msgs in enumerate(_conversations(table)):
            check_conversation(table, row, msgs)
            msgs = _plain(msgs)
            rows.append({"prompt": msgs[:-1], "completion": msgs[-1:]})
        ids += _ids(table)
        files[str(table.path)] = digest(table.path)
    return TrainingData("instruction", datasets.Dataset.from_list(rows), files, ids)


PAIR_COLUMNS = {"prompt": "messages", "chosen": "messages", "rejected": "messages"}


def load_preferences(path: str | Path) -> TrainingData:
    """Reward/DPO data: `{"prompt", "chosen", "rejected"}` message lists per pair."""
    rows, ids, files = [], [], {}
    for table in load_tables(path):
        _empty(table)
        require_columns(table, PAIR_COLUMNS)
        ds = table.dataset
        for row, (prompt, chosen, rejected) in enumerate(
                zip(ds["prompt"], ds["chosen"], ds["rejected"])):
            check_prompt(table, row, prompt)
            check_reply(table, row, chosen, "chosen")
            check_reply(table, row, rejected, "rejected")
            rows.append({"prompt": _plain(prompt), "chosen": _plain(chosen),
                         "rejected": _plain(rejected)})
        ids += _ids(table)
        files[str(table.path)] = digest(table.path)
    return TrainingData("preference", datasets.Dataset.from_list(rows), files, ids)


def load_any(path: str | Path) -> TrainingData:
    """Preference pairs when the first file has prompt/chosen/rejected, else instructions."""
    first = load_tables(path)[0].dataset.column_names
    if all(c in first for c in PAIR_COLUMNS):
        return load_preferences(path)
    return load_instructions(path)


LOADERS = {"instructions": load_instructions, "preferences": load_preferences,
           "prompts": load_any}
"""A stage's `data` kind (`alignment.registry.DataKind`) -> its loader; `prompts` are those of
instruction records or of pairs."""


def load_data(kind: str, path: str | Path) -> TrainingData:
    """The records of one kind, every one checked (see LOADERS)."""
    return LOADERS[kind](path)


def split(dataset: datasets.Dataset, fraction: float, seed: int
          ) -> tuple[datasets.Dataset, datasets.Dataset | None]:
    """(train, held-out) with round(n * fraction) rows held out (at least 1 when fraction > 0
    and there are 2 or more rows). fraction=0.1 on 8 rows -> 7 train, 1 held out."""
    if fraction <= 0 or len(dataset) < 2:
        return dataset, None
    n_eval = min(len(dataset) - 1, max(1, round(len(dataset) * fraction)))
    parts = dataset.train_test_split(test_size=n_eval, seed=seed, shuffle=True)
    return parts["train"], parts["test"]
