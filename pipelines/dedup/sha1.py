"""SHA-1 of byte slices, compiled with numba, for hashing millions of short shingles.

`sha1_prefix(buf, start, end, scratch)` returns the first 8 bytes of SHA-1(buf[start:end]) as
two big-endian 32-bit words (h0, h1), which is all MinHash needs:

    datasketch.hashfunc.sha1_hash32(data) == byteswap32(h0)
    datasketch.hashfunc.sha1_hash64(data) == byteswap32(h0) | byteswap32(h1) << 32

    >>> scratch = new_scratch()
    >>> h0, h1 = sha1_prefix(np.frombuffer(b"abc", np.uint8), 0, 3, scratch)
    >>> hex(h0), hex(h1)          # SHA-1("abc") = a9993e36 4706816a ...
    ('0xa9993e36', '0x4706816a')

The message is read in place from a larger buffer; only its last one or two blocks are copied
into the scratch array to be padded, so no per-shingle bytes object is built. Arithmetic is done
in uint64 and masked to 32 bits (numba widens small integers anyway). Not here: the other three
output words (MinHash never reads them).
"""

from __future__ import annotations

import numba
import numpy as np

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
