"""The whole configured pipeline as one flow: each configured stage in order, one run folder each.

    <out>/templating/      kept/, rejected/, stats.json, manifest.json
    <out>/self_instruct/   the same, plus rounds/ (one folder per bootstrap round)
    <out>/dedup/           the same, plus cluster_sizes.png and largest_clusters.jsonl
    <out>/judge/           the same, plus score_histogram.png
    <out>/preferences/     pairs in kept/, best_of_n/, samples/ (one folder per shard), scores.png
    <out>/summary.json     counts per stage (and the publish report)
    <out>/pipeline.yaml    the resolved config (defaults filled in, paths resolved)
    <out>/dataset/         the published dataset, when the config has a `publish:` section
                           without `repo` (see flows/publish.py)

A stage that consumes records reads the kept records of `PipelineConfig.sources_of(stage)`:
the nearest earlier filter stage, or every earlier generator stage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow

from flows.common import publish_summary, task_runner
from flows.dedup import run_dedup
from flows.judge import run_judge
from flows.preferences import run_preferences
from flows.self_instruct import run_self_instruct_stage
from flows.templating import run_templating
from pipelines.config import load_config, resolved_yaml
from pipelines.io import output_lock, write_json, write_text
from pipelines.preferences import preference_sources
from pipelines.threads import configure_threads


@flow(name="tuneset-pipeline", task_runner=task_runner())
def pipeline_flow(config_path: str, out: str) -> dict[str, Any]:
    """Run every stage configured in `config_path`, writing under `out` (locked meanwhile)."""
    config = load_config(config_path)
    configure_threads(config.run.threads)
    with output_lock(out):
        return _run_stages(config, config_path, Path(out))


def _run_stages(config, config_path: str, out_dir: Path) -> dict[str, Any]:
    write_text(out_dir / "pipeline.yaml", resolved_yaml(config))
    summaries: list[dict[str, Any]] = []
    if config.templating is not None:
        summaries.append(run_templating(config.templating, out_dir / "templating",
                                        jsonl=config.run.jsonl))
    if config.self_instruct is not None:
        summaries.append(run_self_instruct_stage(config.self_instruct, out_dir / "self_instruct",
                                                 jsonl=config.run.jsonl))
    if config.dedup is not None:
        summaries.append(run_dedup(config.dedup, out_dir / "dedup", jsonl=config.run.jsonl,
                                   upstream=[out_dir / s for s in config.sources_of("dedup")]))
    if config.judge is not None:
        sources = [out_dir / name for name in config.sources_of("judge")] or list(config.judge.inputs)
        summaries.append(run_judge(config.judge, out_dir / "judge", sources=sources,
                                   jsonl=config.run.jsonl))
    if config.preferences is not None:
        upstream = [out_dir / name for name in config.sources_of("preferences")]
        summaries.append(run_preferences(config.preferences, out_dir / "preferences",
                                         sources=preference_sources(config.preferences, upstream),
                                         jsonl=config.run.jsonl))
    summary = {"name": config.run.name, "config": str(config_path), "stages": summaries}
    write_json(out_dir / "summary.json", summary)
    publish_summary(f"tuneset run {config.run.name}", summaries)
    if config.publish is not None:
        summary = {**summary, "publish": publish_stage(config, out_dir)}
        write_json(out_dir / "summary.json", summary)
    return summary


def publish_stage(config, out_dir: Path) -> dict[str, Any]:
    """The last stage: publish the run folder to the configured targets (default
    `<out>/dataset`)."""
    from flows.publish import run_publish

    return run_publish(config.publish, out_dir,
                       targets=config.publish.targets(default=out_dir / "dataset"))
