"""A stand-in `vllm` module for backend tests (no GPU here).

It records what the backend passes to `vllm.LLM`, `SamplingParams` and `BeamSearchParams`, and
returns outputs shaped like vLLM's `RequestOutput`."""

import sys
import types
from types import SimpleNamespace as NS


class CharTokenizer:
    eos_token_id = 0

    def apply_chat_template(self, messages, tokenize, add_generation_prompt):
        return "".join(f"<{m['role']}>{m['content']}" for m in messages) + "<assistant>"

    def __call__(self, text, add_special_tokens=False):
        return {"input_ids": [ord(c) for c in text]}

    def decode(self, ids, skip_special_tokens=True):
        return "".join(chr(i) for i in ids)


def install_fake_vllm(monkeypatch, tokenizer=None) -> dict:
    """Put a stand-in `vllm` in sys.modules; returns the record of what the backend passed it.
    `LLM.get_tokenizer` returns `tokenizer` (default: a character tokenizer)."""
    record = {}

    class LLM:
        def __init__(self, **kwargs):
            record["init"] = kwargs

        def get_tokenizer(self):
            return tokenizer if tokenizer is not None else CharTokenizer()

        def generate(self, prompts, sampling, use_tqdm=False):
            record.setdefault("generate", []).append((prompts, sampling))
            if isinstance(sampling, list):  # one SamplingParams per prompt, as vLLM accepts
                assert len(sampling) == len(prompts)
                sampling = sampling[0]
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
