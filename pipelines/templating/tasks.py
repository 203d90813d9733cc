"""Turn a task's raw rows into template variables, checking everything first.

For every row this resolves the label to (index, display text), or marks it "no target" (-1),
and builds the variables a template sees: the type's canonical fields, `answer`, `options`,
`is_positive`, `label`, `rationale` (built-in templates), or the raw row with `label` as an
index plus `answer_choices` (promptsource templates). Any bad row raises InputError naming the
file, line and field before the stage renders anything. The rows come from
`pipelines.templating.inputs.read_task_rows`:

    >>> from pipelines.templating.config import TemplatingConfig
    >>> from pipelines.templating.inputs import TASK_ROW_FEATURES
    >>> from pipelines.records import rows_to_dataset
    >>> source = "configs/demo_data/trivia.jsonl"
    >>> config = TemplatingConfig(tasks=[{"name": "qa", "type": "closed_book_qa",
    ...     "source": source, "fields": {"question": "q", "answer": "a"}}])
    >>> def records(*raws):
    ...     return rows_to_dataset([{"task": "qa", "split": "train", "source": source,
    ...         "source_row": i, "line": i + 1, "row": raw} for i, raw in enumerate(raws)],
    ...         TASK_ROW_FEATURES)
    >>> prepare_tasks(records({"q": "2 + 2?", "a": "4"}), config)[0].rows[0].variables
    {'question': '2 + 2?', 'answer': '4'}
    >>> prepare_tasks(records({"q": "2 + 2?", "a": "4"}, {"q": "3 + 3?", "a": ""}), config)
    Traceback (most recent call last):
    ...
    pipelines.errors.InputError: configs/demo_data/trivia.jsonl, line 2, field 'a': expected a non-empty string, got an empty one
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import datasets

from pipelines.errors import ConfigError, InputError
from pipelines.io import require_values
from pipelines.templating.config import (
    ANSWER_FIELD,
    LABELLED_TYPES,
    TASK_FIELDS,
    TaskSpec,
    TemplatingConfig,
)
from pipelines.templating.inputs import fewshot_is_source
from pipelines.templating.templates import Template, builtin_templates

NO_LABEL = -1


@dataclass
class TaskRow:
    index: int                 # 0-based position in the source file
    record: dict[str, Any]     # the input record (task, split, source, source_row, line, row)
    variables: dict[str, Any]
    label_index: int | None    # None for unlabelled types, NO_LABEL (-1) for "no target"
    rationale: str | None = None
    key: tuple = ()            # the row's content, to keep a row out of its own exemplars

    def __post_init__(self) -> None:
        self.key = tuple(sorted((k, str(v)) for k, v in self.variables.items()))


@dataclass
class PreparedTask:
    spec: TaskSpec
    rows: list[TaskRow]
    templates: list[Template]
    options: list[str]
    fewshot: list[TaskRow]
    fewshot_is_source: bool
    promptsource: bool = False
    warnings: list[str] = field(default_factory=list)  # for the log, stats.json and counts
    _pools: dict[str, list[TaskRow]] = field(default_factory=dict, repr=False)

    def pool_for(self, template: Template) -> list[TaskRow]:
        """Few-shot candidates the template applies to (labelled, `when` holds)."""
        if template.id not in self._pools:
            self._pools[template.id] = [
                r for r in self.fewshot if r.label_index != NO_LABEL and template.applies(r.variables)]
        return self._pools[template.id]


@dataclass
class _FileRows:
    """One file's records of a task, in file order."""

    source: str
    records: list[dict[str, Any]]

    @property
    def raws(self) -> list[dict[str, Any]]:
        return [r["row"] for r in self.records]

    def error(self, i: int, field: str | None, message: str) -> InputError:
        record = self.records[i]
        line = record["line"]
        return InputError(message, file=record["source"], line=line,
                          row=None if line is not None else record["source_row"], field=field)

    def check(self, columns: dict[str, str], nonempty: list[str]) -> None:
        raws = self.raws
        names = list(raws[0]) if raws else []
        require_values(names, lambda name: [r.get(name) for r in raws], columns,
                       nonempty=nonempty, file=self.source, error=self.error)


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

    def numeric_ids_warning(self, spec: TaskSpec) -> str | None:
        """A warning when the raw values are numeric ids (0, 1, ...) and no names were given:
        the answers and options would be the ids themselves."""
        if spec.labels is not None or not self.raw \
                or not all(str(v).strip().lstrip("-").isdigit() for v in self.raw):
            return None
        shown = ", ".join(map(str, self.raw[:6])) + (", ..." if len(self.raw) > 6 else "")
        return (f"task {spec.name!r}: label values look like numeric ids ({shown}) and no "
                f"`labels` names were given, so answers and options are the ids themselves; "
                f"name them, e.g. labels: [negative, positive] maps 0, 1 to names")

    def index(self, value: Any) -> int | None:
        """Index of a raw value, NO_LABEL for -1, None when unknown."""
        key = str(value)
        if key in self._lookup:
            return self._lookup[key]
        return NO_LABEL if _is_no_label(value) else None


def _is_no_label(value: Any) -> bool:
    return str(value).strip() == "-1"


def select_templates(spec: TaskSpec, promptsource: Sequence[Template] | None = None) -> list[Template]:
    """The templates a task renders with: its promptsource templates (read by the caller) or the
    type's built-in set, narrowed by `template_ids` and `include_inverted`."""
    if spec.promptsource is not None:
        if promptsource is None:
            raise ValueError(f"task {spec.name!r} names a promptsource file: pass its templates "
                             "(pipelines.templating.read_task_templates)")
        templates = list(promptsource)
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


def _rows(spec: TaskSpec, file: _FileRows, labels: _Labels | None, promptsource: bool) -> list[TaskRow]:
    required_text = [spec.column(c) for c in TASK_FIELDS[spec.type]] if spec.type else []
    file.check(_columns_needed(spec), nonempty=required_text)
    positive = labels.index(spec.positive_label) if labels and spec.positive_label is not None else 0
    rows = []
    for i, record in enumerate(file.records):
        raw = record["row"]
        label_index = None
        if spec.label_field is not None:
            value = raw[spec.label_field]
            label_index = labels.index(value) if labels else None
            if label_index is None:
                raise file.error(i, spec.label_field, f"unknown label {value!r}; expected one of "
                                 f"{labels.raw} (or -1 for no target)")
        rationale = raw.get(spec.rationale_field) if spec.rationale_field else None
        rationale = str(rationale).strip() if rationale not in (None, "") else None
        variables = _variables(spec, raw, label_index, labels, positive, rationale, promptsource)
        rows.append(TaskRow(record["source_row"], record, variables, label_index, rationale))
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


def _files(records: datasets.Dataset, config: TemplatingConfig) -> dict[tuple[str, str], _FileRows]:
    """The records grouped by (task, split), each group in input order."""
    specs = {spec.name: spec for spec in config.tasks}
    files: dict[tuple[str, str], _FileRows] = {}
    for record in records:
        task, split = record["task"], record["split"]
        if task not in specs:
            raise InputError(f"task {task!r} is not configured; tasks: {sorted(specs)}",
                             file=record["source"], field="task")
        if split not in ("train", "fewshot"):
            raise InputError(f"expected split 'train' or 'fewshot', got {split!r}",
                             file=record["source"], field="split")
        files.setdefault((task, split), _FileRows(record["source"], [])).records.append(record)
    return files


def prepare_tasks(records: datasets.Dataset, config: TemplatingConfig,
                  templates: Mapping[str, Sequence[Template]] | None = None) -> list[PreparedTask]:
    """Check every task's rows (and few-shot rows) and build their variables, in config order;
    raise on the first bad row. `templates` holds the promptsource templates by task name."""
    files = _files(records, config)
    prepared = []
    for spec in config.tasks:
        promptsource = spec.promptsource is not None
        selected = select_templates(spec, (templates or {}).get(spec.name))
        train = files.get((spec.name, "train"), _FileRows(str(spec.source), []))
        label_values = [raw.get(spec.label_field) for raw in train.raws]
        labels = _Labels(spec, label_values) if spec.label_field else None
        rows = _rows(spec, train, labels, promptsource)
        same = fewshot_is_source(spec)
        if same:
            fewshot = rows
        else:
            fs_file = files.get((spec.name, "fewshot"), _FileRows(str(spec.fewshot_source), []))
            fewshot = _rows(spec, fs_file, labels, promptsource)
        warning = labels.numeric_ids_warning(spec) \
            if labels and spec.type in LABELLED_TYPES and not promptsource else None
        prepared.append(PreparedTask(spec=spec, rows=rows, templates=selected,
                                     options=list(labels.names) if labels else [],
                                     fewshot=fewshot, fewshot_is_source=same,
                                     promptsource=promptsource, warnings=[warning] if warning else []))
    return prepared
