"""Text normalization for dedup, over Arrow string buffers, compiled with numba.

The rule, per character of the text (one Unicode code point at a time):

1. `lowercase`: the character's own lowercase (`ch.lower()` one character at a time, so the
   Greek final-sigma context rule does not apply; 'İ' becomes 'i' + U+0307 as in Python);
2. `strip_punctuation`: drop Unicode punctuation (categories P*) and the ASCII symbols of
   `string.punctuation` ($ + < = > ^ ` | ~);
3. `collapse_whitespace`: runs of whitespace (Python's `str.isspace`) become one space, with
   none at either end.

    >>> normalize_texts(["  Hello,   WORLD!\\n"], lowercase=True, strip_punctuation=True)
    ['hello world']
    >>> normalize_reference("  Hello,   WORLD!\\n", True, True, True)   # the same, in Python
    'hello world'

Shingling always works on the collapsed form (words joined by single spaces), so a word is a
byte run between 0x20 bytes of the output buffer; `collapse_whitespace=False` only changes the
key used by exact dedup. The kernels read the UTF-8 value buffer and offsets of a
`pyarrow.StringArray` directly and return a packed buffer plus int64 offsets (`Packed`), which
the MinHash kernel reads in turn: no Python string is built per document.

Not here: Unicode normalization forms (NFC/NFKC), accent folding, or word segmentation for
scripts written without spaces; those texts are compared as a few long words.
"""

from __future__ import annotations

import string
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numba
import numpy as np
import pyarrow as pa

TABLE_SIZE = 0x20000
"""Code points at or above this have no lowercase mapping, are not punctuation and not
whitespace (checked by a test over all of Unicode)."""
_SPACE, _PUNCT = 1, 2
_SPECIAL_LOWER = -1  # U+0130 lowercases to two code points: 'i' + U+0307


@dataclass(frozen=True)
class Packed:
    """Texts as one UTF-8 buffer: text i is `data[offsets[i]:offsets[i + 1]]`."""

    data: np.ndarray  # uint8
    offsets: np.ndarray  # int64, len(texts) + 1

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def texts(self) -> list[str]:
        raw = self.data.tobytes()
        return [raw[self.offsets[i]:self.offsets[i + 1]].decode("utf-8") for i in range(len(self))]


def pack(texts: list[str] | pa.Array | pa.ChunkedArray) -> Packed:
    """Texts -> `Packed`, zero-copy when `texts` is already an Arrow string array."""
    arr = texts if isinstance(texts, (pa.Array, pa.ChunkedArray)) else pa.array(texts, pa.string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count:
        raise ValueError("pack() got null texts; callers check for nulls first")
    if pa.types.is_string(arr.type):
        offset_type = np.int32
    elif pa.types.is_large_string(arr.type):
        offset_type = np.int64
    else:
        raise TypeError(f"expected an Arrow string array, got {arr.type}")
    _, offsets_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(offsets_buf, offset_type)[arr.offset: arr.offset + len(arr) + 1]
    data = np.frombuffer(data_buf, np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    return Packed(data, offsets.astype(np.int64))


@lru_cache(maxsize=1)
def char_tables() -> tuple[np.ndarray, np.ndarray]:
    """(flags, lower) for code points below TABLE_SIZE: flags bit 1 = whitespace, bit 2 =
    punctuation; lower = the code point's single-character lowercase (or -1 for U+0130)."""
    flags = np.zeros(TABLE_SIZE, np.uint8)
    lower = np.arange(TABLE_SIZE, dtype=np.int32)
    ascii_symbols = set(string.punctuation)
    for cp in range(TABLE_SIZE):
        ch = chr(cp)
        if ch.isspace():
            flags[cp] |= _SPACE
        if ch in ascii_symbols or unicodedata.category(ch).startswith("P"):
            flags[cp] |= _PUNCT
        low = ch.lower()
        if low != ch:
            lower[cp] = ord(low) if len(low) == 1 else _SPECIAL_LOWER
    return flags, lower


def _reference_char(ch: str, lowercase: bool, strip_punctuation: bool) -> str:
    if strip_punctuation and (ch in string.punctuation or unicodedata.category(ch).startswith("P")):
        return ""
    return ch.lower() if lowercase else ch


def normalize_reference(text: str, lowercase: bool, strip_punctuation: bool,
                        collapse_whitespace: bool) -> str:
    """The normalization rule in plain Python (slow; the specification the kernel is tested
    against)."""
    out = "".join(_reference_char(ch, lowercase, strip_punctuation) for ch in text)
    return " ".join(out.split()) if collapse_whitespace else out


@numba.njit(inline="always")
def _put(out, pos, cp):
    """UTF-8 encode code point `cp` at out[pos]; return the new position."""
    if cp < 0x80:
        out[pos] = cp
        return pos + 1
    if cp < 0x800:
        out[pos] = 0xC0 | (cp >> 6)
        out[pos + 1] = 0x80 | (cp & 0x3F)
        return pos + 2
    if cp < 0x10000:
        out[pos] = 0xE0 | (cp >> 12)
        out[pos + 1] = 0x80 | ((cp >> 6) & 0x3F)
        out[pos + 2] = 0x80 | (cp & 0x3F)
        return pos + 3
    out[pos] = 0xF0 | (cp >> 18)
    out[pos + 1] = 0x80 | ((cp >> 12) & 0x3F)
    out[pos + 2] = 0x80 | ((cp >> 6) & 0x3F)
    out[pos + 3] = 0x80 | (cp & 0x3F)
    return pos + 4


_DROP, _BREAK = -1, -2


def ascii_actions(lowercase: bool, strip: bool, collapse: bool) -> np.ndarray:
    """What happens to each ASCII byte: the byte to write, _DROP or _BREAK (whitespace)."""
    flags, lower = char_tables()
    actions = np.empty(128, np.int16)
    for b in range(128):
        if strip and flags[b] & _PUNCT:
            actions[b] = _DROP
        elif collapse and flags[b] & _SPACE:
            actions[b] = _BREAK
        else:
            actions[b] = lower[b] if lowercase else b
    return actions


@numba.njit(cache=True, nogil=True)
def _normalize_one(data, start, end, out, pos, flags, lower, actions, lowercase, strip, collapse):
    """Normalize data[start:end] into out[pos:]; return the end position in `out`."""
    begin = pos
    pending_space = False
    i = start
    while i < end:
        b0 = np.int64(data[i])
        if b0 < 0x80:  # fast path: one table lookup per ASCII byte
            action = actions[b0]
            i += 1
            if action == _BREAK:
                pending_space = True
            elif action != _DROP:
                if pending_space and pos > begin:
                    out[pos] = 0x20
                    pos += 1
                pending_space = False
                out[pos] = action
                pos += 1
            continue
        if b0 < 0xE0:
            cp, size = ((b0 & 0x1F) << 6) | (np.int64(data[i + 1]) & 0x3F), 2
        elif b0 < 0xF0:
            cp = ((b0 & 0x0F) << 12) | ((np.int64(data[i + 1]) & 0x3F) << 6) \
                | (np.int64(data[i + 2]) & 0x3F)
            size = 3
        else:
            cp = ((b0 & 0x07) << 18) | ((np.int64(data[i + 1]) & 0x3F) << 12) \
                | ((np.int64(data[i + 2]) & 0x3F) << 6) | (np.int64(data[i + 3]) & 0x3F)
            size = 4
        i += size
        flag = flags[cp] if cp < TABLE_SIZE else 0
        if strip and flag & _PUNCT:
            continue
        if collapse and flag & _SPACE:
            pending_space = True
            continue
        if pending_space and pos > begin:
            out[pos] = 0x20
            pos += 1
        pending_space = False
        if lowercase and cp < TABLE_SIZE:
            low = lower[cp]
            if low == _SPECIAL_LOWER:
                pos = _put(out, pos, 0x69)
                cp = 0x307
            else:
                cp = low
        pos = _put(out, pos, cp)
    return pos


@numba.njit(cache=True, parallel=True)
def _normalize_all(data, offsets, flags, lower, actions, lowercase, strip, collapse):
    n = len(offsets) - 1
    # subtle: lowercasing can grow a character by at most half its UTF-8 length (2 -> 3 bytes,
    # checked in the tests), and only non-ASCII characters grow; each text gets that much room
    # (fresh memory costs page faults, so no more), then the results are packed together.
    growth = np.zeros(n, np.int64)
    for i in numba.prange(n):
        count = 0
        for j in range(offsets[i], offsets[i + 1]):
            count += data[j] >= 0x80
        growth[i] = (count + 1) // 2
    room = np.empty(n + 1, np.int64)
    room[0] = 0
    for i in range(n):
        room[i + 1] = room[i] + offsets[i + 1] - offsets[i] + growth[i] + 4
    wide = np.empty(room[n], np.uint8)
    ends = np.empty(n, np.int64)
    for i in numba.prange(n):
        ends[i] = _normalize_one(data, offsets[i], offsets[i + 1], wide, room[i], flags, lower,
                                 actions, lowercase, strip, collapse)
    out_offsets = np.empty(n + 1, np.int64)
    out_offsets[0] = 0
    for i in range(n):
        out_offsets[i + 1] = out_offsets[i] + ends[i] - room[i]
    out = np.empty(out_offsets[n], np.uint8)
    for i in numba.prange(n):
        out[out_offsets[i]:out_offsets[i + 1]] = wide[room[i]:ends[i]]
    return out, out_offsets


def normalize_packed(packed: Packed, *, lowercase: bool = True, strip_punctuation: bool = True,
                     collapse_whitespace: bool = True) -> Packed:
    """Normalize every text in `packed` (see the module docstring for the rule)."""
    flags, lower = char_tables()
    if len(packed) == 0:
        return Packed(np.zeros(0, np.uint8), np.zeros(1, np.int64))
    actions = ascii_actions(lowercase, strip_punctuation, collapse_whitespace)
    data, offsets = _normalize_all(packed.data, packed.offsets, flags, lower, actions, lowercase,
                                   strip_punctuation, collapse_whitespace)
    return Packed(data, offsets)


def normalize_texts(texts: list[str], *, lowercase: bool = True, strip_punctuation: bool = True,
                    collapse_whitespace: bool = True) -> list[str]:
    """Convenience for small inputs and tests: normalized texts as Python strings."""
    return normalize_packed(pack(texts), lowercase=lowercase, strip_punctuation=strip_punctuation,
                            collapse_whitespace=collapse_whitespace).texts()


def to_arrow(packed: Packed) -> pa.Array:
    """`Packed` -> a `pyarrow.large_binary` array sharing its buffers (for hashing / grouping)."""
    return pa.Array.from_buffers(pa.large_binary(), len(packed),
                                 [None, pa.py_buffer(packed.offsets), pa.py_buffer(packed.data)])

