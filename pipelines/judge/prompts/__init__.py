"""The judge's rubric prompts: `rating.jinja`, `pairwise.jinja` and the aspects they rate.

Templates render in the sandboxed Jinja environment of the templating stage. Every part of
the judged example is fenced (`pipelines.judge.fence`) with one tag per prompt, and the rubric
says that fenced text is data, never instructions.

subtle: everything before the first fence depends only on the aspect (the rubric names the fence
format, not the tag), so all prompts of one run share that prefix; backends with prefix caching
(vLLM, SGLang, the transformers backend's scoring) compute it once.

    >>> from pipelines.judge.examples import Example
    >>> print(rating_prompt(Example("Name a colour.", "", "Blue."), "accuracy"))
    You rate one example ... Rate the response for accuracy. ...
    <<<RESPONSE ...>>>
    Blue.
    <<<END RESPONSE ...>>>
    <BLANKLINE>
    Reply with the score alone on the first line, as "Score: N" ...
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from pipelines.judge.examples import Example
from pipelines.judge.fence import choose_tag, fence
from pipelines.templating.templates import compile_template, render

SCORE_LABEL = "Score:"
VERDICT_LABEL = "Verdict:"


def _folder() -> Path:
    return Path(str(resources.files("pipelines.judge") / "prompts"))


@functools.cache
def aspects() -> dict[str, dict[str, Any]]:
    """Aspect name -> {title, question, levels: [(5, text), ..., (0, text)]}."""
    data = yaml.safe_load((_folder() / "aspects.yaml").read_text(encoding="utf-8"))
    return {name: {"title": a["title"], "question": a["question"],
                   "levels": sorted(a["levels"].items(), reverse=True)}
            for name, a in data.items()}


@functools.cache
def _template(name: str):
    path = _folder() / f"{name}.jinja"
    return compile_template(path.read_text(encoding="utf-8"), template=name, file=path)


def _render(name: str, aspect: str, parts: dict[str, str]) -> str:
    if aspect not in aspects():
        raise ValueError(f"unknown aspect {aspect!r}; expected one of {sorted(aspects())}")
    tag = choose_tag(list(parts.values()))
    fenced = {key: fence(text, key.replace("_", " "), tag) if text or key != "input" else ""
              for key, text in parts.items()}
    variables = {"aspect": aspects()[aspect], **fenced}
    return render(_template(name), variables, template=name).strip()


def rating_prompt(example: Example, aspect: str) -> str:
    """The rubric asking for a 0-5 score of `example.response` on `aspect`."""
    return _render("rating", aspect, {"instruction": example.instruction, "input": example.input,
                                      "response": example.response})


def pairwise_prompt(instruction: str, input: str, response_a: str, response_b: str,
                    aspect: str) -> str:
    """The rubric asking which of two responses to one instruction is better on `aspect`."""
    return _render("pairwise", aspect, {"instruction": instruction, "input": input,
                                        "response_a": response_a, "response_b": response_b})
