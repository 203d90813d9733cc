"""Dedup throughput and quality: the `dedup_records` stage against three baselines.

Two generated corpora (`dedup_corpus.py`): "instructions" (short texts, a fifth planted
near-copies) and "passages" (100-600-word passages, each rendered through 5-30 templates with
different questions, plus near-copies of passages: the shape of real instruction mixtures).
Threshold 0.8, 128 permutations, word 5-gram shingles of the normalized text.

Sides, each in its own subprocess reading the corpus from one Arrow file (peak RSS = its VmHWM):

- "datasketch naive": per text `MinHash(num_perm)` and `update(shingle.encode())` per shingle,
  `MinHashLSH(threshold, num_perm).insert`, then `query` for every text; every hit is a pair.
- "datasketch bulk": `MinHash.bulk` over all shingle lists, `MinHashLSH.insertion_session`,
  then `query` for every text; every hit is a pair.
- "rensa": `RMinHash.from_token_sets` over all shingle lists, `RMinHashLSH(threshold,
  num_perm, 16 bands).insert_many`, `query_all`; a hit is a pair when rensa's own Jaccard
  estimate (`RMinHash.jaccard`) is at least the threshold.
- "tuneset": `dedup_records` on a Dataset of the texts, end to end (normalization, exact
  groups, signatures bit-identical to datasketch, buckets, exact verification, clusters, keep
  policy, kept / rejected datasets); its pairs are the pairs it accepted (a spanning forest of
  its clusters plus nothing else: pairs inside one cluster are not compared).

Quality against the reference pairs (every pair with exact Jaccard >= threshold): precision =
the share of a side's pairs that are true; recall = the share of true pairs whose two texts
end in one cluster (connected component) of that side's pairs, the same rule for every side.
"findable" recall counts only true pairs that share a band key under tuneset's banding.
Baselines that would take more than --naive-budget seconds (estimated from a 1,000-text probe)
run on a prefix of the corpus; quality is then measured on that prefix. Time is CPU seconds
(all threads; tuneset runs numba threads, the baselines one), beside wall time; tuneset's is the
median of --repeat runs after a warm-up that loads the compiled kernels.

    python benchmarks/dedup.py [--corpus both|instructions|passages] [--docs 200000]
                               [--passage-docs 30000]

The ratios per CPU-second (tuneset docs per CPU-second / each baseline's) are printed last.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dedup_corpus import instruction_corpus, passage_corpus, reference_pairs, shingles  # noqa: E402

SIDES = ("datasketch naive", "datasketch bulk", "rensa", "tuneset")


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


def query_pairs(lsh, sketches) -> set[tuple[int, int]]:
    pairs = set()
    for i, m in enumerate(sketches):
        for j in lsh.query(m):
            if j != i:
                pairs.add((min(i, j), max(i, j)))
    return pairs


def run_naive(args, texts):
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=args.threshold, num_perm=args.num_perm)
    sketches = []
    for i, text in enumerate(texts):
        m = MinHash(num_perm=args.num_perm)
        for s in shingles(text):
            m.update(s.encode("utf-8"))
        lsh.insert(i, m)
        sketches.append(m)
    return query_pairs(lsh, sketches), {}


def run_bulk(args, texts):
    from datasketch import MinHash, MinHashLSH

    sketches = MinHash.bulk([[s.encode("utf-8") for s in shingles(t)] for t in texts],
                            num_perm=args.num_perm)
    lsh = MinHashLSH(threshold=args.threshold, num_perm=args.num_perm)
    with lsh.insertion_session() as session:
        for i, m in enumerate(sketches):
            session.insert(i, m)
    return query_pairs(lsh, sketches), {}


def run_rensa(args, texts):
    from rensa import RMinHash, RMinHashLSH

    sketches = RMinHash.from_token_sets([list(shingles(t)) for t in texts], args.num_perm, 1)
    lsh = RMinHashLSH(args.threshold, args.num_perm, 16)
    lsh.insert_many(sketches)
    pairs = set()
    for i, hits in enumerate(lsh.query_all(sketches)):
        for j in hits:
            if j != i and sketches[i].jaccard(sketches[j]) >= args.threshold:
                pairs.add((min(i, j), max(i, j)))
    return pairs, {}


def run_tuneset(args, texts):
    import datasets

    from pipelines.dedup.config import DedupConfig
    from pipelines.dedup.near import NearParams, find_near_pairs
    from pipelines.dedup.normalize import normalize_packed, pack
    from pipelines.dedup.stage import dedup_records

    column = pa.array(texts)
    ds = datasets.Dataset(pa.table({"id": [str(i) for i in range(len(texts))], "instruction": column}))
    config = DedupConfig(text="instruction", threshold=args.threshold, num_perm=args.num_perm)
    dedup_records(ds.select(range(min(len(ds), 3000))), config)  # load the compiled kernels
    runs = []
    for _ in range(args.repeat):
        start, cpu = time.perf_counter(), time.process_time()
        result = dedup_records(ds, config)
        runs.append((time.perf_counter() - start, time.process_time() - cpu))
    args.timed = sorted(runs)[len(runs) // 2]
    pairs = find_near_pairs(normalize_packed(pack(column)), NearParams.from_config(config))
    return set(zip(pairs.left.tolist(), pairs.right.tolist())), result.stats


RUNNERS = dict(zip(SIDES, (run_naive, run_bulk, run_rensa, run_tuneset)))


def child_main(args) -> None:
    texts = read_corpus(args.corpus_file, args.limit)
    start, cpu = time.perf_counter(), time.process_time()
    args.timed = None
    pairs, stats = RUNNERS[args.child](args, texts)
    seconds, cpu = args.timed or (time.perf_counter() - start, time.process_time() - cpu)
    np.save(args.pairs_out, np.array(sorted(pairs), np.int64).reshape(-1, 2))
    print(json.dumps({"docs": len(texts), "seconds": seconds, "cpu_seconds": cpu,
                      "rss_mib": peak_rss_mib(), "stats": stats}))


def child(side: str, args, corpus: str, limit: int | None = None) -> dict:
    out = str(Path(corpus).with_suffix(f".{side.replace(' ', '_')}.npy"))
    cmd = [sys.executable, __file__, "--child", side, "--corpus-file", corpus, "--pairs-out", out,
           "--threshold", str(args.threshold), "--num-perm", str(args.num_perm),
           "--repeat", str(args.repeat)] + ([f"--limit={limit}"] if limit else [])
    result = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True)
                        .stdout.strip().splitlines()[-1])
    result["pairs"] = {tuple(p) for p in np.load(out).tolist()}
    return result


def clusters_recall(pairs: set[tuple[int, int]], truth: set[tuple[int, int]], n: int) -> float:
    from pipelines.dedup.clusters import components

    if not truth:
        return 1.0
    left, right = (np.array(v, np.int64) for v in zip(*pairs)) if pairs else \
        (np.zeros(0, np.int64), np.zeros(0, np.int64))
    labels = components(n, left, right)
    return sum(labels[a] == labels[b] for a, b in truth) / len(truth)


def findable(truth: set[tuple[int, int]], texts: list[str], args) -> set[tuple[int, int]]:
    """The true pairs sharing a band key under tuneset's banding for the threshold."""
    from pipelines.dedup.config import DedupConfig
    from pipelines.dedup.lsh import band_keys
    from pipelines.dedup.near import NearParams, signatures_in_chunks
    from pipelines.dedup.normalize import normalize_packed, pack

    params = NearParams.from_config(DedupConfig(threshold=args.threshold, num_perm=args.num_perm))
    keys = band_keys(signatures_in_chunks(normalize_packed(pack(pa.array(texts))), params),
                     params.bands, params.rows)
    return {(a, b) for a, b in truth if (keys[a] == keys[b]).any()}


def bench_corpus(name: str, texts: list[str], family: np.ndarray, args, tmp: str) -> dict:
    corpus = str(Path(tmp) / f"{name}.arrow")
    table = pa.table({"text": texts})
    with pa.OSFile(corpus, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    words = sum(len(t.split()) for t in texts) / len(texts)
    print(f"\n== {name}: {len(texts):,} texts, {words:.0f} words on average, "
          f"{len(set(family.tolist())):,} families, threshold {args.threshold}")
    results = {"tuneset": child("tuneset", args, corpus)}
    for side in SIDES[:3]:
        if side == "rensa" and not args.rensa:
            continue
        probe = child(side, args, corpus, limit=1000)
        estimate = probe["seconds"] / probe["docs"] * len(texts)
        limit = None if estimate <= args.naive_budget else \
            max(1000, int(args.naive_budget / estimate * len(texts)) // 1000 * 1000)
        if limit:
            print(f"{side}: estimated {estimate:,.0f} s for all texts; timed on the first {limit:,}")
        results[side] = child(side, args, corpus, limit)
    reported = set().union(*(r["pairs"] for r in results.values()))
    truth = reference_pairs(texts, family, reported, args.threshold)
    truth_findable = findable(truth, texts, args)
    ours = results["tuneset"]
    lsh = ours["stats"]["lsh"]
    print(f"reference pairs: {len(truth):,} ({len(truth_findable):,} share a band key under "
          f"tuneset's {lsh['bands']} x {lsh['rows']} banding)")
    print(f"tuneset: {ours['stats']['clusters']:,} clusters, largest {ours['stats']['largest_cluster']}, "
          f"{lsh['bucket_pairs']:,} bucket pairs -> {lsh['compared']:,} compared, "
          f"{lsh['skipped_same_component']:,} skipped (same cluster); seconds by step "
          f"{ours['stats']['seconds']}")
    print(f"{'side':<18}{'docs':>8}{'seconds':>9}{'CPU s':>8}{'docs/CPU-s':>12}{'RSS MiB':>9}"
          f"{'precision':>11}{'recall':>8}{'findable':>10}")
    rates = {}
    for side, r in results.items():
        n = r["docs"]
        t = {p for p in truth if p[1] < n}
        tf = {p for p in truth_findable if p[1] < n}
        precision = len(r["pairs"] & t) / max(len(r["pairs"]), 1)
        recall, recall_f = clusters_recall(r["pairs"], t, n), clusters_recall(r["pairs"], tf, n)
        rates[side] = n / r["cpu_seconds"]
        print(f"{side:<18}{n:>8,}{r['seconds']:>9.2f}{r['cpu_seconds']:>8.2f}{rates[side]:>12,.0f}"
              f"{r['rss_mib']:>9,.0f}{precision:>11.3f}{recall:>8.3f}{recall_f:>10.3f}")
    return rates


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default="both", choices=["both", "instructions", "passages"])
    parser.add_argument("--docs", type=int, default=200_000, help="texts of the instruction corpus")
    parser.add_argument("--passage-docs", type=int, default=30_000, help="prompts of the passage corpus")
    parser.add_argument("--threshold", type=float, default=0.8)
    parser.add_argument("--num-perm", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=3, help="tuneset runs (median is reported)")
    parser.add_argument("--naive-budget", type=float, default=300.0,
                        help="seconds a baseline may take; beyond it a prefix is used")
    parser.add_argument("--child", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--pairs-out", help=argparse.SUPPRESS)
    parser.add_argument("--corpus-file", help=argparse.SUPPRESS)
    parser.add_argument("--limit", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args)
        return 0
    try:
        import rensa  # noqa: F401
        args.rensa = True
    except ImportError:
        print("rensa is not installed (pip install 'tuneset[bench]'): its column is left out")
        args.rensa = False
    ratios = {}
    with tempfile.TemporaryDirectory() as tmp:
        if args.corpus in ("both", "instructions"):
            ratios["instructions"] = bench_corpus("instructions", *instruction_corpus(args.docs),
                                                  args, tmp)
        if args.corpus in ("both", "passages"):
            ratios["passages"] = bench_corpus("passages", *passage_corpus(args.passage_docs),
                                              args, tmp)
    for name, rates in ratios.items():
        shown = ", ".join(f"{rates['tuneset'] / rates[s]:.1f}x {s}" for s in SIDES[:3] if s in rates)
        print(f"ratio per CPU-second on {name} (tuneset / baseline): {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
