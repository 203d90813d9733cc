"""Preference pairs per minute on the embedded model: rating vs pairwise both-order judging.

The same 16 prompts get K=4 sampled answers once (temperature 1.0, up to 64 new tokens); then
the answers are scored two ways, each followed by UltraFeedback's best-vs-random selection:

- rating, G-Eval log-prob mode: 64 judge calls (one per answer), no generation;
- pairwise, both orders, log-prob mode: every pair of a prompt's answers, asked with each
  answer first (6 pairs x 2 orders x 16 prompts = 192 judge calls).

Pairs per minute count sampling plus scoring, since a run pays both. A judge with a position
bias turns every both-order comparison into a tie, and ties make no pairs; so the script also
reports prompts scored per minute (sampling plus scoring), the throughput that does not depend
on the judge's verdicts. The ratio (rating / pairwise) of that throughput is printed last.

    python benchmarks/preferences.py [--prompts 16] [--k 4]
"""

from __future__ import annotations

import argparse
import sys
import time

import datasets

from pipelines.models import GenerationParams, ModelConfig, load_generator
from pipelines.preferences import PreferenceConfig, pair_responses, sample_responses

PROMPTS = [
    "Give two tips for keeping a houseplant alive.", "What is the boiling point of water at sea level?",
    "Write one sentence about autumn.", "Name three animals that live in the ocean.",
    "Explain what a noun is.", "Suggest a name for a pet goldfish.",
    "What is 12 multiplied by 3?", "Describe the taste of a lemon.",
    "How many days are there in a leap year?", "Give a synonym for 'happy'.",
    "What does a thermometer measure?", "Recommend a hobby for a rainy day.",
    "Translate 'thank you' into Spanish.", "Why do people wear sunscreen?",
    "Name a famous painting.", "What is the opposite of 'ancient'?",
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=16)
    parser.add_argument("--k", type=int, default=4)
    args = parser.parse_args()
    model = load_generator(ModelConfig())
    prompts = datasets.Dataset.from_list([{"prompt": p} for p in PROMPTS[: args.prompts]])
    params = {"temperature": 1.0, "top_p": 0.95, "max_new_tokens": 64, "seed": 0}
    model.generate([[{"role": "user", "content": "Hi"}]], GenerationParams(max_new_tokens=4))  # warm-up
    start = time.perf_counter()
    sampling_config = PreferenceConfig(samplers=[{"params": params, "n": args.k}])
    samples = sample_responses(prompts, sampling_config, model=model).kept
    sampling = time.perf_counter() - start
    candidates = sum(len(c) for c in samples["candidates"])
    results = {}
    for name, kind in (("rating (logprob)", "rating"), ("pairwise both orders (logprob)", "pairwise")):
        config = PreferenceConfig(scorer={"kind": kind, "judge": {"mode": "logprob",
                                                                  "aspect": "helpfulness"}})
        start = time.perf_counter()
        result = pair_responses(samples, config, model=model)
        scoring = time.perf_counter() - start
        results[name] = (scoring, len(result.kept), dict(result.stats["rejected"]))
    print(f"{len(prompts)} prompts x K={args.k} (after dropping duplicates: {candidates} answers); "
          f"sampling took {sampling:.1f} s")
    throughput = []
    for name, (scoring, pairs, rejected) in results.items():
        minutes = (sampling + scoring) / 60
        throughput.append(len(prompts) / minutes)
        print(f"  {name:32s} scoring {scoring:7.1f} s  pairs {pairs:3d}  {pairs / minutes:6.1f} pairs/min  "
              f"{len(prompts) / minutes:6.1f} prompts/min  rejected {rejected}")
    print(f"ratio rating / pairwise (prompts scored per minute, sampling included): "
          f"{throughput[0] / throughput[1]:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
