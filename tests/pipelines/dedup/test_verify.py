"""Buckets and the union-find verifier: every pair that can join two clusters is compared, and
the counts say what was compared, accepted and skipped."""

import datasets
import numpy as np
import pytest

from pipelines.dedup import DedupConfig, dedup_records
from pipelines.dedup.clusters import components, exact_similarity
from pipelines.dedup.lsh import Buckets, band_buckets, band_keys, candidate_buckets
from pipelines.dedup.minhash import minhash_signatures
from pipelines.dedup.normalize import normalize_packed, pack
from pipelines.dedup.shingles import shingle_sets
from pipelines.dedup.verify import COUNTS, resolve_pairs

OUTCOMES = [name for name in COUNTS if name.startswith("skipped") or name in
            ("compared", "accepted_unverified")]


def passage(rng, words=150):
    return " ".join(f"w{int(v)}" for v in rng.integers(0, 5000, words))


def questions_about(text, n, rng):
    """n prompts: one question of 6 random words, then the same passage."""
    return [" ".join(f"q{int(v)}" for v in rng.integers(0, 5000, 6)) + " " + text
            for _ in range(n)]


def exact_inputs(texts):
    packed = normalize_packed(pack(texts))
    return packed, shingle_sets(packed), np.arange(len(texts))


def accounted(counts):
    return sum(counts[name] for name in OUTCOMES) == counts["bucket_pairs"]


def one_bucket(members):
    return Buckets([np.asarray(members, np.int64)], [np.array([0, len(members)])])


def all_pairs(buckets):
    """Every distinct pair sharing a bucket, as (left, right) sorted."""
    codes = set()
    for members, offsets in zip(buckets.members, buckets.offsets):
        for b in range(len(offsets) - 1):
            m = members[offsets[b]: offsets[b + 1]].tolist()
            codes.update((x, y) for k, x in enumerate(m) for y in m[k + 1:])
    left, right = zip(*sorted(codes)) if codes else ((), ())
    return np.array(left, np.int64), np.array(right, np.int64)


def test_buckets_are_runs_of_equal_keys_with_sorted_members():
    members, offsets = band_buckets(np.array([7, 3, 7, 9, 3], np.uint64))
    assert members.tolist() == [1, 4, 0, 2] and offsets.tolist() == [0, 2, 4]


def test_a_big_bucket_whose_first_member_fails_still_finds_the_cluster():
    rng = np.random.default_rng(0)
    texts = [passage(rng)] + questions_about(passage(rng), 99, rng)  # text 0 is unrelated
    packed, sets, slot = exact_inputs(texts)
    pairs = resolve_pairs(one_bucket(range(100)), 0, 100, "exact", 0.8,
                          np.zeros((100, 1), np.uint32), sets, slot)
    labels = components(100, pairs.left, pairs.right)
    assert labels[0] == 0 and set(labels[1:]) == {1}
    # 1 vs 0; then each later text vs 0 (fails) and vs text 1 (joins); the rest are skipped
    counts = pairs.counts
    assert counts["compared"] == 1 + 98 * 2 and counts["accepted"] == 98
    assert counts["below_threshold"] == 99
    assert counts["skipped_same_component"] == sum(range(98))
    assert counts["bucket_pairs"] == 100 * 99 // 2 and accounted(counts)


def test_a_pair_that_failed_in_one_band_is_not_compared_again():
    rng = np.random.default_rng(3)
    texts = [passage(rng), passage(rng)]
    packed, sets, slot = exact_inputs(texts)
    twice = Buckets([np.array([0, 1]), np.array([0, 1])], [np.array([0, 2]), np.array([0, 2])])
    pairs = resolve_pairs(twice, 0, 2, "exact", 0.8, np.zeros((2, 1), np.uint32), sets, slot)
    assert pairs.counts["compared"] == 1 and pairs.counts["skipped_compared_before"] == 1
    assert accounted(pairs.counts) and not len(pairs.left)


@pytest.mark.parametrize("verify", ["exact", "signature", "none"])
@pytest.mark.parametrize("n_ref", [0, 5])
def test_the_clusters_equal_those_of_all_pairs_at_the_threshold(verify, n_ref):
    rng = np.random.default_rng(1)
    texts = []
    for _ in range(6):  # families of near copies, some below the threshold, and loners
        base = passage(rng, 300).split()
        for _ in range(int(rng.integers(2, 9))):
            copy = list(base)
            for _ in range(int(rng.integers(1, 12))):
                copy[int(rng.integers(0, len(copy)))] = "edit"
            texts.append(" ".join(copy))
        texts.append(passage(rng, 300))
    packed, sets, slot = exact_inputs(texts)
    sig = minhash_signatures(packed)
    buckets = candidate_buckets(band_keys(sig, 20, 4))  # loose bands: many candidates
    ours = resolve_pairs(buckets, n_ref, len(texts), verify, 0.8, sig, sets, slot)
    left, right = all_pairs(buckets)
    if verify == "exact":
        sim = exact_similarity(sets, left, right)
    else:
        sim = (sig[left] == sig[right]).mean(axis=1)
    ok = sim >= 0.8 if verify != "none" else np.ones(len(sim), bool)
    assert 0 < ok.sum() < len(ok) or verify == "none"
    cross = ok & (left < n_ref) & (right >= n_ref)
    contaminated = set(right[cross].tolist())
    clean = ~np.isin(left, list(contaminated)) & ~np.isin(right, list(contaminated))
    inputs = (left >= n_ref) & ok & clean
    truth = components(len(texts), left[inputs], right[inputs])
    ours_inputs = ours.left >= n_ref
    assert set(ours.right[~ours_inputs].tolist()) == contaminated
    assert (components(len(texts), ours.left[ours_inputs], ours.right[ours_inputs]) == truth).all()
    assert accounted(ours.counts)
    assert ours.counts["compared"] + ours.counts["accepted_unverified"] <= len(left)
    assert ours.counts["skipped_same_component"] > 0


def test_one_passage_in_many_prompts_is_one_cluster_and_the_stats_add_up():
    rng = np.random.default_rng(2)
    texts = questions_about(passage(rng), 80, rng) + [passage(rng) for _ in range(5)]
    ds = datasets.Dataset.from_dict({"id": [str(i) for i in range(len(texts))], "instruction": texts})
    result = dedup_records(ds, DedupConfig(text="instruction"))
    assert result.stats["cluster_sizes"] == {"80": 1} and len(result.kept) == 6
    lsh = result.stats["lsh"]
    assert lsh["largest_bucket"] > 64 and accounted(lsh)
    assert lsh["accepted"] == 79  # a spanning tree of the 80 prompts
    assert lsh["compared"] < 2 * 80  # pairs inside one component are not compared
