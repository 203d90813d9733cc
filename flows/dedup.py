"""The dedup stage as a cached task (`flows.common.StageTask`), and a flow that runs it alone.

Reads the inputs and reference sets (`pipelines.dedup.inputs`); besides the usual run folder,
writes `cluster_sizes.png` and `largest_clusters.jsonl` (checksummed in the manifest).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow

from flows.common import StageInputs, StageTask, digest_inputs, publish_summary, task_runner
from pipelines.dedup import DedupConfig, dedup_records
from pipelines.dedup.inputs import dedup_sources, read_dedup_inputs
from pipelines.dedup.report import write_cluster_report
from pipelines.io import output_lock


def _read(call) -> StageInputs:
    records, reference = read_dedup_inputs(call.config, call.sources)
    return StageInputs(records, {"reference": reference})


DEDUP = StageTask("dedup", dedup_records, read=_read, code=("pipelines.dedup",),
                  artifacts=lambda result, call: write_cluster_report(result, call.config, call.out))


def run_dedup(config: DedupConfig, out: str | Path, *, jsonl: bool = False,
              upstream: list[str | Path] = ()) -> dict[str, Any]:
    """Call inside a flow: run (or reuse from cache) the dedup task writing to `out`."""
    sources = dedup_sources(config, upstream)
    return DEDUP.run(DEDUP.call(config, out, sources=sources, jsonl=jsonl,
                                inputs=digest_inputs([*sources, *config.reference])))


@flow(name="tuneset-dedup", task_runner=task_runner())
def dedup_flow(config: DedupConfig, out: str, jsonl: bool = False) -> dict[str, Any]:
    """Deduplicate the configured inputs into a run folder at `out`."""
    with output_lock(out):
        summary = run_dedup(config, out, jsonl=jsonl)
    publish_summary("tuneset dedup", [summary])
    return summary
