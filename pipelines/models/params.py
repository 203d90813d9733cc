"""Generation parameters, completions, and the Generator protocol every model stage uses.

    >>> params = GenerationParams(temperature=0.7, top_p=0.5, presence_penalty=2.0,
    ...                           stop=["\\n\\n"], max_new_tokens=256, seed=0)
    >>> params.strategy
    'sample'

and every backend answers `generate(conversations, params, n=2)` with `n` completions per
conversation, e.g. `[[Completion(text='Red, green, blue.', finish_reason='stop', ...), ...]]`.

Decoding strategy follows from the parameters: `num_beams > 1` is beam search, `temperature > 0`
is sampling, otherwise greedy. A backend that cannot honour a parameter raises
`UnsupportedParameter` naming the parameter and the backend; nothing is silently ignored.

Seeded sampling is per record: with `seed` set, every backend samples conversation i from its
own seed, `record_seed(seed, conversation)`, derived from the conversation's content id and the
configured seed. What a record gets therefore does not depend on the batch it ran in, its
position, or the process or Ray worker that ran it; the same content gets the same samples.

    >>> record_seed(0, [{"role": "user", "content": "Hi"}]) == record_seed(0, [{"role": "user", "content": "Hi"}])
    True
    >>> record_seed(0, [{"role": "user", "content": "Hi"}]) != record_seed(1, [{"role": "user", "content": "Hi"}])
    True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import Field, model_validator

from pipelines.configbase import StageConfig
from pipelines.errors import TunesetError
from pipelines.records import Message, content_id
from pipelines.stage import Progress

Conversation = Sequence[Message | dict[str, str]]


class GenerationParams(StageConfig):
    max_new_tokens: int = Field(256, ge=1)
    temperature: float = Field(0.0, ge=0.0)
    top_k: int | None = Field(None, ge=1)
    top_p: float | None = Field(None, gt=0.0, le=1.0)
    num_beams: int = Field(1, ge=1)
    length_penalty: float | None = None
    repetition_penalty: float | None = Field(None, gt=0.0)
    presence_penalty: float | None = Field(None, ge=-2.0, le=2.0)
    frequency_penalty: float | None = Field(None, ge=-2.0, le=2.0)
    stop: list[str] = []
    n: int = Field(1, ge=1)
    seed: int | None = None
    logprobs: bool = False

    @property
    def strategy(self) -> Literal["greedy", "beam", "sample"]:
        if self.num_beams > 1:
            return "beam"
        return "sample" if self.temperature > 0 else "greedy"

    @model_validator(mode="after")
    def _check(self) -> GenerationParams:
        if self.num_beams > 1 and self.temperature > 0:
            raise ValueError("beam search is deterministic here: set temperature 0 with num_beams > 1")
        if self.strategy != "beam" and self.length_penalty is not None:
            raise ValueError("length_penalty applies to beam search only: set num_beams > 1")
        if self.strategy == "greedy" and (self.top_k or self.top_p):
            raise ValueError("top_k / top_p apply to sampling: set temperature > 0")
        if self.strategy == "greedy" and self.n > 1:
            raise ValueError(f"n={self.n} greedy completions would be identical: sample "
                             "(temperature > 0) or use beam search with num_beams >= n")
        if self.strategy == "beam" and self.n > self.num_beams:
            raise ValueError(f"n={self.n} is more than num_beams={self.num_beams}")
        if any(not s for s in self.stop):
            raise ValueError("stop strings must not be empty")
        return self

    def with_n(self, n: int | None) -> GenerationParams:
        return self if n is None or n == self.n else self.model_copy(update={"n": n})


class Completion(StageConfig):
    text: str
    finish_reason: Literal["stop", "length"]
    prompt_tokens: int
    completion_tokens: int
    logprobs: list[float] | None = None


class UnsupportedParameter(TunesetError, ValueError):
    def __init__(self, parameter: str, backend: str, hint: str = "") -> None:
        self.parameter, self.backend = parameter, backend
        super().__init__(f"the {backend} backend cannot honour `{parameter}`" +
                         (f"; {hint}" if hint else ""))


class BackendError(TunesetError, RuntimeError):
    """A model call failed for good (after the retries the config allows)."""


@runtime_checkable
class Generator(Protocol):
    """What every model stage talks to. `n` overrides `params.n` when given; `progress(done,
    total)`, in conversations, is called after every batch the backend runs."""

    name: str

    def generate(self, conversations: list[Conversation], params: GenerationParams,
                 n: int | None = None, *, progress: Progress | None = None) -> list[list[Completion]]: ...

    def score_tokens(self, conversations: list[Conversation], prefix: str, candidates: list[str],
                     *, progress: Progress | None = None) -> list[dict[str, float]]: ...


def as_dicts(conversation: Conversation) -> list[dict[str, str]]:
    """Messages as plain {role, content} dicts (accepts Message models or dicts)."""
    out = []
    for m in conversation:
        if isinstance(m, Message):
            out.append(m.model_dump())
        else:
            out.append({"role": m["role"], "content": m["content"]})
    return out


def record_seed(seed: int, conversation: Conversation) -> int:
    """The sampling seed of one conversation: 63 bits of the content id of (seed, messages)."""
    return int(content_id("sample", seed, as_dicts(conversation)), 16) >> 1


def record_seeds(params: GenerationParams, conversations: list[Conversation]) -> list[int] | None:
    """Each conversation's `record_seed` when `params` samples with a seed, else None."""
    if params.seed is None or params.strategy != "sample":
        return None
    return [record_seed(params.seed, c) for c in conversations]


def shifted(progress: Progress | None, offset: int, total: int) -> Progress | None:
    """`progress` for a part of a larger job: the part's `done` is counted after `offset` items,
    out of the job's `total`."""
    if progress is None:
        return None
    return lambda done, _part_total: progress(offset + done, total)


def cut_at_stop(text: str, stop: list[str]) -> tuple[str, bool]:
    """Text up to (not including) the earliest stop string, and whether one was found.

    >>> cut_at_stop("1. a\\n\\n2. b", ["\\n\\n"])
    ('1. a', True)
    """
    cut = min((i for i in (text.find(s) for s in stop) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


def unsupported(params: GenerationParams, backend: str, fields: dict[str, str]) -> None:
    """Raise UnsupportedParameter for the first set field of `fields` (name -> hint)."""
    defaults: dict[str, Any] = {"num_beams": 1, "logprobs": False}
    for name, hint in fields.items():
        value = getattr(params, name)
        if value not in (None, defaults.get(name)):
            raise UnsupportedParameter(name, backend, hint)
