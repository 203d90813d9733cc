"""ROUGE-L novelty checking: tuneset's indexed pool against the naive rouge-score loop.

2,000 candidate instructions are checked, in order, against a pool that starts with 20,000
instructions; a candidate whose best ROUGE-L F1 is <= 0.7 is accepted and joins the pool (as in
the self-instruct loop). About a third of the candidates are near-copies of pool items.

Baseline "naive rouge-score loop": `RougeScorer(["rougeL"]).score(pool_item, candidate)` for
every pool item, per candidate — what the original self-instruct code does. It costs about
20,000 scorer calls per candidate, so it runs on the first `--naive` candidates only (default
40) and its rate is compared per candidate; decisions are compared on those candidates.

The texts are generated here (seeded) from a small vocabulary, so the script needs no data.

    python benchmarks/rouge_novelty.py [--pool 20000] [--candidates 2000] [--naive 40]
"""

from __future__ import annotations

import argparse
import random
import sys
import time

from rouge_score import rouge_scorer

from pipelines.self_instruct.rouge import RougePool

VERBS = ["Write", "Explain", "Describe", "List", "Summarise", "Compare", "Suggest", "Classify",
         "Translate", "Rewrite", "Identify", "Plan", "Create", "Outline", "Evaluate", "Give",
         "Recommend", "Convert", "Find", "Estimate", "Predict", "Design", "Draft", "Analyse"]
OBJECTS = ["a short poem", "the main idea", "three tips", "a recipe", "a travel plan", "the steps",
           "a product review", "an email", "the differences", "a list of questions", "a story",
           "a headline", "the key facts", "a budget", "a workout routine", "a lesson plan",
           "the pros and cons", "a summary", "a tweet", "a slogan", "the causes", "the effects",
           "a timeline", "a dialogue", "a definition", "an analogy", "a riddle", "a menu"]
TOPICS = ["climate change", "healthy eating", "remote work", "ancient Rome", "electric cars",
          "the ocean", "social media", "space travel", "gardening", "personal finance", "music",
          "friendship", "public transport", "recycling", "sleep", "coffee", "volcanoes", "chess",
          "birds", "the internet", "city parks", "learning languages", "mountains", "bread"]
EXTRAS = ["for a child", "in simple words", "for a busy parent", "in under fifty words",
          "with examples", "for a beginner", "in a formal tone", "as a bulleted list",
          "for a school newsletter", "in the style of a news report", "step by step", ""]
FILLER = ["please", "carefully", "briefly", "clearly", "today", "also", "then", "quickly"]


def instruction(rng: random.Random) -> str:
    words = [rng.choice(VERBS), rng.choice(OBJECTS), "about", rng.choice(TOPICS), rng.choice(EXTRAS)]
    if rng.random() < 0.5:
        words += ["and", rng.choice(VERBS).lower(), rng.choice(OBJECTS), "on", rng.choice(TOPICS)]
    words += rng.sample(FILLER, rng.randint(0, 3))
    return " ".join(w for w in words if w) + "."


def near_copy(text: str, rng: random.Random) -> str:
    words = text.split()
    for _ in range(rng.randint(1, 3)):
        words[rng.randrange(len(words))] = rng.choice(FILLER)
    return " ".join(words)


def build(pool_size: int, candidates: int, seed: int = 0) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    pool = [instruction(rng) for _ in range(pool_size)]
    cands = [near_copy(rng.choice(pool), rng) if rng.random() < 0.33 else instruction(rng)
             for _ in range(candidates)]
    return pool, cands


def indexed(pool: list[str], cands: list[str], threshold: float) -> list[bool]:
    index = RougePool(pool)
    decisions = []
    for cand in cands:
        best, _ = index.max_similarity(cand)
        novel = best <= threshold
        decisions.append(novel)
        if novel:
            index.add(cand)
    return decisions


def naive(pool: list[str], cands: list[str], threshold: float) -> list[bool]:
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=False)
    pool = list(pool)
    decisions = []
    for cand in cands:
        best = max(scorer.score(p, cand)["rougeL"].fmeasure for p in pool)
        novel = best <= threshold
        decisions.append(novel)
        if novel:
            pool.append(cand)
    return decisions


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pool", type=int, default=20_000)
    parser.add_argument("--candidates", type=int, default=2_000)
    parser.add_argument("--naive", type=int, default=40, help="candidates the baseline checks")
    parser.add_argument("--threshold", type=float, default=0.7)
    args = parser.parse_args()
    pool, cands = build(args.pool, args.candidates)
    start = time.perf_counter()
    ours = indexed(pool, cands, args.threshold)
    ours_s = time.perf_counter() - start
    start = time.perf_counter()
    base = naive(pool, cands[: args.naive], args.threshold)
    base_s = time.perf_counter() - start
    same = sum(a == b for a, b in zip(ours, base))
    ours_rate, base_rate = len(cands) / ours_s, len(base) / base_s
    print(f"pool {args.pool:,} instructions, {len(cands):,} candidates, threshold {args.threshold}")
    print(f"tuneset RougePool:        {ours_s:8.2f} s for {len(cands):,} candidates  "
          f"{ours_rate:9.1f} candidates/s  accepted {sum(ours):,}")
    print(f"naive rouge-score loop:   {base_s:8.2f} s for {len(base):,} candidates  "
          f"{base_rate:9.2f} candidates/s")
    print(f"same decisions on the baseline's {len(base)} candidates: {same}/{len(base)}")
    if same != len(base):
        print("decisions differ", file=sys.stderr)
        return 1
    print(f"ratio (tuneset / naive, candidates per second): {ours_rate / base_rate:.0f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
