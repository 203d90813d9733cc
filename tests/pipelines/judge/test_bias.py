from pipelines.judge.bias import (
    generator_labels,
    length_bias,
    pairwise_bias,
    self_preference_warning,
)
from pipelines.judge.pairwise import OrderVerdict, PairJudgement


def judged(first, second):
    return PairJudgement(OrderVerdict(first), OrderVerdict(second))


def test_bias_figures_on_a_hand_built_verdict_table():
    table = [judged("A", "B"),     # x both times: consistent
             judged("A", "A"),     # first position both times: inconsistent
             judged("tie", "tie"), # consistent tie
             judged("B", None)]    # second order unparsed: not counted for consistency
    lengths = [(10, 3), (10, 3), (5, 5), (2, 8)]
    bias = pairwise_bias(table, lengths)
    assert bias["position_consistency"] == 2 / 3
    # decisive single-order verdicts: A, B, A, A, B -> 3 of 5 picked the first shown
    assert bias["p_prefer_first"] == 3 / 5
    # longer picked: pair 1 both orders, pair 2 first order only, pair 4 (B = y, 8 chars) -> 4/5
    assert bias["p_prefer_longer"] == 4 / 5


def test_bias_figures_with_nothing_to_count_are_none():
    bias = pairwise_bias([judged("tie", None)], [(1, 1)])
    assert bias["position_consistency"] is None and bias["p_prefer_first"] is None
    assert bias["p_prefer_longer"] is None


def test_length_bias_of_a_rating_comparison():
    bias = length_bias(["x", "y", "tie", None, "x"], [(9, 1), (9, 1), (9, 1), (9, 1), (4, 4)])
    assert bias["p_prefer_longer"] == 1 / 2 and bias["p_prefer_first"] is None


def test_self_preference_compares_model_names_across_backends():
    assert self_preference_warning("vllm:org/Judge-7B", ["transformers:org/judge-7b"])
    assert self_preference_warning("vllm:org/Judge-7B", ["openai:org/Other-7B"]) is None
    assert self_preference_warning("vllm:org/Judge-7B", []) is None


def test_generator_labels_come_from_meta_and_a_model_column():
    rows = [{"model": "a"}, {"meta": {"model": "b", "generate": {"model": "c"},
                                      "judge": {"model": "ignored"}}}, {"meta": None}]
    assert generator_labels(rows) == {"a", "b", "c"}
