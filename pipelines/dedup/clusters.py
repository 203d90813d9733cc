"""Exact groups, the similarity of pairs, and clusters by connected components.

- `exact_groups(packed)`: for each text, the index of the first text with the same bytes
  (`[b"x", b"y", b"x"] -> [0, 1, 0]`), by hashing each text, sorting the hashes and comparing
  bytes inside runs of equal hashes (so hash collisions never merge different texts).
- `signature_similarity`, `exact_similarity`: the Jaccard of pairs, estimated from the
  signatures (the fraction of equal values) or exact over the shingle sets (sorted hashes).
- `components(n, left, right)`: the clusters of the pair graph, labelled by their lowest member:
  n=5, pairs (1, 3), (3, 4) -> [0, 1, 2, 1, 1].

Not here: which member of a cluster is kept (`keep.py`).
"""

from __future__ import annotations

import numba
import numpy as np
import scipy.sparse
from scipy.sparse.csgraph import connected_components

from pipelines.dedup.normalize import Packed


@numba.njit(cache=True, parallel=True)
def _text_hashes(data, offsets, out):
    for i in numba.prange(len(offsets) - 1):
        h = np.uint64(0xCBF29CE484222325)
        for j in range(offsets[i], offsets[i + 1]):
            h = (h ^ np.uint64(data[j])) * np.uint64(0x100000001B3)
        out[i] = h


@numba.njit(inline="always")
def _same_bytes(data, offsets, x, y):
    lx = offsets[x + 1] - offsets[x]
    if lx != offsets[y + 1] - offsets[y]:
        return False
    for k in range(lx):  # noqa: SIM110 - numba compiles loops, not generator expressions
        if data[offsets[x] + k] != data[offsets[y] + k]:
            return False
    return True


@numba.njit(cache=True)
def _first_of_group(data, offsets, sorted_hashes, order, first):
    n = len(order)
    start = 0
    while start < n:
        end = start + 1
        while end < n and sorted_hashes[end] == sorted_hashes[start]:
            end += 1
        # members come in index order (stable sort); each joins the first earlier equal text
        for x in range(start, end):
            i = order[x]
            first[i] = i
            for y in range(start, x):
                j = order[y]
                if first[j] == j and _same_bytes(data, offsets, i, j):
                    first[i] = j
                    break
            # subtle: more than one distinct text per run only on a 64-bit hash collision
        start = end


def exact_groups(packed: Packed) -> np.ndarray:
    """first[i] = the lowest index whose text has exactly the same bytes as text i."""
    n = len(packed)
    hashes = np.empty(n, np.uint64)
    first = np.empty(n, np.int64)
    if n:
        _text_hashes(packed.data, packed.offsets, hashes)
        order = np.argsort(hashes, kind="stable")
        _first_of_group(packed.data, packed.offsets, hashes[order], order, first)
    return first


@numba.njit(inline="always")
def signature_agreement(sig, x, y):
    """The fraction of signature positions where rows x and y agree."""
    same = 0
    for k in range(sig.shape[1]):
        same += sig[x, k] == sig[y, k]
    return same / sig.shape[1]


@numba.njit(cache=True, parallel=True)
def _signature_agreement(sig, left, right, out):
    for p in numba.prange(len(left)):
        out[p] = signature_agreement(sig, left[p], right[p])


@numba.njit(inline="always")
def sorted_jaccard(values, starts, lengths, x, y):
    """Jaccard of sets x and y, each a sorted run of distinct `values` (a merge walk)."""
    i, i_end = starts[x], starts[x] + lengths[x]
    j, j_end = starts[y], starts[y] + lengths[y]
    inter = 0
    while i < i_end and j < j_end:
        if values[i] == values[j]:
            inter += 1
            i += 1
            j += 1
        elif values[i] < values[j]:
            i += 1
        else:
            j += 1
    union = lengths[x] + lengths[y] - inter
    return inter / union if union else 1.0


@numba.njit(cache=True, parallel=True)
def _set_jaccard(values, starts, lengths, left, right, out):
    for p in numba.prange(len(left)):
        out[p] = sorted_jaccard(values, starts, lengths, left[p], right[p])


def signature_similarity(signatures: np.ndarray, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Estimated Jaccard of each pair: the fraction of signature positions that agree."""
    out = np.empty(len(left), np.float64)
    if len(left):
        _signature_agreement(signatures, left, right, out)
    return out


def exact_similarity(sets: tuple[np.ndarray, np.ndarray, np.ndarray], left: np.ndarray,
                     right: np.ndarray) -> np.ndarray:
    """Jaccard of each pair's shingle sets (`shingles.shingle_sets` output)."""
    out = np.empty(len(left), np.float64)
    if len(left):
        _set_jaccard(*sets, left, right, out)
    return out


def components(n: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Cluster label per text (the lowest index in its connected component)."""
    if not len(left):
        return np.arange(n, dtype=np.int64)
    graph = scipy.sparse.coo_matrix((np.ones(len(left), np.int8), (left, right)), shape=(n, n))
    _, labels = connected_components(graph, directed=False)
    lowest = np.full(labels.max() + 1, n, np.int64)
    np.minimum.at(lowest, labels, np.arange(n, dtype=np.int64))
    return lowest[labels]
