import json
import random

import pytest
from rouge_score import rouge_scorer

from pipelines.self_instruct.rouge import RougePool, rouge_l_f1, rouge_tokens

scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)


def _reference(a: str, b: str) -> float:
    return scorer.score(a, b)["rougeL"].fmeasure


def test_tokens_match_rouge_score():
    from rouge_score.tokenize import tokenize

    for text in ["Hello, World! 42 times.", "Ça va? naïve café", "  spaced\tout\n", "don't-stop"]:
        assert rouge_tokens(text) == tokenize(text, None)


def test_scores_are_bit_identical_to_rouge_score(shared_data):
    rows = [json.loads(x) for x in (shared_data / "self_instruct/seed_tasks.jsonl").read_text().splitlines()]
    texts = [r["instruction"] for r in rows]
    rng = random.Random(0)
    pairs = [(rng.choice(texts), rng.choice(texts)) for _ in range(500)]
    pairs += [(t, t.replace("the", "a", 1)) for t in texts]
    for a, b in pairs:
        assert rouge_l_f1(rouge_tokens(a), rouge_tokens(b)) == _reference(a, b)


def test_pool_decisions_match_the_naive_loop(shared_data):
    rows = [json.loads(x) for x in (shared_data / "self_instruct/seed_tasks.jsonl").read_text().splitlines()]
    texts = [r["instruction"] for r in rows]
    rng = random.Random(1)
    candidates = []
    for _ in range(150):
        words = rng.choice(texts).split()
        for _ in range(rng.randint(0, 6)):
            words[rng.randrange(len(words))] = rng.choice(["quickly", "list", "the", "story", "five"])
        candidates.append(" ".join(words))
    pool = RougePool(texts)
    for cand in candidates:
        naive = max(_reference(t, cand) for t in texts)
        best, idx = pool.max_similarity(cand)
        assert best == naive
        assert (best > 0.7) == any(_reference(t, cand) > 0.7 for t in texts)
        top = pool.most_similar(cand, k=5)
        expected = sorted((_reference(t, cand) for t in texts), reverse=True)[:5]
        assert [s for s, _ in top] == [s for s in expected if s > 0]  # zero-overlap items are left out


def test_pool_grows():
    pool = RougePool(["Name a primary colour."])
    assert pool.max_similarity("List three animals that live in the sea.")[0] < 0.3
    pool.add("List three animals that live in the sea.")
    assert pool.max_similarity("List three animals that live in the sea.") == (1.0, 1)


@pytest.mark.parametrize("text", ["", "!!!", "???"])
def test_empty_token_lists_score_zero(text):
    assert RougePool(["Some instruction here."]).max_similarity(text) == (0.0, None)
