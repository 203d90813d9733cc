"""The signature step with the CPU's SHA extensions against the portable SIMD lanes.

Both variants are the same compiled signature kernel (`minhash._signatures`) with its SHA-1
routine swapped: `sha1.sha1_spans_ni` (SHA-NI instructions, four one-block messages at a time)
or `sha1.sha1_spans_lanes` (32 messages at a time in SIMD lanes). They are checked to give
identical signatures, then timed in one thread (CPU seconds, best of --repeat) on the
normalized texts of both corpora of `benchmarks/dedup.py`.

    NUMBA_NUM_THREADS=1 python benchmarks/sha1.py [--docs 50000]

The ratio (lanes CPU seconds / SHA-NI CPU seconds) is printed last.
"""

from __future__ import annotations

import argparse
import sys
import time
import types
from pathlib import Path

import numba
import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dedup_corpus import instruction_corpus, passage_corpus  # noqa: E402

from pipelines.dedup import minhash, sha1  # noqa: E402
from pipelines.dedup.normalize import normalize_packed, pack  # noqa: E402


def kernel(spans):
    """`minhash._signatures` compiled with `spans` as its SHA-1 routine."""
    py = minhash._signatures.py_func
    scope = {**py.__globals__, "sha1_spans": spans}
    return numba.njit(parallel=True)(types.FunctionType(py.__code__, scope, py.__name__))


def timed(fn, packed, a, b, repeat):
    out = np.empty((len(packed), len(a)), np.uint32)
    fn(packed.data, packed.offsets, 5, a, b, 0, out)  # compile
    best = min(_once(fn, packed, a, b, out) for _ in range(repeat))
    return best, out


def _once(fn, packed, a, b, out):
    cpu = time.process_time()
    fn(packed.data, packed.offsets, 5, a, b, 0, out)
    return time.process_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not sha1.HAS_SHA_NI:
        print("this CPU has no SHA extensions: nothing to compare")
        return 0
    a, b = minhash.permutations(128, 1)
    variants = {"SHA-NI": kernel(sha1.sha1_spans_ni), "lanes": kernel(sha1.sha1_spans_lanes)}
    ratios = []
    print(f"numba threads: {numba.get_num_threads()}")
    for name, make in (("instructions", instruction_corpus), ("passages", passage_corpus)):
        texts, _ = make(args.docs)
        packed = normalize_packed(pack(pa.array(texts)))
        results = {v: timed(fn, packed, a, b, args.repeat) for v, fn in variants.items()}
        assert (results["SHA-NI"][1] == results["lanes"][1]).all(), "signatures differ"
        ni, lanes = results["SHA-NI"][0], results["lanes"][0]
        ratios.append(lanes / ni)
        print(f"{name}: {len(texts):,} texts; signature step CPU s: SHA-NI {ni:.3f} "
              f"({len(texts) / ni:,.0f} docs/s), lanes {lanes:.3f} ({len(texts) / lanes:,.0f} docs/s)")
    print("ratio (lanes CPU s / SHA-NI CPU s): " + ", ".join(f"{r:.2f}x" for r in ratios))
    return 0


if __name__ == "__main__":
    sys.exit(main())
