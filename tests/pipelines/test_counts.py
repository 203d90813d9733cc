"""Counts per unit for every generator stage, on real stage results: each balance line adds up."""

import re

import datasets

from pipelines.counts import describe_counts
from pipelines.preferences import PreferenceConfig, pair_responses, sample_responses
from pipelines.self_instruct import SelfInstructConfig, bootstrap_instructions, read_seeds
from pipelines.stage import Rejections, StageResult
from pipelines.templating import TemplatingConfig

from .preferences.helpers import TableScorer, sampler
from .self_instruct.helpers import SelfInstructFake
from .templating.helpers import NLI_ROWS, nli_spec, render, write_jsonl


def equation(line: str) -> tuple[int, list[int]]:
    """`unit: N word = a word + b word ...` (up to a comma, semicolon or parenthesis)."""
    head = re.split(r"[,;(]", line.split(": ", 1)[1])[0]
    left, right = head.split(" = ")
    return int(left.split()[0]), [int(part.split()[0]) for part in right.split(" + ")]


def assert_balanced(counts):
    for line in counts["balance"]:
        total, parts = equation(line)
        assert total == sum(parts), line


def test_templating_all_templates_counts_rows_in_and_examples_out(tmp_path):
    data = write_jsonl(tmp_path / "nli.jsonl", NLI_ROWS)
    config = TemplatingConfig(tasks=[nli_spec(data, cap=4)], templates_per_row="all")
    result = render(config)
    counts = describe_counts("templating", result.stats["rows_in"], result)
    assert (counts["in_unit"], counts["kept_unit"], counts["rejected_units"]) == (
        "rows", "examples", "2 rows")
    assert counts["balance"][0] == "rows: 6 in = 4 rendered + 2 rejected"
    assert len(result.kept) > 6
    assert counts["balance"][1].startswith(f"examples: {len(result.kept)} made = "
                                           f"{len(result.kept)} kept + 0 rejected")
    assert_balanced(counts)


def test_self_instruct_counts_tasks_and_instances_apart():
    config = SelfInstructConfig(seeds="configs/demo_data/seed_tasks.jsonl", target=2,
                                max_rounds=1, requests_per_round=1)
    seeds = read_seeds(config)
    result = bootstrap_instructions(seeds, config, model=SelfInstructFake())
    counts = describe_counts("self_instruct", len(seeds), result)
    assert (counts["in_unit"], counts["kept_unit"]) == ("seed tasks", "records")
    tasks, instances = counts["balance"]
    assert tasks.startswith(f"tasks: {result.stats['candidates']} candidates = "
                            f"{result.stats['accepted']} accepted")
    assert instances.startswith("instances: ") and f"= {len(result.kept)} kept" in instances
    rejected_tasks, rejected_instances = equation(tasks)[1][1], equation(instances)[1][1]
    no_instances = result.stats["rejected"].get("self_instruct_no_instances", 0)
    assert rejected_tasks + no_instances + rejected_instances == len(result.rejected)
    assert counts["rejected_units"] == (f"{rejected_tasks + no_instances} tasks + "
                                        f"{rejected_instances} instances")
    assert_balanced(counts)


PROMPTS = datasets.Dataset.from_list([{"prompt": "q1"}, {"prompt": "q2"}, {"prompt": "q3"}])
ANSWERS = {"q1": ["short", "a much longer answer here", "mid answer", "short"],
           "q2": ["only", "only", "only", "only"],
           "q3": ["same", "same score", "also same", "same again"]}
SCORES = {"short": 1.0, "a much longer answer here": 5.0, "mid answer": 3.0, "only": 4.0,
          "same": 2.0, "same score": 2.0, "also same": 2.0, "same again": 2.0}


def test_preferences_count_prompts_pairs_and_answers():
    config = PreferenceConfig(samplers=[{"params": {"temperature": 1.0, "max_new_tokens": 8},
                                         "n": 4}], policy="best_vs_worst")
    sampled = sample_responses(PROMPTS, config, model=sampler(ANSWERS))
    samples = describe_counts("preferences_samples", len(PROMPTS), sampled)
    assert samples["rejected_units"] == "4 answers"
    assert samples["balance"][1] == "answers: 12 sampled = 8 kept + 4 rejected"
    result = pair_responses(sampled.kept, config, model=TableScorer(SCORES))
    counts = describe_counts("preferences", len(sampled.kept), result)
    assert (counts["in_unit"], counts["kept_unit"]) == ("prompts", "pairs")
    assert counts["rejected_units"] == "1 prompt + 1 pair"  # q2: one answer; q3: a tie
    assert counts["balance"] == [
        "prompts: 3 in = 1 with pairs + 1 too few answers + 1 whose every pair was rejected",
        "pairs: 2 selected = 1 kept + 1 rejected",
        "answers: 12 sampled = 8 scored + 4 repeated or empty (rejected in samples/)"]
    assert_balanced(counts)


def test_a_filter_counts_records_and_flags_a_leak():
    features = datasets.Features({"id": datasets.Value("string")})
    rejections = Rejections("dedup", features)
    rejections.add({"id": "b"}, "dedup_exact", "same as a")
    result = StageResult(datasets.Dataset.from_dict({"id": ["a"]}, features=features),
                         rejections.dataset(), rejections.stats())
    assert describe_counts("dedup", 2, result)["balance"] == ["records: 2 in = 1 kept + 1 rejected"]
    assert describe_counts("dedup", 3, result)["balance"] == ["records: 3 in != 1 kept + 1 rejected"]


def test_warnings_come_from_the_stage_stats():
    result = StageResult(datasets.Dataset.from_dict({"id": []}),
                         datasets.Dataset.from_dict({"reason": []}), {"warnings": ["look here"]})
    assert describe_counts("judge", 0, result)["warnings"] == ["look here"]


def test_the_self_preference_warning_is_a_counts_warning():
    result = StageResult(datasets.Dataset.from_dict({"id": []}),
                         datasets.Dataset.from_dict({"reason": []}),
                         {"prompts_with_pairs": 0, "self_preference_warning": "judge m rates m"})
    assert describe_counts("preferences", 0, result)["warnings"] == ["judge m rates m"]
