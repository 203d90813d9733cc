"""How the torch thread count pays on this machine as it is now: greedy generation with the
embedded SmolLM2-135M-Instruct (8 prompts x 48 new tokens, one batch) under each setting.

Baseline: 1 thread. Against it: `auto` (the CPUs the process may use, `pipelines.threads`),
and `auto` with `OMP_WAIT_POLICY=PASSIVE` (waiting OpenMP threads sleep instead of spinning).
Each setting runs in its own subprocess (thread pools are fixed once torch starts), the order
repeated `--repeats` times; the script prints wall and process CPU seconds per run, the
1-minute load average when it started, and the median ratios last. On an idle machine `auto`
should win; on a busy shared one the threads wait for each other and 1 thread wins.

    python benchmarks/threads.py [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = """
import json, os, sys, time
from pipelines.threads import configure_threads
threads = configure_threads()
from pipelines.models import GenerationParams, ModelConfig, load_generator
gen = load_generator(ModelConfig())
convs = [[{"role": "user", "content": f"Write a short poem about the number {i}."}] for i in range(8)]
gen.generate(convs[:1], GenerationParams(max_new_tokens=4))  # warm-up
load = os.getloadavg()[0]
wall, cpu = time.perf_counter(), time.process_time()
gen.generate(convs, GenerationParams(max_new_tokens=48))
print(json.dumps({"threads": threads, "wall": time.perf_counter() - wall,
                  "cpu": time.process_time() - cpu, "load": load}))
"""
SETTINGS = {"1 thread (baseline)": {"TUNESET_THREADS": "1"},
            "auto": {"TUNESET_THREADS": "auto"},
            "auto, OMP_WAIT_POLICY=PASSIVE": {"TUNESET_THREADS": "auto", "OMP_WAIT_POLICY": "PASSIVE"}}


def run_child(extra_env: dict[str, str]) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")}
    out = subprocess.run([sys.executable, "-c", CHILD], env=env | extra_env, check=True,
                         capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    runs: dict[str, list[dict]] = {name: [] for name in SETTINGS}
    for _ in range(args.repeats):
        for name, env in SETTINGS.items():
            result = run_child(env)
            runs[name].append(result)
            print(f"{name:32s} threads={result['threads']}  wall {result['wall']:6.1f} s  "
                  f"cpu {result['cpu']:6.1f} s  (load average {result['load']:.1f})", flush=True)
    base = statistics.median(r["wall"] for r in runs["1 thread (baseline)"])
    for name in list(SETTINGS)[1:]:
        wall = statistics.median(r["wall"] for r in runs[name])
        print(f"ratio wall {name} / 1 thread: {wall / base:.2f}x")


if __name__ == "__main__":
    main()
