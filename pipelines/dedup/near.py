"""Near-duplicate pairs: normalized texts -> signatures -> LSH candidates -> verified pairs.

    >>> from pipelines.dedup.normalize import normalize_packed, pack
    >>> texts = ["the cat sat on the mat by the door today", "The cat sat on the mat by the door today!", "a dog"]
    >>> params = NearParams.from_config(DedupConfig(threshold=0.8))
    >>> pairs = find_near_pairs(normalize_packed(pack(texts)), params)
    >>> pairs.left.tolist(), pairs.right.tolist()      # i < j, sorted
    ([0], [1])

`verify` decides which candidates become pairs: `none` accepts every candidate (similarity is
then the signature estimate, for the record), `signature` those whose estimated Jaccard (the
fraction of equal signature values) is at least the threshold, `exact` those whose Jaccard
over the shingle sets (sorted 64-bit shingle hashes) is. Pairs that cannot change the clusters
are not compared (`verify.py`): the accepted input pairs are a spanning forest of the clusters,
not every similar pair. The local backend runs everything in this process; the Ray
backend (`ray_backend.py`) computes signatures and buckets on a cluster and returns the same
candidates, and verification runs here for both.

Not here: exact dedup, clustering and keep policies (`stage.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from pipelines.dedup.config import DedupConfig
from pipelines.dedup.lsh import Buckets, band_keys, candidate_buckets, optimal_bands
from pipelines.dedup.minhash import minhash_signatures, signature_dtype
from pipelines.dedup.normalize import Packed
from pipelines.dedup.shingles import shingle_sets
from pipelines.dedup.verify import NearPairs, involved_texts, resolve_pairs
from pipelines.stage import Progress

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
                     ) -> tuple[np.ndarray, Buckets]:
    """(signatures, buckets) computed in this process."""
    signatures = signatures_in_chunks(packed, params, progress)
    return signatures, candidate_buckets(band_keys(signatures, params.bands, params.rows))


def verify_candidates(packed: Packed, params: NearParams, signatures: np.ndarray,
                      candidates: Buckets, n_ref: int = 0) -> NearPairs:
    """Accepted pairs among the candidates (`verify.resolve_pairs`); texts below `n_ref` are
    references."""
    sets = slot = None
    if params.verify == "exact":
        # shingle sets only for the texts in some bucket
        involved = involved_texts(candidates)
        if len(involved) > len(packed) // 2:  # copying most texts costs more than hashing a few more
            sets = shingle_sets(packed, ngram=params.ngram)
            slot = np.arange(len(packed), dtype=np.int64)
        else:
            sets = shingle_sets(take_packed(packed, involved), ngram=params.ngram)
            slot = np.full(len(packed), -1, np.int64)
            slot[involved] = np.arange(len(involved))
    return resolve_pairs(candidates, n_ref, len(packed), params.verify, params.threshold,
                         signatures, sets, slot)


def find_near_pairs(packed: Packed, params: NearParams, *, n_ref: int = 0, backend: str = "local",
                    ray_config=None, progress: Progress | None = None) -> NearPairs:
    """Accepted near-duplicate pairs among the (already normalized) texts of `packed`, the
    first `n_ref` of them references."""
    if backend == "ray":
        from pipelines.dedup.ray_backend import ray_candidates

        signatures, candidates = ray_candidates(packed, params, ray_config)
        if progress:
            progress(len(packed), len(packed))
    else:
        signatures, candidates = local_candidates(packed, params, progress)
    return verify_candidates(packed, params, signatures, candidates, n_ref)
