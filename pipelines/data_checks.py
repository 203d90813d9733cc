"""`tuneset validate --data`: read every local input a config names and report each problem
(a bad label, a malformed line, a missing column, a folder where a record file belongs, an
empty file) together, before any run.

Each source is read as its stage would read it, one at a time, so one bad file does not hide
another. Inputs a pipeline run makes itself (the run folders of earlier stages) do not exist
yet and are not read; remote inputs (Hub datasets, model servers) are not touched.

    >>> check_data(None)
    []
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipelines.errors import ConfigError, TunesetError


def _problem(where: str, read: Callable[..., Any], *args: Any) -> list[str]:
    try:
        read(*args)
    except ConfigError as exc:
        return [f"{where}: {p}" for p in exc.problems]
    except TunesetError as exc:
        return [f"{where}: {exc}"]
    except IsADirectoryError as exc:
        return [f"{where}: {exc.filename}: a folder; expected a record file"]
    except OSError as exc:
        return [f"{where}: {exc.filename or ''}: {exc.strerror or exc}"]
    return []


def _folder_as_file(path: Path) -> str | None:
    from pipelines.io import is_run_folder
    from pipelines.io.readers import detect_format

    if not path.is_dir() or is_run_folder(path):
        return None
    try:
        fmt = detect_format(path)
    except TunesetError as exc:
        return str(exc)
    if fmt not in ("parquet", "hf"):
        return (f"{path}: a folder that is neither a run folder (kept/*.parquet) nor a folder of "
                "*.parquet parts; name a record file")
    return None


def check_data(config: Any) -> list[str]:
    """Every problem found reading the local inputs of a `PipelineConfig` (None: nothing)."""
    if config is None:
        return []
    problems: list[str] = []
    if config.templating is not None:
        for i, spec in enumerate(config.templating.tasks):
            one = config.templating.model_copy(update={"tasks": [spec]})
            problems += _problem(f"templating.tasks[{i}] ({spec.name})", _templating, one)
    if config.self_instruct is not None:
        from pipelines.self_instruct import read_seeds

        problems += _problem("self_instruct.seeds", read_seeds, config.self_instruct)
    readers = {"dedup": _dedup, "judge": _judge, "preferences": _preferences}
    for stage, read in readers.items():
        section = getattr(config, stage)
        if section is None:
            continue
        inputs = list(getattr(section, "inputs", []))
        if len(inputs) > 1:  # an empty file beside others is left out, as a run does
            section = section.model_copy(update={"allow_empty": True})
        for j, path in enumerate(inputs):
            folder = _folder_as_file(Path(path))
            problems += [f"{stage}.inputs[{j}]: {folder}"] if folder else \
                _problem(f"{stage}.inputs[{j}]", read, section, path)
    if config.dedup is not None:
        for j, path in enumerate(config.dedup.reference):
            problems += _problem(f"dedup.reference[{j}]", _reference, config.dedup, path)
    return problems


def _dedup(section, path):
    from pipelines.dedup.inputs import read_dedup_inputs

    return read_dedup_inputs(section.model_copy(update={"reference": []}), [path])


def _templating(config):
    """A task's rows checked as the stage checks them (columns, labels), without rendering."""
    from pipelines.templating.inputs import read_task_rows, read_task_templates
    from pipelines.templating.tasks import prepare_tasks

    return prepare_tasks(read_task_rows(config), config, read_task_templates(config))


def _reference(section, path):
    from pipelines.dedup.inputs import _checker
    from pipelines.io import read_sources

    return read_sources([path], check=_checker(section, reference=True))


def _judge(section, path):
    from pipelines.judge.inputs import read_judge_inputs

    return read_judge_inputs([path], allow_empty=section.allow_empty)


def _preferences(section, path):
    from pipelines.preferences import read_prompts

    return read_prompts(section, [path])
