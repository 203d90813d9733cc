"""What the templating stage reads: each task's raw rows and its promptsource templates.

`read_task_rows` reads every task's source (and its few-shot source, when that is another file)
into one dataset of raw task rows, one record per row of a file:

    task        the task's name                      "rte"
    split       "train" (the source) or "fewshot"    "train"
    source      the file it came from                "data/rte/train.tsv"
    source_row  0-based position in that file        0
    line        1-based line in that file (null for Parquet and saved datasets)
    row         the raw row (JSON)                   {"sentence1": ..., "label": "entailment"}

so the stage can name file, line and field in its errors, and a rejected row keeps where it came
from. `read_task_templates` compiles the promptsource `templates.yaml` files the tasks name.
Malformed files raise InputError or TemplateError here, before the stage runs.
"""

from __future__ import annotations

from pathlib import Path

import datasets

from pipelines.io import raw_files, read_table
from pipelines.records import rows_to_dataset
from pipelines.templating.config import TaskSpec, TemplatingConfig
from pipelines.templating.promptsource import load_promptsource
from pipelines.templating.templates import Template

TASK_ROW_FEATURES = datasets.Features({
    "task": datasets.Value("string"), "split": datasets.Value("string"),
    "source": datasets.Value("string"), "source_row": datasets.Value("int64"),
    "line": datasets.Value("int64"), "row": datasets.Json(),
})


def fewshot_is_source(spec: TaskSpec) -> bool:
    """True when a task draws its exemplars from its own source file."""
    return spec.fewshot_source is None or \
        Path(spec.fewshot_source).resolve() == Path(spec.source).resolve()


def _file_rows(task: str, split: str, path: Path, fmt: str | None) -> list[dict]:
    table = read_table(path, fmt)
    return [{"task": task, "split": split, "source": str(path), "source_row": i,
             "line": table.line_of(i), "row": raw}
            for i, raw in enumerate(table.dataset.to_list())]


def read_task_rows(config: TemplatingConfig) -> datasets.Dataset:
    """Every configured task's rows: its source, then its few-shot source (see the module
    docstring), tasks in config order."""
    rows: list[dict] = []
    for spec in config.tasks:
        for path in raw_files(spec.source):
            rows += _file_rows(spec.name, "train", path, spec.format)
        if not fewshot_is_source(spec):
            rows += _file_rows(spec.name, "fewshot", spec.fewshot_source, None)
    return rows_to_dataset(rows, TASK_ROW_FEATURES)


def read_task_templates(config: TemplatingConfig) -> dict[str, list[Template]]:
    """The compiled templates of every task that names a promptsource file, by task name."""
    return {spec.name: load_promptsource(spec.promptsource) for spec in config.tasks
            if spec.promptsource is not None}
