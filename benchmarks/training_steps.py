"""Seconds per optimizer step for each training stage, on this machine, for two models:

- tiny: a randomly initialised Llama (2 layers, hidden 32) with the embedded 49,152-token
  vocabulary (the size the training tests use);
- embedded: SmolLM2-135M-Instruct, dequantized from the embedded GGUF (fp32).

Every stage trains on records of the pipeline's own format built to a fixed length: batch 4
(4 examples, 4 pairs, or 4 prompts) of SEQ tokens per sequence (for PPO: prompts of SEQ - 32
tokens plus 32 generated tokens). A step's time is the median interval between the trainer's
step-end callbacks after a warm-up step.

Baseline: a plain PyTorch SFT step on the same model and batch (forward with labels, backward,
AdamW), no TRL, no Trainer. The ratio printed last is tuneset's SFT step over that plain step,
i.e. what the wrapping (TRL + Trainer + tuneset) costs per step.

    .venv/bin/python benchmarks/training_steps.py            # both models
    .venv/bin/python benchmarks/training_steps.py --tiny     # tiny model only (seconds)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from transformers import TrainerCallback  # noqa: E402

from pipelines.io import write_run  # noqa: E402
from pipelines.records import (  # noqa: E402
    InstructionMeta,
    InstructionRecord,
    Message,
    PreferenceMeta,
    PreferenceRecord,
    make_instruction,
    make_preference,
    to_dataset,
)

BATCH, SEQ, RESPONSE = 4, 128, 32
WORDS = ["river", "stone", "cloud", "maple", "orbit", "lantern", "copper", "meadow", "signal", "harbor"]


class StepClock(TrainerCallback):
    def __init__(self) -> None:
        self.marks: list[float] = []

    def on_train_begin(self, args, state, control, **kwargs):
        self.marks = [time.perf_counter()]

    def on_step_end(self, args, state, control, **kwargs):
        self.marks.append(time.perf_counter())

    def seconds_per_step(self) -> float:
        gaps = [b - a for a, b in zip(self.marks, self.marks[1:])]
        return statistics.median(gaps[1:] if len(gaps) > 1 else gaps)


def _text(tokenizer, target: int, seed: int) -> str:
    """Words whose token count is `target` (the words tokenize to one token each, mostly)."""
    words = [WORDS[(seed + i) % len(WORDS)] for i in range(target)]
    while len(tokenizer(" ".join(words))["input_ids"]) > target:
        words.pop()
    return " ".join(words)


def _user_room(tokenizer, reply_tokens: int) -> int:
    """Words for the user turn so that system + user + reply fill SEQ - 2 tokens."""
    reply = _text(tokenizer, reply_tokens, 0)
    msgs = [{"role": "system", "content": "x"}, {"role": "user", "content": ""},
            {"role": "assistant", "content": reply}]
    return SEQ - 2 - len(tokenizer.apply_chat_template(msgs, tokenize=True, return_dict=False))


def make_data(tokenizer, root: Path) -> tuple[Path, Path]:
    system = Message(role="system", content="x")
    user = lambda n, i: Message(role="user", content=_text(tokenizer, n, i))  # noqa: E731
    reply = lambda n, i: Message(role="assistant", content=_text(tokenizer, n, i))  # noqa: E731
    meta, pmeta = InstructionMeta(source="bench"), PreferenceMeta(source="bench")
    room = _user_room(tokenizer, 16)
    inst = [make_instruction(user(room, i).content, "", reply(16, i + 3).content, meta=meta,
                             messages=[system, user(room, i), reply(16, i + 3)])
            for i in range(64)]
    room = _user_room(tokenizer, RESPONSE)
    pairs = [make_preference([system, user(room, i)], [reply(RESPONSE, i + 1)],
                             [reply(RESPONSE, i + 2)], meta=pmeta) for i in range(64)]
    inst_ds, pair_ds = to_dataset(inst, InstructionRecord), to_dataset(pairs, PreferenceRecord)
    write_run(root / "inst", stage="bench", kept=inst_ds, rejected=inst_ds.select([]), stats={})
    write_run(root / "pairs", stage="bench", kept=pair_ds, rejected=pair_ds.select([]), stats={})
    return root / "inst", root / "pairs"


def tiny_model(root: Path) -> Path:
    from alignment.base_model import random_llama

    return random_llama(root / "tiny")


def time_stage(stage: str, model: str, data: Path, root: Path, steps: int,
               reward_model: str | None = None) -> float:
    from alignment.registry import STAGES
    from alignment.run import validate_data

    common = {"dataset": data, "model": model, "out": root / f"out-{stage}", "max_steps": steps,
              "max_length": SEQ, "seed": 0,
              "trainer": {"per_device_train_batch_size": BATCH, "learning_rate": 1e-5}}
    if stage == "ppo":
        common["trainer"] |= {"response_length": RESPONSE, "local_rollout_forward_batch_size": BATCH}
        common["max_length"] = SEQ + 1
        common["reward_model"] = reward_model
    config = STAGES[stage].config(**common)
    built = STAGES[stage].build_trainer(config, validate_data(config))
    clock = StepClock()
    built.trainer.add_callback(clock)
    built.trainer.train()
    if stage == "reward":
        built.trainer.model.save_pretrained(root / "rm")
        built.tokenizer.save_pretrained(root / "rm")
    return clock.seconds_per_step()


def time_plain_sft(model_path: str, steps: int) -> float:
    """The baseline: forward with labels, backward, AdamW step; no Trainer, no TRL."""
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32)
    model.train()
    optim = torch.optim.AdamW(model.parameters(), lr=1e-5)
    ids = torch.randint(10, 40000, (BATCH, SEQ))
    labels = ids.clone()
    labels[:, : SEQ - 16] = -100
    marks = []
    for _ in range(steps + 1):
        start = time.perf_counter()
        loss = model(input_ids=ids, labels=labels).loss
        loss.backward()
        optim.step()
        optim.zero_grad()
        marks.append(time.perf_counter() - start)
    return statistics.median(marks[1:])


def bench(name: str, model: str, root: Path, steps: int) -> dict[str, float]:
    from alignment.base_model import load_tokenizer_for

    inst, pairs = make_data(load_tokenizer_for(model), root)
    out = {"plain SFT (baseline)": time_plain_sft(model, steps)}
    for stage in ("sft", "reward", "dpo", "ppo"):
        data = pairs if stage in ("reward", "dpo", "ppo") else inst
        out[stage] = time_stage(stage, model, data, root, steps + 1,
                                reward_model=str(root / "rm") if stage == "ppo" else None)
        print(f"  {name} {stage}: {out[stage]:.3f} s/step", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tiny", action="store_true", help="only the tiny model")
    parser.add_argument("--steps", type=int, default=3, help="timed steps after the warm-up")
    args = parser.parse_args()
    torch.manual_seed(0)
    print(f"batch {BATCH}, {SEQ} tokens per sequence, PPO response {RESPONSE} tokens, "
          f"torch threads {torch.get_num_threads()}, device cpu, "
          f"load average at start {os.getloadavg()[0]:.1f}")
    results = {}
    with tempfile.TemporaryDirectory(prefix="tuneset-bench-") as tmp:
        root = Path(tmp)
        results["tiny"] = bench("tiny", str(tiny_model(root)), root / "t", args.steps)
        if not args.tiny:
            from pipelines.embedded import embedded_model_dir as embedded_model_folder

            results["embedded 135M"] = bench("embedded", str(embedded_model_folder()),
                                             root / "e", args.steps)
    print("\n| model | plain SFT (baseline) | sft | reward | dpo | ppo |")
    print("|---|---|---|---|---|---|")
    for name, row in results.items():
        print(f"| {name} | " + " | ".join(f"{row[k]:.3f}" for k in
                                          ("plain SFT (baseline)", "sft", "reward", "dpo", "ppo"))
              + " |")
    print(f"load average at end {os.getloadavg()[0]:.1f}")
    for name, row in results.items():
        print(f"ratio {name}: tuneset SFT step / plain PyTorch step = "
              f"{row['sft'] / row['plain SFT (baseline)']:.2f}x")


if __name__ == "__main__":
    main()
