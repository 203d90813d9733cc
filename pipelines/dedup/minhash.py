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

    >>> import datasketch
    >>> from pipelines.dedup.normalize import normalize_packed, pack
    >>> sig = minhash_signatures(normalize_packed(pack(["a b c d e f"])), ngram=5)
    >>> m = datasketch.MinHash(num_perm=128, seed=1)
    >>> for s in (b"a b c d e", b"b c d e f"): m.update(s)
    >>> bool((sig[0] == m.hashvalues).all())
    True

The kernel walks the packed UTF-8 buffer a block of texts per thread, lists the byte span of
every shingle, hashes the spans in place with the compiled SHA-1 (`sha1.py`, 32 shingles at a
time in SIMD lanes) and folds all permutations into each text's signature row.
Exact Jaccard uses other, cheaper shingle hashes (`shingles.py`).

Not here: weighted MinHash, b-bit or lean signatures, character shingles.
"""

from __future__ import annotations

from typing import Literal

import numba
import numpy as np

from pipelines.dedup.normalize import Packed
from pipelines.dedup.sha1 import byteswap32, sha1_spans

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
def fmix64(h):
    """MurmurHash3's 64-bit finalizer (also mixes the band keys in `lsh.py`)."""
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


@numba.njit(inline="always")
def _block_spans(data, offsets, first, last, ngram):
    """Byte spans (lo, hi) and text index of every shingle of texts first .. last - 1."""
    size = offsets[last] - offsets[first]
    longest = 0
    for i in range(first, last):
        longest = max(longest, offsets[i + 1] - offsets[i])
    bounds = np.empty(2 * longest + 2, np.int64)
    # subtle: a text of k bytes has at most k // 2 + 1 words, hence at most that many shingles
    capacity = size // 2 + 2 * (last - first) + 1
    span_lo = np.empty(capacity, np.int64)
    span_hi = np.empty(capacity, np.int64)
    span_doc = np.empty(capacity, np.int64)
    count = 0
    for i in range(first, last):
        start, end = offsets[i], offsets[i + 1]
        m = _word_bounds(data, start, end, bounds)
        for s in range(_shingle_count(m, ngram)):
            span_lo[count], span_hi[count] = _shingle_span(start, end, bounds, m, ngram, s)
            span_doc[count] = i
            count += 1
    return span_lo[:count], span_hi[:count], span_doc[:count]


# subtle: numba's on-disk cache is keyed on this file only; after editing sha1.py in place,
# delete pipelines/dedup/__pycache__/*.nb[ic] or these kernels keep the old code.
@numba.njit(cache=True, parallel=True)
def _signatures(data, offsets, ngram, a, b, scheme, out):
    n = len(offsets) - 1
    num_perm = len(a)
    for blk in numba.prange((n + _BLOCK - 1) // _BLOCK):
        first, last = blk * _BLOCK, min(n, (blk + 1) * _BLOCK)
        span_lo, span_hi, span_doc = _block_spans(data, offsets, first, last, ngram)
        h0s = np.empty(len(span_lo), np.uint64)
        h1s = np.empty(len(span_lo), np.uint64)
        sha1_spans(data, span_lo, span_hi, h0s, h1s)
        row = np.empty(num_perm, np.uint64)
        row[:] = np.uint64(0xFFFFFFFFFFFFFFFF)
        row32 = np.empty(num_perm, np.uint32)
        row32[:] = np.uint32(0xFFFFFFFF)
        a32, b32 = a.astype(np.uint32), b.astype(np.uint32)
        for s in range(len(span_lo)):
            if scheme == 0:
                # subtle: 32-bit lanes; the product wraps mod 2**32 exactly as datasketch's uint32
                h32 = np.uint32(_fmix32(byteswap32(h0s[s])))
                for k in range(num_perm):
                    row32[k] = min(row32[k], np.uint32(a32[k] * h32 + b32[k]))
                if s + 1 == len(span_lo) or span_doc[s + 1] != span_doc[s]:
                    for k in range(num_perm):
                        out[span_doc[s], k] = row32[k]
                    row32[:] = np.uint32(0xFFFFFFFF)
                continue
            if scheme == 1:
                h = fmix64(byteswap32(h0s[s]) | (byteswap32(h1s[s]) << np.uint64(32)))
                for k in range(num_perm):
                    row[k] = min(row[k], a[k] * h + b[k])
            else:
                h = byteswap32(h0s[s])
                for k in range(num_perm):
                    row[k] = min(row[k], ((a[k] * h + b[k]) % _MERSENNE) & _M32)
            if s + 1 == len(span_lo) or span_doc[s + 1] != span_doc[s]:
                for k in range(num_perm):
                    out[span_doc[s], k] = row[k]
                row[:] = np.uint64(0xFFFFFFFFFFFFFFFF)


def minhash_signatures(packed: Packed, *, ngram: int = 5, num_perm: int = 128, seed: int = 1,
                       scheme: Scheme = "affine32", out: np.ndarray | None = None) -> np.ndarray:
    """(len(packed), num_perm) signatures, row i == datasketch's `hashvalues` for text i
    (written into `out` when given)."""
    a, b = permutations(num_perm, seed, scheme)
    if out is None:
        out = np.empty((len(packed), num_perm), dtype=signature_dtype(scheme))
    if len(packed):
        _signatures(packed.data, packed.offsets, ngram, a, b, _SCHEME_CODE[scheme], out)
    return out


def shingles_reference(normalized: str, ngram: int = 5) -> list[str]:
    """The shingles of one normalized text, in plain Python (the rule the kernels implement)."""
    words = normalized.split(" ") if normalized else []
    if len(words) < ngram:
        return [normalized]
    return [" ".join(words[i:i + ngram]) for i in range(len(words) - ngram + 1)]
