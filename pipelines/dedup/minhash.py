"""MinHash signatures of word n-gram shingles, bit-identical to `datasketch.MinHash`.

For each normalized text (words separated by single spaces, see `normalize`), the shingles are
the word n-grams joined by one space; a text with fewer than n words (the empty text included)
is one shingle, the whole text. Each shingle is hashed with datasketch's default hash function
(`sha1_hash32`, or `sha1_hash64` for the "affine64" scheme) over its UTF-8 bytes and permuted
exactly as `datasketch.MinHash.update` does for the chosen scheme:

    affine32 (datasketch >= 2.0 default): h = fmix32(sha1_hash32(s)); a*h + b mod 2**32
    affine64:                              h = fmix64(sha1_hash64(s)); a*h + b mod 2**64
    legacy   (datasketch < 2.0):           h = sha1_hash32(s); ((a*h + b) mod 2**64) mod (2**61 - 1)
                                           & (2**32 - 1)

with (a, b) drawn from `numpy.random.RandomState(seed)` as datasketch draws them. So

    >>> sig = minhash_signatures(normalize_packed(pack(["a b c d e f"])), ngram=5)
    >>> m = datasketch.MinHash(num_perm=128, seed=1)
    >>> for s in (b"a b c d e", b"b c d e f"): m.update(s)
    >>> bool((sig[0] == m.hashvalues).all())
    True

The kernel walks the packed UTF-8 buffer, hashes each shingle in place with the compiled SHA-1
(`sha1.py`) and folds all permutations into the signature row, one thread per block of texts.
`shingle_sets` gives each text's sorted distinct 64-bit shingle hashes, for exact Jaccard.

Not here: weighted MinHash, b-bit or lean signatures, character shingles.
"""

from __future__ import annotations

from typing import Literal

import numba
import numpy as np

from pipelines.dedup.normalize import Packed
from pipelines.dedup.sha1 import byteswap32, sha1_prefix

Scheme = Literal["affine32", "affine64", "legacy"]
SCHEMES: tuple[str, ...] = ("affine32", "affine64", "legacy")
_SCHEME_CODE = {"affine32": 0, "affine64": 1, "legacy": 2}
_MERSENNE = np.uint64((1 << 61) - 1)
_M32 = np.uint64(0xFFFFFFFF)
_BLOCK = 64  # texts per parallel work item


def permutations(num_perm: int, seed: int, scheme: Scheme = "affine32") -> tuple[np.ndarray, np.ndarray]:
    """(a, b) exactly as `datasketch.MinHash(num_perm, seed, scheme=scheme).permutations`."""
    gen = np.random.RandomState(seed)
    if scheme == "legacy":
        pairs = [(gen.randint(1, _MERSENNE, dtype=np.uint64), gen.randint(0, _MERSENNE, dtype=np.uint64))
                 for _ in range(num_perm)]
        params = np.array(pairs, dtype=np.uint64).T
        return params[0].copy(), params[1].copy()
    width, dtype = (32, np.uint32) if scheme == "affine32" else (64, np.uint64)
    a = gen.randint(0, 1 << (width - 1), num_perm, dtype=dtype) * dtype(2) + dtype(1)
    b = gen.randint(0, 1 << width, num_perm, dtype=dtype)
    return a.astype(np.uint64), b.astype(np.uint64)


def signature_dtype(scheme: Scheme) -> type:
    """The dtype of `datasketch.MinHash.hashvalues` for the scheme."""
    return np.uint32 if scheme == "affine32" else np.uint64


@numba.njit(inline="always")
def _fmix32(h):
    h = h ^ (h >> np.uint64(16))
    h = (h * np.uint64(0x85EBCA6B)) & _M32
    h = h ^ (h >> np.uint64(13))
    h = (h * np.uint64(0xC2B2AE35)) & _M32
    return h ^ (h >> np.uint64(16))


@numba.njit(inline="always")
def _fmix64(h):
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))


@numba.njit(inline="always")
def _word_bounds(data, start, end, bounds):
    """Fill bounds[0:2m] with (start, end) of each of the m words of data[start:end]; return m."""
    m = 0
    word_start = start
    for i in range(start, end):
        if data[i] == 0x20:
            bounds[2 * m] = word_start
            bounds[2 * m + 1] = i
            m += 1
            word_start = i + 1
    if end > start:
        bounds[2 * m] = word_start
        bounds[2 * m + 1] = end
        m += 1
    return m


@numba.njit(inline="always")
def _shingle_count(m, ngram):
    return 1 if m < ngram else m - ngram + 1


@numba.njit(inline="always")
def _shingle_span(data_start, data_end, bounds, m, ngram, s):
    if m < ngram:
        return data_start, data_end
    return bounds[2 * s], bounds[2 * (s + ngram - 1) + 1]


@numba.njit(cache=True, parallel=True)
def _signatures(data, offsets, ngram, a, b, scheme, out):
    n = len(offsets) - 1
    num_perm = len(a)
    for blk in numba.prange((n + _BLOCK - 1) // _BLOCK):
        scratch = (np.empty(80, np.uint64), np.empty(128, np.uint8))
        row = np.empty(num_perm, np.uint64)
        for i in range(blk * _BLOCK, min(n, (blk + 1) * _BLOCK)):
            start, end = offsets[i], offsets[i + 1]
            bounds = np.empty(2 * (end - start) + 2, np.int64)
            m = _word_bounds(data, start, end, bounds)
            row[:] = np.uint64(0xFFFFFFFFFFFFFFFF)
            for s in range(_shingle_count(m, ngram)):
                lo, hi = _shingle_span(start, end, bounds, m, ngram, s)
                h0, h1 = sha1_prefix(data, lo, hi, scratch)
                if scheme == 0:
                    h = _fmix32(byteswap32(h0))
                    for k in range(num_perm):
                        row[k] = min(row[k], (a[k] * h + b[k]) & _M32)
                elif scheme == 1:
                    h = _fmix64(byteswap32(h0) | (byteswap32(h1) << np.uint64(32)))
                    for k in range(num_perm):
                        row[k] = min(row[k], a[k] * h + b[k])
                else:
                    h = byteswap32(h0)
                    for k in range(num_perm):
                        row[k] = min(row[k], ((a[k] * h + b[k]) % _MERSENNE) & _M32)
            for k in range(num_perm):
                out[i, k] = row[k]


def minhash_signatures(packed: Packed, *, ngram: int = 5, num_perm: int = 128, seed: int = 1,
                       scheme: Scheme = "affine32") -> np.ndarray:
    """(len(packed), num_perm) signatures, row i == datasketch's `hashvalues` for text i."""
    a, b = permutations(num_perm, seed, scheme)
    out = np.empty((len(packed), num_perm), dtype=signature_dtype(scheme))
    if len(packed):
        _signatures(packed.data, packed.offsets, ngram, a, b, _SCHEME_CODE[scheme], out)
    return out


@numba.njit(cache=True, parallel=True)
def _count_shingles(data, offsets, ngram, counts):
    n = len(offsets) - 1
    for i in numba.prange(n):
        start, end = offsets[i], offsets[i + 1]
        m = 0 if end == start else 1
        for j in range(start, end):
            m += data[j] == 0x20
        counts[i] = _shingle_count(m, ngram)


@numba.njit(cache=True, parallel=True)
def _fill_shingles(data, offsets, ngram, starts, values, lengths):
    n = len(offsets) - 1
    for blk in numba.prange((n + _BLOCK - 1) // _BLOCK):
        scratch = (np.empty(80, np.uint64), np.empty(128, np.uint8))
        for i in range(blk * _BLOCK, min(n, (blk + 1) * _BLOCK)):
            start, end = offsets[i], offsets[i + 1]
            bounds = np.empty(2 * (end - start) + 2, np.int64)
            m = _word_bounds(data, start, end, bounds)
            count = _shingle_count(m, ngram)
            seg = values[starts[i]: starts[i] + count]
            for s in range(count):
                lo, hi = _shingle_span(start, end, bounds, m, ngram, s)
                h0, h1 = sha1_prefix(data, lo, hi, scratch)
                seg[s] = byteswap32(h0) | (byteswap32(h1) << np.uint64(32))
            seg.sort()
            distinct = 0
            for s in range(count):
                if s == 0 or seg[s] != seg[distinct - 1]:
                    seg[distinct] = seg[s]
                    distinct += 1
            lengths[i] = distinct


def shingle_sets(packed: Packed, *, ngram: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values, starts, lengths): text i's distinct shingles, as sorted `sha1_hash64` values,
    are `values[starts[i]: starts[i] + lengths[i]]`. Two shingles count as one only when their
    64-bit SHA-1 prefixes collide (about 1 in 2**64 per pair)."""
    n = len(packed)
    counts = np.empty(n, np.int64)
    if n:
        _count_shingles(packed.data, packed.offsets, ngram, counts)
    starts = np.zeros(n, np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    values = np.empty(int(counts.sum()), np.uint64)
    lengths = np.empty(n, np.int64)
    if n:
        _fill_shingles(packed.data, packed.offsets, ngram, starts, values, lengths)
    return values, starts, lengths


def shingles_reference(normalized: str, ngram: int = 5) -> list[str]:
    """The shingles of one normalized text, in plain Python (the rule the kernels implement)."""
    words = normalized.split(" ") if normalized else []
    if len(words) < ngram:
        return [normalized]
    return [" ".join(words[i:i + ngram]) for i in range(len(words) - ngram + 1)]
