"""Record schemas: instruction examples and preference pairs, with stable content ids.

Columns follow TRL's dataset formats, so a stage's output goes to a trainer unchanged:

- instruction example: `id`, `messages` (conversational "messages" format), the Alpaca view
  `instruction` / `input` / `output`, and a typed `meta` struct;
- preference pair: `id`, `prompt` (messages), `chosen` / `rejected` (assistant messages),
  `score_chosen`, `score_rejected`, `meta`.

Each schema is one pydantic model; its Arrow/`datasets` features are derived from the model by
`features_of`, so the two can never disagree. `meta` is a struct with one optional sub-struct per
stage that writes lineage (`meta.template`, ...); a stage that adds lineage adds a field there.

Example:

    >>> rec = make_instruction("Name a colour.", "", "Blue.", meta=InstructionMeta(source="demo"))
    >>> rec.messages[0].content, rec.id == make_instruction("Name a colour.", "", "Blue.",
    ...     meta=InstructionMeta(source="other")).id
    ('Name a colour.', True)
"""

from __future__ import annotations

import hashlib
import json
import types
import typing
from collections.abc import Callable
from typing import Any, Literal

import datasets
import pyarrow as pa
from pydantic import BaseModel, ConfigDict

Role = Literal["system", "user", "assistant"]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Message(Record):
    role: Role
    content: str


class TemplateMeta(Record):
    """How a FLAN-style example was rendered."""

    task: str
    template_id: str
    template_name: str
    shots: int
    options_style: Literal["none", "flan2021", "flan2022", "template"]
    inverted: bool
    cot: bool
    source_row: int


class Similar(Record):
    instruction: str
    score: float


class SelfInstructMeta(Record):
    """How a self-instruct example was made: the round, what the prompt showed, the model."""

    round: int
    mode: Literal["self_instruct", "alpaca"]
    seed_ids: list[str]
    pool_ids: list[str]
    model: str
    params: dict[str, Any]
    is_classification: bool | None
    max_rouge: float
    most_similar: list[Similar]


class BestOfNMeta(Record):
    """A best-of-n (rejection sampling) pick: the top-scored of n sampled responses."""

    scorer: str
    score: float
    n: int
    model: str


class JudgeMeta(Record):
    """How the judge rated an example. `raw` is the judge's text (parse mode) or its score-token
    log-probs (logprob mode); `distribution` is p(0..5) renormalised over the score tokens and
    `score_mass` their probability before renormalising (logprob mode only)."""

    model: str
    aspect: str
    mode: Literal["parse", "logprob"]
    raw: str | None = None
    distribution: list[float] | None = None
    score_mass: float | None = None


class InstructionMeta(Record):
    source: str
    template: TemplateMeta | None = None
    self_instruct: SelfInstructMeta | None = None
    best_of_n: BestOfNMeta | None = None
    judge: JudgeMeta | None = None


class InstructionRecord(Record):
    id: str
    messages: list[Message]
    instruction: str
    input: str
    output: str
    meta: InstructionMeta


class PreferenceMeta(Record):
    source: str
    judge: str | None = None
    scoring: str | None = None
    policy: str | None = None
    verdicts: dict[str, Any] | None = None
    candidate_scores: list[float | None] | None = None
    chosen_model: str | None = None
    rejected_model: str | None = None


class PreferenceRecord(Record):
    id: str
    prompt: list[Message]
    chosen: list[Message]
    rejected: list[Message]
    score_chosen: float | None = None
    score_rejected: float | None = None
    meta: PreferenceMeta


def content_id(*parts: Any) -> str:
    """A stable 16-hex-digit id: sha256 over the canonical JSON of `parts`.

    The same content always gives the same id, across runs and machines; key order inside
    dicts does not matter: content_id({"a": 1, "b": 2}) == content_id({"b": 2, "a": 1}).
    """
    payload = json.dumps(parts, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def alpaca_messages(instruction: str, input: str, output: str) -> list[Message]:
    """The chat view of an Alpaca triple: the input follows the instruction after a blank line."""
    prompt = f"{instruction}\n\n{input}" if input else instruction
    return [Message(role="user", content=prompt), Message(role="assistant", content=output)]


def make_instruction(
    instruction: str, input: str, output: str, *, meta: InstructionMeta,
    messages: list[Message] | None = None,
) -> InstructionRecord:
    """An instruction record whose id hashes its conversation (not its lineage)."""
    msgs = messages if messages is not None else alpaca_messages(instruction, input, output)
    return InstructionRecord(
        id=content_id([m.model_dump() for m in msgs]),
        messages=msgs, instruction=instruction, input=input, output=output, meta=meta,
    )


def make_preference(
    prompt: list[Message], chosen: list[Message], rejected: list[Message], *,
    meta: PreferenceMeta, score_chosen: float | None = None, score_rejected: float | None = None,
) -> PreferenceRecord:
    dump = lambda msgs: [m.model_dump() for m in msgs]  # noqa: E731
    return PreferenceRecord(
        id=content_id(dump(prompt), dump(chosen), dump(rejected)),
        prompt=prompt, chosen=chosen, rejected=rejected,
        score_chosen=score_chosen, score_rejected=score_rejected, meta=meta,
    )


_SCALARS: dict[type, str] = {str: "string", int: "int64", float: "float64", bool: "bool"}


def _feature(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"only Optional[X] unions map to a feature, got {annotation}")
        return _feature(inner[0])
    if origin is Literal:
        return _feature(type(args[0]))
    if origin is list:
        return datasets.List(_feature(args[0]))
    if origin is dict or annotation is dict or annotation is Any:
        return datasets.Json()
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return {name: _feature(f.annotation) for name, f in annotation.model_fields.items()}
    if annotation in _SCALARS:
        return datasets.Value(_SCALARS[annotation])
    raise TypeError(f"no feature for annotation {annotation!r}")


def features_of(model: type[BaseModel]) -> datasets.Features:
    """The `datasets.Features` for a record model: str -> string, list -> List, model -> struct,
    dict/Any -> Json, Optional[X] -> X (nullable)."""
    return datasets.Features(_feature(model))


INSTRUCTION_FEATURES = features_of(InstructionRecord)
PREFERENCE_FEATURES = features_of(PreferenceRecord)


def _has_json(feature: Any) -> bool:
    if isinstance(feature, datasets.Json):
        return True
    if isinstance(feature, dict):
        return any(_has_json(f) for f in feature.values())
    if isinstance(feature, (datasets.List, datasets.Sequence)):
        return _has_json(feature.feature)
    return False


def _json_encoder(feature: Any) -> Callable[[Any], Any] | None:
    """A function that JSON-encodes the values at `Json` positions of `feature` (and leaves the
    rest alone), or None when `feature` holds no Json. Built once per column."""
    if not _has_json(feature):
        return None
    if isinstance(feature, datasets.Json):
        return lambda v: None if v is None else json.dumps(v, ensure_ascii=False)
    if isinstance(feature, dict):
        inner = {k: e for k, e in ((k, _json_encoder(f)) for k, f in feature.items()) if e}
        return lambda v: None if v is None else {**v, **{k: e(v.get(k)) for k, e in inner.items()}}
    item = _json_encoder(feature.feature)
    return lambda v: None if v is None else [item(x) for x in v]


def _storage_type(arrow_type: pa.DataType) -> pa.DataType:
    if isinstance(arrow_type, pa.BaseExtensionType):
        return arrow_type.storage_type
    if pa.types.is_struct(arrow_type):
        return pa.struct([pa.field(f.name, _storage_type(f.type)) for f in arrow_type])
    if pa.types.is_list(arrow_type):
        return pa.list_(_storage_type(arrow_type.value_type))
    return arrow_type


def rows_to_dataset(rows: list[dict[str, Any]], features: datasets.Features) -> datasets.Dataset:
    """Plain dict rows -> a Dataset with exactly `features`, also when `rows` is empty.

    The Arrow table is built directly (pyarrow converts nested lists and structs natively,
    several times faster than `datasets`' per-value encoding); values under `Json` features are
    JSON-encoded first, stored as strings, and cast to Arrow's JSON type."""
    target = features.arrow_schema
    arrays = []
    for field, (name, feature) in zip(target, features.items()):
        values = [row.get(name) for row in rows]
        encode = _json_encoder(feature)
        if encode is not None:
            values = [encode(v) for v in values]
        # subtle: cast arrays, not the table: a cast empty table has no chunks, which
        # pyarrow cannot combine for JSON columns
        arrays.append(pa.array(values, type=_storage_type(field.type)).cast(field.type))
    return datasets.Dataset(pa.Table.from_arrays(arrays, schema=target))


def to_dataset(records: list[Record], model: type[Record]) -> datasets.Dataset:
    """Records -> a Dataset with the model's exact features (also when `records` is empty)."""
    return rows_to_dataset([r.model_dump() for r in records], features_of(model))
