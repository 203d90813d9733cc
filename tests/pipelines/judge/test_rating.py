import math
import re

import pytest

from pipelines.judge.examples import Example
from pipelines.judge.rating import expected_score, rate
from pipelines.judge.tokens import pick_split
from tests.fakes import ScriptedGenerator

from .helpers import score_logprobs

EXAMPLE = Example("Name a primary colour.", "", "Blue.")


class SplitDigits:
    """A tokenizer like SmolLM2's: digits and spaces are tokens of their own."""

    def __call__(self, text, add_special_tokens=False):
        return {"input_ids": [hash(t) for t in re.findall(r"\d|\s|[A-Za-z]+|[^\sA-Za-z\d]", text)]}


class SpaceBefore:
    """A GPT-2-like tokenizer: a space belongs to the word or digit after it."""

    def __call__(self, text, add_special_tokens=False):
        return {"input_ids": [hash(t) for t in re.findall(r" ?[A-Za-z]+| ?\d|\s+|[^\sA-Za-z\d]", text)]}


class WithTokenizer(ScriptedGenerator):
    def __init__(self, tokenizer):
        super().__init__([])
        self.tokenizer = tokenizer


def test_parse_mode_generates_greedily_and_reads_the_first_line():
    fake = ScriptedGenerator(["Score: 4.5\nRight colour."])
    [rating] = rate([EXAMPLE], fake, mode="parse", max_new_tokens=32)
    assert rating.score == 4.5 and rating.raw == "Score: 4.5\nRight colour."
    call = fake.calls[0]
    assert call["params"].strategy == "greedy" and call["params"].max_new_tokens == 32
    assert call["conversations"][0][0]["role"] == "user"
    assert "Rate the response for accuracy" in call["conversations"][0][0]["content"]


def test_parse_mode_failure_is_a_rating_with_the_error_and_raw_text():
    [rating] = rate([EXAMPLE], ScriptedGenerator(["Looks fine to me."]), mode="parse")
    assert not rating.ok and rating.score is None
    assert rating.error.kind == "no_score" and rating.raw == "Looks fine to me."


def test_logprob_mode_takes_the_expectation_over_the_renormalised_distribution():
    fake = ScriptedGenerator([], scores=score_logprobs([0.0, 0.0, 0.0, 0.1, 0.2, 0.2]))
    [rating] = rate([EXAMPLE], fake, mode="logprob")
    assert [c["method"] for c in fake.calls] == ["score_tokens"]
    assert rating.distribution == pytest.approx([0, 0, 0, 0.2, 0.4, 0.4])
    assert rating.score == pytest.approx(3 * 0.2 + 4 * 0.4 + 5 * 0.4)
    assert rating.score_mass == pytest.approx(0.5)


def test_logprob_mode_asks_for_the_score_after_the_label():
    fake = ScriptedGenerator([], scores=score_logprobs([1 / 6] * 6))
    rate([EXAMPLE], fake, mode="logprob")
    assert fake.calls[0]["prefix"] == "Score: "
    assert fake.calls[0]["candidates"] == ["0", "1", "2", "3", "4", "5"]


def test_logprob_mode_with_no_probability_on_any_score_is_an_error():
    fake = ScriptedGenerator([], scores=lambda conv, prefix, cands: {c: -math.inf for c in cands})
    [rating] = rate([EXAMPLE], fake, mode="logprob")
    assert rating.score is None and rating.error.kind == "no_mass"


def test_expected_score_ignores_tokens_without_probability():
    score, dist, mass = expected_score([-math.inf] * 5 + [math.log(0.3)])
    assert score == 5 and dist == [0, 0, 0, 0, 0, 1] and mass == pytest.approx(0.3)


def test_split_for_a_tokenizer_that_splits_digits_keeps_the_space_in_the_prefix():
    assert pick_split(WithTokenizer(SplitDigits()), "Score:", ["4", "5"]) == ("Score: ", ["4", "5"])


def test_split_for_a_tokenizer_with_space_tokens_moves_the_space_to_the_candidates():
    assert pick_split(WithTokenizer(SpaceBefore()), "Score:", ["4", "5"]) == ("Score:", [" 4", " 5"])


def test_split_without_a_tokenizer_is_label_space_value():
    assert pick_split(ScriptedGenerator([]), "Verdict:", ["A", "B"]) == ("Verdict: ", ["A", "B"])


def test_embedded_tokenizer_gets_single_token_candidates(embedded_generator):
    assert pick_split(embedded_generator, "Score:", ["0", "5"]) == ("Score: ", ["0", "5"])
    assert pick_split(embedded_generator, "Verdict:", ["A", "B"]) == ("Verdict:", [" A", " B"])


def test_embedded_logprob_rating_is_a_distribution_over_zero_to_five(embedded_generator):
    examples = [EXAMPLE, Example("What is 2 + 2?", "", "5")]
    ratings = rate(examples, embedded_generator, mode="logprob")
    for rating in ratings:
        assert len(rating.distribution) == 6 and all(p >= 0 for p in rating.distribution)
        assert sum(rating.distribution) == pytest.approx(1.0)
        assert 0 <= rating.score <= 5 and 0 < rating.score_mass <= 1
