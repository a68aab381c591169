"""Hashed n-grams built per distinct word give scikit-learn's hashing vectorizers' matrices."""

from __future__ import annotations

import random

import numpy as np
import pytest
from sklearn.feature_extraction import FeatureHasher
from sklearn.feature_extraction.text import HashingVectorizer

from textclf import hashing

TRICKY = [
    "Home",
    "",
    "   ",
    "x",
    "a b  cd\tefg",
    "Read more | Share / Tweet » Next",
    "Δ-ΟΔΟΣ ΟΔΟΣ. ß İstanbul naïve café 😀 emoji-led line",
    "Updated: 𝟏𝟐:𝟑𝟎 (mathematical digits, outside the BMP)",
    "non\u00a0breaking\u2003em\u2028line\x1cfile\x1fseparators\x85next",
    "ab\x00c ab\x00d ab\x00c",  # words that differ only after a NUL stay apart
    "the the the cat THE Cat",
    "ｆｕｌｌ ｗｉｄｔｈ 東京 ab\u0301cd",
    "a" * 40 + " " + "bb",
]


def _random_lines(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    alphabet = "abcdeé ΣσςİI \t\u00a0\u2009-.,'😀東0"
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(n)]


def _reference(texts: list[str], n_features: int, ngram_range: tuple[int, int], dtype) -> object:
    return HashingVectorizer(
        n_features=n_features,
        analyzer="char_wb",
        ngram_range=ngram_range,
        alternate_sign=False,
        norm=None,
        dtype=dtype,
    ).transform(texts)


def _assert_same(ours: object, reference: object) -> None:
    assert ours.shape == reference.shape and ours.dtype == reference.dtype
    np.testing.assert_array_equal(ours.indptr, reference.indptr)
    np.testing.assert_array_equal(ours.indices, reference.indices)
    np.testing.assert_array_equal(ours.data, reference.data)


@pytest.mark.parametrize("ngram_range", [(3, 5), (1, 1), (2, 4), (4, 4)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_char_wb_counts_are_scikit_learns(ngram_range: tuple[int, int], dtype) -> None:
    texts = TRICKY + _random_lines(300)
    for _ in range(2):  # hashed, then from the cache
        ours = hashing.char_wb_counts(texts, 2**10, ngram_range, dtype)
        _assert_same(ours, _reference(texts, 2**10, ngram_range, dtype))


def test_char_wb_counts_after_the_cache_is_emptied(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hashing, "_TABLES", {})
    monkeypatch.setattr(hashing, "CACHE_LIMIT", 50)
    first, second = _random_lines(200, seed=1), _random_lines(200, seed=2)
    hashing.char_wb_counts(first, 2**12)
    table = hashing._TABLES[("char_wb", 2**12, 3, 5)]
    assert len(table) > 50
    ours = hashing.char_wb_counts(second, 2**12)  # starts a new cache
    assert hashing._TABLES[("char_wb", 2**12, 3, 5)] is not table
    _assert_same(ours, _reference(second, 2**12, (3, 5), np.float64))


def test_char_wb_counts_of_no_lines_and_of_a_hash_of_minus_two_to_the_31() -> None:
    assert hashing.char_wb_counts([], 16).shape == (0, 16)
    # FeatureHasher maps the one hash without an absolute value to a column of its own
    hashes = np.array([-(2**31), -5, 7], dtype=np.int64)
    np.testing.assert_array_equal(hashing._indices(hashes, 1000), [(2**31 - 1 - 999) % 1000, 5, 7])


def test_char_wb_counts_refuse_what_scikit_learn_refuses() -> None:
    with pytest.raises(UnicodeEncodeError):
        _reference(["lone \ud800 surrogate"], 16, (3, 5), np.float64)
    with pytest.raises(UnicodeEncodeError):
        hashing.char_wb_counts(["lone \ud800 surrogate"], 16)


def test_words_and_pairs_are_scikit_learns_word_analyzer() -> None:
    texts = TRICKY + _random_lines(200, seed=3)
    analyzer = HashingVectorizer(ngram_range=(1, 2)).build_analyzer()
    for text in texts:
        assert hashing.words_and_pairs(text) == analyzer(text)
    hashed = FeatureHasher(2**10, input_type="string", alternate_sign=False, dtype=np.float32)
    ours = hashed.transform(map(hashing.words_and_pairs, texts))
    reference = HashingVectorizer(
        n_features=2**10, ngram_range=(1, 2), alternate_sign=False, norm=None, dtype=np.float32
    ).transform(texts)
    _assert_same(ours, reference)


def test_line_words_are_scikit_learns_and_hash_as_the_texts_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(hashing, "_LAST", None)
    texts = TRICKY + _random_lines(100, seed=7)
    analyzer = HashingVectorizer().build_analyzer()  # words only
    words = hashing.line_words(texts)
    assert words == [analyzer(t) for t in texts]
    ours = hashing.word_pair_counts(texts, 2**12, words=words)
    _assert_same(ours, _word_pair_reference(texts, 2**12, np.float64))


def test_distinct_texts() -> None:
    codes, texts = hashing.distinct_texts(["a", "b", "a", "ab\x00c", "ab\x00d", "b"])
    assert texts == ["a", "b", "ab\x00c", "ab\x00d"]
    assert codes.tolist() == [0, 1, 0, 2, 3, 1]
    assert hashing.distinct_texts(["a", "b"]) == (None, ["a", "b"])
    # not all str: left as they are, to fail where the features are computed
    assert hashing.distinct_texts(["a", 1, "a"]) == (None, ["a", 1, "a"])
    assert hashing.distinct_texts(["a", ["x"], "a"]) == (None, ["a", ["x"], "a"])


def _word_pair_reference(texts: list[str], n_features: int, dtype) -> object:
    return HashingVectorizer(
        n_features=n_features, ngram_range=(1, 2), alternate_sign=False, norm=None, dtype=dtype
    ).transform(texts)


def _counting_hasher(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the number of lines of each call of the hasher behind word_pair_counts."""
    calls: list[int] = []
    real = hashing._hash_words_and_pairs

    def counting(words, n_features, dtype):
        calls.append(len(words))
        return real(words, n_features, dtype)

    monkeypatch.setattr(hashing, "_hash_words_and_pairs", counting)
    return calls


def test_word_pair_counts_fold_the_last_batchs_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hashing, "_LAST", None)
    calls = _counting_hasher(monkeypatch)
    texts = TRICKY + _random_lines(300, seed=4)
    first = hashing.word_pair_counts(texts, 2**12)
    _assert_same(first, _word_pair_reference(texts, 2**12, np.float64))
    first.data *= 0.5  # a caller scaling its rows in place leaves the kept counts alone
    # the topic model's lines: the same, a few cut shorter, in a space that divides the first
    later = [t[:5] if i % 10 == 0 else t for i, t in enumerate(texts)]
    changed = sum(a != b for a, b in zip(texts, later, strict=True))
    assert 0 < changed < len(texts) / 4
    for n_features, dtype in [(2**10, np.float32), (2**12, np.float64), (2**6, np.float64)]:
        calls.clear()
        ours = hashing.word_pair_counts(later, n_features, dtype)
        _assert_same(ours, _word_pair_reference(later, n_features, dtype))
        assert calls == [changed]  # only the lines that differ are hashed again
    calls.clear()
    hashing.word_pair_counts(texts, 2**12)  # the same lines as the kept batch
    assert calls == []


def test_word_pair_counts_hash_anew_when_folding_cannot_give_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(hashing, "_LAST", None)
    calls = _counting_hasher(monkeypatch)
    texts = _random_lines(100, seed=5)
    hashing.word_pair_counts(texts, 2**10)
    kept = hashing._LAST
    other_batch = _random_lines(100, seed=6)
    for lines, n_features in [
        (texts, 2**11),  # a larger space
        (texts, 1000),  # a space that does not divide the kept one
        (texts[:99], 2**9),  # another number of lines
        (other_batch, 2**9),  # most lines differ
    ]:
        monkeypatch.setattr(hashing, "_LAST", kept)
        calls.clear()
        ours = hashing.word_pair_counts(lines, n_features)
        _assert_same(ours, _word_pair_reference(lines, n_features, np.float64))
        assert calls == [len(lines)]
    monkeypatch.setattr(hashing, "SHARED_LIMIT", 10)  # large batches are not kept
    monkeypatch.setattr(hashing, "_LAST", None)
    hashing.word_pair_counts(texts, 2**10)
    assert hashing._LAST is None
