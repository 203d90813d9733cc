"""vLLM backend wiring, checked against a stand-in `vllm` module (no GPU here; see
`vllm_standin`)."""

import sys

import pytest

from pipelines.errors import MissingExtraError
from pipelines.models import GenerationParams, ModelConfig
from pipelines.models.params import record_seed
from tests.pipelines.models.vllm_standin import install_fake_vllm


@pytest.fixture
def fake_vllm(monkeypatch):
    return install_fake_vllm(monkeypatch)


def _gen(**kw):
    from pipelines.models.vllm_backend import VLLMGenerator

    return VLLMGenerator(ModelConfig(backend="vllm", model="/models/m", **kw))


def test_engine_options_reach_vllm(fake_vllm):
    _gen(vllm={"tensor_parallel_size": 2, "max_model_len": 4096})
    init = fake_vllm["init"]
    assert init["model"] == "/models/m" and init["tensor_parallel_size"] == 2
    assert init["max_model_len"] == 4096 and init["trust_remote_code"] is False


def test_sampling_parameters_and_outputs(fake_vllm):
    out = _gen().generate([[{"role": "user", "content": "hi"}]], GenerationParams(
        temperature=0.7, top_p=0.5, top_k=40, presence_penalty=2.0, stop=["\n\n"], n=2, seed=1,
        logprobs=True, max_new_tokens=9))
    prompts, (sampling,) = fake_vllm["generate"][0]  # one per prompt: each seeded by its record
    assert prompts[0]["prompt_token_ids"] == [ord(c) for c in "<user>hi<assistant>"]
    assert sampling.kwargs == {"n": 2, "temperature": 0.7, "top_p": 0.5, "top_k": 40,
                               "presence_penalty": 2.0, "stop": ["\n\n"],
                               "seed": record_seed(1, [{"role": "user", "content": "hi"}]),
                               "logprobs": 0, "max_tokens": 9}
    assert [c.text for c in out[0]] == ["abc", "abc"]
    assert out[0][0].finish_reason == "stop" and out[0][0].logprobs == [-1.0] * 8


def test_beam_search_uses_llm_beam_search(fake_vllm):
    out = _gen().generate([[{"role": "user", "content": "hi"}]],
                          GenerationParams(num_beams=3, n=2, length_penalty=0.5, max_new_tokens=4))
    assert fake_vllm["beam"].kw == {"beam_width": 3, "max_tokens": 4, "length_penalty": 0.5}
    assert [c.text for c in out[0]] == ["z", "z"] and out[0][0].finish_reason == "stop"


def test_score_tokens_sums_prompt_logprobs(fake_vllm):
    scores = _gen().score_tokens([[{"role": "user", "content": "hi"}]], "S:", ["1", "22"])
    assert scores == [{"1": -0.25, "22": -0.5}]
    prompts, sampling = fake_vllm["generate"][0]
    assert sampling.kwargs == {"max_tokens": 1, "prompt_logprobs": 0}
    assert prompts[1]["prompt_token_ids"][-2:] == [ord("2"), ord("2")]


def test_missing_vllm_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)
    from pipelines.models.vllm_backend import VLLMGenerator

    with pytest.raises(MissingExtraError, match=r"pip install 'tuneset\[gpu\]'"):
        VLLMGenerator(ModelConfig(backend="vllm"))


def test_score_tokens_reports_progress_when_the_call_is_done(fake_vllm):
    seen = []
    _gen().score_tokens([[{"role": "user", "content": "hi"}]] * 2, "S:", ["1"],
                        progress=lambda done, total: seen.append((done, total)))
    assert seen == [(2, 2)]
