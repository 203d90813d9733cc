"""The transformers backend (default): batched, length-sorted, left-padded generation and scoring.

Loads a local folder, a hub id (only when the config names one), a `.gguf` file, or — when no
model is named — the embedded SmolLM2-135M-Instruct. Device and dtype are chosen from what the
machine has (cuda > mps > cpu; bf16/fp16 on GPUs, fp32 on CPU). Prompts are rendered with the
tokenizer's chat template into token ids in which only the template's markers are special
tokens (`pipelines.models.chat_tokens`: a special-token string in data is plain text), sorted
by length, and packed into batches whose padded size (prompt + new tokens, times n and beams)
stays under `max_batch_tokens`.

Decoding: greedy, beam search (num_beams, length_penalty), sampling (temperature, top-k, top-p),
repetition penalty, and OpenAI-style presence/frequency penalties (a logits processor: a token's
logit drops by presence * [count > 0] + frequency * count over the tokens generated so far).
Stop strings end generation (transformers' `stop_strings`) and are cut from the text.

`score_tokens` returns log p(candidate | conversation, assistant prefix) from one forward pass per
batch when every candidate is a single token, else from one pass over (prompt + candidate)
sequences. Prompt and candidate are tokenized separately and joined. In the single-token case
the tokens every prompt of the call starts with (a judge's rubric, say) are run once and their
key/value cache is reused by every batch, so each prompt pays only for its own tokens.

Seeded sampling draws each row from its own generator seeded by its record
(`pipelines.models.seeded`), so a prompt's samples do not depend on its batch; unseeded
sampling uses transformers' own. One loaded model answers one call at a time (shards running
side by side in threads take turns).
"""

from __future__ import annotations

import copy
import inspect
import threading
from pathlib import Path

import torch
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    DynamicCache,
    GenerationConfig,
    LogitsProcessor,
)

from pipelines.embedded import embedded_model_dir
from pipelines.models.chat_tokens import chat_token_ids
from pipelines.models.config import ModelConfig
from pipelines.models.params import (
    Completion,
    Conversation,
    GenerationParams,
    cut_at_stop,
    record_seeds,
)
from pipelines.models.seeded import SeededSampler, sample_seed
from pipelines.stage import Progress
from pipelines.threads import apply_configured


class PresenceFrequencyPenalty(LogitsProcessor):
    """OpenAI-style penalties over the tokens generated after `prompt_length`."""

    def __init__(self, prompt_length: int, presence: float, frequency: float) -> None:
        self.prompt_length, self.presence, self.frequency = prompt_length, presence, frequency

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        generated = input_ids[:, self.prompt_length:]
        if generated.shape[1] == 0:
            return scores
        counts = torch.zeros_like(scores).scatter_add_(
            1, generated, torch.ones_like(generated, dtype=scores.dtype))
        return scores - self.frequency * counts - self.presence * (counts > 0).to(scores.dtype)


def pick_device(requested: str) -> torch.device:
    if requested != "auto":
        return torch.device(requested)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def pick_dtype(requested: str, device: torch.device) -> torch.dtype:
    if requested != "auto":
        return getattr(torch, requested)
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


MIN_SHARED_PREFIX = 32
"""Fewest common leading tokens for which `score_tokens` runs the shared prefix once."""


def shared_prefix_length(rows: list[list[int]], minimum: int = MIN_SHARED_PREFIX) -> int:
    """How many leading tokens all `rows` share, leaving each row at least one token of its own;
    0 when that is under `minimum` or there is only one row.

    >>> shared_prefix_length([[1, 2, 3, 4], [1, 2, 3, 9], [1, 2, 3]], minimum=2)
    2
    """
    if len(rows) < 2:
        return 0
    first, shared = rows[0], min(len(r) for r in rows) - 1
    for row in rows[1:]:
        i = 0
        while i < shared and row[i] == first[i]:
            i += 1
        shared = i
    return shared if shared >= minimum else 0


def plan_batches(lengths: list[int], per_item: int, multiplier: int, max_tokens: int,
                 max_size: int) -> list[list[int]]:
    """Indices grouped into batches, longest first, each under `max_tokens` once padded.

    A batch of k prompts padded to length L costs k * multiplier * (L + per_item) tokens.
    >>> plan_batches([5, 50, 10, 40], per_item=10, multiplier=1, max_tokens=120, max_size=8)
    [[1, 3], [2, 0]]
    """
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    batches: list[list[int]] = []
    for i in order:
        if batches:
            current = batches[-1]
            longest = lengths[current[0]]
            cost = (len(current) + 1) * multiplier * (longest + per_item)
            if len(current) < max_size and cost <= max_tokens:
                current.append(i)
                continue
        batches.append([i])
    return batches


class TransformersGenerator:
    def __init__(self, config: ModelConfig | None = None) -> None:
        apply_configured()  # the process's thread count, now that torch is loaded
        self.config = config or ModelConfig()
        self.name = self.config.label
        self.device = pick_device(self.config.device)
        dtype = pick_dtype(self.config.dtype, self.device)
        source = self.config.model
        kwargs = {"revision": self.config.revision, "trust_remote_code": self.config.trust_remote_code}
        if source is None:
            path, kwargs = str(embedded_model_dir()), {}
        elif source.endswith(".gguf"):
            gguf = Path(source)
            path, kwargs = str(gguf.parent), {"gguf_file": gguf.name}
        else:
            path = source
        self.tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
        self.model = AutoModelForCausalLM.from_pretrained(path, dtype=dtype, **kwargs).to(self.device)
        self.model.eval()
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        eos = self.model.generation_config.eos_token_id
        eos = eos if isinstance(eos, list) else [eos] if eos is not None else []
        self.eos_ids = set(eos) | {self.tokenizer.eos_token_id}
        self.stop_ids = self.eos_ids | {self.tokenizer.pad_token_id}  # rows end in eos, then pad
        self._lock = threading.Lock()

    # prompts -------------------------------------------------------------------------------
    def prompt_ids(self, conversation: Conversation, prefix: str = "") -> list[int]:
        """The chat rendered with the template and then `prefix`, as token ids; special-token
        strings in the contents are plain text (`pipelines.models.chat_tokens`)."""
        return chat_token_ids(self.tokenizer, conversation, prefix=prefix)

    def _encode(self, texts: list[str]) -> list[list[int]]:
        return self.tokenizer(texts, add_special_tokens=False)["input_ids"]

    def _pad(self, rows: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        width = max(len(r) for r in rows)
        pad = self.tokenizer.pad_token_id
        ids = torch.tensor([[pad] * (width - len(r)) + r for r in rows], device=self.device)
        mask = torch.tensor([[0] * (width - len(r)) + [1] * len(r) for r in rows], device=self.device)
        return ids, mask

    # generation ----------------------------------------------------------------------------
    def _generation_config(self, params: GenerationParams, seeded: bool) -> GenerationConfig:
        """With `seeded`, transformers decodes greedily over `SeededSampler`'s choices, one row
        per sample (the rows are repeated n times by the caller)."""
        cfg = GenerationConfig(
            max_new_tokens=params.max_new_tokens, num_return_sequences=1 if seeded else params.n,
            do_sample=params.strategy == "sample" and not seeded, num_beams=params.num_beams,
            pad_token_id=self.tokenizer.pad_token_id, eos_token_id=sorted(self.eos_ids),
            return_dict_in_generate=True,
            output_scores=params.logprobs and params.strategy == "beam",
            output_logits=params.logprobs and params.strategy != "beam")
        if params.strategy == "sample" and not seeded:
            cfg.temperature = params.temperature
            cfg.top_k = params.top_k or 0
            cfg.top_p = params.top_p or 1.0
        else:
            cfg.temperature, cfg.top_k, cfg.top_p = None, None, None
        if params.strategy == "beam" and params.length_penalty is not None:
            cfg.length_penalty = params.length_penalty
        if params.repetition_penalty is not None:
            cfg.repetition_penalty = params.repetition_penalty
        if params.stop:
            cfg.stop_strings = list(params.stop)
        return cfg

    def generate(self, conversations: list[Conversation], params: GenerationParams,
                 n: int | None = None, *, progress: Progress | None = None) -> list[list[Completion]]:
        with self._lock:
            return self._generate(conversations, params.with_n(n), progress)

    def _generate(self, conversations: list[Conversation], params: GenerationParams,
                  progress: Progress | None) -> list[list[Completion]]:
        seeds = record_seeds(params, conversations)
        prompts = [self.prompt_ids(c) for c in conversations]
        results: list[list[Completion]] = [[] for _ in prompts]
        batches = plan_batches([len(p) for p in prompts], params.max_new_tokens,
                               params.n * params.num_beams, self.config.max_batch_tokens,
                               self.config.max_batch_size)
        cfg = self._generation_config(params, seeded=seeds is not None)
        done = 0
        for batch in batches:
            rows = [prompts[i] for i in batch]
            row_seeds = [seeds[i] for i in batch] if seeds is not None else None
            for i, completions in zip(batch, self._generate_batch(rows, params, cfg, row_seeds)):
                results[i] = completions
            done += len(batch)
            if progress:
                progress(done, len(prompts))
        return results

    @torch.inference_mode()
    def _generate_batch(self, prompts: list[list[int]], params: GenerationParams,
                        cfg: GenerationConfig, seeds: list[int] | None) -> list[list[Completion]]:
        rows = prompts if seeds is None else [p for p in prompts for _ in range(params.n)]
        ids, mask = self._pad(rows)
        processors: list[LogitsProcessor] = []
        if params.presence_penalty or params.frequency_penalty:
            processors.append(PresenceFrequencyPenalty(
                ids.shape[1], params.presence_penalty or 0.0, params.frequency_penalty or 0.0))
        if seeds is not None:  # after the penalties, as transformers' own sampling does
            processors.append(SeededSampler(
                [sample_seed(s, k) for s in seeds for k in range(params.n)],
                temperature=params.temperature, top_k=params.top_k, top_p=params.top_p))
        out = self.model.generate(input_ids=ids, attention_mask=mask, generation_config=cfg,
                                  logits_processor=processors or None,
                                  tokenizer=self.tokenizer if params.stop else None)
        new = out.sequences[:, ids.shape[1]:].tolist()
        token_logprobs = self._token_logprobs(out, ids.shape[1], params) if params.logprobs else None
        completions: list[list[Completion]] = []
        for b, prompt in enumerate(prompts):
            per_prompt = []
            for k in range(params.n):
                row = b * params.n + k
                per_prompt.append(self._completion(new[row], len(prompt), params,
                                                   token_logprobs[row] if token_logprobs else None))
            completions.append(per_prompt)
        return completions

    def _token_logprobs(self, out, prompt_width: int, params: GenerationParams) -> list[list[float]]:
        """Log-prob of each generated token under the model's unprocessed distribution (before
        temperature, top-k/p and penalties), as OpenAI reports them; beam search reports the
        beam scores' per-step increments."""
        if params.strategy == "beam":
            return self.model.compute_transition_scores(
                out.sequences, out.scores, out.beam_indices, normalize_logits=False).tolist()
        logits = torch.stack(out.logits, dim=1).float()           # (rows, steps, vocab)
        chosen = out.sequences[:, prompt_width:prompt_width + logits.shape[1]]
        return torch.log_softmax(logits, dim=-1).gather(-1, chosen.unsqueeze(-1)).squeeze(-1).tolist()

    def _completion(self, tokens: list[int], prompt_tokens: int, params: GenerationParams,
                    logprobs: list[float] | None) -> Completion:
        end = next((j for j, t in enumerate(tokens) if t in self.stop_ids), None)
        kept = tokens if end is None else tokens[:end]
        text, stopped = cut_at_stop(self.tokenizer.decode(kept, skip_special_tokens=True), params.stop)
        finished = end is not None or stopped
        return Completion(
            text=text,
            finish_reason="stop" if finished or len(tokens) < params.max_new_tokens else "length",
            prompt_tokens=prompt_tokens, completion_tokens=len(kept),
            logprobs=[float(x) for x in logprobs[:len(kept)]] if logprobs is not None else None)

    # scoring -------------------------------------------------------------------------------
    def score_tokens(self, conversations: list[Conversation], prefix: str, candidates: list[str],
                     *, progress: Progress | None = None) -> list[dict[str, float]]:
        with self._lock:
            return self._score_tokens(conversations, prefix, candidates, progress)

    @torch.inference_mode()
    def _score_tokens(self, conversations: list[Conversation], prefix: str,
                      candidates: list[str], progress: Progress | None) -> list[dict[str, float]]:
        prompts = [self.prompt_ids(c, prefix) for c in conversations]
        cand_ids = self._encode(candidates)
        empty = [c for c, ids in zip(candidates, cand_ids) if not ids]
        if empty:
            raise ValueError(f"candidates {empty!r} tokenize to nothing")
        if all(len(ids) == 1 for ids in cand_ids):
            return self._score_single(prompts, candidates, [ids[0] for ids in cand_ids], progress)
        return self._score_sequences(prompts, candidates, cand_ids, progress)

    def _score_single(self, prompts, candidates, ids, progress: Progress | None) -> list[dict[str, float]]:
        scores: list[dict[str, float]] = [{} for _ in prompts]
        wanted = torch.tensor(ids, device=self.device)
        shared = shared_prefix_length(prompts, MIN_SHARED_PREFIX)
        cache = self._prefill(prompts[0][:shared]) if shared else None
        rest = [p[shared:] for p in prompts]
        done = 0
        for batch in plan_batches([len(r) for r in rest], shared, 1, self.config.max_batch_tokens,
                                  self.config.max_batch_size):
            logits = self._last_logits([rest[i] for i in batch], shared, cache)
            logprobs = torch.log_softmax(logits.float(), dim=-1)[:, wanted].tolist()
            for i, row in zip(batch, logprobs):
                scores[i] = dict(zip(candidates, row))
            done += len(batch)
            if progress:
                progress(done, len(prompts))
        return scores

    def _prefill(self, tokens: list[int]) -> DynamicCache:
        """The key/value cache of `tokens` (batch of one)."""
        cache = DynamicCache(config=self.model.config)
        self.model(input_ids=torch.tensor([tokens], device=self.device), use_cache=True,
                   logits_to_keep=1, **{self._cache_argument(): cache})
        return cache

    def _cache_argument(self) -> str:
        # subtle: transformers 5 renamed forward's `past_key_values` to `cache`
        return "cache" if "cache" in inspect.signature(self.model.forward).parameters \
            else "past_key_values"

    def _last_logits(self, rows: list[list[int]], shared: int,
                     cache: DynamicCache | None) -> torch.Tensor:
        """Next-token logits after each row; rows continue a `shared`-token cached prefix."""
        input_ids, mask = self._pad(rows)
        if cache is None:
            return self.model(input_ids=input_ids, attention_mask=mask, logits_to_keep=1).logits[:, -1, :]
        # subtle: left padding now sits between the prefix and each row, so positions are
        # counted over real tokens only, and the cache is copied because a forward appends to it
        full_mask = torch.cat([mask.new_ones(len(rows), shared), mask], dim=1)
        positions = (shared + mask.cumsum(dim=1) - 1).clamp(min=shared)
        batch_cache = copy.deepcopy(cache)
        batch_cache.batch_repeat_interleave(len(rows))
        out = self.model(input_ids=input_ids, attention_mask=full_mask, position_ids=positions,
                         use_cache=True, logits_to_keep=1, **{self._cache_argument(): batch_cache})
        return out.logits[:, -1, :]

    def _score_sequences(self, prompts, candidates, cand_ids,
                         progress: Progress | None) -> list[dict[str, float]]:
        pairs = [(i, c) for i in range(len(prompts)) for c in range(len(candidates))]
        seqs = [prompts[i] + cand_ids[c] for i, c in pairs]
        scores: list[dict[str, float]] = [{} for _ in prompts]
        done = 0
        for batch in plan_batches([len(s) for s in seqs], 0, 1, self.config.max_batch_tokens,
                                  self.config.max_batch_size):
            input_ids, mask = self._pad([seqs[j] for j in batch])
            keep = 1 + max(len(cand_ids[pairs[j][1]]) for j in batch)
            logprobs = torch.log_softmax(self.model(input_ids=input_ids, attention_mask=mask,
                                                    logits_to_keep=keep).logits.float(), dim=-1)
            for row, j in enumerate(batch):
                i, c = pairs[j]
                k = len(cand_ids[c])  # logits at position p predict token p + 1
                positions = torch.arange(keep - k - 1, keep - 1, device=self.device)
                targets = torch.tensor(cand_ids[c], device=self.device)
                scores[i][candidates[c]] = float(logprobs[row, positions, targets].sum())
            done += len(batch)
            if progress:  # in conversations: every candidate of one is a row of its own
                progress(done // len(candidates), len(prompts))
        return scores
