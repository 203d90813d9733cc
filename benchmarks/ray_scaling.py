"""Judge throughput on Ray: the local single process against 1 and 2 Ray actors (1 CPU each).

The judge (`logprob` mode, accuracy rubric, the embedded SmolLM2-135M-Instruct on the CPU) rates
the same examples three ways in one run:

- baseline: the transformers backend in this process, 1 torch thread;
- Ray, 1 actor: `RayGenerator` over a local Ray instance, one actor with 1 CPU and 1 thread;
- Ray, 2 actors: the same with two actors.

The examples are GLUE RTE dev pairs (premise/hypothesis, each answered once right and once
wrong), as in benchmarks/judge.py. The local model is loaded and warmed up before timing. A Ray
call starts its actor pool and each actor loads the model, once per call (a stage pays this once
per model call), so the Ray times include it; the cost of a 4-example call is printed as that
fixed part. Scores must agree with the local run to 1e-4 (else the script fails). Prints
examples per second, the speed-up over the baseline, and last the scaling efficiency of 2 actors
over 1 (speed-up / 2).

    python benchmarks/ray_scaling.py [--pairs 48] [--batch-size 16] [--data ../shared/data]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
YES = "Yes, the premise entails the hypothesis."
NO = "No, the premise does not entail the hypothesis."


def rte_examples(data: Path, pairs: int):
    from pipelines.io import read_records
    from pipelines.judge.examples import Example

    rows = read_records(data / "glue_rte" / "dev.tsv").to_list()[:pairs]
    examples = []
    for r in rows:
        prompt = (f"Premise: {r['sentence1']}\nHypothesis: {r['sentence2']}\n"
                  "Does the premise entail the hypothesis? Answer yes or no.")
        examples += [Example(prompt, "", YES), Example(prompt, "", NO)]
    return examples


def timed(examples, generator) -> tuple[list[float | None], float]:
    start = time.perf_counter()
    ratings = rate(examples, generator, "logprob")
    return [r.score for r in ratings], time.perf_counter() - start


def rate(examples, generator, mode):
    from pipelines.judge import rate as judge_rate

    return judge_rate(examples, generator, mode=mode)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=48)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args()
    os.environ.setdefault("TUNESET_THREADS", "1")

    import ray

    from pipelines.cluster import ModelResources
    from pipelines.cluster.generator import RayGenerator
    from pipelines.models import ModelConfig, load_generator
    from pipelines.threads import configure_threads

    configure_threads(1)
    examples = rte_examples(args.data, args.pairs)
    local = load_generator(ModelConfig())
    rate(examples[:4], local, "logprob")  # warm-up
    local_scores, local_s = timed(examples, local)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        results, fixed = {}, {}
        for actors in (1, 2):
            gen = RayGenerator(ModelConfig(), ModelResources(num_cpus=1, replicas=actors,
                                                             batch_size=args.batch_size))
            start = time.perf_counter()
            rate(examples[:4], gen, "logprob")
            fixed[actors] = time.perf_counter() - start
            scores, seconds = timed(examples, gen)
            if any(abs((a or 0) - (b or 0)) > 1e-4 for a, b in zip(scores, local_scores)):
                print(f"scores on {actors} actor(s) differ from the local run", file=sys.stderr)
                return 1
            results[actors] = seconds
    finally:
        ray.shutdown()
    n = len(examples)
    print(f"{n} examples, judge logprob mode, embedded model, batch size {args.batch_size}")
    print(f"local, 1 process:   {n / local_s:7.2f} examples/s  ({local_s:.1f} s)")
    for actors, seconds in results.items():
        print(f"Ray, {actors} actor(s):     {n / seconds:7.2f} examples/s  ({seconds:.1f} s)  "
              f"x{local_s / seconds:.2f} of local; a 4-example call: {fixed[actors]:.1f} s")
    speedup = results[1] / results[2]
    print(f"2 actors / 1 actor: x{speedup:.2f}, scaling efficiency {speedup / 2:.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
