"""judge-eval tells the truth about thin evidence and keeps the user informed: the rating margin
suits the scoring mode, every share says how many decisive verdicts it rests on, and progress
moves after every batch the model runs."""

from __future__ import annotations

import math

import datasets
import pytest

from pipelines.judge import JudgeConfig, evaluate_judge, report_table
from pipelines.models.cache import CachedGenerator
from tests.fakes import ScriptedGenerator


def preference_rows(count: int) -> list[dict[str, str]]:
    """Rows whose chosen answer is the longer one."""
    return [{"prompt": f"Question {i}?", "chosen": f"A full answer to question {i}.",
             "rejected": "No."} for i in range(count)]


def leaning_scores(conversation, prefix, candidates):
    """A judge that prefers the chosen (long) answer by less than half a point: expected score
    3.3 (p(3) = 0.7, p(4) = 0.3) for it, 3.0 for the short one."""
    long = "A full answer" in conversation[0]["content"]
    p = {3: 0.7, 4: 0.3} if long else {3: 1.0}
    return {c: math.log(p[int(c.strip())]) if int(c.strip()) in p else -math.inf for c in candidates}


def test_margin_defaults_to_zero_in_logprob_mode_and_half_a_point_in_parse_mode():
    assert JudgeConfig(mode="logprob", comparison="rating").rating_margin == 0.0
    assert JudgeConfig(mode="parse", comparison="rating").rating_margin == 0.5
    assert JudgeConfig(mode="logprob", comparison="rating", margin=0.25).rating_margin == 0.25


def test_logprob_rating_ranks_pairs_that_differ_by_less_than_half_a_point():
    config = JudgeConfig(mode="logprob", comparison="rating")
    report, details = evaluate_judge(datasets.Dataset.from_list(preference_rows(4)), config,
                                     model=ScriptedGenerator([], scores=leaning_scores))
    gaps = [d["score_chosen"] - d["score_rejected"] for d in details]
    assert all(0 < gap < 0.5 for gap in gaps)
    assert report["judge_metrics"]["agreement"] == 1.0 and report["judge"]["margin"] == 0.0


def test_every_share_says_how_many_decisive_verdicts_it_rests_on():
    rows = preference_rows(6)
    scores = iter(["Score: 5", "Score: 1"] + ["Score: 3"] * 10)  # only the first pair is decided
    report, _ = evaluate_judge(datasets.Dataset.from_list(rows), JudgeConfig(comparison="rating"),
                               model=ScriptedGenerator(lambda c, p, k: next(scores)))
    judge = report["judge_metrics"]
    assert judge["p_prefer_longer"] == 1.0
    assert judge["basis"]["p_prefer_longer"] == {"decisive": 1, "of": 6}
    row = report_table(report)[0]
    assert row["p_prefer_longer"] == "1.00 (1 of 6 decisive)"
    assert row["agreement"] == "0.17 (1 of 6 decisive)" and row["tie_rate"] == "0.83 (1 of 6 decisive)"
    assert row["parse_failure_rate"] == "0.00 (0 of 12 calls failed)"
    longest = report_table(report)[1]
    assert longest["p_prefer_longer"] == "1.00 (6 of 6 decisive)"


@pytest.mark.parametrize(("comparison", "mode"), [("rating", "logprob"), ("pairwise", "logprob"),
                                                  ("rating", "parse"), ("pairwise", "parse")])
def test_progress_moves_after_every_batch_of_judge_calls(comparison, mode):
    def respond(conversation, params, k):
        return "Verdict: A" if comparison == "pairwise" else "Score: 4"

    def scores(conversation, prefix, candidates):
        return {c: math.log(0.5) for c in candidates}

    seen: list[tuple[int, int]] = []
    model = ScriptedGenerator(respond, scores=scores, batch_size=8)
    evaluate_judge(datasets.Dataset.from_list(preference_rows(30)),
                   JudgeConfig(comparison=comparison, mode=mode), model=model,
                   progress=lambda done, total: seen.append((done, total)))
    assert {total for _, total in seen} == {60}  # 30 pairs, two judge calls each
    assert [done for done, _ in seen] == sorted(done for done, _ in seen)
    assert sorted({done for done, _ in seen}) == [0, 8, 16, 24, 32, 40, 48, 56, 60]


def test_cached_backend_reports_hits_at_once_then_every_inner_batch(tmp_path):
    def scores(conversation, prefix, candidates):
        return {c: -1.0 for c in candidates}

    conversations = [[{"role": "user", "content": f"q{i}"}] for i in range(10)]
    cached = CachedGenerator(ScriptedGenerator([], scores=scores, batch_size=4), tmp_path / "c.sqlite")
    cached.score_tokens(conversations[:3], "Score: ", ["1"])
    seen: list[tuple[int, int]] = []
    cached.score_tokens(conversations, "Score: ", ["1"], progress=lambda d, t: seen.append((d, t)))
    assert sorted(set(seen)) == [(3, 10), (7, 10), (10, 10)]


def test_transformers_scoring_reports_progress_after_each_batch(embedded_generator, monkeypatch):
    monkeypatch.setattr(embedded_generator, "config",
                        embedded_generator.config.model_copy(update={"max_batch_size": 2}))
    conversations = [[{"role": "user", "content": f"Is {i} even?"}] for i in range(5)]
    seen: list[tuple[int, int]] = []
    embedded_generator.score_tokens(conversations, "Answer: ", [" yes", " no"],
                                    progress=lambda d, t: seen.append((d, t)))
    assert seen == [(2, 5), (4, 5), (5, 5)]
    seen.clear()
    embedded_generator.score_tokens(conversations, "Answer:", [" yes", " no way"],
                                    progress=lambda d, t: seen.append((d, t)))
    assert seen == [(1, 5), (2, 5), (3, 5), (4, 5), (5, 5)]  # ten (prompt, candidate) rows
