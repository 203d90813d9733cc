import pytest

from pipelines.judge.parse import ParseError, parse_score, parse_verdict


@pytest.mark.parametrize("text, score", [
    ("Score: 4\nThe answer is right.", 4.0),
    ("4", 4.0),
    ("4.5", 4.5),
    ("**4**", 4.0),
    ("**Score:** 3.5", 3.5),
    ("4/5", 4.0),
    ("Rating: 3 out of 5", 3.0),
    ("Score: 4 - correct but terse", 4.0),
    ("5. Fully correct.", 5.0),
    ("\n\n  0\nEmpty answer.", 0.0),
])
def test_score_accepted_forms(text, score):
    assert parse_score(text) == score


@pytest.mark.parametrize("text, kind", [
    ("", "empty"),
    ("   \n\n", "empty"),
    ("Great answer, very helpful.", "no_score"),
    ("<<<RESPONSE d321e58e>>>", "no_score"),
    ("7", "out_of_range"),
    ("Score: -1", "out_of_range"),
    ("The response is accurate.\nScore: 4", "not_first_line"),
    ("4/10", "wrong_scale"),
    ("Score: 4 because it is right", "extra_text"),
    ("I would give it a 4", "extra_text"),
])
def test_score_parse_errors_name_their_kind_and_keep_the_raw_text(text, kind):
    with pytest.raises(ParseError) as info:
        parse_score(text)
    assert info.value.kind == kind and info.value.raw == text


@pytest.mark.parametrize("text, verdict", [
    ("Verdict: A", "A"), ("B", "B"), ("[[A]]", "A"), ("Response B is better.", "B"),
    ("**Verdict:** tie", "tie"), ("Tie. Both are fine.", "tie"), ("A - shorter and right", "A"),
])
def test_verdict_accepted_forms(text, verdict):
    assert parse_verdict(text) == verdict


@pytest.mark.parametrize("text", ["", "Verdict: C", "Both responses have merit", "I prefer A"])
def test_verdict_parse_errors(text):
    with pytest.raises(ParseError):
        parse_verdict(text)
