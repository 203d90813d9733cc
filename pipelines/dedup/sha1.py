"""SHA-1 of byte slices, compiled with numba, for hashing millions of short shingles.

`sha1_prefix(buf, start, end, scratch)` returns the first 8 bytes of SHA-1(buf[start:end]) as
two big-endian 32-bit words (h0, h1), which is all MinHash needs; `sha1_spans` does the same for
many slices at once. Slices that fit one block (<= 55 bytes, nearly every word 5-gram) go
through the CPU's SHA extensions four at a time where it has them (`sha1_ni.py`), else 32 at a
time in SIMD lanes (`sha1_spans_lanes`: the message schedule and rounds are loops over lanes,
which LLVM vectorizes); longer ones go one at a time:

    datasketch.hashfunc.sha1_hash32(data) == byteswap32(h0)
    datasketch.hashfunc.sha1_hash64(data) == byteswap32(h0) | byteswap32(h1) << 32

    >>> scratch = new_scratch()
    >>> h0, h1 = sha1_prefix(np.frombuffer(b"abc", np.uint8), 0, 3, scratch)
    >>> hex(h0), hex(h1)          # SHA-1("abc") = a9993e36 4706816a ...
    ('0xa9993e36', '0x4706816a')

The message is read in place from a larger buffer; only its last one or two blocks are copied
into scratch space to be padded, so no per-shingle bytes object is built. Arithmetic is done
in uint64 and masked to 32 bits (numba widens small integers anyway). Not here: the other three
output words (MinHash never reads them).
"""

from __future__ import annotations

import numba
import numpy as np

from pipelines.dedup.sha1_ni import HAS_SHA_NI, sha1ni_spans4

_M32 = np.uint64(0xFFFFFFFF)
_K0 = np.uint64(0x5A827999)
_K1 = np.uint64(0x6ED9EBA1)
_K2 = np.uint64(0x8F1BBCDC)
_K3 = np.uint64(0xCA62C1D6)
_U1 = np.uint64(1)
_U2 = np.uint64(2)
_U5 = np.uint64(5)
_U8 = np.uint64(8)
_U16 = np.uint64(16)
_U24 = np.uint64(24)
_U27 = np.uint64(27)
_U30 = np.uint64(30)
_U31 = np.uint64(31)
_FF = np.uint64(0xFF)


def new_scratch() -> tuple[np.ndarray, np.ndarray]:
    """Per-thread scratch: the 80-word message schedule and a 128-byte padding buffer."""
    return np.empty(80, np.uint64), np.empty(128, np.uint8)


@numba.njit(inline="always")
def _rotl(x, k, rk):
    return ((x << k) | (x >> rk)) & _M32


@numba.njit(inline="always")
def _compress(src, pos, w, h0, h1, h2, h3, h4):
    """One 64-byte block of `src` starting at `pos` folded into the state (FIPS 180-4, 6.1.2)."""
    for t in range(16):
        p = pos + 4 * t
        w[t] = ((np.uint64(src[p]) << _U24) | (np.uint64(src[p + 1]) << _U16)
                | (np.uint64(src[p + 2]) << _U8) | np.uint64(src[p + 3]))
    for t in range(16, 80):
        w[t] = _rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], _U1, _U31)
    a, b, c, d, e = h0, h1, h2, h3, h4
    for t in range(0, 20):
        temp = (_rotl(a, _U5, _U27) + ((b & c) | ((~b & _M32) & d)) + e + _K0 + w[t]) & _M32
        e, d, c, b, a = d, c, _rotl(b, _U30, _U2), a, temp
    for t in range(20, 40):
        temp = (_rotl(a, _U5, _U27) + (b ^ c ^ d) + e + _K1 + w[t]) & _M32
        e, d, c, b, a = d, c, _rotl(b, _U30, _U2), a, temp
    for t in range(40, 60):
        temp = (_rotl(a, _U5, _U27) + ((b & c) | (b & d) | (c & d)) + e + _K2 + w[t]) & _M32
        e, d, c, b, a = d, c, _rotl(b, _U30, _U2), a, temp
    for t in range(60, 80):
        temp = (_rotl(a, _U5, _U27) + (b ^ c ^ d) + e + _K3 + w[t]) & _M32
        e, d, c, b, a = d, c, _rotl(b, _U30, _U2), a, temp
    return (h0 + a) & _M32, (h1 + b) & _M32, (h2 + c) & _M32, (h3 + d) & _M32, (h4 + e) & _M32


@numba.njit(cache=True, nogil=True)
def sha1_prefix(buf, start, end, scratch):
    """(h0, h1): the first two 32-bit words of SHA-1(buf[start:end])."""
    w, pad = scratch
    length = end - start
    h0 = np.uint64(0x67452301)
    h1 = np.uint64(0xEFCDAB89)
    h2 = np.uint64(0x98BADCFE)
    h3 = np.uint64(0x10325476)
    h4 = np.uint64(0xC3D2E1F0)
    full = length // 64
    for block in range(full):
        h0, h1, h2, h3, h4 = _compress(buf, start + 64 * block, w, h0, h1, h2, h3, h4)
    # subtle: the tail (< 64 bytes) plus 0x80 and the 8-byte length need 2 blocks when the
    # tail is 56 bytes or longer.
    rem = length - 64 * full
    tail = 64 if rem < 56 else 128
    for j in range(rem):
        pad[j] = buf[start + 64 * full + j]
    pad[rem] = 0x80
    for j in range(rem + 1, tail - 8):
        pad[j] = 0
    bits = np.uint64(length) * _U8
    for j in range(8):
        pad[tail - 1 - j] = np.uint8((bits >> np.uint64(8 * j)) & _FF)
    for pos in range(0, tail, 64):
        h0, h1, h2, h3, h4 = _compress(pad, pos, w, h0, h1, h2, h3, h4)
    return h0, h1


@numba.njit(inline="always")
def byteswap32(x):
    """The 32-bit word `x` with its bytes reversed (big-endian digest word -> little-endian int)."""
    return (((x & _FF) << _U24) | ((x & np.uint64(0xFF00)) << _U8)
            | ((x >> _U8) & np.uint64(0xFF00)) | (x >> _U24))


LANES = 32
_H0 = np.uint64(0x67452301)
_H1 = np.uint64(0xEFCDAB89)


def _lane_round(kind: int):
    """One SHA-1 round over all lanes: e += rotl(a, 5) + f(b, c, d) + K + w[t]; b = rotl(b, 30).
    The five state arrays are passed in rotated order instead of being shifted each round."""
    k = (_K0, _K1, _K2, _K3)[kind]
    if kind == 0:
        f = numba.njit(inline="always")(lambda b, c, d: (b & c) | ((b ^ _M32) & d))
    elif kind == 2:
        f = numba.njit(inline="always")(lambda b, c, d: (b & c) | (b & d) | (c & d))
    else:
        f = numba.njit(inline="always")(lambda b, c, d: b ^ c ^ d)

    @numba.njit(inline="always")
    def rnd(a, b, c, d, e, w, t):
        for lane in range(LANES):
            bb = np.uint64(b[lane])
            e[lane] = np.uint32((_rotl(np.uint64(a[lane]), _U5, _U27)
                                 + f(bb, np.uint64(c[lane]), np.uint64(d[lane]))
                                 + np.uint64(e[lane]) + k + np.uint64(w[t, lane])) & _M32)
            b[lane] = np.uint32(_rotl(bb, _U30, _U2))

    @numba.njit(inline="always")
    def five(a, b, c, d, e, w, t):
        rnd(a, b, c, d, e, w, t)
        rnd(e, a, b, c, d, w, t + 1)
        rnd(d, e, a, b, c, w, t + 2)
        rnd(c, d, e, a, b, w, t + 3)
        rnd(b, c, d, e, a, w, t + 4)

    return five


_FIVE0, _FIVE1, _FIVE2, _FIVE3 = (_lane_round(kind) for kind in range(4))


@numba.njit(cache=True, nogil=True)
def _compress_lanes(w, a, b, c, d, e):
    for t in range(16, 80):
        for lane in range(LANES):
            x = np.uint64(w[t - 3, lane] ^ w[t - 8, lane] ^ w[t - 14, lane] ^ w[t - 16, lane])
            w[t, lane] = np.uint32(_rotl(x, _U1, _U31))
    for t in range(0, 20, 5):
        _FIVE0(a, b, c, d, e, w, t)
    for t in range(20, 40, 5):
        _FIVE1(a, b, c, d, e, w, t)
    for t in range(40, 60, 5):
        _FIVE2(a, b, c, d, e, w, t)
    for t in range(60, 80, 5):
        _FIVE3(a, b, c, d, e, w, t)


@numba.njit(inline="always")
def _load_lane(buf, start, length, w, lane):
    """The padded one-block message buf[start:start+length] (length <= 55) into column `lane`."""
    for t in range(16):
        w[t, lane] = 0
    full = length >> 2
    for t in range(full):
        p = start + 4 * t
        w[t, lane] = np.uint32((np.uint64(buf[p]) << _U24) | (np.uint64(buf[p + 1]) << _U16)
                               | (np.uint64(buf[p + 2]) << _U8) | np.uint64(buf[p + 3]))
    word = np.uint64(0)
    for j in range(4 * full, length):
        word |= np.uint64(buf[start + j]) << np.uint64(24 - 8 * (j & 3))
    word |= np.uint64(0x80) << np.uint64(24 - 8 * (length & 3))
    w[full, lane] = np.uint32(word)
    w[15, lane] = np.uint32(length * 8)


@numba.njit(nogil=True)
def _flush(w, a, b, c, d, e, pending, count, out0, out1):
    a[:] = 0x67452301
    b[:] = 0xEFCDAB89
    c[:] = 0x98BADCFE
    d[:] = 0x10325476
    e[:] = 0xC3D2E1F0
    _compress_lanes(w, a, b, c, d, e)
    for lane in range(count):
        out0[pending[lane]] = (np.uint64(a[lane]) + _H0) & _M32
        out1[pending[lane]] = (np.uint64(b[lane]) + _H1) & _M32


@numba.njit(cache=True, nogil=True)
def sha1_spans_lanes(buf, lo, hi, out0, out1):
    """(out0[i], out1[i]) = the first two words of SHA-1(buf[lo[i]:hi[i]]) for every i."""
    w = np.zeros((80, LANES), np.uint32)
    a = np.empty(LANES, np.uint32)
    b = np.empty(LANES, np.uint32)
    c = np.empty(LANES, np.uint32)
    d = np.empty(LANES, np.uint32)
    e = np.empty(LANES, np.uint32)
    pending = np.empty(LANES, np.int64)
    scratch = (np.empty(80, np.uint64), np.empty(128, np.uint8))
    count = 0
    for i in range(len(lo)):
        length = hi[i] - lo[i]
        if length > 55:
            out0[i], out1[i] = sha1_prefix(buf, lo[i], hi[i], scratch)
            continue
        _load_lane(buf, lo[i], length, w, count)
        pending[count] = i
        count += 1
        if count == LANES:
            _flush(w, a, b, c, d, e, pending, count, out0, out1)
            count = 0
    if count:
        _flush(w, a, b, c, d, e, pending, count, out0, out1)


@numba.njit(cache=True, nogil=True)
def sha1_spans_ni(buf, lo, hi, out0, out1):
    """As `sha1_spans_lanes`, with the SHA extensions for one-block messages whose whole block
    can be loaded (start + 64 <= len(buf)), four at a time; the rest one at a time."""
    starts = np.zeros(4, np.int64)
    lengths = np.zeros(4, np.int64)
    pending = np.zeros(4, np.int64)
    scratch = (np.empty(80, np.uint64), np.empty(128, np.uint8))
    count = 0
    for i in range(len(lo)):
        length = hi[i] - lo[i]
        if length > 55 or lo[i] + 64 > len(buf):
            out0[i], out1[i] = sha1_prefix(buf, lo[i], hi[i], scratch)
            continue
        starts[count], lengths[count], pending[count] = lo[i], length, i
        count += 1
        if count == 4:
            r = sha1ni_spans4(buf, starts, lengths)
            out0[pending[0]], out1[pending[0]] = r[0], r[1]
            out0[pending[1]], out1[pending[1]] = r[2], r[3]
            out0[pending[2]], out1[pending[2]] = r[4], r[5]
            out0[pending[3]], out1[pending[3]] = r[6], r[7]
            count = 0
    for k in range(count):  # at most three left: hash them one at a time
        i = pending[k]
        out0[i], out1[i] = sha1_prefix(buf, lo[i], hi[i], scratch)


sha1_spans = sha1_spans_ni if HAS_SHA_NI else sha1_spans_lanes
"""The fastest `sha1_spans` this CPU can run (same results either way)."""
