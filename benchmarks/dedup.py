"""Dedup throughput and quality: the `dedup_records` stage against datasketch used naively.

Corpus (generated, seeded): N instruction-like texts of 20-200 words (an instruction opening
such as "Explain how" followed by words drawn from a 20,000-word synthetic vocabulary), of which
a fifth are planted near-copies of earlier texts with 1-10% of their words edited (substituted,
deleted or inserted); an original may have several copies. Texts are capitalised and end with
a full stop, so normalization (lowercase, strip punctuation) has work to do.

Reference set ("true duplicate pairs"): every pair whose exact Jaccard over word 5-gram shingles
(of the normalized text, as Python sets of strings) is at least the threshold, computed for
(a) every pair inside a planted family (original + its copies) and (b) every pair either
method reported. Texts of different families share at most their 2-3-word opening, so no
other pair can reach the threshold: (a) + (b) is the whole set, not a sample of it.

Baseline "datasketch naive": per text, `MinHash(num_perm)` and `update(shingle.encode())` per
shingle, `MinHashLSH(threshold, num_perm).insert`, then `query` for every text; every query
hit is a reported pair (no verification). tuneset: `dedup_records` on a Dataset of the texts
(normalization, exact dedup, signatures, banding, verification, clusters, keep policy, output
datasets), and its verified pairs for quality. Each side runs in its own subprocess so peak RSS
(VmHWM) is its own; both read the corpus from the same Arrow file. The naive baseline is
timed on a prefix of the corpus when the whole would take more than --naive-budget seconds
(estimated from a 1,000-text probe); its docs/s is compared, and its quality is measured on
that prefix. tuneset's time is the median of --repeat runs (after one small warm-up run that
loads the compiled kernels); CPU seconds (all threads) are reported beside wall time, since the
machine is shared and wall time moves with its load.

    python benchmarks/dedup.py [--docs 200000] [--threshold 0.8] [--verify signature]

The ratio (tuneset docs/s / naive docs/s) is printed last.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc

OPENINGS = ["Write a", "Explain how", "Summarize the", "Describe the", "List three", "Give an",
            "Translate the", "Classify the", "Generate a", "Rewrite the", "What is", "How do",
            "Compose a short", "Create a list of", "Suggest a", "Compare the"]


def make_corpus(n: int, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """(texts, family): family[i] = index of the original text i copies (itself for originals)."""
    rng = np.random.default_rng(seed)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    vocab = np.array(["".join(rng.choice(letters, rng.integers(3, 10))) for _ in range(20_000)])
    n_copies = n // 5
    family = np.arange(n)
    words: list[list[str]] = []
    is_copy = np.zeros(n, bool)
    is_copy[rng.choice(np.arange(1, n), n_copies, replace=False)] = True
    for i in range(n):
        if is_copy[i]:
            source = int(rng.integers(0, i))
            while is_copy[source] and rng.random() < 0.5:  # copies of copies now and then
                source = int(family[source])
            family[i] = family[source]
            doc = list(words[source])
            for _ in range(max(1, round(rng.uniform(0.01, 0.10) * len(doc)))):
                op, at = rng.integers(0, 3), int(rng.integers(0, len(doc)))
                if op == 0:
                    doc[at] = str(vocab[rng.integers(0, len(vocab))])
                elif op == 1 and len(doc) > 20:
                    del doc[at]
                else:
                    doc.insert(at, str(vocab[rng.integers(0, len(vocab))]))
        else:
            opening = OPENINGS[rng.integers(0, len(OPENINGS))].lower().split()
            doc = opening + list(vocab[rng.integers(0, len(vocab), rng.integers(20, 201) - len(opening))])
        words.append(doc)
    texts = [" ".join(d).capitalize() + "." for d in words]
    return texts, family


def shingles(text: str, ngram: int = 5) -> set[str]:
    words = text.lower().replace(".", "").split()
    if len(words) < ngram:
        return {" ".join(words)}
    return {" ".join(words[i:i + ngram]) for i in range(len(words) - ngram + 1)}


def peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def read_corpus(path: str, limit: int | None = None) -> list[str]:
    with pa.memory_map(path) as source:
        texts = pa.ipc.open_file(source).read_all().column("text")
    return texts.slice(0, limit).to_pylist() if limit else texts.to_pylist()


def run_naive(args: argparse.Namespace) -> dict:
    from datasketch import MinHash, MinHashLSH

    texts = read_corpus(args.corpus, args.limit)
    start, cpu = time.perf_counter(), time.process_time()
    lsh = MinHashLSH(threshold=args.threshold, num_perm=args.num_perm)
    sketches = []
    for i, text in enumerate(texts):
        m = MinHash(num_perm=args.num_perm)
        for s in shingles(text):
            m.update(s.encode("utf-8"))
        lsh.insert(i, m)
        sketches.append(m)
    pairs = set()
    for i, m in enumerate(sketches):
        for j in lsh.query(m):
            if j != i:
                pairs.add((min(i, j), max(i, j)))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"docs": len(texts), "seconds": seconds, "cpu_seconds": cpu, "pairs": sorted(pairs),
            "rss_mib": peak_rss_mib()}


def run_tuneset(args: argparse.Namespace) -> dict:
    import datasets

    from pipelines.dedup.config import DedupConfig
    from pipelines.dedup.near import NearParams, find_near_pairs
    from pipelines.dedup.normalize import normalize_packed, pack
    from pipelines.dedup.stage import dedup_records

    with pa.memory_map(args.corpus) as source:
        table = pa.ipc.open_file(source).read_all()
    texts = table.column("text")
    ds = datasets.Dataset(pa.table({"id": [str(i) for i in range(len(texts))], "instruction": texts}))
    config = DedupConfig(text="instruction", threshold=args.threshold, num_perm=args.num_perm,
                         verify=args.verify)
    dedup_records(ds.select(range(min(len(ds), 3000))), config)  # compile (or load) the numba kernels first
    runs = []
    for _ in range(args.repeat):
        start, cpu = time.perf_counter(), time.process_time()
        result = dedup_records(ds, config)
        runs.append((time.perf_counter() - start, time.process_time() - cpu))
    seconds, cpu = sorted(runs)[len(runs) // 2]
    params = NearParams.from_config(config)
    packed = normalize_packed(pack(texts))
    pairs = find_near_pairs(packed, params)
    return {"docs": len(texts), "seconds": seconds, "cpu_seconds": cpu, "stats": result.stats,
            "pairs": list(zip(pairs.left.tolist(), pairs.right.tolist())), "rss_mib": peak_rss_mib()}


def child(side: str, args: argparse.Namespace, **extra) -> dict:
    cmd = [sys.executable, __file__, "--child", side, "--corpus", args.corpus,
           "--threshold", str(args.threshold), "--num-perm", str(args.num_perm),
           "--verify", args.verify, "--repeat", str(args.repeat)] + \
        [f"--{k}={v}" for k, v in extra.items()]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def quality(pairs: set[tuple[int, int]], truth: set[tuple[int, int]]) -> tuple[float, float]:
    hits = len(pairs & truth)
    return hits / max(len(pairs), 1), hits / max(len(truth), 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=200_000)
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--num-perm", type=int, default=128)
    parser.add_argument("--verify", default="exact", choices=["none", "signature", "exact"])
    parser.add_argument("--repeat", type=int, default=3, help="tuneset runs (median is reported)")
    parser.add_argument("--naive-budget", type=float, default=900.0,
                        help="seconds the naive baseline may take; beyond it a prefix is used")
    parser.add_argument("--child", choices=["naive", "tuneset"], help=argparse.SUPPRESS)
    parser.add_argument("--corpus", help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = run_naive(args) if args.child == "naive" else run_tuneset(args)
        print(json.dumps(result))
        return 0

    texts, family = make_corpus(args.docs)
    with tempfile.TemporaryDirectory() as tmp:
        args.corpus = str(Path(tmp) / "corpus.arrow")
        table = pa.table({"text": texts})
        with pa.OSFile(args.corpus, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        print(f"corpus: {len(texts):,} texts, {sum(family != np.arange(len(texts))):,} planted "
              f"copies, threshold {args.threshold}, num_perm {args.num_perm}")
        ours = child("tuneset", args)
        probe = child("naive", args, limit=1000)
        estimate = probe["seconds"] / probe["docs"] * len(texts)
        limit = len(texts) if estimate <= args.naive_budget else \
            max(1000, int(args.naive_budget / estimate * len(texts)) // 1000 * 1000)
        if limit < len(texts):
            print(f"naive baseline: estimated {estimate:,.0f} s for all texts (over the "
                  f"{args.naive_budget:.0f} s budget); timed on the first {limit:,} texts")
        naive = child("naive", args, limit=limit)

    ours_pairs = {tuple(p) for p in ours["pairs"]}
    naive_pairs = {tuple(p) for p in naive["pairs"]}
    candidates = set(ours_pairs) | naive_pairs
    members: dict[int, list[int]] = {}
    for i, f in enumerate(family.tolist()):
        members.setdefault(f, []).append(i)
    for group in members.values():
        candidates.update((a, b) for k, a in enumerate(group) for b in group[k + 1:])
    cache: dict[int, set[str]] = {}
    truth = set()
    for a, b in candidates:
        sa = cache.setdefault(a, shingles(texts[a]))
        sb = cache.setdefault(b, shingles(texts[b]))
        if len(sa & sb) / len(sa | sb) >= args.threshold:
            truth.add((a, b))
    naive_truth = {p for p in truth if p[1] < naive["docs"]}
    p_ours, r_ours = quality(ours_pairs, truth)
    p_naive, r_naive = quality(naive_pairs, naive_truth)
    rate_ours, rate_naive = ours["docs"] / ours["seconds"], naive["docs"] / naive["seconds"]
    lsh = ours["stats"]["lsh"]
    print(f"reference pairs (exact Jaccard >= {args.threshold}): {len(truth):,} "
          f"({len(naive_truth):,} within the naive prefix)")
    print(f"tuneset: {lsh['bands']} bands x {lsh['rows']} rows, verify={lsh['verify']}, "
          f"{ours['stats']['clusters']:,} clusters, {sum(ours['stats']['rejected'].values()):,} "
          f"rejected; seconds by step {ours['stats']['seconds']}")
    print(f"{'side':<20}{'docs':>9}{'seconds':>10}{'docs/s':>11}{'CPU s':>9}{'docs/CPU-s':>12}"
          f"{'peak RSS MiB':>14}{'precision':>11}{'recall':>8}")
    for name, side, p, r in (("datasketch naive", naive, p_naive, r_naive),
                             ("tuneset", ours, p_ours, r_ours)):
        print(f"{name:<20}{side['docs']:>9,}{side['seconds']:>10.2f}"
              f"{side['docs'] / side['seconds']:>11,.0f}{side['cpu_seconds']:>9.2f}"
              f"{side['docs'] / side['cpu_seconds']:>12,.0f}{side['rss_mib']:>14,.0f}"
              f"{p:>11.3f}{r:>8.3f}")
    cpu_ratio = (ours["docs"] / ours["cpu_seconds"]) / (naive["docs"] / naive["cpu_seconds"])
    print(f"per CPU-second (tuneset uses every core numba gives it, the baseline one): "
          f"{cpu_ratio:.1f}x")
    print(f"ratio (tuneset docs/s / datasketch naive docs/s): {rate_ours / rate_naive:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
