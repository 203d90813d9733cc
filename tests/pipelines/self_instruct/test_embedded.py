"""A short real self-instruct run on the embedded model."""

import itertools

import pytest
from rouge_score import rouge_scorer

from pipelines.self_instruct.config import SelfInstructConfig
from pipelines.self_instruct.seeds import read_seeds, seed_tasks
from pipelines.self_instruct.stage import bootstrap_instructions
from tests.conftest import REPO


def test_one_real_request_runs_end_to_end(embedded_generator):
    config = SelfInstructConfig(
        seeds=REPO / "configs/demo_data/seed_tasks.jsonl", target=1, max_rounds=1,
        requests_per_round=1, params={"temperature": 0.7, "top_p": 0.5, "max_new_tokens": 48, "seed": 0},
        instances={"max_instances": 1, "params": {"max_new_tokens": 32}})
    result = bootstrap_instructions(read_seeds(config), config, model=embedded_generator)
    stats = result.stats
    assert stats["requests"] == 1 and stats["candidates"] >= 1
    rejected_candidates = sum(1 for r in result.rejected.to_list() if r["kind"] == "instruction"
                              and r["reason"] != "self_instruct_no_instances")
    assert stats["candidates"] == stats["accepted"] + rejected_candidates


@pytest.mark.slow
def test_accepted_instructions_are_novel_by_rouge_score(embedded_generator):
    config = SelfInstructConfig(
        seeds=REPO / "configs/demo_data/seed_tasks.jsonl", target=4, max_rounds=1,
        requests_per_round=3,
        params={"temperature": 0.7, "top_p": 0.5, "presence_penalty": 2.0, "max_new_tokens": 128,
                "seed": 0},
        instances={"max_instances": 2, "params": {"max_new_tokens": 64}})
    seeds = seed_tasks(read_seeds(config))
    result = bootstrap_instructions(read_seeds(config), config, model=embedded_generator)
    accepted = sorted({r["instruction"] for r in result.kept.to_list()} |
                      {r["instruction"] for r in result.rejected.to_list()
                       if r["reason"] == "self_instruct_no_instances"})
    assert accepted, result.stats
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    for a, b in itertools.combinations(accepted, 2):
        assert scorer.score(a, b)["rougeL"].fmeasure <= 0.7
    for a in accepted:
        assert max(scorer.score(s.instruction, a)["rougeL"].fmeasure for s in seeds) <= 0.7
    assert result.stats["candidates"] > len(accepted)  # the small model echoes seeds; those are caught
