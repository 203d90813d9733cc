"""Shared pieces of every stage config: strict pydantic models, paths, readable errors.

Stage configs subclass `StageConfig` (`extra="forbid"`, validated at construction). Paths in a
config file are relative to that file: load with `context={"base_dir": folder}`.

A ValidationError becomes one line per problem, naming the field path, the value received and
what is allowed, e.g.

    templating.tasks[0].type: input should be 'nli', 'sentiment', ... (got 'nlii')
    templating.tasks[1].colour: unknown field; allowed: name, type, source, ... (got 'red')
"""

from __future__ import annotations

import types
import typing
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, ValidationInfo


class StageConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _resolve(value: Path, info: ValidationInfo) -> Path:
    base = (info.context or {}).get("base_dir")
    return value if value.is_absolute() or base is None else Path(base) / value


def _must_exist(value: Path) -> Path:
    if not value.exists():
        raise ValueError(f"no such file or folder: {value}")
    return value


RelPath = Annotated[Path, AfterValidator(_resolve)]
"""A path resolved against the config file's folder (need not exist yet)."""

InputPath = Annotated[Path, AfterValidator(_resolve), AfterValidator(_must_exist)]
"""A path resolved against the config file's folder that must exist."""


def _some_files(value: Path) -> Path:
    from pipelines.io.sources import is_glob, raw_files

    if not is_glob(value):
        return _must_exist(value)
    if not raw_files(value):
        raise ValueError(f"no file matches {value}")
    return value


RawInput = Annotated[Path, AfterValidator(_resolve), AfterValidator(_some_files)]
"""Raw input that may grow between runs: a file, a folder of record files, or a glob
(`pipelines.io.raw_files`); resolved against the config file's folder; must match a file."""


def _loc_text(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _unwrap(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType, Annotated):
        return [t for arg in typing.get_args(annotation) for t in _unwrap(arg)]
    if origin in (list, tuple, dict):
        return [t for arg in typing.get_args(annotation) for t in _unwrap(arg)]
    return [annotation]


def _model_at(root: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model class that owns the last part of `loc`, walking through lists and Optionals."""
    current: list[Any] = [root]
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        nxt = []
        for cls in current:
            if isinstance(cls, type) and issubclass(cls, BaseModel) and part in cls.model_fields:
                nxt.extend(_unwrap(cls.model_fields[part].annotation))
        current = nxt
    models = [c for c in current if isinstance(c, type) and issubclass(c, BaseModel)]
    return models[0] if models else None


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_validation_error(exc: ValidationError, root: type[BaseModel], prefix: str = "") -> list[str]:
    """One readable line per error in `exc`."""
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        where = _loc_text(((prefix,) if prefix else ()) + loc)
        if err["type"] == "extra_forbidden":
            owner = _model_at(root, loc)
            allowed = ", ".join(owner.model_fields) if owner else "see the docs"
            lines.append(f"{where}: unknown field; allowed: {allowed} (got {_short(err['input'])})")
            continue
        msg = err["msg"]
        msg = msg[0].lower() + msg[1:] if msg else msg
        msg = msg.removeprefix("value error, ")
        if err["type"] == "missing":
            lines.append(f"{where}: required field is missing")
        else:
            lines.append(f"{where}: {msg} (got {_short(err['input'])})")
    return lines
