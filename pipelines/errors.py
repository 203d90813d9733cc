"""Errors a user can act on.

Every error about bad input says where (file, line or row, field) and what was expected, e.g.

    data/tasks.jsonl, line 7, field 'label': expected one of ['no', 'yes'], got 'maybe'

Nothing here catches exceptions; stages raise these before writing anything.
"""

from __future__ import annotations

from pathlib import Path


class TunesetError(Exception):
    """Base class for errors tuneset raises on purpose."""


class InputError(TunesetError, ValueError):
    """A problem with a user's input file or record.

    `line` is a 1-based line number in a text file; `row` is a 0-based record index (for
    formats without lines, or for records already in memory).
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        row: int | None = None,
        field: str | None = None,
    ) -> None:
        self.file = str(file) if file is not None else None
        self.line = line
        self.row = row
        self.field = field
        self.detail = message
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field:
            where.append(f"field {self.field!r}")
        return f"{', '.join(where)}: {self.detail}" if where else self.detail


class ConfigError(TunesetError, ValueError):
    """A configuration that cannot run. `problems` lists every issue found, one per line."""

    def __init__(self, problems: list[str], *, file: str | Path | None = None) -> None:
        self.problems = list(problems)
        self.file = str(file) if file is not None else None
        head = f"{self.file}: " if self.file else ""
        count = len(self.problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{head}{count} configuration {noun}:\n{lines}")


class TemplateError(TunesetError, ValueError):
    """A template that does not compile or render (syntax error, missing field, sandbox breach)."""

    def __init__(self, message: str, *, template: str | None = None, file: str | Path | None = None):
        self.template = template
        self.file = str(file) if file is not None else None
        where = [w for w in (self.file, f"template {template!r}" if template else None) if w]
        super().__init__(f"{', '.join(where)}: {message}" if where else message)


class MissingExtraError(TunesetError, ImportError):
    """An optional dependency is needed; the message names the extra that installs it."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs the optional package {package!r}; "
            f"install it with: pip install 'tuneset[{extra}]'"
        )
