"""Read model output back into tasks and instances, tolerating the ways small models stray.

Numbered lists (bootstrap prompts):

    >>> parse_numbered("Sure! Here are more:\\n9. Name a bird.\\n10) Sort these words\\n   by length.")
    ['Name a bird.', 'Sort these words by length.']

A line that starts with a number opens an item; an unnumbered line continues the open item; a
blank line closes it; text before the first numbered line (a preamble) is ignored.

Alpaca blocks (`N. Instruction:` / `N. Input:` / `N. Output:`, separated by `###`), instance
lists (`Example N` / `Input:` / `Output:`; `Label:` / `Input:` for classification), and yes/no
answers are read the same forgiving way. Whether the LAST item of a response was cut off is
decided by the caller from the finish reason, not here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NUMBERED = re.compile(r"^\s*(?:\*\*)?(\d{1,3})\s*[.):]\s*(?:\*\*)?\s*(.*)$")
NO_INPUT = "<noinput>"


def parse_numbered(text: str) -> list[str]:
    items: list[str] = []
    current: list[str] | None = None
    for line in text.splitlines():
        match = _NUMBERED.match(line)
        if match:
            if current is not None:
                items.append(" ".join(current).strip())
            current = [match.group(2).strip()]
        elif not line.strip():
            if current is not None:
                items.append(" ".join(current).strip())
            current = None
        elif current is not None:
            current.append(line.strip())
    if current is not None:
        items.append(" ".join(current).strip())
    return [item for item in items if item]


@dataclass(frozen=True)
class Instance:
    input: str
    output: str


@dataclass(frozen=True)
class AlpacaTask:
    instruction: str
    input: str
    output: str


_ALPACA = re.compile(r"^\s*\d+\s*\.\s*(Instruction|Input|Output)\s*:\s?(.*)$", re.IGNORECASE)


def parse_alpaca(text: str) -> list[AlpacaTask]:
    """Tasks in the `N. Instruction: / N. Input: / N. Output:` layout; `###` separates tasks.
    A block without an instruction or an output is skipped; `<noinput>` becomes ''."""
    tasks = []
    for block in re.split(r"^\s*###\s*$", text, flags=re.MULTILINE):
        fields: dict[str, list[str]] = {}
        key = None
        for line in block.splitlines():
            match = _ALPACA.match(line)
            if match:
                key = match.group(1).lower()
                fields[key] = [match.group(2)]
            elif key is not None:
                fields[key].append(line)
        if "instruction" not in fields or "output" not in fields:
            continue
        value = {k: "\n".join(v).strip() for k, v in fields.items()}
        inp = value.get("input", "")
        tasks.append(AlpacaTask(value["instruction"], "" if inp.strip() == NO_INPUT else inp,
                                value["output"]))
    return tasks


_FIELD = re.compile(r"^\s*(Input|Output|Label)\s*:\s?(.*)$", re.IGNORECASE)
_EXAMPLE = re.compile(r"^\s*Example\s*\d+\s*:?\s*$", re.IGNORECASE)


def parse_instances(text: str, *, output_first: bool) -> list[Instance]:
    """Instances from `Input:`/`Output:` pairs (or `Label:`/`Input:` when output_first).
    Stops at a following `Task:` line, which means the model started inventing a new task."""
    first, second = ("label", "input") if output_first else ("input", "output")
    found: list[Instance] = []
    current: dict[str, list[str]] = {}
    key = None

    def close() -> None:
        if first in current and second in current:
            value = {k: "\n".join(v).strip() for k, v in current.items()}
            inp = value["input"]
            inp = "" if inp == NO_INPUT else inp
            out = value["label" if output_first else "output"]
            found.append(Instance(inp, out))
        current.clear()

    for line in text.splitlines():
        if line.strip().lower().startswith("task:"):
            break
        if _EXAMPLE.match(line):
            close()
            key = None
            continue
        match = _FIELD.match(line)
        if match:
            name = match.group(1).lower()
            if name == first and first in current:
                close()
            key = name
            current[key] = [match.group(2)]
        elif key is not None:
            current[key].append(line)
    close()
    return found


def parse_yes_no(text: str) -> bool | None:
    """True for an answer starting with yes, False for no, None otherwise."""
    word = re.match(r"\W*(\w+)", text)
    if not word:
        return None
    head = word.group(1).lower()
    return True if head == "yes" else False if head == "no" else None
