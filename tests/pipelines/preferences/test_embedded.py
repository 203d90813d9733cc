"""Preference pairs end to end on the embedded model: 5 prompts, K=3."""

import datasets

from pipelines.preferences import PreferenceConfig, pair_responses, sample_responses

PROMPTS = ["Name a fruit that is yellow.", "What is the capital of Italy?",
           "Give one tip for sleeping better.", "Say hello in French.", "What colour is the sky?"]


def test_five_prompts_three_samples(embedded_generator):
    config = PreferenceConfig(samplers=[{"params": {"temperature": 1.0, "top_p": 0.95,
                                                    "max_new_tokens": 24, "seed": 0}, "n": 3}],
                              scorer={"judge": {"mode": "logprob", "aspect": "helpfulness"}})
    prompts = datasets.Dataset.from_list([{"prompt": p} for p in PROMPTS])
    samples = sample_responses(prompts, config, model=embedded_generator).kept
    result = pair_responses(samples, config, model=embedded_generator)
    best = result.extra["best_of_n"]
    assert len(result.kept) + len({r["prompt_id"] for r in result.rejected}) >= 1
    assert len(result.kept) >= 1 and len(best) == 5
    for pair in result.kept:
        assert pair["chosen"][0]["content"] != pair["rejected"][0]["content"]
        assert pair["score_chosen"] > pair["score_rejected"]
        assert pair["score_rejected"] >= 0 and pair["score_chosen"] <= 5
        assert pair["prompt"][0]["content"] in PROMPTS
    assert result.stats["self_preference_warning"]  # judge and sampler are the same model
