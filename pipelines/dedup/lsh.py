"""LSH banding by sorting: signatures -> band keys -> buckets of candidates.

A signature of b*r values is cut into b bands of r rows; two texts are candidates when all r
values of some band agree, which happens with probability 1 - (1 - s**r)**b for Jaccard s.
(b, r) come from datasketch's own `_optimal_param` (the weighted false-positive and
false-negative areas around the threshold), e.g. threshold 0.8 with 128 permutations -> 9 x 13.

Each band of a signature is hashed to one 64-bit key. Instead of a dict of buckets per band,
the keys of a band are sorted and every run of equal keys is a bucket:

    band keys   [7, 3, 7, 9, 3]   ->  sorted runs  {3: [1, 4], 7: [0, 2], 9: [3]}
    buckets (2 or more texts)      ->  [1, 4], [0, 2]

Buckets are passed on as sorted member lists, not as their k(k-1)/2 pairs: the verifier
(`verify.py`) walks each bucket by components, so every pair that can join two clusters is
compared, while pairs already inside one cluster cost one lookup, and one passage shared by
hundreds of prompts costs about as much as one pair per prompt.

Not here: verification and clustering (`clusters.py`), signatures (`minhash.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numba
import numpy as np

from pipelines.dedup.minhash import fmix64


@dataclass(frozen=True)
class Buckets:
    """The buckets of 2 or more texts, band by band: bucket b of band j is
    `members[j][offsets[j][b]: offsets[j][b + 1]]` (sorted), the buckets of a band in key order."""

    members: list[np.ndarray]
    offsets: list[np.ndarray]

    @property
    def pairs(self) -> int:
        """Pairs inside the buckets (a pair sharing k bands counted k times)."""
        return int(sum((d * (d - 1) // 2).sum() for d in map(np.diff, self.offsets)))

    @property
    def count(self) -> int:
        return int(sum(len(o) - 1 for o in self.offsets))

    @property
    def largest(self) -> int:
        return int(max((np.diff(o).max() for o in self.offsets if len(o) > 1), default=0))


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
def _runs(sorted_keys, order):
    """The runs of 2 or more equal keys: (members, each run sorted; offsets)."""
    n = len(sorted_keys)
    count, runs = 0, 0
    start = 0
    while start < n:
        end = start + 1
        while end < n and sorted_keys[end] == sorted_keys[start]:
            end += 1
        if end - start > 1:
            count += end - start
            runs += 1
        start = end
    members = np.empty(count, np.int64)
    offsets = np.zeros(runs + 1, np.int64)
    pos, b, start = 0, 0, 0
    while start < n:
        end = start + 1
        while end < n and sorted_keys[end] == sorted_keys[start]:
            end += 1
        if end - start > 1:
            members[pos: pos + end - start] = np.sort(order[start:end])
            pos += end - start
            b += 1
            offsets[b] = pos
        start = end
    return members, offsets


def band_buckets(keys: np.ndarray, members: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(members, offsets) of the buckets of one band: texts `members` (default 0 .. n-1) with
    their `keys`, buckets of 2 or more in key order, each bucket's members sorted."""
    members = np.arange(len(keys), dtype=np.int64) if members is None else members.astype(np.int64)
    order = np.argsort(keys)  # not stable: members are sorted per bucket
    return _runs(keys[order], members[order])


def candidate_buckets(keys: np.ndarray) -> Buckets:
    """The buckets of every band (`keys` from `band_keys`)."""
    found = [band_buckets(keys[:, band]) for band in range(keys.shape[1])]
    return Buckets([m for m, _ in found], [o for _, o in found])
