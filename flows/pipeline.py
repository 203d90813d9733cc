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
    <out>/handoff/         the published dataset's train split for LLaMA-Factory, axolotl and
                           OpenRLHF, one folder per config (sft, preferences, best_of_n)
    <out>/train/<name>/    one folder per `train:` entry: model/, report.json, handoff/

Scheduled runs pass `dated=True`: the same folders under `<out>/work/`, a dated copy per run,
`<out>/latest`, the dataset in `<out>/dataset/` and one response cache (flows/dated.py).

Model stages run where `run.executor` says (`flows.executor`): in this process, or on a Ray
cluster (`executor`/`address` override the config, as `tuneset run --executor ray --address`).

A stage that consumes records reads the kept records of `PipelineConfig.sources_of(stage)`:
the nearest earlier filter stage, or every earlier generator stage.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from prefect import flow
from prefect.logging import get_run_logger
from prefect.runtime import flow_run

from flows import dated as dated_runs
from flows.common import publish_summary, task_runner
from flows.dedup import run_dedup
from flows.estimate import demo_total, stage_line, stage_units
from flows.executor import executor, with_executor
from flows.judge import run_judge
from flows.preferences import run_preferences
from flows.self_instruct import run_self_instruct_stage
from flows.templating import run_templating
from pipelines.config import PipelineConfig, load_config, resolved_yaml
from pipelines.io import output_lock, write_json, write_text
from pipelines.preferences import preference_sources
from pipelines.threads import configure_threads


@flow(name="tuneset-pipeline", task_runner=task_runner())
def pipeline_flow(config_path: str, out: str, dated: bool = False,
                  response_cache: str | None = None, executor_name: str | None = None,
                  address: str | None = None) -> dict[str, Any]:
    """Run every stage configured in `config_path`, writing under `out`. `dated`: a scheduled
    run's layout (flows/dated.py): the stages work in `out`/work, the run is kept as
    `out`/<date and time>/ and `out`/latest. `response_cache`: one SQLite file for every model
    without its own (default: the config's `run.response_cache`; for dated runs
    `out`/cache/responses.sqlite). `executor_name`, `address`: override `run.executor` and
    `run.ray.address` (flows/executor.py)."""
    config = with_executor(load_config(config_path), executor_name, address)
    configure_threads(config.run.threads)
    root = Path(out)
    cache = response_cache or config.run.response_cache or (
        root / dated_runs.CACHE / "responses.sqlite" if dated else None)
    if cache is not None:
        config = dated_runs.with_response_cache(config, cache)
    if not dated:
        with output_lock(root):  # the whole run: a second run on `out` fails at once
            return run_stages(config, config_path, root, dataset=root / "dataset")
    base_dir = Path(config_path).parent
    with dated_runs.output_lock(root):
        stamp = dated_runs.run_stamp()
        inputs = dated_runs.input_files(config, base_dir=base_dir)
        dated_runs.start_run(root, stamp, inputs)
        started = dated_runs.run_stamp()
        summary = run_stages(config, config_path, root / dated_runs.WORK, dataset=root / "dataset")
        folder = dated_runs.finish_run(root, stamp, {
            "flow_run_id": str(flow_run.id), "started": started, "finished": dated_runs.run_stamp(),
            "config": str(config_path), "inputs": len(inputs), "stages": [
                {k: s.get(k) for k in ("stage", "in", "kept", "rejected", "cached")}
                for s in summary["stages"]],
            "publish": _publish_line(summary.get("publish")),
            "train": [{k: t[k] for k in ("name", "steps", "cached")} for t in summary.get("train", [])]})
    get_run_logger().info("run kept in %s (%d input files); %s -> %s", folder, len(inputs),
                          root / dated_runs.LATEST, folder.name)
    return {**summary, "run_folder": str(folder)}


def _publish_line(report: dict[str, Any] | None) -> dict[str, Any] | None:
    if report is None:
        return None
    return {"new_version": report["new_version"], "version": report["version"],
            "targets": {t["target"]: t["status"] for t in report["targets"]}}


def run_stages(config: PipelineConfig, config_path: str, out_dir: Path, *,
               dataset: Path) -> dict[str, Any]:
    """Inside a flow: every configured stage into `out_dir`, then publishing (default target
    `dataset`) and training; the run's summary."""
    write_text(out_dir / "pipeline.yaml", resolved_yaml(config))
    stages = [*config.stages(), *(["publish"] if config.publish is not None else [])]
    logger = get_run_logger()
    logger.info("%d stages: %s; the demo took about %s on the embedded model (CPU)",
                len(stages), ", ".join(stages), demo_total())
    summaries: list[dict[str, Any]] = []

    def starting(stage: str, section: Any) -> None:
        reads = config.sources_of(stage) if stage in config.stages() else []
        upstream = [s for s in summaries if s["stage"] in reads]
        logger.info(stage_line(stages.index(stage) + 1, len(stages), stage,
                               stage_units(stage, section, upstream)))

    with executor(config.run):
        record_stages(config, out_dir, summaries, starting)
    summary = {"name": config.run.name, "config": str(config_path), "stages": summaries}
    write_json(out_dir / "summary.json", summary)
    publish_summary(f"tuneset run {config.run.name}", summaries)
    if config.publish is not None:
        starting("publish", config.publish)
        summary = {**summary, "publish": publish_stage(config, out_dir, dataset)}
        write_json(out_dir / "summary.json", summary)
    if config.train:
        from flows.training import run_pipeline_training

        summary = {**summary, "train": run_pipeline_training(
            config.train, config.stages(), config.publishes_locally(), out_dir,
            base_dir=Path(config_path).parent)}
        write_json(out_dir / "summary.json", summary)
    return summary


def record_stages(config: PipelineConfig, out_dir: Path, summaries: list[dict[str, Any]],
                  starting: Callable[[str, Any], None]) -> None:
    """Every configured record stage in order, each announced by `starting`; their summaries
    appended to `summaries`."""
    if config.templating is not None:
        starting("templating", config.templating)
        summaries.append(run_templating(config.templating, out_dir / "templating",
                                        jsonl=config.run.jsonl))
    if config.self_instruct is not None:
        starting("self_instruct", config.self_instruct)
        summaries.append(run_self_instruct_stage(config.self_instruct, out_dir / "self_instruct",
                                                 jsonl=config.run.jsonl))
    if config.dedup is not None:
        starting("dedup", config.dedup)
        summaries.append(run_dedup(config.dedup, out_dir / "dedup", jsonl=config.run.jsonl,
                                   upstream=[out_dir / s for s in config.sources_of("dedup")]))
    if config.judge is not None:
        starting("judge", config.judge)
        sources = [out_dir / name for name in config.sources_of("judge")] or list(config.judge.inputs)
        summaries.append(run_judge(config.judge, out_dir / "judge", sources=sources,
                                   jsonl=config.run.jsonl))
    if config.preferences is not None:
        starting("preferences", config.preferences)
        upstream = [out_dir / name for name in config.sources_of("preferences")]
        summaries.append(run_preferences(config.preferences, out_dir / "preferences",
                                         sources=preference_sources(config.preferences, upstream),
                                         jsonl=config.run.jsonl))


def publish_stage(config, out_dir: Path, dataset: Path) -> dict[str, Any]:
    """Publish the run folder to the configured targets (default `dataset`)."""
    from flows.publish import run_publish

    return run_publish(config.publish, out_dir, targets=config.publish.targets(default=dataset))
