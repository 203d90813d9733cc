"""Judge scoring speed: G-Eval `logprob` mode against AlpaGasus `parse` mode, same examples.

128 examples from GLUE RTE dev (64 premise/hypothesis pairs, half entailment, each answered
once correctly and once wrongly: "Yes, the premise entails the hypothesis." / "No, ..."), rated
0-5 for accuracy by the embedded SmolLM2-135M-Instruct on the CPU, with the judge's default
settings:

- baseline `parse`: greedy generation of up to 64 new tokens, score read from the first line;
- `logprob`: one forward pass per example, expected score over the tokens "0".."5", with the
  rubric prefix that all prompts share run once (the transformers backend's prefix reuse);
- `logprob`, prefix reuse off: the same scoring with every prompt run in full, to show how much
  of the gain is the mode itself.

Examples per second for each, and agreement with the labels on the same set: a pair counts
for the judge when the right answer scores higher than the wrong one (rating comparison,
margin 0; ties and parse failures count against), beside the longest-answer and random
baselines. The ratio logprob / parse prints last.

    python benchmarks/judge.py [--pairs 64] [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from pipelines.io import read_records
from pipelines.judge import JudgeConfig, compare_scores, rate
from pipelines.judge.evaluate import agreement_figures, longest_baseline, random_baseline
from pipelines.judge.examples import Example

REPO = Path(__file__).resolve().parents[1]
YES = "Yes, the premise entails the hypothesis."
NO = "No, the premise does not entail the hypothesis."


def rte_pairs(data: Path, count: int) -> list[tuple[Example, Example]]:
    """(right answer, wrong answer) examples, half entailment and half not."""
    rows = read_records(data / "glue_rte" / "dev.tsv").to_list()
    picked = ([r for r in rows if r["label"] == "entailment"][:count // 2]
              + [r for r in rows if r["label"] == "not_entailment"][:count - count // 2])
    pairs = []
    for r in picked:
        prompt = (f"Premise: {r['sentence1']}\nHypothesis: {r['sentence2']}\n"
                  "Does the premise entail the hypothesis? Answer yes or no.")
        right, wrong = (YES, NO) if r["label"] == "entailment" else (NO, YES)
        pairs.append((Example(prompt, "", right), Example(prompt, "", wrong)))
    return pairs


def timed(examples, generator, mode: str, config: JudgeConfig):
    rate(examples[:2], generator, mode=mode, max_new_tokens=config.max_new_tokens)  # warm-up
    start = time.perf_counter()
    ratings = rate(examples, generator, aspect=config.aspect, mode=mode,
                   max_new_tokens=config.max_new_tokens)
    return ratings, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=64)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args()

    import pipelines.models.hf as hf
    from pipelines.models import ModelConfig, load_generator

    config = JudgeConfig()
    pairs = rte_pairs(args.data, args.pairs)
    examples = [e for pair in pairs for e in pair]
    generator = load_generator(ModelConfig())
    parsed, parse_s = timed(examples, generator, "parse", config)
    shared_minimum = hf.MIN_SHARED_PREFIX
    hf.MIN_SHARED_PREFIX = 10**9
    _, full_s = timed(examples, generator, "logprob", config)
    hf.MIN_SHARED_PREFIX = shared_minimum
    scored, logprob_s = timed(examples, generator, "logprob", config)

    def winners(ratings):
        return [compare_scores(ratings[i].score, ratings[i + 1].score, 0.0)
                for i in range(0, len(ratings), 2)]

    lengths = [(len(a.response), len(b.response)) for a, b in pairs]
    parse_w, logprob_w = winners(parsed), winners(scored)
    n = len(examples)
    print(f"judge scoring: {n} examples ({len(pairs)} RTE pairs), aspect accuracy, embedded "
          f"model, CPU, max_new_tokens {config.max_new_tokens} in parse mode")
    for name, seconds in (("parse (generate, read first line)", parse_s),
                          ("logprob, prefix reuse off", full_s),
                          ("logprob (G-Eval expectation)", logprob_s)):
        print(f"  {name:36s} {seconds:8.1f} s  {n / seconds:7.2f} examples/s")
    failures = sum(not r.ok for r in parsed)
    print(f"  parse-mode parse failures: {failures}/{n}")
    print("agreement with the labels (right answer scored higher; ties and failures count against):")
    for name, w in (("parse", parse_w), ("logprob", logprob_w),
                    ("longest answer", longest_baseline(lengths)),
                    ("random (seed 0)", random_baseline(len(pairs), 0))):
        figures = agreement_figures(w)
        print(f"  {name:36s} {figures['agreement']:.3f}  (ties {figures['tie_rate']:.3f})")
    same = sum(a == b for a, b in zip(parse_w, logprob_w))
    print(f"  parse and logprob pick the same winner: {same}/{len(pairs)}")
    print(f"ratio logprob, prefix reuse off / parse (examples/s): {parse_s / full_s:.1f}x")
    print(f"ratio logprob / parse (examples/s): {parse_s / logprob_s:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
