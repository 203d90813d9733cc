"""vLLM backend wiring, checked against a stand-in `vllm` module (no GPU here).

The stand-in records what the backend passes to `vllm.LLM`, `SamplingParams` and
`BeamSearchParams`, and returns outputs shaped like vLLM's `RequestOutput`."""

import sys
import types
from types import SimpleNamespace as NS

import pytest

from pipelines.errors import MissingExtraError
from pipelines.models import GenerationParams, ModelConfig


class CharTokenizer:
    eos_token_id = 0

    def apply_chat_template(self, messages, tokenize, add_generation_prompt):
        return "".join(f"<{m['role']}>{m['content']}" for m in messages) + "<assistant>"

    def __call__(self, text, add_special_tokens=False):
        return {"input_ids": [ord(c) for c in text]}

    def decode(self, ids, skip_special_tokens=True):
        return "".join(chr(i) for i in ids)


@pytest.fixture
def fake_vllm(monkeypatch):
    record = {}

    class LLM:
        def __init__(self, **kwargs):
            record["init"] = kwargs

        def get_tokenizer(self):
            return CharTokenizer()

        def generate(self, prompts, sampling, use_tqdm=False):
            record.setdefault("generate", []).append((prompts, sampling))
            if sampling.kwargs.get("prompt_logprobs") == 0:
                return [NS(prompt_logprobs=[None] + [{t: NS(logprob=-0.25)} for t in p["prompt_token_ids"][1:]])
                        for p in prompts]
            n = sampling.kwargs["n"]
            outs = []
            for _ in prompts:
                text = "abc\n\ndef"
                ids = [ord(c) for c in text]
                outs.append(NS(outputs=[NS(text=text, token_ids=ids, finish_reason="length",
                                           logprobs=[{t: NS(logprob=-1.0)} for t in ids])
                                        for _ in range(n)]))
            return outs

        def beam_search(self, prompts, params):
            record["beam"] = params
            return [NS(sequences=[NS(tokens=p["prompt_token_ids"] + [ord("z"), 0]) for _ in range(params.kw["beam_width"])])
                    for p in prompts]

    class SamplingParams:
        def __init__(self, **kwargs):
            self.kwargs = kwargs

    class BeamSearchParams:
        def __init__(self, **kw):
            self.kw = kw

    vllm = types.ModuleType("vllm")
    vllm.LLM, vllm.SamplingParams = LLM, SamplingParams
    sp = types.ModuleType("vllm.sampling_params")
    sp.BeamSearchParams = BeamSearchParams
    monkeypatch.setitem(sys.modules, "vllm", vllm)
    monkeypatch.setitem(sys.modules, "vllm.sampling_params", sp)
    return record


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
    prompts, sampling = fake_vllm["generate"][0]
    assert prompts[0]["prompt_token_ids"] == [ord(c) for c in "<user>hi<assistant>"]
    assert sampling.kwargs == {"n": 2, "temperature": 0.7, "top_p": 0.5, "top_k": 40,
                               "presence_penalty": 2.0, "stop": ["\n\n"], "seed": 1,
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
