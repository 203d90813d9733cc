"""The judge as cached tasks: the filter stage (`flows.common.StageTask`), and judge evaluation on
labelled pairs.

The filter task leaves `score_histogram.png` in its run folder. Judge evaluation writes
`<out>/judge_eval.json` (the report), `<out>/verdicts.jsonl` (one line per labelled row), a
manifest, and a Prefect table artifact comparing the judge with the baselines.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from prefect import flow
from prefect.artifacts import create_table_artifact
from prefect.logging import get_run_logger

from flows.common import (
    StageInputs,
    StageProgress,
    StageTask,
    cached_task,
    digest_inputs,
    make_call,
    publish_summary,
    run_cached,
    run_folder,
    run_info,
    task_runner,
)
from flows.executor import on_executor
from pipelines.io import output_lock, read_records, write_json, write_manifest, write_text
from pipelines.judge import (
    JudgeConfig,
    evaluate_judge,
    judge_filter,
    plot_score_histogram,
    report_table,
)
from pipelines.judge.inputs import read_judge_inputs
from pipelines.models import load_generator

HISTOGRAM = "score_histogram.png"
EVAL_REPORT = "judge_eval.json"
EVAL_ROWS = "verdicts.jsonl"
CODE = ("pipelines.judge", "pipelines.models")


def _histogram(result, call) -> list[str]:
    if result.stats["self_preference"]:
        get_run_logger().warning(result.stats["self_preference"])
    scores = [s for part in (result.kept, result.rejected) for s in list(part["judge_score"])
              if s is not None]
    config = call.config
    plot_score_histogram(scores, config.threshold, Path(call.out) / HISTOGRAM,
                         title=f"{config.aspect} scores, {config.mode} mode")
    return [HISTOGRAM]


JUDGE = StageTask("judge", judge_filter, code=CODE, model=lambda config: on_executor(load_generator),
                  read=lambda call: StageInputs(read_judge_inputs(
                      call.sources, allow_empty=call.config.allow_empty)),
                  artifacts=_histogram)


def run_judge(config: JudgeConfig, out: str | Path, *, sources: list[str | Path],
              jsonl: bool = False) -> dict[str, Any]:
    """Call inside a flow: run (or reuse from cache) the judge filter on `sources`."""
    return JUDGE.run(JUDGE.call(config, out, sources=sources, jsonl=jsonl))


@flow(name="tuneset-judge", task_runner=task_runner())
def judge_flow(config: JudgeConfig, out: str, jsonl: bool = False) -> dict[str, Any]:
    """Rate and filter the records of `config.inputs` into a run folder at `out`."""
    with output_lock(out):
        summary = run_judge(config, out, sources=[str(p) for p in config.inputs], jsonl=jsonl)
    publish_summary("tuneset judge", [summary])
    return summary


@cached_task
def judge_eval_task(call) -> dict[str, Any]:
    (file,) = call.sources
    progress = StageProgress("judge_eval")
    try:
        report, rows = evaluate_judge(read_records(file), call.config, file=file,
                                      model=on_executor(load_generator)(call.config.model),
                                      progress=progress)
    finally:
        progress.close()
    if report["self_preference"]:
        get_run_logger().warning(report["self_preference"])
    with run_folder(call) as target:
        write_text(Path(target.out) / EVAL_ROWS,
                   "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        write_json(Path(target.out) / EVAL_REPORT, report)
        write_manifest(target.out, stage=target.task, rows={"verdicts": len(rows)},
                       files=[(EVAL_REPORT, None), (EVAL_ROWS, len(rows))], inputs=target.inputs,
                       config=target.config.model_dump(mode="json"),
                       run_info=run_info(target, len(rows)), key=target.key)
    return report


@flow(name="tuneset-judge-eval", task_runner=task_runner())
def judge_eval_flow(file: str, config: JudgeConfig, out: str) -> dict[str, Any]:
    """Evaluate the configured judge on a labelled preference file; report under `out`."""
    call = make_call("judge_eval", config, out, code=CODE, sources=[file],
                     inputs=digest_inputs([file]))
    with output_lock(out):
        report, cached = run_cached(judge_eval_task, call)
    create_table_artifact(report_table(report), key="judge-eval",
                          description=f"judge evaluation on {file}: agreement with the labels "
                                      "and bias, against the longest-answer and random baselines")
    return {**report, "cached": cached}
