"""LSH banding by sorting: signatures -> band keys -> candidate pairs.

A signature of b*r values is cut into b bands of r rows; two texts are candidates when all r
values of some band agree, which happens with probability 1 - (1 - s**r)**b for Jaccard s.
(b, r) come from datasketch's own `_optimal_param` (the weighted false-positive and
false-negative areas around the threshold), e.g. threshold 0.8 with 128 permutations -> 9 x 13.

Each band of a signature is hashed to one 64-bit key. Instead of a dict of buckets per band,
the keys of a band are sorted and every run of equal keys is a bucket:

    band keys   [7, 3, 7, 9, 3]   ->  sorted runs  {3: [1, 4], 7: [0, 2], 9: [3]}
    candidate pairs                ->  (1, 4), (0, 2)

A bucket of up to `MAX_BUCKET` texts yields all its pairs; a larger one yields only the pairs
of its first (lowest-index) text with each other member, which keeps the work linear in
pathological buckets (boilerplate shared by thousands of texts) and, without verification,
gives the same clusters. Pairs are encoded as `i * n + j` (i < j) and deduplicated across bands.

Not here: verification and clustering (`clusters.py`), signatures (`minhash.py`).
"""

from __future__ import annotations

from functools import lru_cache

import numba
import numpy as np

MAX_BUCKET = 64
"""Buckets with more texts than this give star pairs (first member x each other) only."""


@lru_cache(maxsize=64)
def optimal_bands(threshold: float, num_perm: int, weights: tuple[float, float] = (0.5, 0.5)
                  ) -> tuple[int, int]:
    """(b, r) exactly as `datasketch.MinHashLSH(threshold, num_perm, weights)` chooses them."""
    from datasketch.lsh import _optimal_param

    return tuple(int(v) for v in _optimal_param(threshold, num_perm, weights[0], weights[1]))


@numba.njit(inline="always")
def _mix64(h):
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))


@numba.njit(cache=True, parallel=True)
def _band_keys(sig, bands, rows, out):
    for i in numba.prange(sig.shape[0]):
        for band in range(bands):
            h = np.uint64(0x9E3779B97F4A7C15) * np.uint64(band + 1)
            for k in range(band * rows, (band + 1) * rows):
                h = _mix64(h ^ np.uint64(sig[i, k]))
            out[i, band] = h


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(n, bands) uint64: key[i, j] hashes signature i's values j*rows .. (j+1)*rows - 1."""
    if bands * rows > signatures.shape[1]:
        raise ValueError(f"{bands} bands x {rows} rows need {bands * rows} signature values, "
                         f"got {signatures.shape[1]}")
    out = np.empty((signatures.shape[0], bands), np.uint64)
    if len(signatures):
        _band_keys(signatures, bands, rows, out)
    return out


@numba.njit(cache=True)
def _bucket_pairs(sorted_keys, order, n_total, max_bucket):
    n = len(sorted_keys)
    count = 0
    start = 0
    while start < n:
        end = start + 1
        while end < n and sorted_keys[end] == sorted_keys[start]:
            end += 1
        size = end - start
        count += size * (size - 1) // 2 if size <= max_bucket else size - 1
        start = end
    codes = np.empty(count, np.int64)
    pos = 0
    start = 0
    while start < n:
        end = start + 1
        while end < n and sorted_keys[end] == sorted_keys[start]:
            end += 1
        size = end - start
        if 1 < size <= max_bucket:
            for x in range(start, end):
                for y in range(x + 1, end):
                    i, j = order[x], order[y]
                    codes[pos] = i * n_total + j if i < j else j * n_total + i
                    pos += 1
        elif size > max_bucket:  # star: the lowest index with every other member
            head = order[start]
            for x in range(start + 1, end):
                head = min(head, order[x])
            for x in range(start, end):
                if order[x] != head:
                    codes[pos] = head * n_total + order[x]
                    pos += 1
        start = end
    return codes


def bucket_pair_codes(keys: np.ndarray, members: np.ndarray, n_total: int,
                      max_bucket: int = MAX_BUCKET) -> np.ndarray:
    """Pair codes `i * n_total + j` for the buckets of one band: texts `members` with `keys`."""
    order = np.argsort(keys)  # not stable: pairs do not depend on the order inside a bucket
    return _bucket_pairs(keys[order], members[order].astype(np.int64), n_total, max_bucket)


def candidate_pairs(keys: np.ndarray, max_bucket: int = MAX_BUCKET) -> tuple[np.ndarray, np.ndarray]:
    """(left, right), left < right, sorted and distinct: texts sharing a key in any band."""
    n = keys.shape[0]
    members = np.arange(n, dtype=np.int64)
    codes = [bucket_pair_codes(keys[:, band], members, n, max_bucket) for band in range(keys.shape[1])]
    return decode_pairs(np.concatenate(codes) if codes else np.zeros(0, np.int64), n)


def decode_pairs(codes: np.ndarray, n_total: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct pair codes -> (left, right) arrays, sorted by (left, right)."""
    codes = np.unique(codes)
    return codes // max(n_total, 1), codes % max(n_total, 1)
