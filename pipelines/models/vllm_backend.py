"""vLLM backend (extra `gpu`): the Generator protocol on `vllm.LLM`.

Prompts are rendered with the model's chat template and passed as token ids, the same ids the
transformers backend uses: only the template's markers are special tokens, a special-token
string in data is plain text (`pipelines.models.chat_tokens`). They are sampled with
`SamplingParams` (n, temperature, top-k/p, presence/frequency/repetition penalties, stop,
log-probs; with a seed, one `SamplingParams` per prompt seeded by `record_seed`), or searched with `LLM.beam_search` for num_beams > 1. `score_tokens` appends each
candidate's tokens to the prompt and reads their log-probs back with `prompt_logprobs=0`, which
with prefix caching costs little more than one prefill per conversation.

vllm is imported when the backend is built; without it the error names the extra to install.
"""

from __future__ import annotations

from typing import Any

from pipelines.embedded import embedded_model_dir
from pipelines.errors import MissingExtraError
from pipelines.models.chat_tokens import chat_token_ids
from pipelines.models.config import ModelConfig
from pipelines.models.params import (
    Completion,
    Conversation,
    GenerationParams,
    cut_at_stop,
    record_seeds,
)
from pipelines.stage import Progress


def _import_vllm():
    try:
        import vllm
    except ImportError as exc:
        raise MissingExtraError("vllm", "gpu", "the vLLM backend") from exc
    return vllm


class VLLMGenerator:
    def __init__(self, config: ModelConfig) -> None:
        self.vllm = _import_vllm()
        self.config = config
        self.name = config.label
        opts = config.vllm
        model = config.model or str(embedded_model_dir())
        self.llm = self.vllm.LLM(
            model=model, revision=config.revision, trust_remote_code=config.trust_remote_code,
            dtype=opts.dtype, tensor_parallel_size=opts.tensor_parallel_size,
            gpu_memory_utilization=opts.gpu_memory_utilization, max_model_len=opts.max_model_len,
            enable_prefix_caching=opts.enable_prefix_caching)
        self.tokenizer = self.llm.get_tokenizer()

    def _ids(self, conversation: Conversation, prefix: str = "") -> list[int]:
        return chat_token_ids(self.tokenizer, conversation, prefix=prefix)

    def _sampling(self, params: GenerationParams, seed: int | None = None) -> Any:
        kwargs: dict[str, Any] = {
            "n": params.n, "max_tokens": params.max_new_tokens, "temperature": params.temperature,
            "stop": list(params.stop) or None, "seed": seed,
            "logprobs": 0 if params.logprobs else None}
        optional = {"top_k": params.top_k, "top_p": params.top_p,
                    "presence_penalty": params.presence_penalty,
                    "frequency_penalty": params.frequency_penalty,
                    "repetition_penalty": params.repetition_penalty}
        kwargs.update({k: v for k, v in optional.items() if v is not None})
        return self.vllm.SamplingParams(**kwargs)

    def generate(self, conversations: list[Conversation], params: GenerationParams,
                 n: int | None = None, *, progress: Progress | None = None) -> list[list[Completion]]:
        params = params.with_n(n)
        prompts = [{"prompt_token_ids": self._ids(c)} for c in conversations]
        if params.strategy == "beam":
            results = self._beam(prompts, params)
        else:
            seeds = record_seeds(params, conversations)
            sampling = [self._sampling(params, s) for s in seeds] if seeds else self._sampling(params)
            outputs = self.llm.generate(prompts, sampling, use_tqdm=progress is not None)
            results = [[self._completion(o, len(p["prompt_token_ids"]), params) for o in out.outputs]
                       for p, out in zip(prompts, outputs)]
        if progress:
            progress(len(prompts), len(prompts))
        return results

    def _completion(self, output: Any, prompt_tokens: int, params: GenerationParams) -> Completion:
        text, stopped = cut_at_stop(output.text, params.stop)
        logprobs = None
        if params.logprobs and output.logprobs is not None:
            logprobs = [float(step[token].logprob) for token, step in zip(output.token_ids, output.logprobs)]
        return Completion(text=text, finish_reason="length" if output.finish_reason == "length"
                          and not stopped else "stop", prompt_tokens=prompt_tokens,
                          completion_tokens=len(output.token_ids), logprobs=logprobs)

    def _beam(self, prompts: list[dict[str, Any]], params: GenerationParams) -> list[list[Completion]]:
        from vllm.sampling_params import BeamSearchParams

        beam = BeamSearchParams(beam_width=params.num_beams, max_tokens=params.max_new_tokens,
                                length_penalty=params.length_penalty or 1.0)
        results = []
        for prompt, out in zip(prompts, self.llm.beam_search(prompts, beam)):
            width = len(prompt["prompt_token_ids"])
            best = []
            for seq in out.sequences[: params.n]:
                new = seq.tokens[width:]
                eos = self.tokenizer.eos_token_id
                finished = eos in new
                new = new[: new.index(eos)] if finished else new
                text, stopped = cut_at_stop(self.tokenizer.decode(new, skip_special_tokens=True),
                                            params.stop)
                best.append(Completion(text=text, prompt_tokens=width, completion_tokens=len(new),
                                       finish_reason="stop" if finished or stopped else "length"))
            results.append(best)
        return results

    def score_tokens(self, conversations: list[Conversation], prefix: str, candidates: list[str],
                     *, progress: Progress | None = None) -> list[dict[str, float]]:
        cand_ids = [self.tokenizer(c, add_special_tokens=False)["input_ids"] for c in candidates]
        bases = [self._ids(c, prefix) for c in conversations]
        prompts = [{"prompt_token_ids": base + ids} for base in bases for ids in cand_ids]
        outputs = self.llm.generate(prompts, self.vllm.SamplingParams(max_tokens=1, prompt_logprobs=0),
                                    use_tqdm=False)
        scores: list[dict[str, float]] = [{} for _ in conversations]
        for j, out in enumerate(outputs):
            i, c = divmod(j, len(candidates))
            ids = cand_ids[c]
            steps = out.prompt_logprobs[-len(ids):]
            scores[i][candidates[c]] = float(sum(step[t].logprob for step, t in zip(steps, ids)))
        if progress:  # vLLM schedules the whole call itself
            progress(len(conversations), len(conversations))
        return scores
