"""Prompt builders for self-instruct; the wording lives in `prompts/*.jinja` beside this file.

    >>> print(bootstrap_prompt(["Name a bird.", "Sort these numbers."], count=3))
    Below is a numbered list of tasks. ...
    <BLANKLINE>
    1. Name a bird.
    2. Sort these numbers.
    <BLANKLINE>
    Continue the list with 3 new tasks numbered 3 to 5. ...

The bootstrap and Alpaca builders return one user message; the classification and instance
builders return a chat few-shot conversation (system instructions, then seed tasks as
demonstrated user/assistant turns), which small chat models follow far more reliably than a
single long prompt. `parse.py` reads the replies.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path
from typing import Any

from pipelines.self_instruct.seeds import Task
from pipelines.templating.templates import compile_template, render


@functools.cache
def _template(name: str):
    path = Path(str(resources.files("pipelines.self_instruct") / "prompts" / f"{name}.jinja"))
    return compile_template(path.read_text(encoding="utf-8"), template=name, file=path)


def _render(name: str, **variables: Any) -> str:
    return render(_template(name), variables, template=name).strip()


def bootstrap_prompt(instructions: list[str], *, count: int) -> str:
    return _render("bootstrap", instructions=instructions, start=len(instructions) + 1, count=count)


def alpaca_prompt(demos: list[Task], *, count: int) -> str:
    shown = [{"instruction": t.instruction, "input": t.instances[0].input, "output": t.instances[0].output}
             for t in demos]
    return _render("alpaca", demos=shown, start=len(shown) + 1, count=count)


def _fewshot(system: str, turns: list[tuple[str, str]], final: str) -> list[dict[str, str]]:
    """A chat few-shot conversation: system instructions, demonstrated turns, the real ask."""
    messages = [{"role": "system", "content": system}]
    for user, assistant in turns:
        messages += [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
    return messages + [{"role": "user", "content": final}]


def classify_prompt(task: str, examples: list[Task]) -> list[dict[str, str]]:
    """Few-shot yes/no: does the task have a fixed label set? (a conversation)"""
    turns = [(_render("task_turn", task=t.instruction),
              _render("classify_answer", is_classification=bool(t.is_classification)))
             for t in examples]
    return _fewshot(_render("classify_system"), turns, _render("task_turn", task=task))


def instances_prompt(task: str, examples: list[Task], *, output_first: bool,
                     max_instances: int) -> list[dict[str, str]]:
    """Few-shot instance generation (a conversation): `Label:`/`Input:` when output_first,
    else `Input:`/`Output:`; seed tasks' instances are the demonstrated answers."""
    kind = "instances_output_first" if output_first else "instances_input_first"
    turns = [(_render("task_turn", task=t.instruction),
              _render(f"{kind}_answer", instances=[{"input": i.input, "output": i.output}
                                                   for i in t.instances[:max_instances]]))
             for t in examples]
    system = _render(f"{kind}_system", max_instances=max_instances)
    return _fewshot(system, turns, _render("task_turn", task=task))
