"""The pipeline config file: one YAML file, one section per stage, validated before any work.

    run:        {name: demo, seed: 0, jsonl: false, threads: auto}   # threads: pipelines.threads
                 # response_cache: a SQLite file every model without its own `cache` uses
                executor: local | ray, ray: {...}   # pipelines.cluster.config (docs/ray.md)
    templating: {...}            # pipelines.templating.config.TemplatingConfig
    self_instruct: {...}         # pipelines.self_instruct.config.SelfInstructConfig
    dedup:      {...}            # pipelines.dedup.config.DedupConfig (inputs: [] = upstream kept)
    judge: {...}                 # pipelines.judge.config.JudgeConfig
    preferences: {...}           # pipelines.preferences.config.PreferenceConfig
    publish:    {license: ...}   # pipelines.publish.config.PublishConfig (after the data stages)
    train:      [{stage: sft}, ...]  # alignment.wiring: training stages, after publishing

Paths inside the file are relative to the file. `check_config` returns every problem at once
(YAML syntax, unknown or wrong fields, missing files, templates that do not compile) so that
`tuneset validate` can list them all; `load_config` raises ConfigError with that list.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from alignment.wiring import TrainEntry, check_train
from pipelines.cluster.config import Executor, RayRunConfig
from pipelines.configbase import RelPath, StageConfig, format_validation_error
from pipelines.dedup.config import DedupConfig
from pipelines.errors import ConfigError, TunesetError
from pipelines.judge.config import JudgeConfig
from pipelines.preferences.config import PreferenceConfig
from pipelines.publish.config import PublishConfig
from pipelines.self_instruct.config import SelfInstructConfig
from pipelines.templating.config import TemplatingConfig
from pipelines.threads import Threads

STAGE_ORDER = ("templating", "self_instruct", "dedup", "judge", "preferences")
GENERATORS = ("templating", "self_instruct")
"""Stages that make records from their own inputs; the others consume earlier stages' records."""


class RunConfig(StageConfig):
    name: str = "tuneset-run"
    seed: int = 0
    jsonl: bool = False
    threads: Threads = "auto"
    """torch and numba threads: `auto` (the CPUs the process may use) or a number; on a shared
    machine 1. The environment variable TUNESET_THREADS overrides it."""
    response_cache: RelPath | None = None
    """One response cache (SQLite) for every model that names no `cache` of its own; dated
    runs default to <out>/cache/responses.sqlite."""
    executor: Executor = "local"
    """Where model work runs: `local` (this process) or `ray` (a Ray cluster, `ray`)."""
    ray: RayRunConfig = RayRunConfig()


class PipelineConfig(StageConfig):
    run: RunConfig = RunConfig()
    templating: TemplatingConfig | None = None
    self_instruct: SelfInstructConfig | None = None
    dedup: DedupConfig | None = None
    judge: JudgeConfig | None = None
    preferences: PreferenceConfig | None = None
    publish: PublishConfig | None = None
    train: list[TrainEntry] = []

    def publishes_locally(self) -> bool:
        """Whether publishing writes a local dataset repository (training can read it)."""
        return self.publish is not None and (
            not self.publish.repo or any(not r.startswith("hf://") for r in self.publish.repo))

    def stages(self) -> list[str]:
        """The configured stages, in pipeline order."""
        return [name for name in STAGE_ORDER if getattr(self, name) is not None]

    def upstream_of(self, stage: str) -> list[str]:
        """The configured stages that run before `stage`."""
        return [name for name in self.stages() if STAGE_ORDER.index(name) < STAGE_ORDER.index(stage)]

    def sources_of(self, stage: str) -> list[str]:
        """The stages whose kept records `stage` reads in a pipeline run: the nearest earlier
        filter stage (dedup, judge) or, when none runs before it, every earlier generator
        (templating, self-instruct)."""
        before = self.upstream_of(stage)
        filters = [name for name in before if name not in GENERATORS]
        return filters[-1:] if filters else before


def read_yaml(path: str | Path) -> tuple[Any, list[str]]:
    """(data, problems): YAML syntax errors come back as problems with line and column."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [f"{path}: no such file"]
    except IsADirectoryError:
        return None, [f"{path}: a folder; expected a YAML config file"]
    except PermissionError:
        return None, [f"{path}: not readable (permission denied)"]
    except UnicodeDecodeError as exc:
        return None, [f"{path}: undecodable bytes at byte {exc.start}; expected UTF-8 YAML"]
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        return None, [f"{where}malformed YAML: {getattr(exc, 'problem', None) or exc}"]
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return None, [f"expected a mapping of sections at the top, got {type(data).__name__}"]
    return data, []


def parse_config(data: dict[str, Any], model: type[StageConfig], *, base_dir: str | Path,
                 prefix: str = "") -> tuple[StageConfig | None, list[str]]:
    try:
        return model.model_validate(data, context={"base_dir": Path(base_dir)}), []
    except ValidationError as exc:
        return None, format_validation_error(exc, model, prefix)


def _deep_checks(config: PipelineConfig) -> list[str]:
    """Problems pydantic cannot see: templates that do not compile, unknown template ids, a
    consuming stage with nothing to read or with `inputs` it would not read."""
    problems = []
    for stage in config.stages():
        if stage in GENERATORS:
            continue
        inputs = getattr(config, stage).inputs
        if config.upstream_of(stage) and inputs:
            problems.append(f"{stage}.inputs: in a pipeline run {stage} reads the kept records of "
                            f"{', '.join(config.sources_of(stage))}; remove `inputs` (they are for "
                            f"running the stage on its own)")
        if not config.upstream_of(stage) and not inputs:
            problems.append(f"{stage}.inputs: no stage runs before {stage}, so name the record "
                            "files or run folders to read")
    if config.templating is not None:
        from pipelines.templating.promptsource import load_promptsource
        from pipelines.templating.tasks import select_templates

        for i, spec in enumerate(config.templating.tasks):
            try:
                select_templates(spec, load_promptsource(spec.promptsource)
                                 if spec.promptsource is not None else None)
            except ConfigError as exc:
                problems.extend(f"templating.tasks[{i}]: {p}" for p in exc.problems)
            except TunesetError as exc:
                problems.append(f"templating.tasks[{i}]: {exc}")
    return problems


def check_config(path: str | Path) -> tuple[PipelineConfig | None, list[str]]:
    """Validate a pipeline config file; return (config or None, every problem found)."""
    data, problems = read_yaml(path)
    if problems:
        return None, problems
    config, problems = parse_config(data, PipelineConfig, base_dir=Path(path).parent)
    if config is None:
        return None, problems
    problems = _deep_checks(config)
    if config.train:
        problems += check_train(config.train, config.stages(), config.publishes_locally(),
                                base_dir=Path(path).parent)
    return (config if not problems else None), problems


def load_config(path: str | Path) -> PipelineConfig:
    config, problems = check_config(path)
    if problems:
        raise ConfigError(problems, file=path)
    return config


def resolved_yaml(config: PipelineConfig) -> str:
    """The config with every default filled in and paths resolved, as YAML (`tuneset run`
    writes it to <out>/pipeline.yaml). Secret values are left out, never written masked."""
    def drop_secrets(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: None if k == "api_key" and v is not None else drop_secrets(v)
                    for k, v in value.items()}
        return [drop_secrets(v) for v in value] if isinstance(value, list) else value

    data = drop_secrets(config.model_dump(mode="json"))
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def read_section(path: str | Path, section: str) -> tuple[dict[str, Any], str]:
    """(body, prefix) of one stage's section in a file that is either a whole pipeline config
    (body = its `section`, problems named `<section>.<field>`) or just that section (prefix
    ""). Raises ConfigError on unreadable YAML."""
    data, problems = read_yaml(path)
    if problems:
        raise ConfigError(problems, file=path)
    if isinstance(data.get(section), dict):
        return data[section], section
    return data, ""


def load_section(path: str | Path, section: str, model: type[StageConfig]) -> StageConfig:
    """One stage's config from a file that is either a whole pipeline config (the section is
    taken) or just that section."""
    body, prefix = read_section(path, section)
    config, problems = parse_config(body, model, base_dir=Path(path).parent, prefix=prefix)
    if config is None:
        raise ConfigError(problems, file=path)
    return config
