"""Generation throughput of the transformers backend, and score_tokens against text scoring.

1. 64 prompts x up to 64 new tokens, greedy, embedded SmolLM2-135M-Instruct on the CPU:
   tuneset's batched backend (length-sorted, left-padded batches) against the baseline
   "naive loop": `model.generate` called one prompt at a time on the same model. Both produce
   the same greedy completions; tokens/s counts the tokens actually generated.
2. 64 judge prompts: `score_tokens` (one forward pass, log-probs of "0".."5" after the
   assistant prefix "Score: ") against the baseline "score as text": generating up to 4 tokens
   greedily and reading the first digit 0-5. Agreement is reported too: with no prefix, a
   small model often starts with words, so the two readings can differ.

Each side runs in its own subprocess so peak RSS (VmHWM) is its own. Ratios print last.

    python benchmarks/generation.py [--prompts 64] [--new-tokens 64]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

TOPICS = ["the water cycle", "compound interest", "photosynthesis", "a rainy afternoon",
          "how vaccines work", "the history of bicycles", "sorting algorithms", "volcanoes",
          "a good night's sleep", "the moon landing", "recycling plastic", "learning a language",
          "the stock market", "bees and pollination", "public libraries", "electric cars"]
ASKS = ["Explain {} to a ten-year-old.", "Write three short tips about {}.",
        "Give a one-paragraph summary of {}.", "List two surprising facts about {}."]


def prompts(count: int) -> list[list[dict]]:
    items = [a.format(t) for a in ASKS for t in TOPICS]
    return [[{"role": "user", "content": items[i % len(items)]}] for i in range(count)]


def judge_prompts(count: int) -> list[list[dict]]:
    answers = ["Paris is the capital of France.", "The sun orbits the earth.",
               "Water boils at 100 C at sea level.", "Bananas are a kind of fish."]
    return [[{"role": "user", "content": f"Rate how accurate this answer is, from 0 (wrong) to 5 "
              f"(fully correct). Reply with the number only.\n\nAnswer: {answers[i % 4]} ({i})"}]
            for i in range(count)]


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def side(name: str, count: int, new_tokens: int) -> dict:
    import torch

    from pipelines.models import GenerationParams, ModelConfig, load_generator

    torch.manual_seed(0)
    gen = load_generator(ModelConfig())
    params = GenerationParams(max_new_tokens=new_tokens)
    if name in ("batched", "naive"):
        convs = prompts(count)
        gen.generate(convs[:2], GenerationParams(max_new_tokens=4))  # warm-up
        start = time.perf_counter()
        if name == "batched":
            texts = [c[0] for c in gen.generate(convs, params)]
        else:
            texts = [naive_one(gen, conv, new_tokens) for conv in convs]
        seconds = time.perf_counter() - start
        tokens = sum(c.completion_tokens for c in texts)
        return {"seconds": seconds, "tokens": tokens, "texts": [c.text for c in texts],
                "peak_rss_mb": peak_rss_mb()}
    convs = judge_prompts(count)
    digits = [str(i) for i in range(6)]  # subtle: SmolLM2 splits " 4" into " " + "4"
    gen.score_tokens(convs[:2], "Score: ", digits)
    start = time.perf_counter()
    if name == "score_tokens":
        scores = gen.score_tokens(convs, "Score: ", digits)
        picked = [max(s, key=s.get) for s in scores]
    else:
        outs = gen.generate(convs, GenerationParams(max_new_tokens=4))
        picked = [(re.findall(r"[0-5]", o[0].text) or ["?"])[0] for o in outs]
    return {"seconds": time.perf_counter() - start, "picked": picked, "peak_rss_mb": peak_rss_mb()}


def naive_one(gen, conv, new_tokens):
    """The baseline: one model.generate call per prompt, no batching."""
    import torch

    from pipelines.models.params import Completion

    prompt = torch.tensor([gen.prompt_ids(conv)])
    with torch.inference_mode():
        out = gen.model.generate(input_ids=prompt, attention_mask=torch.ones_like(prompt),
                                 max_new_tokens=new_tokens, do_sample=False,
                                 pad_token_id=gen.tokenizer.pad_token_id)
    new = out[0, prompt.shape[1]:].tolist()
    end = next((i for i, t in enumerate(new) if t in gen.eos_ids), len(new))
    return Completion(text=gen.tokenizer.decode(new[:end], skip_special_tokens=True),
                      finish_reason="stop", prompt_tokens=prompt.shape[1],
                      completion_tokens=end)


def run_child(name: str, args) -> dict:
    cmd = [sys.executable, __file__, "--side", name, "--prompts", str(args.prompts),
           "--new-tokens", str(args.new_tokens)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=64)
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--side", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.side:
        print(json.dumps(side(args.side, args.prompts, args.new_tokens)))
        return 0
    naive, batched = run_child("naive", args), run_child("batched", args)
    same = sum(a == b for a, b in zip(naive["texts"], batched["texts"]))
    print(f"generation: {args.prompts} prompts x up to {args.new_tokens} new tokens, greedy, "
          f"embedded model, CPU")
    for name, r in (("naive loop (model.generate per prompt)", naive), ("tuneset batched", batched)):
        print(f"  {name:40s} {r['seconds']:7.1f} s  {r['tokens'] / r['seconds']:7.1f} tokens/s  "
              f"{r['tokens']} tokens  peak RSS {r['peak_rss_mb']:.0f} MB")
    print(f"  identical completions: {same}/{args.prompts}")
    text, scored = run_child("score_text", args), run_child("score_tokens", args)
    agree = sum(a == b for a, b in zip(text["picked"], scored["picked"]))
    print(f"judging: {args.prompts} prompts, score 0-5")
    for name, r in (("score as text (generate 4 tokens)", text), ("score_tokens (one pass)", scored)):
        print(f"  {name:40s} {r['seconds']:7.2f} s  {args.prompts / r['seconds']:7.1f} prompts/s  "
              f"peak RSS {r['peak_rss_mb']:.0f} MB")
    print(f"  same score picked: {agree}/{args.prompts}")
    gen_ratio = (batched["tokens"] / batched["seconds"]) / (naive["tokens"] / naive["seconds"])
    print(f"ratio score_tokens / score as text (prompts/s): {text['seconds'] / scored['seconds']:.1f}x")
    print(f"ratio batched / naive loop (tokens/s): {gen_ratio:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
