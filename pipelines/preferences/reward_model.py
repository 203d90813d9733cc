"""Score responses with a reward model: a sequence-classification checkpoint with one output
(what `tuneset train reward` writes), one forward pass per batch.

Each (prompt, response) is rendered with the checkpoint's chat template as a conversation
ending in the assistant turn (only the template's markers are special tokens: a special-token
string in a response is plain text, `pipelines.models.chat_tokens`), cut to `max_length` tokens,
right-padded, and the logit at the last real token is the score.

    scores, _ = RewardModelScorer("runs/train/reward").score([[user]], [["Paris.", "Rome."]])
"""

from __future__ import annotations

from pathlib import Path

import torch

from pipelines.models.chat_tokens import chat_token_ids
from pipelines.models.hf import pick_device, plan_batches
from pipelines.threads import apply_configured


class RewardModelScorer:
    kind = "reward_model"
    mode = None

    def __init__(self, checkpoint: str | Path, *, max_batch_tokens: int = 16384,
                 max_length: int = 2048, trust_remote_code: bool = False) -> None:
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        apply_configured()
        path = Path(checkpoint)
        if (path / "model").is_dir() and not (path / "config.json").exists():
            path = path / "model"  # a tuneset training run folder
        self.name = f"reward_model:{checkpoint}"
        self.device = pick_device("auto")
        self.tokenizer = AutoTokenizer.from_pretrained(str(path), trust_remote_code=trust_remote_code)
        self.model = AutoModelForSequenceClassification.from_pretrained(
            str(path), trust_remote_code=trust_remote_code).to(self.device).eval()
        if self.model.config.num_labels != 1:
            raise ValueError(f"{checkpoint}: a reward model has one output, this one has "
                             f"{self.model.config.num_labels} (num_labels)")
        self.max_batch_tokens, self.max_length = max_batch_tokens, max_length

    def _ids(self, conversation: list[dict[str, str]], response: str) -> list[int]:
        ids = chat_token_ids(self.tokenizer, [*conversation, {"role": "assistant", "content": response}],
                             add_generation_prompt=False)
        if getattr(self.tokenizer, "truncation_side", "right") == "left":
            return ids[-self.max_length:]
        return ids[:self.max_length]

    @torch.inference_mode()
    def score(self, conversations: list[list[dict[str, str]]], responses: list[list[str]]
              ) -> tuple[list[list[float | None]], list[dict]]:
        items = [(i, j, self._ids(conv, text)) for i, (conv, texts) in
                 enumerate(zip(conversations, responses)) for j, text in enumerate(texts)]
        scores: list[list[float | None]] = [[None] * len(texts) for texts in responses]
        pad = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        for batch in plan_batches([len(ids) for _, _, ids in items], 0, 1, self.max_batch_tokens, 64):
            rows = [items[k][2] for k in batch]
            width = max(len(r) for r in rows)
            ids = torch.tensor([r + [pad] * (width - len(r)) for r in rows], device=self.device)
            mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows], device=self.device)
            logits = self.model(input_ids=ids, attention_mask=mask).logits[:, 0].float().tolist()
            for k, value in zip(batch, logits):
                i, j, _ = items[k]
                scores[i][j] = value
        return scores, [{} for _ in responses]
