import math
import re

import pytest

from pipelines.judge.config import JudgeConfig
from pipelines.preferences.scorers import PairwiseScorer, RatingScorer
from tests.fakes import ScriptedGenerator

CONV = [{"role": "user", "content": "Name a planet."}]
QUALITY = {"Mars.": 3, "Jupiter is the largest planet.": 5, "A banana.": 0}


def _response_in(text: str, name: str) -> str:
    match = re.search(rf"<<<{name} (\w+)>>>\n(.*?)\n<<<END {name} \1>>>", text, flags=re.S)
    return match.group(2)


def test_rating_scorer_uses_the_expected_score():
    def scores(conv, prefix, cands):
        quality = QUALITY[_response_in(conv[-1]["content"], "RESPONSE")]
        return {c: (0.0 if int(c.strip()) == quality else -math.inf) for c in cands}

    judge = ScriptedGenerator([], scores=scores)
    scorer = RatingScorer(judge, JudgeConfig(mode="logprob"))
    got, details = scorer.score([CONV], [list(QUALITY)])
    assert got == [[3.0, 5.0, 0.0]] and details[0]["errors"] == [None, None, None]


def test_rating_scorer_marks_parse_failures_unscored():
    judge = ScriptedGenerator(lambda conv, params, k: "Score: 4" if "Mars" in conv[-1]["content"] else "no idea")
    got, details = RatingScorer(judge, JudgeConfig(mode="parse")).score([CONV], [["Mars.", "A banana."]])
    assert got == [[4.0, None]] and details[0]["errors"][1]


def test_pairwise_scorer_counts_both_order_wins():
    def respond(conv, params, k):
        text = conv[-1]["content"]
        a, b = _response_in(text, "RESPONSE A"), _response_in(text, "RESPONSE B")
        return "Verdict: A" if QUALITY[a] > QUALITY[b] else "Verdict: B"

    scorer = PairwiseScorer(ScriptedGenerator(respond), JudgeConfig(mode="parse"))
    got, details = scorer.score([CONV], [list(QUALITY)])
    assert got == [[0.5, 1.0, 0.0]]
    assert len(details[0]["pairs"]) == 3
    assert {p["winner"] for p in details[0]["pairs"]} == {"x", "y"}


def test_pairwise_position_bias_gives_ties():
    always_first = ScriptedGenerator(lambda conv, params, k: "Verdict: A")
    got, details = PairwiseScorer(always_first, JudgeConfig(mode="parse")).score([CONV], [["Mars.", "A banana."]])
    assert got == [[0.5, 0.5]] and details[0]["pairs"][0]["winner"] == "tie"


def test_reward_model_scorer_batches_like_single_calls(tmp_path, tiny_model):
    import torch
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    from pipelines.preferences.reward_model import RewardModelScorer

    config = AutoConfig.from_pretrained(tiny_model, num_labels=1)
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_config(config)
    model.config.pad_token_id = AutoTokenizer.from_pretrained(tiny_model).pad_token_id
    model.save_pretrained(tmp_path / "rm")
    AutoTokenizer.from_pretrained(tiny_model).save_pretrained(tmp_path / "rm")
    scorer = RewardModelScorer(tmp_path / "rm")
    texts = ["Mars.", "Jupiter is the largest planet.", "A banana."]
    together, _ = scorer.score([CONV, CONV], [texts, texts[:1]])
    alone = [scorer.score([CONV], [[t]])[0][0][0] for t in texts]
    assert together[0] == pytest.approx(alone, abs=1e-4) and together[1][0] == pytest.approx(alone[0], abs=1e-4)
    assert len(set(together[0])) == 3
