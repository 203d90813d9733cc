"""The dedup stage as a cached Prefect task, and a flow that runs it alone.

Inputs are record files or tuneset run folders (a run folder means its `kept/*.parquet`). In
the whole pipeline an empty `inputs` means the kept records of the stages run before dedup.
Besides the usual run folder, the task writes `cluster_sizes.png` and `largest_clusters.jsonl`
(checksummed in the manifest).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import datasets
from prefect import flow, task

from flows.common import (
    StageProgress,
    code_digest,
    digest_inputs,
    persist_stage,
    publish_summary,
    stage_cache_key,
    stage_task_options,
)
from pipelines.dedup import DedupConfig, dedup_records
from pipelines.dedup.keep import score_values
from pipelines.dedup.report import write_cluster_report
from pipelines.dedup.texts import compared_texts
from pipelines.errors import ConfigError, InputError
from pipelines.io import read_table

STAGE = "dedup"


def record_files(paths: list[str | Path]) -> list[Path]:
    """Files to read: a run folder (one with `kept/`) stands for its `kept/*.parquet`."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir() and (path / "kept").is_dir():
            found = sorted((path / "kept").glob("*.parquet"))
            if not found:
                raise InputError("run folder has no kept/*.parquet; did its stage finish?", file=path)
            files.extend(found)
        else:
            files.append(path)
    return files


def _read_checked(path: Path, config: DedupConfig, *, reference: bool = False) -> datasets.Dataset:
    """Read one file and check, before any work, that every record has the compared text (and
    an input the score column); problems name the file and line (or row)."""
    table = read_table(path)
    try:
        compared_texts(table.dataset, config.text, config.reference_field if reference else None)
        if not reference and config.keep.policy == "score":
            score_values(table.dataset, config.keep.column)
    except InputError as exc:
        if exc.row is not None:
            raise table.error(exc.row, exc.field, exc.detail) from None
        raise InputError(exc.detail, file=path, field=exc.field) from None
    return table.dataset


def load_records(files: list[Path], config: DedupConfig) -> datasets.Dataset:
    parts = [_read_checked(f, config) for f in files]
    return parts[0] if len(parts) == 1 else datasets.concatenate_datasets(parts)


def dedup_sources(config: DedupConfig, upstream: list[str | Path] = ()) -> list[Path]:
    """The record files dedup reads: its `inputs`, or else the upstream run folders' kept files."""
    sources = config.inputs or list(upstream)
    if not sources:
        raise ConfigError(["dedup.inputs: no input; give record files or run folders (in a "
                           "pipeline, an earlier stage's output is used when inputs is empty)"])
    return record_files(sources)


@task(name="dedup", cache_key_fn=stage_cache_key, persist_result=True)
def dedup_task(config: DedupConfig, out: str, inputs: dict[str, str], code: str,
               jsonl: bool = False, sources: list[str] = ()) -> dict[str, Any]:
    records = load_records([Path(s) for s in sources], config)
    reference = [(p.name, _read_checked(p, config, reference=True)) for p in config.reference]
    progress = StageProgress(STAGE)
    try:
        result = dedup_records(records, config, reference=reference, progress=progress)
    finally:
        progress.close()
    report = write_cluster_report(result, config, out)
    return persist_stage(STAGE, out, result, n_in=len(records),
                         config=config.model_dump(mode="json"), inputs=inputs, jsonl=jsonl,
                         extra_files=report)


def run_dedup(config: DedupConfig, out: str | Path, *, jsonl: bool = False,
              upstream: list[str | Path] = ()) -> dict[str, Any]:
    """Call inside a flow: run (or reuse from cache) the dedup task writing to `out`."""
    sources = dedup_sources(config, upstream)
    inputs = digest_inputs([*sources, *config.reference])
    state = dedup_task.with_options(**stage_task_options(out))(
        config, str(out), inputs, code_digest("pipelines.dedup"), jsonl,
        [str(s) for s in sources], return_state=True)
    return {**state.result(), "cached": state.name == "Cached"}


@flow(name="tuneset-dedup")
def dedup_flow(config: DedupConfig, out: str, jsonl: bool = False) -> dict[str, Any]:
    """Deduplicate the configured inputs into a run folder at `out`."""
    summary = run_dedup(config, out, jsonl=jsonl)
    publish_summary("tuneset dedup", [summary])
    return summary
