import datasets
import pytest
from trl.data_utils import apply_chat_template, is_conversational

from pipelines.preferences import PreferenceConfig, pair_responses, sample_responses
from pipelines.records import PREFERENCE_FEATURES

from .helpers import TableScorer, sampler

PROMPTS = datasets.Dataset.from_list([{"prompt": "q1"}, {"prompt": "q2"}])
ANSWERS = {"q1": ["short", "a much longer answer here", "mid answer", "short"],
           "q2": ["only", "only", "only", "only"]}
SAMPLING = {"temperature": 1.0, "max_new_tokens": 8}


def _samples(answers=ANSWERS, prompts=PROMPTS, n=4):
    config = PreferenceConfig(samplers=[{"params": SAMPLING, "n": n}])
    return sample_responses(prompts, config, model=sampler(answers)).kept


def _config(**kw):
    return PreferenceConfig(**kw)


def _pairs(samples, config, scorer):
    result = pair_responses(samples, config, model=scorer)
    return result, result.extra.get("best_of_n")


def test_duplicates_among_k_are_rejected_with_the_prompt():
    result = sample_responses(PROMPTS, PreferenceConfig(samplers=[{"params": SAMPLING, "n": 4}]),
                              model=sampler(ANSWERS))
    assert [len(r["candidates"]) for r in result.kept] == [3, 1]
    assert result.kept["duplicates"] == [1, 3]
    assert list(result.rejected["prompt"]) == ["q1", "q2", "q2", "q2"]
    assert set(result.rejected["reason"]) == {"preferences_duplicate_response"}
    assert result.rejected[0]["candidate"]["text"] == "short"
    assert result.stats["candidates"] == result.stats["unique"] + len(result.rejected) == 8


def test_two_samplers_each_with_their_own_model_and_settings():
    models = {"a": sampler({"q1": ["x1", "x2"]}, name="fake:a"),
              "b": sampler({"q1": ["y1"]}, name="fake:b")}
    config = PreferenceConfig(samplers=[
        {"model": {"backend": "openai", "model": "a"}, "params": SAMPLING, "n": 2},
        {"model": {"backend": "openai", "model": "b"}, "params": {**SAMPLING, "temperature": 0.3},
         "n": 1}])
    result = sample_responses(PROMPTS.select([0]), config, model=lambda cfg: models[cfg.model])
    cands = result.kept[0]["candidates"]
    assert [(c["text"], c["model"], c["sampler"]) for c in cands] == [
        ("x1", "fake:a", 0), ("x2", "fake:a", 0), ("y1", "fake:b", 1)]
    assert models["b"].calls[0]["params"].temperature == 0.3
    assert models["a"].calls[0]["params"].n == 2


def test_best_vs_worst_pairs_and_prompt_with_one_response():
    table = {"short": 1.0, "a much longer answer here": 5.0, "mid answer": 3.0, "only": 4.0}
    result, best = _pairs(_samples(), _config(policy="best_vs_worst"), TableScorer(table))
    assert len(result.kept) == 1
    pair = result.kept[0]
    assert pair["chosen"][0]["content"] == "a much longer answer here"
    assert pair["rejected"][0]["content"] == "short"
    assert (pair["score_chosen"], pair["score_rejected"]) == (5.0, 1.0)
    assert pair["prompt"] == [{"role": "user", "content": "q1"}]
    assert pair["meta"]["policy"] == "best_vs_worst"
    assert pair["meta"]["candidate_scores"] == [1.0, 5.0, 3.0]
    assert result.rejected[0]["reason"] == "preferences_too_few_responses"
    assert result.rejected[0]["level"] == "prompt"
    assert [b["output"] for b in best] == ["a much longer answer here", "only"]
    assert best[0]["meta"]["best_of_n"]["score"] == 5.0


def test_output_is_trl_conversational_preference_data(tiny_model):
    from transformers import AutoTokenizer

    table = {"short": 1.0, "a much longer answer here": 5.0, "mid answer": 3.0, "only": 4.0}
    result, _ = _pairs(_samples(), _config(), TableScorer(table))
    assert result.kept.features == PREFERENCE_FEATURES
    tokenizer = AutoTokenizer.from_pretrained(tiny_model)
    for row in result.kept:
        assert is_conversational(row)
        text = apply_chat_template({k: row[k] for k in ("prompt", "chosen", "rejected")}, tokenizer)
        assert set(text) == {"prompt", "chosen", "rejected"} and text["chosen"] != text["rejected"]


def test_ties_and_margins_are_rejected_with_reasons():
    table = {"short": 3.0, "a much longer answer here": 3.0, "mid answer": 3.0, "a": 2.0, "b": 1.8}
    samples = _samples(ANSWERS | {"q2": ["a", "b", "a", "b"]})
    result, _ = _pairs(samples, _config(policy="best_vs_worst"), TableScorer(table))
    assert len(result.kept) == 1 and sorted(result.rejected["reason"]) == ["preferences_tie"]
    result, _ = _pairs(samples, _config(policy="best_vs_worst", margin=0.5), TableScorer(table))
    assert len(result.kept) == 0
    assert sorted(result.rejected["reason"]) == ["preferences_below_margin", "preferences_tie"]
    assert all(level == "pair" for level in result.rejected["level"])


def test_length_ratio_and_balance():
    answers = {f"q{i}": ["word " * 10 + f"c{i}" if i % 2 else f"c{i}", f"x{i}"] for i in range(6)}
    prompts = datasets.Dataset.from_list([{"prompt": f"q{i}"} for i in range(6)])
    samples = _samples(answers, prompts, n=2)
    table = {text: 5.0 for texts in answers.values() for text in texts[:1]} | \
        {texts[1]: 1.0 for texts in answers.values()}
    base, _ = _pairs(samples, _config(), TableScorer(table))
    assert base.stats["p_chosen_longer"]["selected"] == 0.75  # 3 longer, 3 equal
    ratio, _ = _pairs(samples, _config(max_length_ratio=3.0), TableScorer(table))
    assert list(ratio.rejected["reason"]).count("preferences_length_ratio") == 3
    balanced, _ = _pairs(samples, _config(balance_length=True), TableScorer(table))
    assert list(balanced.rejected["reason"]).count("preferences_length_balance") == 3
    assert balanced.stats["p_chosen_longer"]["kept"] == 0.5


def test_unscored_responses_and_self_preference_warning():
    table = {"short": 2.0, "a much longer answer here": None, "mid answer": 4.0, "only": 1.0}
    result, _ = _pairs(_samples(), _config(), TableScorer(table, name="fake:sampler"))
    assert result.stats["unscored"] == 1
    assert "fake:sampler" in (result.stats["self_preference_warning"] or "")


def test_all_pairs_with_margin_policy():
    table = {"short": 1.0, "a much longer answer here": 5.0, "mid answer": 3.0, "only": 4.0}
    result, _ = _pairs(_samples(), _config(policy="all_pairs_with_margin", margin=2.0),
                            TableScorer(table))
    pairs = {(r["chosen"][0]["content"], r["rejected"][0]["content"]) for r in result.kept}
    assert pairs == {("a much longer answer here", "short"), ("a much longer answer here", "mid answer"),
                     ("mid answer", "short")}


def test_config_refuses_greedy_multi_samples():
    with pytest.raises(ValueError, match="greedy samples would be identical"):
        PreferenceConfig(samplers=[{"params": {"temperature": 0.0}, "n": 4}])
    with pytest.raises(ValueError, match="needs `reward_model`"):
        PreferenceConfig(scorer={"kind": "reward_model"})


def test_rejected_rows_keep_the_candidates():
    table = {"short": 1.0, "a much longer answer here": 5.0, "mid answer": 3.0, "only": 4.0}
    result, _ = _pairs(_samples(), _config(), TableScorer(table))
    row = result.rejected[0]
    assert [c["text"] for c in row["candidates"]] == ["only"] and row["scores"] == [4.0]
    assert isinstance(result.rejected, datasets.Dataset)


def test_no_best_of_n_dataset_when_turned_off():
    table = {"short": 1.0, "a much longer answer here": 5.0, "mid answer": 3.0, "only": 4.0}
    result = pair_responses(_samples(), _config(best_of_n=False), model=TableScorer(table))
    assert result.extra == {} and result.stats["best_of_n"] == 0
