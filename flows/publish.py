"""Publishing as a cached Prefect task: the last stage of `tuneset run` and `tuneset publish`.

Hub calls retry transient errors themselves (pipelines/publish/hub.py); the task does not
retry. The task caches on the run folder's manifests (each lists the sha256 of every output), the
publish config, the publishing code and the state of every target (a local repository's HEAD,
a Hub repository's main commit). A cache hit therefore means "this exact content was already
published to targets that have not moved since": the cached report comes back with every
target "unchanged". Cache records live in `<run folder>/.cache/`.

    report = run_publish(config, "runs/demo", targets=config.targets(default="runs/demo/dataset"))
    report["new_version"]        # True when any target got a new version
    report["targets"][0]         # {"target", "status": "published" | "unchanged", "version", ...}
    report["handoff"]            # {config: handoff.json} of the handoff folders (see below)

After publishing, the first local target's `train` split is written again as handoff folders
for other trainers, one per config: `<run folder>/handoff/{sft,preferences,best_of_n}/`
(`alignment.handoff.write_published_handoffs`); a pipeline's `train:` stages read them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_table_artifact
from prefect.logging import get_run_logger

from flows.common import make_call, run_cached, stage_cache_key
from pipelines.publish import PublishConfig, Target, parse_target, publish_run
from pipelines.publish.run import RUN_CONFIG, STAGES

STAGE = "publish"


def run_digests(run_dir: str | Path, pipeline_text: str | None) -> dict[str, str]:
    """sha256 of each stage's manifest.json (it lists the sha256 of every output file) and of
    the pipeline config text."""
    run_dir = Path(run_dir)
    found = {str(run_dir / s / "manifest.json"): hashlib.sha256(
        (run_dir / s / "manifest.json").read_bytes()).hexdigest()
        for s in STAGES if (run_dir / s / "manifest.json").exists()}
    text = pipeline_text
    if text is None and (run_dir / RUN_CONFIG).exists():
        text = (run_dir / RUN_CONFIG).read_text(encoding="utf-8")
    found[RUN_CONFIG] = hashlib.sha256((text or "").encode()).hexdigest()
    return found


def target_state(target: Target, config: PublishConfig) -> str | None:
    """What a target holds now: a local repository's HEAD or the Hub's main commit."""
    if target.kind == "local":
        from pipelines.publish.versions import GitRepo

        repo = GitRepo(target.path)
        return repo.head() if repo.is_repo() else None
    from pipelines.publish.hub import HubRepo, hub_token

    return HubRepo(target.repo_id, token=hub_token(), retries=config.retries).state().head


@task(name=STAGE, cache_key_fn=stage_cache_key, persist_result=True)
def publish_task(call) -> dict[str, Any]:
    extra = call.extra
    report = publish_run(call.out, call.config, targets=[parse_target(t) for t in extra["targets"]],
                         pipeline_text=extra["pipeline_text"], version=extra["version"],
                         message=extra["message"], force=extra["force"])
    logger = get_run_logger()
    for result in report["targets"]:
        logger.info("publish: %s %s %s", result["target"], result["status"], result["version"])
    return report


def run_publish(config: PublishConfig, run_dir: str | Path, *, targets: list[Target],
                pipeline_text: str | None = None, version: str | None = None,
                message: str | None = None, force: bool = False) -> dict[str, Any]:
    """Call inside a flow: publish `run_dir` (or take the report from the cache)."""
    extra = {"targets": [str(t) for t in targets], "pipeline_text": pipeline_text,
             "version": version, "message": message, "force": force,
             "state": {str(t): target_state(t, config) for t in targets}}
    call = make_call(STAGE, config, run_dir, code=("pipelines.publish",), extra=extra,
                     inputs=run_digests(run_dir, pipeline_text))
    # the run folder is read, not written: a hit needs only the key (folder=False)
    report, cached = run_cached(publish_task, call, folder=False)
    if cached:
        report = {**report, "new_version": False, "cached": True,
                  "targets": [{**r, "status": "unchanged"} for r in report["targets"]]}
    create_table_artifact([{"target": r["target"], "status": r["status"], "version": r["version"],
                            "commit": r.get("commit") or "-"} for r in report["targets"]],
                          key="publish", description=f"publish {run_dir}: one row per target")
    local = [t for t in targets if t.kind == "local"]
    if local:
        from alignment.handoff import write_published_handoffs

        report = {**report, "handoff": write_published_handoffs(local[0].path,
                                                                 Path(run_dir) / "handoff")}
    return report


@flow(name="tuneset-publish")
def publish_flow(run_dir: str, config: PublishConfig, targets: list[str],
                 pipeline_text: str | None = None, version: str | None = None,
                 message: str | None = None, force: bool = False) -> dict[str, Any]:
    """Publish a run folder to `targets` (local folders and hf://datasets/ORG/NAME)."""
    return run_publish(config, run_dir, targets=[parse_target(t) for t in targets],
                       pipeline_text=pipeline_text, version=version, message=message, force=force)
