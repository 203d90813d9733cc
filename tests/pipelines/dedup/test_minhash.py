import hashlib
import json
import random
import string
import sys
import unicodedata

import datasketch
import numpy as np
import pytest

from pipelines.dedup.lsh import optimal_bands
from pipelines.dedup.minhash import SCHEMES, minhash_signatures, shingles_reference
from pipelines.dedup.normalize import (
    TABLE_SIZE,
    char_tables,
    normalize_packed,
    normalize_reference,
    normalize_texts,
    pack,
)
from pipelines.dedup.sha1 import new_scratch, sha1_prefix, sha1_spans_lanes, sha1_spans_ni
from pipelines.dedup.sha1_ni import HAS_SHA_NI
from pipelines.dedup.shingles import shingle_hashes_reference, shingle_sets

UNICODE = ("Ünïcödé ΣΊΣΥΦΟΣ İstanbul straße 日本語のテキスト 😀 emoji — «quotes» "
           "\u00a0nbsp\u3000ideographic\u2028line tab\there")


def random_texts(alphabet: str, count: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 120))) for _ in range(count)]


def datasketch_hashvalues(normalized: str, ngram: int, num_perm: int, seed: int, scheme: str):
    m = datasketch.MinHash(num_perm=num_perm, seed=seed, scheme=scheme)
    for shingle in shingles_reference(normalized, ngram):
        m.update(shingle.encode("utf-8"))
    return m.hashvalues


def assert_same_as_datasketch(texts, *, ngram=5, num_perm=128, seed=1, scheme="affine32"):
    packed = normalize_packed(pack(texts))
    sig = minhash_signatures(packed, ngram=ngram, num_perm=num_perm, seed=seed, scheme=scheme)
    for row, normalized in zip(sig, packed.texts()):
        want = datasketch_hashvalues(normalized, ngram, num_perm, seed, scheme)
        assert row.dtype == want.dtype
        np.testing.assert_array_equal(row, want, err_msg=repr(normalized))


@pytest.mark.parametrize("length", [0, 1, 3, 55, 56, 63, 64, 65, 119, 120, 200])
def test_sha1_prefix_matches_hashlib_at_block_boundaries(length):
    data = bytes(range(256))[:length] if length <= 256 else b""
    digest = hashlib.sha1(data).digest()
    buf = np.frombuffer(b"??" + data + b"??", np.uint8)
    h0, h1 = sha1_prefix(buf, 2, 2 + length, new_scratch())
    assert (int(h0), int(h1)) == (int.from_bytes(digest[:4], "big"), int.from_bytes(digest[4:8], "big"))


@pytest.mark.parametrize("impl", ["lanes", "sha_ni"])
def test_sha1_spans_match_hashlib(impl):
    if impl == "sha_ni" and not HAS_SHA_NI:
        pytest.skip("this CPU has no SHA extensions (the portable lanes are used)")
    spans = sha1_spans_ni if impl == "sha_ni" else sha1_spans_lanes
    rng = np.random.default_rng(0)
    buf = rng.integers(0, 256, 3000, dtype=np.uint8)
    lo = rng.integers(0, 2990, 999)
    hi = np.minimum(lo + rng.integers(0, 130, 999), 3000)  # short, block-sized, long; at the end
    out0, out1 = np.empty(999, np.uint64), np.empty(999, np.uint64)
    spans(buf, lo, hi, out0, out1)
    for i in range(999):
        digest = hashlib.sha1(buf[lo[i]:hi[i]].tobytes()).digest()
        assert (int(out0[i]), int(out1[i])) == (int.from_bytes(digest[:4], "big"),
                                                int.from_bytes(digest[4:8], "big"))


@pytest.mark.parametrize("scheme", SCHEMES)
def test_signatures_equal_datasketch_on_random_ascii(scheme):
    assert_same_as_datasketch(random_texts(string.ascii_letters + "  .,", 60), scheme=scheme)


@pytest.mark.parametrize("ngram", [1, 3, 5])
def test_signatures_equal_datasketch_on_unicode(ngram):
    texts = random_texts(UNICODE, 60, seed=ngram) + [UNICODE, ""]
    assert_same_as_datasketch(texts, ngram=ngram, num_perm=64, seed=7)


def test_signatures_equal_datasketch_on_real_seed_instructions(shared_data):
    path = shared_data / "self_instruct" / "seed_tasks.jsonl"
    tasks = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = [t["instruction"] + " " + " ".join(i["input"] + " " + i["output"] for i in t["instances"])
             for t in tasks[:80]]
    assert_same_as_datasketch(texts)


def test_short_and_empty_texts_are_one_shingle():
    assert shingles_reference("a b c", 5) == ["a b c"]
    assert shingles_reference("", 5) == [""]
    assert shingles_reference("a b c d e f", 5) == ["a b c d e", "b c d e f"]
    assert_same_as_datasketch(["", "a b", "a b c d e f g"])


@pytest.mark.parametrize("ngram", [1, 2, 5])
def test_shingle_sets_are_the_sorted_distinct_hashes_of_the_python_rule(ngram):
    rng = np.random.default_rng(ngram)
    texts = ["", "x", "a b a b a b", "héllo wörld ünïcode", *(
        " ".join(rng.choice(["a", "bb", "ccc", "dé", "e"], int(rng.integers(1, 30))))
        for _ in range(200))]
    values, starts, lengths = shingle_sets(normalize_packed(pack(texts)), ngram=ngram)
    for i, text in enumerate(texts):
        expected = sorted(shingle_hashes_reference(text, ngram))
        assert values[starts[i]: starts[i] + lengths[i]].tolist() == expected, text
        assert len(expected) == len(set(shingles_reference(text, ngram)))


@pytest.mark.parametrize(("threshold", "num_perm", "weights"),
                         [(0.9, 128, (0.5, 0.5)), (0.8, 128, (0.5, 0.5)), (0.7, 256, (0.5, 0.5)),
                          (0.5, 64, (0.5, 0.5)), (0.8, 128, (0.1, 0.9))])
def test_bands_and_rows_are_datasketchs_choice(threshold, num_perm, weights):
    lsh = datasketch.MinHashLSH(threshold=threshold, num_perm=num_perm, weights=weights)
    assert optimal_bands(threshold, num_perm, weights) == (lsh.b, lsh.r)


def test_algorithms_md_examples():
    assert optimal_bands(0.9, 128) == (5, 25)
    assert optimal_bands(0.8, 128) == (9, 13)


@pytest.mark.parametrize("lowercase", [True, False])
@pytest.mark.parametrize("strip", [True, False])
@pytest.mark.parametrize("collapse", [True, False])
def test_normalization_kernel_follows_the_python_rule(lowercase, strip, collapse):
    texts = random_texts(UNICODE + "ABC!?;:'\"()[]{}-_\n\r\x1c\x85", 200)
    got = normalize_texts(texts, lowercase=lowercase, strip_punctuation=strip,
                          collapse_whitespace=collapse)
    assert got == [normalize_reference(t, lowercase, strip, collapse) for t in texts]


def test_normalization_example():
    assert normalize_texts(["  Hello,   WORLD!\n", "İ"]) == ["hello world", "i\u0307"]


def test_lowercase_grows_a_character_by_at_most_half_its_utf8_length():
    for cp in range(0x80, sys.maxunicode + 1):
        if not 0xD800 <= cp < 0xE000:
            ch = chr(cp)
            assert 2 * len(ch.lower().encode()) <= 3 * len(ch.encode()), hex(cp)


def test_no_character_above_the_tables_needs_them():
    flags, lower = char_tables()
    assert flags.shape == lower.shape == (TABLE_SIZE,)
    for cp in range(TABLE_SIZE, sys.maxunicode + 1):
        ch = chr(cp)
        assert ch.lower() == ch and not ch.isspace() and not unicodedata.category(ch).startswith("P")
