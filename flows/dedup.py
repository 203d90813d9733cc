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
    run_stage_task,
    stage_cache_key,
)
from pipelines.dedup import DedupConfig, dedup_records
from pipelines.dedup.keep import score_values
from pipelines.dedup.report import write_cluster_report
from pipelines.dedup.texts import compared_texts
from pipelines.errors import ConfigError
from pipelines.io import read_sources, source_files

STAGE = "dedup"


def _checker(config: DedupConfig, *, reference: bool = False):
    """Check, before any work, that every record has the compared text (and, as an input, the
    score column); InputError rows become file lines in `read_sources`."""
    def check(dataset: datasets.Dataset) -> None:
        compared_texts(dataset, config.text, config.reference_field if reference else None)
        if not reference and config.keep.policy == "score":
            score_values(dataset, config.keep.column)
    return check


def dedup_sources(config: DedupConfig, upstream: list[str | Path] = ()) -> list[Path]:
    """The record files dedup reads: its `inputs`, or else the upstream run folders' kept files."""
    sources = config.inputs or list(upstream)
    if not sources:
        raise ConfigError(["dedup.inputs: no input; give record files or run folders (in a "
                           "pipeline, an earlier stage's output is used when inputs is empty)"])
    return source_files(sources)


@task(name="dedup", cache_key_fn=stage_cache_key, persist_result=True)
def dedup_task(config: DedupConfig, out: str, inputs: dict[str, str], code: str,
               jsonl: bool = False, sources: list[str] = ()) -> dict[str, Any]:
    records = read_sources(sources, check=_checker(config))
    reference = [(p.name, read_sources([p], check=_checker(config, reference=True)))
                 for p in config.reference]
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
    return run_stage_task(dedup_task, out, config, str(out), inputs, code_digest("pipelines.dedup"),
                          jsonl, [str(s) for s in sources])


@flow(name="tuneset-dedup")
def dedup_flow(config: DedupConfig, out: str, jsonl: bool = False) -> dict[str, Any]:
    """Deduplicate the configured inputs into a run folder at `out`."""
    summary = run_dedup(config, out, jsonl=jsonl)
    publish_summary("tuneset dedup", [summary])
    return summary
