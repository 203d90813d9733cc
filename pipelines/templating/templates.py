"""Prompt templates: the sandboxed Jinja environment and the built-in template sets.

A `Template` pairs a prompt and a target, both Jinja compiled once in an
`ImmutableSandboxedEnvironment` with `StrictUndefined`: a template cannot reach Python internals
(`{{ ''.__class__ }}` raises), cannot mutate its inputs, and a missing variable is an error, not
an empty string.

Built-in sets live in `builtin/<type>.yaml`, one per task type, written in this project's words.
Inverted templates ("turn the task around") target an input field; `when` restricts a template
to the rows where a Jinja expression holds (e.g. `is_positive` for "write an implied sentence").

    >>> t = builtin_templates("nli")[0]
    >>> prompt, target = t.render_pair({"premise": "It rained.", "hypothesis": "It was wet.",
    ...                                 "answer": "yes"})
    >>> print(prompt)
    It rained.
    <BLANKLINE>
    Going only by the passage above, can we say that "It was wet."?
    >>> target
    'yes'
    >>> t.render_prompt({"premise": "It rained."})
    Traceback (most recent call last):
    ...
    pipelines.errors.TemplateError: ...nli.yaml, template 'nli-01': undefined variable: 'hypothesis' is undefined; available: ['premise']
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

from pipelines.errors import TemplateError


@functools.lru_cache(maxsize=1)
def sandbox() -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined, autoescape=False,
                                         keep_trailing_newline=False)


def compile_template(source: str, *, template: str, file: str | Path | None = None) -> jinja2.Template:
    try:
        return sandbox().from_string(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"Jinja syntax error on line {exc.lineno}: {exc.message}",
                            template=template, file=file) from exc


def compile_expression(source: str, *, template: str, file: str | Path | None = None):
    try:
        return sandbox().compile_expression(source)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"Jinja syntax error in expression {source!r}: {exc.message}",
                            template=template, file=file) from exc


@functools.lru_cache(maxsize=1)
def _sandbox_globals() -> dict[str, Any]:
    return dict(sandbox().globals)


def render(compiled: Any, variables: dict[str, Any], *, template: str, file: str | None = None) -> Any:
    """Render a compiled template or expression, turning Jinja failures into TemplateError."""
    try:
        if isinstance(compiled, jinja2.Template):
            # subtle: Template.render copies the environment's globals (a ChainMap) into every
            # context; merging them once and passing shared=True is 2-3x faster. Templates here
            # come from sandbox(), which adds no per-template globals.
            merged = _sandbox_globals() | variables
            return jinja2.utils.concat(compiled.root_render_func(compiled.new_context(merged, shared=True)))
        return compiled(variables)
    except jinja2.exceptions.SecurityError as exc:
        raise TemplateError(f"blocked by the sandbox: {exc}", template=template, file=file) from exc
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"undefined variable: {exc.message}; available: "
                            f"{sorted(variables)}", template=template, file=file) from exc
    except (jinja2.TemplateError, TypeError, ValueError, KeyError, IndexError) as exc:
        raise TemplateError(f"rendering failed: {type(exc).__name__}: {exc}",
                            template=template, file=file) from exc


@dataclass
class Template:
    """One prompt/target pair. `options` says whether an options block may be appended
    (built-in classification templates that are not inverted). A `joined` template (the
    promptsource kind) keeps prompt and target in one body, split on `|||` after rendering."""

    id: str
    name: str
    prompt: str
    target: str
    inverted: bool = False
    when: str | None = None
    options: bool = False
    answer_choices: str | None = None
    joined: bool = False
    file: str | None = None
    _compiled: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._compiled["prompt"] = compile_template(self.prompt, template=self.id, file=self.file)
        if not self.joined:
            self._compiled["target"] = compile_template(self.target, template=self.id,
                                                        file=self.file)
        if self.when:
            self._compiled["when"] = compile_expression(self.when, template=self.id, file=self.file)
        if self.answer_choices:
            self._compiled["choices"] = compile_template(self.answer_choices, template=self.id,
                                                         file=self.file)

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the compiled Jinja (which does not pickle); compiled again on load,
        e.g. when templating rows render on Ray workers."""
        return {**self.__dict__, "_compiled": {}}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__post_init__()

    def _render(self, part: str, variables: dict[str, Any]) -> Any:
        return render(self._compiled[part], variables, template=self.id, file=self.file)

    def applies(self, variables: dict[str, Any]) -> bool:
        return "when" not in self._compiled or bool(self._render("when", variables))

    def render_prompt(self, variables: dict[str, Any]) -> str:
        return self.render_pair(variables)[0] if self.joined else \
            self._render("prompt", variables).strip()

    def render_pair(self, variables: dict[str, Any]) -> tuple[str, str]:
        """(prompt, target), both stripped."""
        if not self.joined:
            return (self._render("prompt", variables).strip(),
                    self._render("target", variables).strip())
        parts = self._render("prompt", variables).split("|||")
        if len(parts) != 2:
            raise TemplateError(f"expected the rendered text to hold one '|||' between prompt "
                                f"and target, found {len(parts) - 1}", template=self.id,
                                file=self.file)
        return parts[0].strip(), parts[1].strip()

    def render_choices(self, variables: dict[str, Any]) -> list[str]:
        if "choices" not in self._compiled:
            return []
        return [c.strip() for c in self._render("choices", variables).split("|||")]


def _builtin_dir() -> Path:
    return Path(str(resources.files("pipelines.templating") / "builtin"))


def load_template_file(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise TemplateError(f"malformed YAML{where}: {getattr(exc, 'problem', exc)}",
                            file=path) from exc
    if not isinstance(data, dict):
        raise TemplateError("expected a mapping at the top of the file", file=path)
    return data


@functools.cache
def builtin_templates(task_type: str) -> tuple[Template, ...]:
    """The built-in template set of a task type, compiled."""
    from pipelines.templating.config import LABELLED_TYPES

    path = _builtin_dir() / f"{task_type}.yaml"
    data = load_template_file(path)
    templates = []
    for i, item in enumerate(data.get("templates", [])):
        missing = [k for k in ("id", "name", "prompt", "target") if k not in item]
        if missing:
            raise TemplateError(f"template #{i} lacks {missing}", file=path)
        inverted = bool(item.get("inverted", False))
        templates.append(Template(
            id=item["id"], name=item["name"], prompt=item["prompt"], target=item["target"],
            inverted=inverted, when=item.get("when"),
            options=task_type in LABELLED_TYPES and not inverted, file=str(path)))
    return tuple(templates)


@dataclass(frozen=True)
class CotPhrases:
    cues: tuple[str, ...]
    answers: tuple[Template, ...]
    inverted: tuple[Template, ...]


@functools.lru_cache(maxsize=1)
def cot_phrases() -> CotPhrases:
    """Chain-of-thought cues (appended to prompts), answer formats and inverted CoT prompts."""
    path = _builtin_dir() / "cot.yaml"
    data = load_template_file(path)
    answers = tuple(Template(id=f"cot-answer-{i:02d}", name="cot answer", prompt="", target=src,
                             file=str(path)) for i, src in enumerate(data["answers"], start=1))
    inverted = tuple(Template(id=item["id"], name=item["name"], prompt=item["prompt"],
                              target="{{ question }}", inverted=True, file=str(path))
                     for item in data["inverted"])
    return CotPhrases(cues=tuple(data["cues"]), answers=answers, inverted=inverted)
