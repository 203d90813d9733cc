"""Near-duplicate pairs: normalized texts -> signatures -> LSH candidates -> verified pairs.

    >>> from pipelines.dedup.normalize import normalize_packed, pack
    >>> texts = ["the cat sat on the mat by the door today", "The cat sat on the mat by the door today!", "a dog"]
    >>> params = NearParams.from_config(DedupConfig(threshold=0.8))
    >>> pairs = find_near_pairs(normalize_packed(pack(texts)), params)
    >>> pairs.left.tolist(), pairs.right.tolist()      # i < j, sorted
    ([0], [1])

`verify` decides which candidates become pairs: `none` keeps every candidate (similarity is
then the signature estimate, for the record), `signature` keeps those whose estimated Jaccard
(the fraction of equal signature values) is at least the threshold, `exact` those whose
Jaccard over the shingle sets is. The local backend runs everything in this process; the Ray
backend (`ray_backend.py`) computes signatures and buckets on a cluster and returns the same
candidates, and verification runs here for both.

Not here: exact dedup, clustering and keep policies (`stage.py`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numba
import numpy as np

from pipelines.dedup.clusters import exact_similarity, signature_similarity
from pipelines.dedup.config import DedupConfig
from pipelines.dedup.lsh import band_keys, candidate_pairs, optimal_bands
from pipelines.dedup.minhash import minhash_signatures, shingle_sets, signature_dtype
from pipelines.dedup.normalize import Packed

Progress = Callable[[int, int], None]
CHUNK = 20_000  # texts per signature call, so progress moves on large inputs


@dataclass(frozen=True)
class NearParams:
    ngram: int
    num_perm: int
    seed: int
    scheme: str
    threshold: float
    bands: int
    rows: int
    verify: str

    @classmethod
    def from_config(cls, config: DedupConfig) -> NearParams:
        bands, rows = optimal_bands(config.threshold, config.num_perm, tuple(config.weights))
        return cls(config.ngram, config.num_perm, config.seed, config.scheme, config.threshold,
                   bands, rows, config.verify)


@dataclass(frozen=True)
class NearPairs:
    left: np.ndarray
    right: np.ndarray
    similarity: np.ndarray
    candidates: int


@numba.njit(cache=True, parallel=True)
def _gather(data, starts, offsets, out):
    for t in numba.prange(len(starts)):
        out[offsets[t]: offsets[t + 1]] = data[starts[t]: starts[t] + offsets[t + 1] - offsets[t]]


def take_packed(packed: Packed, index: np.ndarray) -> Packed:
    """The texts at `index`, packed anew."""
    starts = packed.offsets[index]
    offsets = np.zeros(len(index) + 1, np.int64)
    np.cumsum(packed.offsets[index + 1] - starts, out=offsets[1:])
    out = np.empty(offsets[-1], np.uint8)
    if len(index):
        _gather(packed.data, starts, offsets, out)
    return Packed(out, offsets)


def slice_packed(packed: Packed, start: int, stop: int) -> Packed:
    offsets = packed.offsets[start: stop + 1]
    return Packed(packed.data[offsets[0]: offsets[-1]], offsets - offsets[0])


def signatures_in_chunks(packed: Packed, params: NearParams, progress: Progress | None = None
                         ) -> np.ndarray:
    out = np.empty((len(packed), params.num_perm), signature_dtype(params.scheme))
    for start in range(0, len(packed), CHUNK):
        stop = min(len(packed), start + CHUNK)
        minhash_signatures(slice_packed(packed, start, stop), ngram=params.ngram,
                           num_perm=params.num_perm, seed=params.seed, scheme=params.scheme,
                           out=out[start:stop])
        if progress:
            progress(stop, len(packed))
    return out


def local_candidates(packed: Packed, params: NearParams, progress: Progress | None = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(signatures, left, right) computed in this process."""
    signatures = signatures_in_chunks(packed, params, progress)
    left, right = candidate_pairs(band_keys(signatures, params.bands, params.rows))
    return signatures, left, right


def verify_candidates(packed: Packed, params: NearParams, signatures: np.ndarray,
                      left: np.ndarray, right: np.ndarray) -> NearPairs:
    if params.verify == "exact":
        # shingle sets only for the texts in some candidate pair (usually a small part)
        involved, inverse = np.unique(np.concatenate([left, right]), return_inverse=True)
        sets = shingle_sets(take_packed(packed, involved), ngram=params.ngram)
        similarity = exact_similarity(sets, inverse[:len(left)], inverse[len(left):])
    else:
        similarity = signature_similarity(signatures, left, right)
    keep = similarity >= params.threshold if params.verify != "none" else np.ones(len(left), bool)
    return NearPairs(left[keep], right[keep], similarity[keep], candidates=len(left))


def find_near_pairs(packed: Packed, params: NearParams, *, backend: str = "local",
                    ray_config=None, progress: Progress | None = None) -> NearPairs:
    """Verified near-duplicate pairs among the (already normalized) texts of `packed`."""
    if backend == "ray":
        from pipelines.dedup.ray_backend import ray_candidates

        signatures, left, right = ray_candidates(packed, params, ray_config)
        if progress:
            progress(len(packed), len(packed))
    else:
        signatures, left, right = local_candidates(packed, params, progress)
    return verify_candidates(packed, params, signatures, left, right)
