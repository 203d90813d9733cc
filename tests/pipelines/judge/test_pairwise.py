import math

import pytest

from pipelines.judge.pairwise import Pair, both_orders_winner, compare_scores, judge_pairs
from tests.fakes import ScriptedGenerator

from .helpers import shown_first

PAIR = Pair("Name a colour.", "", "Blue, a primary colour.", "Potato.")


@pytest.mark.parametrize("first, second, winner", [
    ("A", "B", "x"), ("B", "A", "y"),            # both orders agree
    ("A", "A", "tie"), ("B", "B", "tie"),        # orders disagree: position, not content
    ("tie", "A", "tie"), ("tie", "tie", "tie"),  # a tie in either order
    (None, "A", None),                           # a failed parse has no winner
])
def test_both_order_rule(first, second, winner):
    assert both_orders_winner(first, second) == winner


def prefers_colours(conv, params, k):
    return "Verdict: A" if "colour" in shown_first(conv[0]["content"]) else "Verdict: B"


def test_pair_is_asked_in_both_orders_and_a_consistent_judge_gives_a_win():
    fake = ScriptedGenerator(prefers_colours)
    [judgement] = judge_pairs([PAIR], fake)
    prompts = [c[0]["content"] for c in fake.calls[0]["conversations"]]
    assert [shown_first(p) for p in prompts] == [PAIR.x, PAIR.y]
    assert (judgement.first.choice, judgement.second.choice) == ("A", "B")
    assert judgement.winner == "x"


def test_position_biased_judge_gives_a_tie_and_both_verdicts_are_kept():
    [judgement] = judge_pairs([PAIR], ScriptedGenerator(["Verdict: A\nFirst is best.", "Verdict: A"]))
    assert judgement.winner == "tie"
    verdicts = judgement.verdicts()
    assert verdicts["x_first"]["raw"] == "Verdict: A\nFirst is best."
    assert verdicts["y_first"]["choice"] == "A" and verdicts["winner"] == "tie"


def test_unparsed_order_leaves_the_pair_without_a_winner():
    [judgement] = judge_pairs([PAIR], ScriptedGenerator(["Verdict: A", "Hard to say."]))
    assert judgement.winner is None and judgement.second.error.kind == "no_verdict"
    assert judgement.verdicts()["y_first"]["error"].startswith("no_verdict")


def test_logprob_mode_compares_p_a_and_p_b_in_both_orders():
    def scores(conv, prefix, candidates):
        p_a = 0.8 if "colour" in shown_first(conv[0]["content"]) else 0.3
        return {"A": math.log(p_a), "B": math.log(1 - p_a)}

    fake = ScriptedGenerator([], scores=scores)
    [judgement] = judge_pairs([PAIR], fake, mode="logprob")
    assert fake.calls[0]["prefix"] == "Verdict: " and fake.calls[0]["candidates"] == ["A", "B"]
    assert judgement.first.p_a == pytest.approx(0.8) and judgement.second.p_a == pytest.approx(0.3)
    assert judgement.winner == "x"


@pytest.mark.parametrize("x, y, margin, winner", [
    (4.5, 4.0, 0.5, "x"), (4.4, 4.0, 0.5, "tie"), (3.0, 5.0, 0.5, "y"),
    (3.0, 3.0, 0.0, "tie"), (3.1, 3.0, 0.0, "x"), (None, 3.0, 0.5, None),
])
def test_rating_comparison_with_a_margin(x, y, margin, winner):
    assert compare_scores(x, y, margin) == winner
