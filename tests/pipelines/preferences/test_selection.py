import random

import pytest

from pipelines.preferences.length import balance, length_ratio, p_chosen_longer
from pipelines.preferences.selection import select_pairs

rng = lambda: random.Random(0)  # noqa: E731


def test_best_vs_worst():
    sel = select_pairs([3.0, 5.0, 1.0, 4.0], "best_vs_worst", margin=0.0, rng=rng())
    assert sel.pairs == [(1, 2)] and not sel.dropped


def test_best_vs_random_never_picks_a_tie_for_rejected():
    picks = {select_pairs([5.0, 5.0, 2.0, 1.0], "best_vs_random", margin=0.0,
                          rng=random.Random(s)).pairs[0] for s in range(40)}
    assert picks == {(0, 2), (0, 3)}


def test_best_vs_random_all_equal_is_a_tie():
    sel = select_pairs([4.0, 4.0, 4.0], "best_vs_random", margin=0.0, rng=rng())
    assert sel.pairs == [] and sel.dropped[0][2] == "preferences_tie"


def test_margin_rejects_small_gaps():
    sel = select_pairs([4.0, 3.6], "best_vs_worst", margin=0.5, rng=rng())
    assert sel.pairs == [] and sel.dropped == [(0, 1, "preferences_below_margin", "gap 0.4 < margin 0.5")]
    assert select_pairs([4.0, 3.5], "best_vs_worst", margin=0.5, rng=rng()).pairs == [(0, 1)]


def test_all_pairs_with_margin():
    sel = select_pairs([5.0, 3.0, 3.0, 4.5], "all_pairs_with_margin", margin=1.0, rng=rng())
    assert sorted(sel.pairs) == [(0, 1), (0, 2), (3, 1), (3, 2)]
    assert sorted((i, j, r) for i, j, r, _ in sel.dropped) == [
        (0, 3, "preferences_below_margin"), (1, 2, "preferences_tie")]


@pytest.mark.parametrize("scores", [[], [4.0], [None, 3.0], [None, None, None]])
def test_fewer_than_two_usable_responses(scores):
    sel = select_pairs(scores, "best_vs_worst", margin=0.0, rng=rng())
    assert sel.too_few and sel.pairs == []


def test_unscored_responses_are_skipped():
    sel = select_pairs([None, 2.0, 4.0], "best_vs_worst", margin=0.0, rng=rng())
    assert sel.pairs == [(2, 1)]


def test_length_figures():
    pairs = [("one two three", "one"), ("one", "one two"), ("a b", "c d")]
    assert p_chosen_longer(pairs) == pytest.approx(0.5)
    assert length_ratio("one two three four", "one two") == 2.0
    assert p_chosen_longer([]) is None


def test_balance_drops_from_the_larger_side():
    pairs = [("a b c", "a")] * 3 + [("a", "a b")] + [("a b", "c d")]
    dropped = balance(pairs, random.Random(0))
    assert len(dropped) == 2 and all(i < 3 for i in dropped)
    kept = [p for i, p in enumerate(pairs) if i not in dropped]
    assert p_chosen_longer(kept) == 0.5
