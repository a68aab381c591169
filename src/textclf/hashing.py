"""Hashed word and character n-grams of lines, as scikit-learn's hashing vectorizers give them.

The text model of :class:`textclf.features.LineFeaturizer` reads each line's words and word pairs
hashed, and :class:`textclf.topic_model.TopicClassifier` those and its words' character n-grams
(``analyzer="char_wb"``). scikit-learn builds these matrices one n-gram at a time in Python: a
line of ten words has about 150 character n-grams of 3 to 5 characters, each sliced, encoded and
hashed on its own: with the topic model attached, prediction took about three times as long as
without it.

The functions here build the same matrices (the same indices and counts, so the same floats to
the bit once scaled) from each distinct word instead: a word's n-grams are hashed once, kept in a
bounded per-process cache, and a line's row is put together from its words' hashes with a few
array operations. ``tests/test_hashing.py`` checks them against scikit-learn.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "Distinct",
    "char_wb_counts",
    "distinct_texts",
    "line_words",
    "word_pair_counts",
    "words_and_pairs",
]

# Runs of two or more word characters: what scikit-learn's r"(?u)\b\w\w+\b" finds (a greedy
# run of \w is always whole), a quarter faster.
_TOKEN = re.compile(r"\w\w+")
_INT32_MIN = -(2**31)

# Words whose n-gram columns are kept before the cache is emptied (about 220 bytes each: a
# long-running process that reads ever new words stays within about 22 MB).
CACHE_LIMIT = 100_000
# Batches of at most this many lines keep their word and word-pair counts for the next call
# (see word_pair_counts; a prediction batch holds at most 10,000 lines).
SHARED_LIMIT = 20_000


#: What :func:`distinct_texts` returns: each line's index among the distinct texts (None when
#: every text is distinct), and the distinct texts.
Distinct = tuple[np.ndarray | None, list[str]]


def distinct_texts(texts: Sequence[str]) -> Distinct:
    """The distinct texts of a batch, in order of first occurrence, and each line's index among
    them (None when every text is distinct). A page repeats its menu entries, "Reply" and
    "Share" lines: a quarter of a batch's lines, whose features need computing once.
    Texts are compared with Python's ``==`` (pandas' factorize merges strings that differ after a
    NUL character, in pandas 2); a text that is not a ``str`` leaves the batch undeduplicated,
    to fail where the features are computed."""
    index: dict[str, int] = {}
    try:
        codes = np.fromiter(
            (index.setdefault(t, len(index)) for t in texts), dtype=np.int64, count=len(texts)
        )
    except TypeError:  # an unhashable entry
        return None, list(texts)
    if len(index) == len(texts) or not all(type(t) is str for t in index):
        return None, list(texts)
    return codes, list(index)


def line_words(texts: Sequence[str]) -> list[list[str]]:
    """Each line's words as scikit-learn's default word analyzer finds them: runs of two or
    more word characters of the lower-cased line (:func:`words_and_pairs` without the pairs).
    The featurizer finds them once per batch for the words a line shares with its page's prose
    and for its text model (``word_pair_counts(..., words=)``)."""
    return [_TOKEN.findall(text.lower()) for text in texts]


def words_and_pairs(text: str) -> list[str]:
    """The words and word pairs of a line: what scikit-learn's default word analyzer with
    ``ngram_range=(1, 2)`` (lower case, token pattern ``(?u)\\b\\w\\w+\\b``) yields."""
    return _with_pairs(_TOKEN.findall(text.lower()))


def _with_pairs(words: list[str]) -> list[str]:
    """A line's words followed by its word pairs."""
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


def word_pair_counts(
    texts: Sequence[str],
    n_features: int,
    dtype: Any = np.float64,
    words: list[list[str]] | None = None,
) -> Any:
    """Counts of each line's hashed words and word pairs: what ``HashingVectorizer(n_features,
    ngram_range=(1, 2), alternate_sign=False, norm=None, dtype=dtype)`` gives, without its
    per-line wrappers (scikit-learn's compiled hasher does the rest fast enough).

    The counts of the last batch hashed (at most :data:`SHARED_LIMIT` lines) are kept: the
    content model and the topic model read the same lines' words in one prediction call, and
    when the second asks for a hashing space that divides the first's (2^17 and 2^18), its
    counts are the first's with the columns folded (``column % n_features``: a hash's column is
    its absolute value modulo the space, and that of -2^31, which has none, is 2^31 modulo the
    space), the same to the bit. Only lines whose text differs (the topic model cuts long lines
    shorter) are hashed again. ``words``: the lines' :func:`line_words`, when the caller has
    found them already."""
    texts = list(texts)
    shared = _from_last(texts, n_features, dtype)
    if shared is not None:
        return shared
    counts = _hash_words_and_pairs(line_words(texts) if words is None else words, n_features, dtype)
    if len(texts) <= SHARED_LIMIT:
        global _LAST
        _LAST = (texts, n_features, counts.copy())  # callers may scale theirs in place
    return counts


def _hash_words_and_pairs(words: list[list[str]], n_features: int, dtype: Any) -> Any:
    """Hashed counts of each line's words (:func:`line_words`) and word pairs."""
    from sklearn.feature_extraction import FeatureHasher

    hasher = FeatureHasher(
        n_features=n_features, input_type="string", alternate_sign=False, dtype=dtype
    )
    return hasher.transform(map(_with_pairs, words))


def _from_last(texts: list[str], n_features: int, dtype: Any) -> Any:
    """:func:`word_pair_counts` of ``texts`` from the last batch's counts, or None when they
    cannot give it: another batch (a quarter or more of the lines differ, or another number of
    lines), or a hashing space that does not divide the last one's."""
    import scipy.sparse as sp

    last = _LAST  # one read: another thread may replace it meanwhile
    if last is None:
        return None
    last_texts, last_n, last_counts = last
    if last_n % n_features or len(last_texts) != len(texts):
        return None
    differ = [
        i for i, (a, b) in enumerate(zip(texts, last_texts, strict=True)) if a is not b and a != b
    ]
    if 4 * len(differ) >= max(len(texts), 1):
        return None
    # new arrays throughout: merging the folded duplicates rewrites them in place
    folded = _csr(
        (last_counts.indices % n_features).astype(np.int32),
        last_counts.indptr.copy(),
        n_features,
        dtype,
        values=last_counts.data.astype(dtype),
    )
    if not differ:
        return folded
    fresh = _hash_words_and_pairs(line_words([texts[i] for i in differ]), n_features, dtype)
    order = np.arange(len(texts))
    order[differ] = len(texts) + np.arange(len(differ))
    return sp.vstack([folded, fresh], format="csr")[order]


def _indices(hashes: np.ndarray, n_features: int) -> np.ndarray:
    """Column of each signed 32-bit MurmurHash3 value, as ``FeatureHasher`` computes it."""
    h = hashes.astype(np.int64)
    out = np.abs(h) % n_features
    out[h == _INT32_MIN] = (2**31 - 1 - (n_features - 1)) % n_features
    return out.astype(np.int32)


def _table(key: tuple[Any, ...]) -> dict[str, bytes]:
    """The cache of one kind of n-grams: each word's columns, as ``int32`` bytes. It is emptied
    when it holds over :data:`CACHE_LIMIT` words (checked once per call). Its reads and writes
    are single dict operations, which threads may share."""
    table = _TABLES.get(key)
    if table is None or len(table) > CACHE_LIMIT:
        table = _TABLES[key] = {}
    return table


_TABLES: dict[tuple[Any, ...], dict[str, bytes]] = {}
# The last batch's texts, hashing space and word and word-pair counts (word_pair_counts).
_LAST: tuple[list[str], int, Any] | None = None


def _csr(
    indices: np.ndarray,
    indptr: np.ndarray,
    n_features: int,
    dtype: Any,
    values: np.ndarray | None = None,
) -> Any:
    """Counts of each row's columns (duplicates summed, columns sorted), as ``FeatureHasher``
    returns them: each entry counts ``values`` (default 1)."""
    import scipy.sparse as sp

    if values is None:
        values = np.ones(len(indices), dtype=dtype)
    X = sp.csr_matrix((values, indices, indptr), shape=(len(indptr) - 1, n_features), dtype=dtype)
    X.sum_duplicates()
    return X


def _word_char_wb(word: str, min_n: int, max_n: int) -> list[str]:
    """The ``char_wb`` n-grams of one word, in scikit-learn's order: those of the word with a
    space on each side, and the padded word itself, once, when it is not longer than n."""
    w = f" {word} "
    size = len(w)
    grams: list[str] = []
    for n in range(min_n, max_n + 1):
        if size <= n:
            grams.append(w)
            break
        grams += [w[i : i + n] for i in range(size - n + 1)]
    return grams


def char_wb_counts(
    texts: Sequence[str],
    n_features: int,
    ngram_range: tuple[int, int] = (3, 5),
    dtype: Any = np.float64,
) -> Any:
    """Counts of each line's hashed ``char_wb`` n-grams: the matrix of ``HashingVectorizer(
    n_features, analyzer="char_wb", ngram_range=ngram_range, alternate_sign=False, norm=None,
    dtype=dtype)`` (lower case, no accent stripping)."""
    from sklearn.utils import murmurhash3_32

    min_n, max_n = ngram_range
    table = _table(("char_wb", n_features, min_n, max_n))
    # The lines' words. scikit-learn first turns runs of white space into one space (``\s\s+``);
    # ``str.split`` splits at the same characters (``\s`` is ``str.isspace``), so that changes
    # nothing here.
    words: list[str] = []
    extend = words.extend
    words_per_line = np.zeros(len(texts), dtype=np.int64)
    for i, text in enumerate(texts):
        line_words = text.lower().split()
        words_per_line[i] = len(line_words)
        extend(line_words)
    # numbered in order of first appearance (a dict, not pandas' factorize, which in pandas 2
    # merges strings that differ only after a NUL character)
    ids = dict.fromkeys(words, 0)
    for number, word in enumerate(ids):
        ids[word] = number
    occ = np.fromiter(map(ids.__getitem__, words), dtype=np.int64, count=len(words))
    # each distinct word's columns, from the cache or hashed now (all new words' n-grams at once)
    distinct = list(ids)
    chunks = [table.get(word, b"") for word in distinct]
    missing = [k for k, chunk in enumerate(chunks) if not chunk]  # a word has n-grams
    if missing:
        grams = [_word_char_wb(distinct[k], min_n, max_n) for k in missing]
        hashes = np.fromiter(
            (murmurhash3_32(g, positive=False) for g in itertools.chain.from_iterable(grams)),
            dtype=np.int64,
        )
        columns = _indices(hashes, n_features)
        bounds = np.cumsum([0, *map(len, grams)]).tolist()
        for j, k in enumerate(missing):
            chunks[k] = table[distinct[k]] = columns[bounds[j] : bounds[j + 1]].tobytes()
    pool = np.frombuffer(b"".join(chunks), dtype=np.int32)
    sizes = np.fromiter((len(c) // 4 for c in chunks), dtype=np.int64, count=len(chunks))
    starts = np.zeros(len(chunks), dtype=np.int64)
    np.cumsum(sizes[:-1], out=starts[1:])
    # every occurrence's columns, in line order: pool[start : start + size] per occurrence
    occ_sizes = sizes[occ]
    ends = np.zeros(len(occ) + 1, dtype=np.int64)
    np.cumsum(occ_sizes, out=ends[1:])
    gather = np.arange(ends[-1], dtype=np.int64) + np.repeat(starts[occ] - ends[:-1], occ_sizes)
    # a line's columns end where its last word's do
    last_word = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(words_per_line, out=last_word[1:])
    return _csr(pool[gather], ends[last_word], n_features, dtype)
