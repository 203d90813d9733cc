"""The one generic stage task, and what every cached task shares: cache key, run folders, artifacts.

A stage runs in a flow as a `StageTask`, one cached Prefect task per run folder:

    read inputs -> stage(records, config, model=..., progress=...) -> extra files (plots) -> persist

`StageTask.run(call)` runs one call (or takes it from the cache); `StageTask.map(calls)` submits
several (shards) to the flow's task runner, so a parallel runner runs them side by side, and
returns their summaries in call order. A `StageCall` holds everything a call depends on; the one
rule for caching lives here:

    key = sha256(task name, config JSON, [input sha256], code digest, extra, jsonl)    `cache_key`
    hit = key matches, the run folder is complete and was written for that key     `complete`
    a task writes its run folder inside `run_folder(call)`, the manifest last          `run_folder`

`run_folder` writes into a temporary sibling of the run folder and swaps it in whole when the
task succeeds, holding the folder's lock (`pipelines.io.folders`); a flow holds the lock of its
`--out` folder for the whole run (`output_lock`), so a second run on it fails at once.

Cache records live in `<out>/.cache/`, next to the outputs they describe; delete or damage the
folder and the next run recomputes it. Tasks that compute an intermediate value rather than a
run folder (`folder=False`) are hits whenever their key matches. Every task retries once on a
failure that is not the user's (a model server error); bad input or config never retries.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import datasets
from prefect import task
from prefect.artifacts import (
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)
from prefect.futures import PrefectFuture
from prefect.logging import get_run_logger
from prefect.settings import get_current_settings
from prefect.task_runners import ThreadPoolTaskRunner
from tqdm.auto import tqdm

from pipelines.counts import count_of, describe_counts
from pipelines.errors import TunesetError
from pipelines.io import (
    is_run_folder,
    read_manifest,
    sha256_file,
    staged_folder,
    verify_run,
    write_run,
)
from pipelines.io.writers import MANIFEST
from pipelines.stage import StageResult

CACHE_DIR = ".cache"


# -- what a call depends on -----------------------------------------------------------------
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
    found: dict[str, str] = {}
    for source in sources:
        target = Path(source) / "kept" if is_run_folder(source) else Path(source)
        found[str(source)] = next(iter(digest_inputs([target]).values()))
    return found


def code_digest(*packages: str) -> str:
    """sha256 over the source and data files of `packages`, so a code change invalidates caches."""
    digest = hashlib.sha256()
    for package in packages:
        root = Path(str(resources.files(package)))
        for path in sorted(root.rglob("*")):
            if path.suffix in (".py", ".yaml", ".jinja") and "__pycache__" not in path.parts:
                digest.update(f"{package}/{path.relative_to(root)}:{sha256_file(path)}".encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class StageCall:
    """One call of a cached task: what its cache key covers, where it writes, what it reads."""

    task: str                                  # task name; also the stage name in the manifest
    out: str                                   # the run folder (and its cache records)
    config: Any                                # the stage's pydantic config
    inputs: dict[str, str]                     # {input: sha256} of everything it reads
    code: str                                  # `code_digest` of the code that computes it
    sources: tuple[str, ...] = ()              # record files or run folders to read, in order
    extra: dict[str, Any] = field(default_factory=dict)  # further keyed values (shard, round)
    jsonl: bool = False                        # also write JSONL copies
    dest: str | None = None                    # inside `run_folder`: where `out` is swapped to

    @property
    def key(self) -> str:
        return cache_key(self)

    @property
    def folder(self) -> str:
        """The run folder as users see it (`out`, or inside `run_folder` its destination)."""
        return self.dest or self.out


def make_call(task: str, config: Any, out: str | Path, *, code: Sequence[str],
              sources: Sequence[str | Path] = (), inputs: dict[str, str] | None = None,
              extra: dict[str, Any] | None = None, jsonl: bool = False) -> StageCall:
    """A call of `task` computed by the code of the `code` packages; `inputs` defaults to the
    digests of `sources`."""
    return StageCall(task, str(out), config, digest_sources(sources) if inputs is None else inputs,
                     code_digest(*code), tuple(str(s) for s in sources), dict(extra or {}), jsonl)


def _config_json(config: Any) -> str:
    if hasattr(config, "model_dump_json"):
        return config.model_dump_json()
    return json.dumps(config, sort_keys=True, default=str)


def cache_key(call: StageCall) -> str:
    """The cache key of a call (see the module docstring). Inputs count by content, in order,
    not by path: a run folder copied or moved elsewhere keeps its downstream stages' hits."""
    payload = json.dumps({"task": call.task, "config": _config_json(call.config),
                          "inputs": list(call.inputs.values()), "code": call.code,
                          "extra": call.extra,
                          "jsonl": call.jsonl}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def stage_cache_key(context: Any, parameters: dict[str, Any]) -> str:
    """Prefect's `cache_key_fn` for every cached task here: the key of its `call` parameter."""
    return cache_key(parameters["call"])


def complete(call: StageCall) -> bool:
    """Whether the call's run folder is complete (its manifest and every file it lists) and
    was written for this call's cache key, not another config's or input's."""
    return verify_run(call.out, key=call.key)


OWN_OUTPUTS = frozenset({MANIFEST, "kept", "rejected", "stats.json"})


@contextlib.contextmanager
def run_folder(call: StageCall) -> Iterator[StageCall]:
    """Where a task writes its run folder: the call to write with, whose `out` is a temporary
    sibling of the folder. When the block succeeds the sibling replaces the folder in one step
    (keeping the folder's cache records and nested run folders); when it fails the folder is
    left as it was. The folder is locked meanwhile."""
    old = read_manifest(call.out) or {}
    own = set(OWN_OUTPUTS) | {rel.split("/")[0] for rel in old.get("files", {})}
    with staged_folder(call.out, own) as tmp:
        yield dataclasses.replace(call, out=str(tmp), dest=call.out)


def task_options(call: StageCall, *, folder: bool = True) -> dict[str, Any]:
    """`with_options` for one call: named for it, caching in its folder, and recomputed when it
    writes a run folder (`folder`) that is not `complete`."""
    return {"name": call.task, "result_storage": Path(call.out) / CACHE_DIR,
            "refresh_cache": folder and not complete(call)}


def never_retry_user_errors(task, task_run, state) -> bool:
    """Retry condition: retry transient failures, never a bad input or config."""
    try:
        state.result()
    except TunesetError:
        return False
    except Exception:  # noqa: BLE001 - anything else may be transient
        return True
    return False


def cached_task(fn: Callable[..., Any]):
    """A cached Prefect task over a `call` first parameter (the decorator every task here uses)."""
    return task(fn, cache_key_fn=stage_cache_key, persist_result=True, retries=1,
                retry_condition_fn=never_retry_user_errors)


def run_cached(task_fn, call: StageCall, *args: Any, folder: bool = True) -> tuple[Any, bool]:
    """Inside a flow: run `task_fn(call, *args)` or take it from the cache; (result, cached)."""
    state = task_fn.with_options(**task_options(call, folder=folder))(call, *args,
                                                                      return_state=True)
    return _here(state.result(), call, folder), state.name == "Cached"


def _here(summary: Any, call: StageCall, folder: bool) -> Any:
    """A run folder's summary names the folder it was asked for: a hit taken from a folder
    that has since been copied or moved names where it is now."""
    if folder and isinstance(summary, dict) and "out" in summary:
        return {**summary, "out": str(call.out)}
    return summary


def submit_cached(task_fn, call: StageCall, *args: Any, folder: bool = True) -> PrefectFuture:
    """Inside a flow: submit `task_fn(call, *args)` to the flow's task runner."""
    return task_fn.with_options(**task_options(call, folder=folder)).submit(call, *args)


def wait_cached(futures: Sequence[PrefectFuture], *, progress: str | None = None
                ) -> list[tuple[Any, bool]]:
    """(result, cached) of each future, in the order given, once all have finished; the first
    failure (in that order) is raised. `progress` names a progress artifact counting them."""
    artifact = create_progress_artifact(0.0, description=progress) if progress else None
    for done, future in enumerate(futures, start=1):
        future.wait()
        if artifact is not None:
            update_progress_artifact(artifact, 100.0 * done / len(futures))
    return [(f.result(), f.state.name == "Cached") for f in futures]


def task_runner() -> ThreadPoolTaskRunner:
    """The flows' task runner: Prefect's thread runner, one task at a time unless
    PREFECT_TASKS_RUNNER_THREAD_POOL_MAX_WORKERS allows more. An in-process model answers one
    call at a time anyway; remote model servers and other runners (Ray) gain from more."""
    return ThreadPoolTaskRunner(
        max_workers=get_current_settings().tasks.runner.thread_pool_max_workers or 1)


# -- the generic stage task -----------------------------------------------------------------
@dataclass(frozen=True)
class StageInputs:
    """What `StageTask.read` returns: the stage's records and any further keyword arguments."""

    records: datasets.Dataset
    options: dict[str, Any] = field(default_factory=dict)


def _count_records(records: datasets.Dataset, result: StageResult) -> int:
    return len(records)


@dataclass(frozen=True)
class StageTask:
    """One record stage as a cached task: how to read its inputs, which model to pass, which
    files to add. The stage itself is `stage(records, config, *, model, progress, **options)`."""

    name: str                                             # stage name: manifest, counts, task
    stage: Callable[..., StageResult]
    read: Callable[[StageCall], StageInputs]
    code: tuple[str, ...]                                 # packages whose code keys the cache
    model: Callable[[Any], Any] | None = None             # config -> `model=` (built in the task)
    artifacts: Callable[[StageResult, StageCall], list[str]] | None = None  # files written to out
    count_in: Callable[[datasets.Dataset, StageResult], int] = _count_records  # "in" of counts

    def call(self, config: Any, out: str | Path, **kwargs: Any) -> StageCall:
        """A call of this stage (keywords as `make_call`)."""
        return make_call(self.name, config, out, code=self.code, **kwargs)

    def run(self, call: StageCall) -> dict[str, Any]:
        """Inside a flow: run the call, or take it from the cache; its summary with `cached`."""
        summary, cached = run_cached(stage_task, call, self)
        return {**summary, "cached": cached}

    def map(self, calls: Sequence[StageCall], *, progress: str | None = None) -> list[dict[str, Any]]:
        """Inside a flow: submit every call at once; their summaries in call order."""
        futures = [submit_cached(stage_task, call, self) for call in calls]
        return [{**_here(summary, call, True), "cached": cached}
                for call, (summary, cached) in zip(calls, wait_cached(futures, progress=progress),
                                                   strict=True)]


@cached_task
def stage_task(call: StageCall, spec: StageTask) -> dict[str, Any]:
    """read -> stage -> extra files -> persist (see `StageTask`)."""
    inputs = spec.read(call)
    options = dict(inputs.options)
    if spec.model is not None:
        options["model"] = spec.model(call.config)
    progress = StageProgress(spec.name)
    try:
        result = spec.stage(inputs.records, call.config, progress=progress, **options)
    finally:
        progress.close()
    with run_folder(call) as target:
        files = spec.artifacts(result, target) if spec.artifacts else []
        return persist_stage(target, result, n_in=spec.count_in(inputs.records, result),
                             extra_files=files)


# -- run folders and artifacts --------------------------------------------------------------
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
    """A stage's counts: in, kept, rejected (by reason), each count's unit and the balance per
    unit (`pipelines.counts.describe_counts`), and the stage's warnings."""
    rejected = dict(result.stats.get("rejected", {}))
    return {"stage": stage, "in": n_in, "kept": len(result.kept),
            "rejected": len(result.rejected),
            "rejected_by_reason": ", ".join(f"{k}: {v}" for k, v in sorted(rejected.items())) or "-",
            **describe_counts(stage, n_in, result)}


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    """A counts row for a table artifact: lists joined into one cell."""
    return {k: "; ".join(map(str, v)) if isinstance(v, list) else v for k, v in row.items()
            if not isinstance(v, dict)}


def persist_stage(call: StageCall, result: StageResult, *, n_in: int,
                  extra_files: Sequence[str] = ()) -> dict[str, Any]:
    """Write the call's run folder (kept, rejected, `result.extra`, stats, the manifest last),
    publish the counts table, and return the task's summary."""
    stage, out = call.task, call.folder
    manifest = write_run(call.out, stage=stage, kept=result.kept, rejected=result.rejected,
                         stats=result.stats, config=call.config.model_dump(mode="json"),
                         inputs=call.inputs, jsonl=call.jsonl, extra_files=list(extra_files),
                         extra_datasets=result.extra, run_info=run_info(call, n_in),
                         key=call.key)
    row = counts_row(stage, n_in, result)
    create_table_artifact([_flat(row)], key=f"{stage.replace('_', '-')}-counts",
                          description=f"{stage}: records in, kept, rejected by reason")
    logger = get_run_logger()
    logger.info("%s: %s in, %s kept, %s rejected -> %s", stage, count_of(n_in, row["in_unit"]),
                count_of(len(result.kept), row["kept_unit"]), row["rejected_units"], out)
    for warning in row["warnings"]:
        logger.warning("%s: %s", stage, warning)
    return {**row, "out": str(out), "rows": manifest["rows"]}


def run_info(call: StageCall, n_in: int) -> dict[str, Any]:
    """What a manifest records about the run that wrote it: the Prefect flow-run and task-run
    ids, the records in, and the code digest the call was keyed on."""
    from prefect.runtime import flow_run, task_run

    return {"flow_run_id": flow_run.id, "task_run_id": task_run.id, "records_in": n_in,
            "code": call.code}


def publish_summary(title: str, rows: list[dict[str, Any]]) -> None:
    """The run's table artifact and markdown summary over all stages."""
    if not rows:
        return
    create_table_artifact([_flat(r) for r in rows], key="pipeline-counts",
                          description=f"{title}: counts per stage")
    lines = [f"# {title}", "", "| stage | in | out | rejected | by reason | folder |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {r['stage']} | {r['in']} {r.get('in_unit', '')} | {r['kept']} "
              f"{r.get('kept_unit', '')} | {r.get('rejected_units', r['rejected'])} | "
              f"{r['rejected_by_reason']} | `{r['out']}` |" for r in rows]
    notes = [f"- {r['stage']}: {line}" for r in rows for line in r.get("balance", [])]
    notes += [f"- **warning** {r['stage']}: {w}" for r in rows for w in r.get("warnings", [])]
    if notes:
        lines += ["", "Balance per unit:", "", *notes]
    create_markdown_artifact("\n".join(lines), key="pipeline-summary", description=title)
