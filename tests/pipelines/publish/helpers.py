"""Small pipeline run folders written directly (write_run with literal records, no models)."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import yaml

from pipelines.io import write_json, write_run
from pipelines.judge.config import JudgeConfig
from pipelines.plots import histogram_png
from pipelines.preferences.config import PreferenceConfig
from pipelines.preferences.pairing import REJECT_FEATURES
from pipelines.records import (
    INSTRUCTION_FEATURES,
    InstructionMeta,
    InstructionRecord,
    Message,
    PreferenceMeta,
    PreferenceRecord,
    make_instruction,
    make_preference,
    rows_to_dataset,
    to_dataset,
)

SELF_PREFERENCE = "self-preference: the judge 'fake:judge' also generated these records"
JUDGE_FEATURES = datasets.Features({**INSTRUCTION_FEATURES, "judge_score": datasets.Value("float64")})
DEDUP_REJECT = datasets.Features({**INSTRUCTION_FEATURES, "cluster_id": datasets.Value("int64"),
                                  "duplicate_of": datasets.Value("string"),
                                  "stage": datasets.Value("string"),
                                  "reason": datasets.Value("string"),
                                  "detail": datasets.Value("string")})
TEMPLATING_REJECT = datasets.Features({"task": datasets.Value("string"),
                                       "source_row": datasets.Value("int64"),
                                       "row": datasets.Json(), "stage": datasets.Value("string"),
                                       "reason": datasets.Value("string"),
                                       "detail": datasets.Value("string")})


def instruction(i: int) -> InstructionRecord:
    return make_instruction(f"What is {i} plus {i}? Answer with a number.", "", f"{2 * i}",
                            meta=InstructionMeta(source="templating"))


def pair(i: int) -> PreferenceRecord:
    prompt = [Message(role="user", content=f"What is {i} plus {i}? Answer with a number.")]
    return make_preference(prompt, [Message(role="assistant", content=f"{i} plus {i} is {2 * i}.")],
                           [Message(role="assistant", content=f"{2 * i + 1}")],
                           meta=PreferenceMeta(source="preferences", judge="fake:judge"),
                           score_chosen=4.0 + i / 100, score_rejected=1.5)


def make_run(root: Path, n: int = 12, *, publish: dict | None = None, plots: bool = True) -> Path:
    """A run folder like `tuneset run` writes: templating -> dedup -> judge -> preferences.

    Records 0..n-1; dedup drops one duplicate, the judge drops every record with i % 4 == 3,
    preferences pairs every kept record."""
    root.mkdir(parents=True, exist_ok=True)
    records = [instruction(i) for i in range(n)]
    kept = to_dataset(records, InstructionRecord)
    bad = rows_to_dataset([{"task": "demo_nli", "source_row": 99, "row": {"p": "x", "h": None},
                            "stage": "templating", "reason": "templating_missing_field",
                            "detail": "field 'h' is empty"}], TEMPLATING_REJECT)
    summaries = [_stage(root, "templating", kept, bad, {"tasks": [{"name": "demo_nli"}]},
                        {"rows_in": n + 1, "rejected": {"templating_missing_field": 1},
                         "seconds": 0.5}, n + 1)]
    duplicate = {**records[0].model_dump(), "cluster_id": 0, "duplicate_of": records[0].id,
                 "stage": "dedup", "reason": "dedup_exact", "detail": "same normalized text"}
    dup = rows_to_dataset([duplicate], DEDUP_REJECT)
    summaries.append(_stage(root, "dedup", kept, dup, {"text": "instruction_input",
                                                         "threshold": 0.8},
                            {"rows_in": n + 1, "rejected": {"dedup_exact": 1},
                             "seconds": {"total": 1.25}}, n + 1))
    scored = [{**r.model_dump(), "judge_score": 4.0 if i % 4 != 3 else 1.0}
              for i, r in enumerate(records)]
    good = [s for s in scored if s["judge_score"] >= 3.0]
    low = [{**s, "stage": "judge", "reason": "judge_below_threshold", "detail": "score 1.0 < 3.0"}
           for s in scored if s["judge_score"] < 3.0]
    low_features = datasets.Features({**JUDGE_FEATURES, "stage": datasets.Value("string"),
                                      "reason": datasets.Value("string"),
                                      "detail": datasets.Value("string")})
    judge_dir = root / "judge"
    if plots:
        histogram_png([1, 2], [0.0, 2.5, 5.0], judge_dir / "score_histogram.png",
                      title="scores", xlabel="score", marker=3.0)
    judge_config = JudgeConfig(threshold=3.0).model_dump(mode="json")
    summaries.append(_stage(root, "judge", rows_to_dataset(good, JUDGE_FEATURES),
                            rows_to_dataset(low, low_features), judge_config,
                            {"rows_in": n, "kept": len(good), "seconds": 12.0,
                             "rejected": {"judge_below_threshold": len(low)},
                             "self_preference": SELF_PREFERENCE},
                            n, extra_files=["score_histogram.png"] if plots else []))
    kept_ids = [i for i in range(n) if i % 4 != 3]
    pairs = to_dataset([pair(i) for i in kept_ids], PreferenceRecord)
    tie = [{"prompt_id": "p-tie", "prompt": [{"role": "user", "content": "Say hi."}],
            "level": "prompt", "chosen": None, "rejected": None, "score_chosen": None,
            "score_rejected": None, "duplicates": 0, "scores": [3.0, 3.0],
            "candidates": [{"text": "hi", "sampler": 0, "model": "fake:sampler",
                            "finish_reason": "stop"}] * 2,
            "stage": "preferences", "reason": "preferences_all_tied",
            "detail": "every candidate scored the same"}]
    best = to_dataset([make_instruction(f"What is {i} plus {i}? Answer with a number.", "",
                                        f"{i} plus {i} is {2 * i}.",
                                        meta=InstructionMeta(source="preferences"))
                       for i in kept_ids], InstructionRecord)
    prefs_config = PreferenceConfig().model_dump(mode="json")
    summaries.append(_stage(root, "preferences", pairs, rows_to_dataset(tie, REJECT_FEATURES),
                            prefs_config, {"prompts": len(kept_ids) + 1, "pairs": len(kept_ids),
                                           "rejected": {"preferences_all_tied": 1},
                                           "self_preference_warning": None, "seconds": 3.0},
                            len(kept_ids) + 1, extra_datasets={"best_of_n": best}))
    config = {"run": {"name": "tiny", "seed": 0, "jsonl": False},
              "templating": {"tasks": [{"name": "demo_nli"}]},
              "dedup": {"text": "instruction_input"}, "judge": judge_config,
              "preferences": prefs_config,
              "publish": {"license": "apache-2.0", "test_fraction": 0.25, **(publish or {})}}
    (root / "pipeline.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    write_json(root / "summary.json", {"name": "tiny", "stages": summaries})
    return root


def _stage(root, name, kept, rejected, config, stats, n_in, extra_files=(), extra_datasets=None):
    manifest = write_run(root / name, stage=name, kept=kept, rejected=rejected, stats=stats,
                         config=config, inputs={f"inputs/{name}.jsonl": "0" * 64},
                         extra_files=list(extra_files), extra_datasets=extra_datasets,
                         run_info={"flow_run_id": "flow-run-1", "task_run_id": f"task-{name}",
                                   "records_in": n_in, "code": "c" * 64})
    return {"stage": name, "in": n_in, "kept": len(kept), "rejected": len(rejected),
            "rows": manifest["rows"]}


def rows(path: Path, part: str = "kept") -> list[dict]:
    from pipelines.io import load_run

    return load_run(path, part).to_list()


def dump(value) -> str:
    return json.dumps(value, sort_keys=True, default=str)
