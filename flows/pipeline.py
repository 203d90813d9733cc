"""The whole configured pipeline as one flow: each configured stage in order, one run folder each.

    <out>/templating/   kept/, rejected/, stats.json, manifest.json
    <out>/judge/        the same, plus score_histogram.png
    <out>/summary.json  counts per stage

Each stage reads the kept records of the stage before it (`upstream`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow

from flows.common import publish_summary
from flows.judge import run_judge
from flows.templating import run_templating
from pipelines.config import load_config
from pipelines.io import write_json


@flow(name="tuneset-pipeline")
def pipeline_flow(config_path: str, out: str) -> dict[str, Any]:
    """Run every stage configured in `config_path`, writing under `out`."""
    config = load_config(config_path)
    out_dir = Path(out)
    summaries: list[dict[str, Any]] = []
    upstream: Path | None = None
    if config.templating is not None:
        summaries.append(run_templating(config.templating, out_dir / "templating",
                                        jsonl=config.run.jsonl))
        upstream = out_dir / "templating"
    if config.judge is not None:
        sources = [upstream] if upstream is not None else list(config.judge.inputs)
        summaries.append(run_judge(config.judge, out_dir / "judge", sources=sources,
                                   jsonl=config.run.jsonl))
    summary = {"name": config.run.name, "config": str(config_path), "stages": summaries}
    write_json(out_dir / "summary.json", summary)
    publish_summary(f"tuneset run {config.run.name}", summaries)
    return summary
