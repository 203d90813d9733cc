"""What every stage task shares: cache keys, run-folder persistence, artifacts, progress.

A stage task caches on the content of its inputs plus its config plus the stage's code:

    key = sha256(stage, config JSON, sha256 of each input file, sha256 of the stage's source)

and only while its run folder is still complete (`verify_run`): delete or damage the folder and
the next run recomputes it (`stage_task_options` turns on `refresh_cache` then). Cache records
live in `<run folder>/.cache/`, next to the outputs they describe.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from importlib import resources
from pathlib import Path
from typing import Any

from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.context import TaskRunContext
from prefect.logging import get_run_logger
from tqdm.auto import tqdm

from pipelines.errors import TunesetError
from pipelines.io import sha256_file, verify_run, write_run
from pipelines.stage import StageResult

CACHE_DIR = ".cache"


def digest_inputs(paths: Iterable[str | Path | None]) -> dict[str, str]:
    """sha256 of every input file (a folder: of each file inside it, in name order)."""
    found: dict[str, str] = {}
    for path in paths:
        if path is None:
            continue
        path = Path(path)
        if path.is_dir():
            digest = hashlib.sha256()
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                digest.update(f"{child.relative_to(path)}:{sha256_file(child)}".encode())
            found[str(path)] = digest.hexdigest()
        else:
            found[str(path)] = sha256_file(path)
    return found


def digest_sources(sources: Iterable[str | Path]) -> dict[str, str]:
    """sha256 of what a consuming stage reads: a run folder's kept records, or a file."""
    from pipelines.io import is_run_folder

    found: dict[str, str] = {}
    for source in sources:
        target = Path(source) / "kept" if is_run_folder(source) else Path(source)
        found[str(source)] = next(iter(digest_inputs([target]).values()))
    return found


def code_digest(package: str) -> str:
    """sha256 over the source and data files of a package, so a code change invalidates caches."""
    digest = hashlib.sha256()
    root = Path(str(resources.files(package)))
    for path in sorted(root.rglob("*")):
        if path.suffix in (".py", ".yaml", ".jinja") and "__pycache__" not in path.parts:
            digest.update(f"{path.relative_to(root)}:{sha256_file(path)}".encode())
    return digest.hexdigest()


def stage_cache_key(context: TaskRunContext, parameters: dict[str, Any]) -> str | None:
    """Cache key for a stage task with parameters (config, out, inputs, code)."""
    config = parameters["config"]
    config_json = config.model_dump_json() if hasattr(config, "model_dump_json") else \
        json.dumps(config, sort_keys=True, default=str)
    payload = json.dumps({"task": context.task.name, "config": config_json,
                          "inputs": parameters["inputs"], "code": parameters["code"],
                          "extra": parameters.get("extra")}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def stage_task_options(out: str | Path) -> dict[str, Any]:
    """`with_options` for a stage task writing to `out`: its cache lives in the run folder, and
    a run folder that is missing or damaged is recomputed even when the key matches."""
    return {"result_storage": Path(out) / CACHE_DIR, "refresh_cache": not verify_run(out)}


def run_stage_task(stage_task, out: str | Path, *args: Any) -> dict[str, Any]:
    """Run (or take from the cache) a stage task that writes the run folder `out`; its summary
    with `cached` saying which. The task's parameters are `args` (`out` among them)."""
    state = stage_task.with_options(**stage_task_options(out))(*args, return_state=True)
    return {**state.result(), "cached": state.name == "Cached"}


def never_retry_user_errors(task, task_run, state) -> bool:
    """Retry condition: retry transient failures, never a bad input or config."""
    try:
        state.result()
    except TunesetError:
        return False
    except Exception:  # noqa: BLE001 - anything else may be transient
        return True
    return False


class StageProgress:
    """Progress callback for stage functions: a Prefect progress artifact plus a tqdm bar."""

    def __init__(self, stage: str) -> None:
        self.stage = stage
        self.artifact_id = create_progress_artifact(0.0, description=f"{stage} progress")
        self.bar: tqdm | None = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = tqdm(total=total, desc=self.stage, unit="row", leave=False)
        self.bar.update(done - self.bar.n)
        update_progress_artifact(self.artifact_id, 100.0 * done / max(total, 1))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def counts_row(stage: str, n_in: int, result: StageResult) -> dict[str, Any]:
    rejected = dict(result.stats.get("rejected", {}))
    return {"stage": stage, "in": n_in, "kept": len(result.kept),
            "rejected": len(result.rejected),
            "rejected_by_reason": ", ".join(f"{k}: {v}" for k, v in sorted(rejected.items())) or "-"}


def persist_stage(stage: str, out: str | Path, result: StageResult, *, n_in: int,
                  config: dict[str, Any], inputs: dict[str, str], jsonl: bool = False,
                  extra_files: list[str] = (),
                  extra_datasets: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write the run folder, publish the counts table, and return the task's summary."""
    manifest = write_run(out, stage=stage, kept=result.kept, rejected=result.rejected,
                         stats=result.stats, config=config, inputs=inputs, jsonl=jsonl,
                         extra_files=list(extra_files), extra_datasets=extra_datasets,
                         run_info=run_info(n_in))
    row = counts_row(stage, n_in, result)
    create_table_artifact([row], key=f"{stage.replace('_', '-')}-counts",
                          description=f"{stage}: records in, kept, rejected by reason")
    get_run_logger().info("%s: %d in, %d kept, %d rejected -> %s", stage, n_in,
                          len(result.kept), len(result.rejected), out)
    return {**row, "out": str(out), "rows": manifest["rows"]}


def run_info(n_in: int) -> dict[str, Any]:
    """What a manifest records about the run that wrote it: the Prefect flow-run and task-run
    ids, the records in, and the code digest the task was keyed on (None outside a task)."""
    from prefect.runtime import flow_run, task_run

    context = TaskRunContext.get()
    code = context.parameters.get("code") if context is not None else None
    return {"flow_run_id": flow_run.id, "task_run_id": task_run.id, "records_in": n_in,
            "code": code if isinstance(code, str) else None}


def publish_summary(title: str, rows: list[dict[str, Any]]) -> None:
    """The run's table artifact and markdown summary over all stages."""
    if not rows:
        return
    create_table_artifact(rows, key="pipeline-counts", description=f"{title}: counts per stage")
    lines = [f"# {title}", "", "| stage | in | kept | rejected | by reason | folder |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r['stage']} | {r['in']} | {r['kept']} | {r['rejected']} | "
              f"{r['rejected_by_reason']} | `{r['out']}` |" for r in rows]
    create_markdown_artifact("\n".join(lines), key="pipeline-summary", description=title)
