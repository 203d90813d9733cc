"""Large LSH buckets and the union-find verifier: every pair that can join two clusters is
compared, and the counts say what was compared, accepted and skipped."""

import datasets
import numpy as np
import pytest

from pipelines.dedup import DedupConfig, dedup_records
from pipelines.dedup.clusters import components, exact_similarity
from pipelines.dedup.lsh import Candidates, band_keys, candidate_pairs
from pipelines.dedup.minhash import minhash_signatures, shingle_sets
from pipelines.dedup.normalize import normalize_packed, pack
from pipelines.dedup.verify import COUNTS, resolve_pairs

SKIPS = [name for name in COUNTS if name.startswith("skipped") or name in
         ("compared", "accepted_unverified")]


def passage(rng, words=150):
    return " ".join(f"w{int(v)}" for v in rng.integers(0, 5000, words))


def questions_about(text, n, rng):
    """n prompts: one question of 6 random words, then the same passage."""
    return [" ".join(f"q{int(v)}" for v in rng.integers(0, 5000, 6)) + " " + text
            for _ in range(n)]


def exact_inputs(texts):
    packed = normalize_packed(pack(texts))
    sets = shingle_sets(packed)
    return packed, sets, np.arange(len(texts))


def accounted(counts, candidates):
    return sum(counts[name] for name in SKIPS) == len(candidates.left) + candidates.large_pairs


def test_a_large_bucket_whose_first_member_fails_still_finds_the_cluster():
    rng = np.random.default_rng(0)
    texts = [passage(rng)] + questions_about(passage(rng), 69, rng)  # text 0 is unrelated
    packed, sets, slot = exact_inputs(texts)
    bucket = Candidates(np.zeros(0, np.int64), np.zeros(0, np.int64), np.arange(70),
                        np.array([0, 70]))
    pairs = resolve_pairs(bucket, 0, 70, "exact", 0.8, np.zeros((70, 1), np.uint32), sets, slot)
    labels = components(70, pairs.left, pairs.right)
    assert labels[0] == 0 and set(labels[1:]) == {1}
    # 1 vs 0; then each later text vs 0 (fails) and vs text 1 (joins); the rest are skipped
    assert pairs.counts["compared"] == 1 + 68 * 2 and pairs.counts["accepted"] == 68
    assert pairs.counts["below_threshold"] == 69
    assert pairs.counts["skipped_same_component"] == sum(range(68))
    assert accounted(pairs.counts, bucket)


@pytest.mark.parametrize("verify", ["exact", "signature", "none"])
@pytest.mark.parametrize("n_ref", [0, 5])
def test_large_buckets_give_the_clusters_of_all_pairs(verify, n_ref):
    rng = np.random.default_rng(1)
    texts = []
    for _ in range(6):  # families of near copies, some with an unrelated text in between
        base = passage(rng, 300).split()
        for _ in range(int(rng.integers(2, 9))):
            copy = list(base)
            for _ in range(int(rng.integers(1, 12))):  # some copies end up below 0.8
                copy[int(rng.integers(0, len(copy)))] = "edit"
            texts.append(" ".join(copy))
        texts.append(passage(rng, 300))
    packed, sets, slot = exact_inputs(texts)
    sig = minhash_signatures(packed)
    keys = band_keys(sig, 20, 4)  # loose bands: many candidates, some below 0.8
    small = candidate_pairs(keys, max_bucket=3)
    every = candidate_pairs(keys, max_bucket=10**9)
    assert small.large_pairs > 0 and not every.large_pairs
    ours = resolve_pairs(small, n_ref, len(texts), verify, 0.8, sig, sets, slot)
    if verify == "exact":
        sim = exact_similarity(sets, every.left, every.right)
    else:
        sim = (sig[every.left] == sig[every.right]).mean(axis=1)
    ok = sim >= 0.8 if verify != "none" else np.ones(len(sim), bool)
    cross = (every.left[ok] < n_ref) & (every.right[ok] >= n_ref)
    contaminated = set(every.right[ok][cross].tolist())
    clean = ~np.isin(every.left, list(contaminated)) & ~np.isin(every.right, list(contaminated))
    inputs = (every.left >= n_ref) & ok & clean
    truth = components(len(texts), every.left[inputs], every.right[inputs])
    ours_inputs = ours.left >= n_ref
    assert set(ours.right[~ours_inputs].tolist()) == contaminated
    assert (components(len(texts), ours.left[ours_inputs], ours.right[ours_inputs]) == truth).all()
    assert accounted(ours.counts, small)
    plain = resolve_pairs(every, n_ref, len(texts), verify, 0.8, sig, sets, slot)
    assert (components(len(texts), plain.left, plain.right)
            == components(len(texts), ours.left, ours.right)).all()
    assert plain.counts["skipped_same_component"] > 0 and accounted(plain.counts, every)


def test_one_passage_in_many_prompts_is_one_cluster_and_the_stats_add_up():
    rng = np.random.default_rng(2)
    texts = questions_about(passage(rng), 80, rng) + [passage(rng) for _ in range(5)]
    ds = datasets.Dataset.from_dict({"id": [str(i) for i in range(len(texts))], "instruction": texts})
    result = dedup_records(ds, DedupConfig(text="instruction"))
    assert result.stats["cluster_sizes"] == {"80": 1} and len(result.kept) == 6
    lsh = result.stats["lsh"]
    assert lsh["large_buckets"] > 0
    events = lsh["candidate_pairs"] + lsh["large_bucket_pairs"]
    assert sum(lsh[name] for name in SKIPS) == events
    assert lsh["accepted"] == 79  # a spanning tree of the 80 prompts
    assert lsh["compared"] < 80 * 79 // 2  # pairs inside one component are not compared
