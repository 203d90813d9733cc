"""The judge as cached Prefect tasks: the filter stage, and judge evaluation on labelled pairs.

The filter task caches like every stage task (inputs + config + code; recomputed when its run
folder is damaged) and leaves `score_histogram.png` in the run folder. Model failures are
retried once more than the backend already does; bad input or config never is.

Judge evaluation writes `<out>/judge_eval.json` (the report), `<out>/verdicts.jsonl` (one line
per labelled row) and a Prefect table artifact comparing the judge with the baselines.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_table_artifact
from prefect.logging import get_run_logger

from flows.common import (
    CACHE_DIR,
    StageProgress,
    code_digest,
    digest_inputs,
    digest_sources,
    never_retry_user_errors,
    persist_stage,
    publish_summary,
    run_stage_task,
    stage_cache_key,
)
from pipelines.io import read_records, write_json, write_text
from pipelines.judge import (
    JudgeConfig,
    evaluate_judge,
    judge_filter,
    plot_score_histogram,
    report_table,
)
from pipelines.judge.inputs import read_judge_inputs
from pipelines.models import load_generator

STAGE = "judge"
HISTOGRAM = "score_histogram.png"
EVAL_REPORT = "judge_eval.json"
EVAL_ROWS = "verdicts.jsonl"


def judge_code() -> str:
    """The judge's code and the model backends' code: a change to either recomputes."""
    both = code_digest("pipelines.judge") + code_digest("pipelines.models")
    return hashlib.sha256(both.encode()).hexdigest()


@task(name="judge", cache_key_fn=stage_cache_key, persist_result=True, retries=1,
      retry_condition_fn=never_retry_user_errors)
def judge_task(config: JudgeConfig, out: str, inputs: dict[str, str], code: str,
               jsonl: bool = False) -> dict[str, Any]:
    sources = list(inputs)
    records = read_judge_inputs(sources)
    progress = StageProgress(STAGE)
    try:
        result = judge_filter(records, config, model=load_generator(config.model),
                              file=sources[0] if len(sources) == 1 else None, progress=progress)
    finally:
        progress.close()
    if result.stats["self_preference"]:
        get_run_logger().warning(result.stats["self_preference"])
    scores = [s for part in (result.kept, result.rejected) for s in list(part["judge_score"])
              if s is not None]
    plot_score_histogram(scores, config.threshold, Path(out) / HISTOGRAM,
                         title=f"{config.aspect} scores, {config.mode} mode")
    return persist_stage(STAGE, out, result, n_in=len(records), config=config.model_dump(mode="json"),
                         inputs=inputs, jsonl=jsonl, extra_files=[HISTOGRAM])


def run_judge(config: JudgeConfig, out: str | Path, *, sources: list[str | Path],
              jsonl: bool = False) -> dict[str, Any]:
    """Call inside a flow: run (or reuse from cache) the judge filter on `sources`."""
    return run_stage_task(judge_task, out, config, str(out), digest_sources(sources), judge_code(),
                          jsonl)


@flow(name="tuneset-judge")
def judge_flow(config: JudgeConfig, out: str, jsonl: bool = False) -> dict[str, Any]:
    """Rate and filter the records of `config.inputs` into a run folder at `out`."""
    summary = run_judge(config, out, sources=[str(p) for p in config.inputs], jsonl=jsonl)
    publish_summary("tuneset judge", [summary])
    return summary


@task(name="judge-eval", cache_key_fn=stage_cache_key, persist_result=True, retries=1,
      retry_condition_fn=never_retry_user_errors)
def judge_eval_task(config: JudgeConfig, out: str, inputs: dict[str, str], code: str) -> dict[str, Any]:
    (file,) = list(inputs)
    records = read_records(file)
    progress = StageProgress("judge-eval")
    try:
        report, rows = evaluate_judge(records, config, model=load_generator(config.model),
                                      file=file, progress=progress)
    finally:
        progress.close()
    if report["self_preference"]:
        get_run_logger().warning(report["self_preference"])
    write_text(Path(out) / EVAL_ROWS, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    write_json(Path(out) / EVAL_REPORT, report)
    return report


@flow(name="tuneset-judge-eval")
def judge_eval_flow(file: str, config: JudgeConfig, out: str) -> dict[str, Any]:
    """Evaluate the configured judge on a labelled preference file; report under `out`."""
    done = (Path(out) / EVAL_REPORT).exists() and (Path(out) / EVAL_ROWS).exists()
    state = judge_eval_task.with_options(result_storage=Path(out) / CACHE_DIR, refresh_cache=not done)(
        config, out, digest_inputs([file]), judge_code(), return_state=True)
    report = state.result()
    create_table_artifact(report_table(report), key="judge-eval",
                          description=f"judge evaluation on {file}: agreement with the labels "
                                      "and bias, against the longest-answer and random baselines")
    return {**report, "cached": state.name == "Cached"}
