"""LSH banding by sorting: signatures -> band keys -> candidate pairs.

A signature of b*r values is cut into b bands of r rows; two texts are candidates when all r
values of some band agree, which happens with probability 1 - (1 - s**r)**b for Jaccard s.
(b, r) come from datasketch's own `_optimal_param` (the weighted false-positive and
false-negative areas around the threshold), e.g. threshold 0.8 with 128 permutations -> 9 x 13.

Each band of a signature is hashed to one 64-bit key. Instead of a dict of buckets per band,
the keys of a band are sorted and every run of equal keys is a bucket:

    band keys   [7, 3, 7, 9, 3]   ->  sorted runs  {3: [1, 4], 7: [0, 2], 9: [3]}
    candidate pairs                ->  (1, 4), (0, 2)

A bucket of up to `MAX_BUCKET` texts yields all its pairs, encoded as `i * n + j` (i < j) and
deduplicated across bands. A larger bucket (boilerplate or one passage shared by hundreds of
texts) is passed on whole, as its sorted member list, instead of as its k(k-1)/2 pairs: the
verifier (`verify.py`) walks it by components, so every pair that can join two clusters is
still compared, and pairs already inside one cluster cost nothing.

Not here: verification and clustering (`clusters.py`), signatures (`minhash.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numba
import numpy as np

from pipelines.dedup.minhash import fmix64

MAX_BUCKET = 64
"""Buckets with more texts than this are passed on as member lists, not as pairs."""


@dataclass(frozen=True)
class Candidates:
    """Candidate pairs of one run: `left < right`, sorted and distinct, from buckets of up to
    `MAX_BUCKET` texts; and the larger buckets, bucket b being
    `large_members[large_offsets[b]: large_offsets[b + 1]]` (sorted), ordered by band, then key."""

    left: np.ndarray
    right: np.ndarray
    large_members: np.ndarray
    large_offsets: np.ndarray

    @property
    def large_pairs(self) -> int:
        """Pairs inside the large buckets (a pair in k of them counted k times)."""
        sizes = np.diff(self.large_offsets)
        return int((sizes * (sizes - 1) // 2).sum())


@lru_cache(maxsize=64)
def optimal_bands(threshold: float, num_perm: int, weights: tuple[float, float] = (0.5, 0.5)
                  ) -> tuple[int, int]:
    """(b, r) exactly as `datasketch.MinHashLSH(threshold, num_perm, weights)` chooses them."""
    from datasketch.lsh import _optimal_param

    return tuple(int(v) for v in _optimal_param(threshold, num_perm, weights[0], weights[1]))


@numba.njit(cache=True, parallel=True)
def _band_keys(sig, bands, rows, out):
    for i in numba.prange(sig.shape[0]):
        for band in range(bands):
            h = np.uint64(0x9E3779B97F4A7C15) * np.uint64(band + 1)
            for k in range(band * rows, (band + 1) * rows):
                h = fmix64(h ^ np.uint64(sig[i, k]))
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
    """(pair codes of the small buckets, members of the large ones, their sizes)."""
    n = len(sorted_keys)
    count, large, large_count = 0, 0, 0
    start = 0
    while start < n:
        end = start + 1
        while end < n and sorted_keys[end] == sorted_keys[start]:
            end += 1
        size = end - start
        if size <= max_bucket:
            count += size * (size - 1) // 2
        else:
            large += size
            large_count += 1
        start = end
    codes = np.empty(count, np.int64)
    members = np.empty(large, np.int64)
    sizes = np.empty(large_count, np.int64)
    pos, mpos, b = 0, 0, 0
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
        elif size > max_bucket:
            members[mpos: mpos + size] = np.sort(order[start:end])
            mpos += size
            sizes[b] = size
            b += 1
        start = end
    return codes, members, sizes


def bucket_pair_codes(keys: np.ndarray, members: np.ndarray, n_total: int,
                      max_bucket: int = MAX_BUCKET) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For the buckets of one band (texts `members` with `keys`): the pair codes
    `i * n_total + j` of the buckets of up to `max_bucket` texts, and the larger buckets as
    (members, sizes), in key order."""
    order = np.argsort(keys)  # not stable: members are sorted per bucket
    return _bucket_pairs(keys[order], members[order].astype(np.int64), n_total, max_bucket)


def offsets_of(sizes: np.ndarray) -> np.ndarray:
    offsets = np.zeros(len(sizes) + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])
    return offsets


def candidate_pairs(keys: np.ndarray, max_bucket: int = MAX_BUCKET) -> Candidates:
    """The candidates of texts sharing a key in any band (`keys` from `band_keys`)."""
    n = keys.shape[0]
    members = np.arange(n, dtype=np.int64)
    codes, large, sizes = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for band in range(keys.shape[1]):
        c, m, s = bucket_pair_codes(keys[:, band], members, n, max_bucket)
        codes.append(c)
        large.append(m)
        sizes.append(s)
    left, right = decode_pairs(np.concatenate(codes), n)
    return Candidates(left, right, np.concatenate(large), offsets_of(np.concatenate(sizes)))


def decode_pairs(codes: np.ndarray, n_total: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct pair codes -> (left, right) arrays, sorted by (left, right)."""
    codes = np.unique(codes)
    return codes // max(n_total, 1), codes % max(n_total, 1)
