import json

import datasets
import pytest

from pipelines.errors import InputError
from pipelines.judge import JudgeConfig, evaluate_judge, report_table
from pipelines.judge.evaluate import agreement_figures, random_baseline
from tests.fakes import ScriptedGenerator

from .helpers import shown_first

ROWS = [  # chosen is the longer answer in rows 0-2, the shorter one in row 3
    {"prompt": "Capital of France?", "chosen": "Paris is the capital.", "rejected": "Lyon."},
    {"prompt": "2 + 2?", "chosen": "Two plus two is four.", "rejected": "5"},
    {"prompt": "Colour of the sky?", "chosen": "Blue on a clear day.", "rejected": "Green."},
    {"prompt": "Say hi.", "chosen": "Hi!", "rejected": "Hello there, how can I help you today?"},
]


def prefers_longer(conv, params, k):
    prompt = conv[0]["content"]
    first = shown_first(prompt)
    second = prompt.split("<<<RESPONSE B ", 1)[1].split(">>>\n", 1)[1].split("\n<<<END", 1)[0]
    return "Verdict: A" if len(first) > len(second) else "Verdict: B"


def test_a_judge_that_prefers_length_matches_the_longest_baseline():
    report, details = evaluate_judge(datasets.Dataset.from_list(ROWS), JudgeConfig(),
                                      model=ScriptedGenerator(prefers_longer))
    judge = report["judge_metrics"]
    assert judge["agreement"] == report["baselines"]["longest"]["agreement"] == 3 / 4
    assert judge["p_prefer_longer"] == 1.0 and judge["position_consistency"] == 1.0
    assert judge["p_prefer_first"] == 0.5 and judge["parse_failure_rate"] == 0.0
    assert [d["winner"] for d in details] == ["x", "x", "x", "y"]


def test_report_is_json_and_its_table_lists_judge_and_baselines():
    report, _ = evaluate_judge(datasets.Dataset.from_list(ROWS), JudgeConfig(),
                               model=ScriptedGenerator(lambda c, p, k: "Verdict: A"))
    assert json.loads(json.dumps(report)) == report
    table = report_table(report)
    assert [r["method"].split(" ")[0] for r in table] == ["judge", "longest", "random"]
    assert table[0]["tie_rate"] == "1.00 (0 of 4 decisive)"
    assert table[0]["position_consistency"] == "0.00 (0 of 4 decisive)"
    assert table[0]["parse_failure_rate"] == "0.00 (0 of 8 calls failed)"
    assert table[2]["position_consistency"] is None  # a baseline without positions


def test_parse_failures_are_counted_per_judge_call():
    report, _ = evaluate_judge(datasets.Dataset.from_list(ROWS[:1]), JudgeConfig(),
                               model=ScriptedGenerator(["Verdict: A", "no idea"]))
    assert report["judge_metrics"]["parse_failure_rate"] == 0.5
    assert report["judge_metrics"]["pairs_without_verdict"] == 1


def test_rating_comparison_rates_both_answers_and_applies_the_margin():
    scores = iter(["Score: 5", "Score: 4.8", "Score: 5", "Score: 1"])
    report, details = evaluate_judge(
        datasets.Dataset.from_list(ROWS[:2]), JudgeConfig(comparison="rating", margin=0.5),
        model=ScriptedGenerator(lambda c, p, k: next(scores)))
    assert [d["winner"] for d in details] == ["tie", "x"]
    assert report["judge_metrics"]["agreement"] == 0.5
    assert report["judge_metrics"]["position_consistency"] is None


def test_conversational_rows_give_the_same_prompts_as_plain_ones():
    conversational = [{"prompt": [{"role": "user", "content": r["prompt"]}],
                       "chosen": [{"role": "assistant", "content": r["chosen"]}],
                       "rejected": [{"role": "assistant", "content": r["rejected"]}]} for r in ROWS]
    plain, chat = ScriptedGenerator(prefers_longer), ScriptedGenerator(prefers_longer)
    evaluate_judge(datasets.Dataset.from_list(ROWS), JudgeConfig(), model=plain)
    evaluate_judge(datasets.Dataset.from_list(conversational), JudgeConfig(), model=chat)
    assert plain.calls[0]["conversations"] == chat.calls[0]["conversations"]


def test_random_baseline_is_seeded():
    assert random_baseline(20, 3) == random_baseline(20, 3) != random_baseline(20, 4)


def test_agreement_counts_ties_against_the_judge():
    assert agreement_figures(["x", "y", "tie", None]) == {
        "agreement": 0.25, "agreement_decisive": 0.5, "tie_rate": 0.25}


def test_missing_column_is_an_input_error_before_any_model_call():
    fake = ScriptedGenerator([])
    with pytest.raises(InputError, match="missing column"):
        evaluate_judge(datasets.Dataset.from_list([{"prompt": "x", "chosen": "y"}]), JudgeConfig(),
                       model=fake)
    assert fake.calls == []
