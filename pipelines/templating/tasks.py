"""Load a task spec's rows and turn each into template variables, checking everything first.

For every row this resolves the label to (index, display text), or marks it "no target" (-1),
and builds the variables a template sees: the type's canonical fields, `answer`, `options`,
`is_positive`, `label`, `rationale` (built-in templates), or the raw row with `label` as an
index plus `answer_choices` (promptsource templates). Any bad row raises InputError naming the
file, line and field before the stage renders anything.

    >>> task = prepare_task(spec)            # spec: TaskSpec for an NLI file
    >>> task.rows[0].variables["answer"], task.rows[0].label_index
    ('yes', 0)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipelines.errors import ConfigError
from pipelines.io import RecordTable, read_table, require_columns
from pipelines.templating.config import ANSWER_FIELD, LABELLED_TYPES, TASK_FIELDS, TaskSpec
from pipelines.templating.promptsource import load_promptsource
from pipelines.templating.templates import Template, builtin_templates

NO_LABEL = -1


@dataclass
class TaskRow:
    index: int                 # 0-based position in the source file
    raw: dict[str, Any]
    variables: dict[str, Any]
    label_index: int | None    # None for unlabelled types, NO_LABEL (-1) for "no target"
    rationale: str | None = None
    key: tuple = ()            # the row's content, to keep a row out of its own exemplars

    def __post_init__(self) -> None:
        self.key = tuple(sorted((k, str(v)) for k, v in self.variables.items()))


@dataclass
class PreparedTask:
    spec: TaskSpec
    table: RecordTable
    rows: list[TaskRow]
    templates: list[Template]
    options: list[str]
    fewshot: list[TaskRow]
    fewshot_is_source: bool
    promptsource: bool = False
    _pools: dict[str, list[TaskRow]] = field(default_factory=dict, repr=False)

    def pool_for(self, template: Template) -> list[TaskRow]:
        """Few-shot candidates the template applies to (labelled, `when` holds)."""
        if template.id not in self._pools:
            self._pools[template.id] = [
                r for r in self.fewshot if r.label_index != NO_LABEL and template.applies(r.variables)]
        return self._pools[template.id]


class _Labels:
    """Maps raw label values to (index, text) per the spec's `labels`."""

    def __init__(self, spec: TaskSpec, values: list[Any]) -> None:
        if isinstance(spec.labels, list):
            self.raw = list(range(len(spec.labels)))
            self.names = list(spec.labels)
        elif isinstance(spec.labels, dict):
            self.raw = list(spec.labels)
            self.names = [str(v) for v in spec.labels.values()]
        else:
            distinct = sorted({str(v) for v in values if v is not None and not _is_no_label(v)})
            self.raw, self.names = distinct, distinct
        self._lookup = {str(r): i for i, r in enumerate(self.raw)}
        if isinstance(spec.labels, list):  # label names also name themselves
            for i, name in enumerate(spec.labels):
                self._lookup.setdefault(str(name), i)

    def index(self, value: Any) -> int | None:
        """Index of a raw value, NO_LABEL for -1, None when unknown."""
        key = str(value)
        if key in self._lookup:
            return self._lookup[key]
        return NO_LABEL if _is_no_label(value) else None


def _is_no_label(value: Any) -> bool:
    return str(value).strip() == "-1"


def load_task_templates(spec: TaskSpec) -> list[Template]:
    templates: list[Template] = []
    if spec.promptsource is not None:
        templates = load_promptsource(spec.promptsource)
    else:
        templates = list(builtin_templates(spec.type))
    if spec.template_ids is not None:
        known = {t.id for t in templates}
        unknown = [i for i in spec.template_ids if i not in known]
        if unknown:
            raise ConfigError([f"task {spec.name!r}: template_ids {unknown} not found; "
                               f"known ids: {sorted(known)}"])
        templates = [t for t in templates if t.id in spec.template_ids]
    if not spec.include_inverted:
        templates = [t for t in templates if not t.inverted]
    if not templates:
        raise ConfigError([f"task {spec.name!r}: no templates left to render with"])
    return templates


def _columns_needed(spec: TaskSpec) -> dict[str, str]:
    cols: dict[str, str] = {}
    if spec.type is not None:
        for canonical in TASK_FIELDS[spec.type]:
            cols[spec.column(canonical)] = "string"
    if spec.label_field:
        cols[spec.label_field] = "any"
    if spec.rationale_field:
        cols[spec.rationale_field] = "any"
    return cols


def _rows(spec: TaskSpec, table: RecordTable, labels: _Labels | None, promptsource: bool) -> list[TaskRow]:
    required_text = [spec.column(c) for c in TASK_FIELDS[spec.type]] if spec.type else []
    require_columns(table, _columns_needed(spec), nonempty=required_text)
    positive = labels.index(spec.positive_label) if labels and spec.positive_label is not None else 0
    rows = []
    for i, raw in enumerate(table.dataset.to_list()):
        label_index = None
        if spec.label_field is not None:
            value = raw[spec.label_field]
            label_index = labels.index(value) if labels else None
            if label_index is None:
                raise table.error(i, spec.label_field, f"unknown label {value!r}; expected one of "
                                  f"{labels.raw} (or -1 for no target)")
        rationale = raw.get(spec.rationale_field) if spec.rationale_field else None
        rationale = str(rationale).strip() if rationale not in (None, "") else None
        variables = _variables(spec, raw, label_index, labels, positive, rationale, promptsource)
        rows.append(TaskRow(i, raw, variables, label_index, rationale))
    return rows


def _variables(spec, raw, label_index, labels, positive, rationale, promptsource) -> dict[str, Any]:
    if spec.type is not None:
        mapped = {c: str(raw[spec.column(c)]) for c in TASK_FIELDS[spec.type]}
    else:
        mapped = {c: raw[col] for c, col in spec.fields.items() if col in raw}
    if promptsource:
        variables = {**raw, **mapped}
        if spec.label_field is not None:
            variables["label"] = label_index
        return variables
    variables = dict(mapped)
    if spec.type in LABELLED_TYPES:
        has_label = label_index is not None and label_index != NO_LABEL
        variables["answer"] = labels.names[label_index] if has_label else ""
        variables["options"] = list(labels.names)
        variables["label"] = raw[spec.label_field]
        if spec.type in ("nli", "paraphrase"):
            variables["is_positive"] = label_index == positive
    else:
        variables["answer"] = mapped[ANSWER_FIELD[spec.type]]
    if rationale is not None:
        variables["rationale"] = rationale
    return variables


def prepare_task(spec: TaskSpec) -> PreparedTask:
    """Read and check a task's source (and few-shot source); raise on the first bad row."""
    promptsource = spec.promptsource is not None
    templates = load_task_templates(spec)
    table = read_table(spec.source, spec.format)
    label_values = table.dataset[spec.label_field] if spec.label_field in table.dataset.column_names else []
    labels = _Labels(spec, label_values) if spec.label_field else None
    rows = _rows(spec, table, labels, promptsource)
    fewshot_is_source = spec.fewshot_source is None or Path(spec.fewshot_source).resolve() == \
        Path(spec.source).resolve()
    if fewshot_is_source:
        fewshot = rows
    else:
        fs_table = read_table(spec.fewshot_source)
        fewshot = _rows(spec, fs_table, labels, promptsource)
    return PreparedTask(spec=spec, table=table, rows=rows, templates=templates,
                        options=list(labels.names) if labels else [], fewshot=fewshot,
                        fewshot_is_source=fewshot_is_source, promptsource=promptsource)
