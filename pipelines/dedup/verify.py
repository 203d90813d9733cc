"""Candidates -> accepted pairs, comparing only what can change the clusters.

Texts are numbered references first (`0 .. n_ref - 1`), then inputs. Two passes:

1. Reference x input pairs: every distinct one is compared (its similarity picks the reference
   an input is reported against); the inputs with an accepted pair are contaminated.
2. Input x input pairs, bucket by bucket (band by band, each band's buckets in key order), with
   a union-find over the inputs. Each bucket is walked by groups (texts of one component): each
   member is compared with the members of each earlier group until one matches; a group
   already in the member's component is skipped whole (comparing cannot change the
   components), so is a pair with a contaminated text (it leaves the output anyway), and a
   pair that failed before is not compared again. A failing first member never hides the
   other pairs:

       bucket [a, b, c, d], a unlike the rest, b ~ c ~ d
       b: a? no -> new group {b};  c: a? no, b? yes;  d: a? no, {b, c} same component -> skip

Reference pairs between two references are never compared (references are never dropped).
The components equal those of the graph of all candidate pairs at or above the threshold,
whatever the order; only the figures below depend on it. Every pair inside a bucket (a pair
sharing k bands counted k times) is counted in exactly one of:

    compared               similarity computed (accepted or below_threshold)
    accepted_unverified    verify: none, accepted without a comparison
    skipped_same_component both texts already in one component
    skipped_contaminated   an input pair with a contaminated text
    skipped_references     both texts are references
    skipped_compared_before a pair already compared in another band
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from pipelines.dedup.clusters import (
    exact_similarity,
    signature_agreement,
    signature_similarity,
    sorted_jaccard,
)
from pipelines.dedup.lsh import Buckets

MODES = {"none": 0, "signature": 1, "exact": 2}
COUNTS = ("compared", "accepted", "below_threshold", "accepted_unverified",
          "skipped_same_component", "skipped_contaminated", "skipped_references",
          "skipped_compared_before")
_COMPARED, _ACCEPTED, _BELOW, _UNVERIFIED, _SAME, _CONTAMINATED, _REFS, _BEFORE = range(8)


@dataclass(frozen=True)
class NearPairs:
    """Accepted pairs (left < right): every reference x input pair at or above the threshold,
    and the input pairs that joined two components; `counts` per `COUNTS` name."""

    left: np.ndarray
    right: np.ndarray
    similarity: np.ndarray
    counts: dict[str, int]


@numba.njit(inline="always")
def _find(parent, x):
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@numba.njit(inline="always")
def _similarity(mode, x, y, sig, values, starts, lengths, slot):
    if mode == 1:
        return signature_agreement(sig, x, y)
    return sorted_jaccard(values, starts, lengths, slot[x], slot[y])


@numba.njit(inline="always")
def _try(mode, threshold, x, y, sig, values, starts, lengths, slot, parent, edges, sims,
         n_edges, counts):
    """Compare (or, verify none, accept) x and y; on acceptance join them. True if joined."""
    if mode == 0:  # the signature estimate, for the record
        counts[_UNVERIFIED] += 1
        sim = _similarity(1, x, y, sig, values, starts, lengths, slot)
    else:
        counts[_COMPARED] += 1
        sim = _similarity(mode, x, y, sig, values, starts, lengths, slot)
        if sim < threshold:
            counts[_BELOW] += 1
            return False
        counts[_ACCEPTED] += 1
    rx, ry = _find(parent, x), _find(parent, y)
    parent[max(rx, ry)] = min(rx, ry)
    edges[n_edges[0], 0], edges[n_edges[0], 1] = min(x, y), max(x, y)
    sims[n_edges[0]] = sim
    n_edges[0] += 1
    return True


@numba.njit(cache=True)
def _join_inputs(n_ref, n_total, members, offsets, bad, mode, threshold, sig, values, starts,
                 lengths, slot, parent, edges, sims, n_edges, counts):
    failed = dict()  # pair code -> True: compared and below the threshold
    failed[np.int64(-1)] = True
    longest = 0
    for b in range(len(offsets) - 1):
        longest = max(longest, offsets[b + 1] - offsets[b])
    clean = np.empty(longest, np.int64)
    head = np.empty(longest, np.int64)   # per group: its first and last position in `clean`
    tail = np.empty(longest, np.int64)
    size = np.empty(longest, np.int64)
    nxt = np.empty(longest, np.int64)    # per position: the next position of its group
    for b in range(len(offsets) - 1):
        u, n_refs, n_bad = 0, 0, 0
        for q in range(offsets[b], offsets[b + 1]):
            x = members[q]
            if x < n_ref:
                n_refs += 1
            elif bad[x]:
                n_bad += 1
            else:
                clean[u] = x
                u += 1
        counts[_REFS] += n_refs * (n_refs - 1) // 2
        counts[_CONTAMINATED] += n_bad * (n_bad - 1) // 2 + n_bad * u
        groups = 0
        for t in range(u):
            y = clean[t]
            nxt[t] = -1
            joined = -1
            for g in range(groups):
                if _find(parent, clean[head[g]]) == _find(parent, y):
                    counts[_SAME] += size[g]
                    continue
                pos, done = head[g], 0
                while pos != -1:
                    x = clean[pos]
                    done += 1
                    code = min(x, y) * n_total + max(x, y)
                    if code in failed:
                        counts[_BEFORE] += 1
                    elif _try(mode, threshold, x, y, sig, values, starts, lengths, slot, parent,
                              edges, sims, n_edges, counts):
                        counts[_SAME] += size[g] - done
                        if joined < 0:
                            joined = g
                        break
                    else:
                        failed[code] = True
                    pos = nxt[pos]
            if joined < 0:
                head[groups], tail[groups], size[groups] = t, t, 1
                groups += 1
            else:
                nxt[tail[joined]] = t
                tail[joined] = t
                size[joined] += 1


@numba.njit(cache=True)
def _cross_codes(n_ref, n_total, members, offsets):
    """Reference x input pair codes inside the buckets (members are sorted, so the references
    of a bucket come first)."""
    count = 0
    for b in range(len(offsets) - 1):
        refs = 0
        for q in range(offsets[b], offsets[b + 1]):
            refs += members[q] < n_ref
        count += refs * (offsets[b + 1] - offsets[b] - refs)
    codes = np.empty(count, np.int64)
    pos = 0
    for b in range(len(offsets) - 1):
        lo, hi = offsets[b], offsets[b + 1]
        for q in range(lo, hi):
            if members[q] >= n_ref:
                break
            for r in range(q + 1, hi):
                if members[r] >= n_ref:
                    codes[pos] = members[q] * n_total + members[r]
                    pos += 1
    return codes


def _flat(buckets: Buckets) -> tuple[np.ndarray, np.ndarray]:
    """Every band's buckets as one (members, offsets), band after band."""
    members = np.concatenate([np.zeros(0, np.int64), *buckets.members])
    sizes = np.concatenate([np.zeros(0, np.int64), *map(np.diff, buckets.offsets)])
    offsets = np.zeros(len(sizes) + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])
    return members, offsets


def involved_texts(buckets: Buckets) -> np.ndarray:
    """Every text in some bucket, sorted."""
    return np.unique(np.concatenate([np.zeros(0, np.int64), *buckets.members]))


def resolve_pairs(buckets: Buckets, n_ref: int, n_total: int, verify: str, threshold: float,
                  signatures: np.ndarray, sets: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
                  slot: np.ndarray | None = None) -> NearPairs:
    """The accepted pairs (see the module docstring). For `verify: exact`, `sets` are the
    shingle sets (`shingles.shingle_sets`), text i's at position `slot[i]`."""
    counts = np.zeros(len(COUNTS), np.int64)
    mode = MODES[verify]
    if sets is None:
        sets, slot = (np.zeros(0, np.uint64), np.zeros(0, np.int64), np.zeros(0, np.int64)), \
            np.zeros(0, np.int64)
    members, offsets = _flat(buckets)
    # pass 1: reference x input pairs, each distinct one once
    cross = _cross_codes(n_ref, n_total, members, offsets) if n_ref else np.zeros(0, np.int64)
    codes = np.unique(cross)
    counts[_BEFORE] += len(cross) - len(codes)
    c_left, c_right = codes // max(n_total, 1), codes % max(n_total, 1)
    if mode == MODES["exact"]:
        c_sim = exact_similarity(sets, slot[c_left], slot[c_right])
    else:
        c_sim = signature_similarity(signatures, c_left, c_right)
    if mode:
        keep = c_sim >= threshold
        counts[_COMPARED] += len(codes)
        counts[_ACCEPTED] += int(keep.sum())
        counts[_BELOW] += int((~keep).sum())
    else:
        keep = np.ones(len(codes), bool)
        counts[_UNVERIFIED] += len(codes)
    bad = np.zeros(n_total, np.bool_)
    bad[c_right[keep]] = True
    # pass 2: input x input pairs, by union-find
    parent = np.arange(n_total, dtype=np.int64)
    edges = np.empty((max(n_total - n_ref - 1, 0), 2), np.int64)
    sims = np.empty(len(edges), np.float64)
    n_edges = np.zeros(1, np.int64)
    _join_inputs(n_ref, n_total, members, offsets, bad, mode, float(threshold), signatures,
                 *sets, slot, parent, edges, sims, n_edges, counts)
    e = int(n_edges[0])
    out_left = np.concatenate([c_left[keep], edges[:e, 0]])
    out_right = np.concatenate([c_right[keep], edges[:e, 1]])
    out_sim = np.concatenate([c_sim[keep], sims[:e]])
    order = np.lexsort((out_right, out_left))
    found = dict(zip(COUNTS, (int(c) for c in counts)))
    return NearPairs(out_left[order], out_right[order], out_sim[order],
                     {"buckets": buckets.count, "largest_bucket": buckets.largest,
                      "bucket_pairs": buckets.pairs, **found})
