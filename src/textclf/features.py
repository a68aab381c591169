"""Line features computed from the plain page text alone.

The featurizer takes a table of lines (``page_id``, ``text``, ``blank_before``, ``blank_after``;
the rows of a page contiguous and in page order) and returns one row of numbers per line:

* the line's own shape: length, shares of punctuation, digits, capitals and stopwords, whether it
  ends like a sentence, its position, how often its text repeats on the page;
* the same for its neighbours, and for its block (the lines between two blank lines);
* its place on the page: the text density around it, the distance to the nearest long paragraph,
  whether an earlier line has the same text (a headline versus its repeats in teasers);
* how many training pages contain the same text, and how often such a line was content there
  (learned at ``fit``; leave-one-site-out while training, so a line never counts itself);
* section markers: how much content follows the same short text on training pages ("Related
  stories" and "Comments" open boilerplate), and how far the line is from the
  nearest such markers before and after it (learned at ``fit``, leave-one-site-out too);
* a text model (a logistic regression on hashed words and word pairs, out of fold by site for
  the training lines) on the line's words, and its scores of the lines around; optionally
  (``context_text``) a second one on the line's words and those of the lines just before and
  after it, each word weighted by where it stands ("Related stories" above a line says
  something about the line).

While fitting, a share of the training pages (``blank_dropout``) is seen without its blank
lines, so that the model also reads pages written one block per line with no blank line
between blocks, as many HTML-to-text tools write them; and another share (``word_dropout``)
with its words disguised (:func:`disguise_words`), so that it can also tell content from
boilerplate on pages whose words it never read (another language).

Column 0 of the output is the page's index within the batch (:data:`PAGE_COLUMN`): the stacking
stage uses it to find a line's neighbours; it is not a feature.
"""

from __future__ import annotations

import itertools
import numbers
import re
import string
import unicodedata
import zlib
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from importlib.resources import files
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from textclf.errors import InputError
from textclf.hashing import Distinct, distinct_texts, line_words, word_pair_counts

__all__ = [
    "LINE_COLUMNS",
    "MODEL_INPUT",
    "PAGE_COLUMN",
    "LineFeaturizer",
    "disguise_words",
    "lines_frame",
    "neighbour_values",
    "page_cumsum",
    "page_summary",
    "window_mean",
]

PAGE_COLUMN = 0
LINE_COLUMNS = ("page_id", "text", "blank_before", "blank_after")
# The same, as the list that selects them from a lines table: what the pipeline reads.
MODEL_INPUT = list(LINE_COLUMNS)

_WORD = re.compile(r"\w+")
_SENT_END = re.compile(r"[.!?…。！？][\"'”’»)\]]*$")
_DIGITS = re.compile(r"\d")
_DATE = re.compile(
    r"\b(\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}-\d{2}-\d{2}|"
    r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2}|"
    r"\d{1,2} (jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*)\b",
)
_TIME = re.compile(r"\b\d{1,2}:\d{2}\b")
_URLISH = re.compile(r"https?://|www\.|@\w+\.\w|\.(com|org|net)\b")
#: Words and phrases of boilerplate, counted in short lines (lower case).
_BOILER_PHRASES = (
    *("cookie", "cookies", "privacy", "terms of use", "terms of service", "subscribe"),
    *("newsletter", "sign in", "sign up", "login", "log in", "logout", "log out", "register"),
    *("share", "tweet", "follow us", "read more", "more stories", "related", "advertisement"),
    *("sponsored", "copyright", "all rights reserved", "menu", "skip to", "search", "comment"),
    *("comments", "reply", "posted by", "written by", "photo", "image", "getty", "reuters"),
    *("shutterstock", "click here", "learn more", "see more", "view all", "load more", "next"),
    *("previous", "back to top", "download", "app", "podcast"),
)


def _alternation(phrases: Sequence[str]) -> str:
    """A regular expression matching any of ``phrases``, with common prefixes factored out
    ("comment|comments|copyright" becomes "co(?:mment(?:s)?|pyright)"). Python's regex engine
    tries the alternatives of a group one by one at every position: the factored form, which
    matches the same strings, is about 40% faster."""
    trie: dict[str, Any] = {}
    for phrase in phrases:
        node = trie
        for char in phrase:
            node = node.setdefault(char, {})
        node[""] = {}

    def pattern(node: dict[str, Any]) -> str:
        branches = [re.escape(c) + pattern(child) for c, child in sorted(node.items()) if c]
        if not branches:
            return ""
        group = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" in node:  # a phrase ends here: what follows is optional
            return ("(?:" + group + ")" if len(branches) == 1 else group) + "?"
        return group

    return pattern(trie)


# Each phrase as a whole word: no two phrases both match at one position and end on a word
# boundary, so the count of matches does not depend on the alternatives' order.
_BOILER = re.compile(r"\b(?:" + _alternation(_BOILER_PHRASES) + r")\b")
_STOPWORDS = frozenset(
    line.strip()
    for line in (files("textclf") / "resources" / "stopwords.txt").read_text("utf-8").splitlines()
    if line.strip() and not line.startswith("#")
)
# Chinese and Japanese write no spaces between words: a run of their characters is no word.
# Each such character counts as half a token (a word of either is one to three characters,
# about two on average), and the frequent one-character function words below count as
# stopwords: Japanese particles and Chinese function characters. A Japanese or Chinese news
# sentence then has a token count and a stopword share near an English one's (0.25 to 0.4),
# where it had a few long "words" and no stopword.
_UNSPACED_RANGES = (
    (0x3040, 0x30FF),  # hiragana, katakana
    (0x31F0, 0x31FF),  # katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK unified ideographs, extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # half-width katakana
)
_UNSPACED_TOKEN = 0.5
# ... and as 2.5 letters in the line's length and letter counts: an English word of five
# letters and its space is half a dozen characters, the same information as about two Chinese
# characters (so a line's length, mean word length and letter share stay comparable).
_UNSPACED_LETTERS = 2.5
_UNSPACED_FUNCTION = frozenset(
    "のはがをにでともへやか"  # Japanese particles
    "的了是在和有不这也就都而及与对为我他她们个之以于其被将把从到但并或等着过还又此所因如该"
    "一上中来后时会能要可已更很最些那向给由则且然"  # Chinese function and frequent characters
)

# Names of the per-line base features (also used for neighbours).
_BASE = (
    "log_chars",
    "log_tokens",
    "mean_word_len",
    "punct_share",
    "digit_share",
    "upper_share",
    "alpha_share",
    "title_word_share",
    "stopword_share",
    "ends_sentence",
    "ends_colon",
    "starts_upper",
    "starts_bullet",
    "n_sentences",
    "has_date",
    "has_time",
    "has_url",
    "boiler_words",
    "has_separator",
    "blank_before",
    "blank_after",
)
_NEIGHBOUR_BASE = (
    "log_tokens",
    "punct_share",
    "ends_sentence",
    "stopword_share",
    "title_word_share",
    "boiler_words",
    "digit_share",
)
_OFFSETS = (-3, -2, -1, 1, 2, 3)
_WINDOWS = (2, 5, 15)
#: The neighbours whose text-model scores a line gets (``neighbour_scores``).
_SCORE_OFFSETS = (-2, -1, 1, 2)
#: The lines whose words the context text model reads beside the line's own (``context_text``).
_CONTEXT_OFFSETS = (-1, 1)
#: Feature groups added after models were first saved, and their value in those models.
_GROUPS_ADDED_LATER = {
    "sections": False,
    "neighbour_scores": False,
    "score_context": False,
    "context_text": False,
    "blank_dropout": 0.0,
    "word_dropout": 0.0,
}


def lines_frame(
    pages: Sequence[Sequence[str]],
    *,
    blanks: Sequence[Sequence[tuple[bool, bool]]] | None = None,
    page_ids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Build the featurizer's input table from pages given as lists of line texts."""
    ids, texts, before, after = [], [], [], []
    for p, lines in enumerate(pages):
        pid = str(page_ids[p]) if page_ids is not None else str(p)
        for i, text in enumerate(lines):
            ids.append(pid)
            texts.append(text)
            bb, ba = blanks[p][i] if blanks is not None else (False, False)
            before.append(bool(bb))
            after.append(bool(ba))
    return pd.DataFrame(
        {"page_id": ids, "text": texts, "blank_before": before, "blank_after": after}
    )


def normalize_for_lookup(text: str) -> str:
    """The key under which a line's text is counted across pages: case and digits folded."""
    return _DIGITS.sub("0", text.lower()).strip(" .:;,!?|-–—•·»«›‹\"'")


def text_keys(texts: Sequence[str], *, distinct: Distinct | None = None) -> np.ndarray:
    """Each line's lookup key: the CRC-32 of :func:`normalize_for_lookup` of its text.
    ``distinct``: :func:`~textclf.hashing.distinct_texts` of ``texts`` when already computed."""
    codes, unique = distinct_texts(texts) if distinct is None else distinct
    keys = np.fromiter(
        (zlib.crc32(normalize_for_lookup(t).encode("utf-8", "replace")) for t in unique),
        dtype=np.int64,
        count=len(unique),
    )
    return keys if codes is None else keys[codes]


@lru_cache(maxsize=1)
def _char_tables() -> dict[str, np.ndarray]:
    """Character classes of every code point of the Basic Multilingual Plane.

    Code points above it (emoji, rare scripts) count as punctuation-like symbols.
    """
    chars = [chr(c) for c in range(0x10000)]
    alpha = np.array([c.isalpha() for c in chars], dtype=bool)
    unspaced = np.zeros(0x10000, dtype=bool)
    for lo, hi in _UNSPACED_RANGES:
        unspaced[lo : hi + 1] = True
    function = np.zeros(0x10000, dtype=bool)
    function[[ord(c) for c in _UNSPACED_FUNCTION]] = True
    return {
        "alpha": alpha,
        "upper": np.array([c.isupper() for c in chars], dtype=bool),
        "digit": np.array([c.isdigit() for c in chars], dtype=bool),
        "space": np.array([c.isspace() for c in chars], dtype=bool),
        "word": np.array([c.isalnum() or c == "_" for c in chars], dtype=bool),
        "unspaced": unspaced & alpha,
        "unspaced_function": function,
        "bullet": np.array(
            [c.isdigit() or unicodedata.category(c)[0] in "PS" for c in chars], dtype=bool
        ),
    }


_SEPARATOR = re.compile(r"\|| / |»|›")
# Boilerplate words and dates are looked for in short lines only (where they mean something).
_SHORT_LINE_WORDS = 30
_CLOSERS = "\"'”’»)]"
_TERMINALS = frozenset(".!?…。！？")


def _matches_per_line(pattern: re.Pattern[str], joined: str, starts: np.ndarray) -> np.ndarray:
    """How many matches of ``pattern`` fall in each line of ``joined``."""
    pos = [m.start() for m in pattern.finditer(joined)]
    if not pos:
        return np.zeros(len(starts), dtype=np.float32)
    line = np.searchsorted(starts, np.asarray(pos), side="right") - 1
    return np.bincount(line, minlength=len(starts)).astype(np.float32)


def _line_starts(lengths: np.ndarray) -> np.ndarray:
    """Where each line starts in the lines joined by newlines, from the lines' lengths."""
    starts = np.zeros(len(lengths), dtype=np.int64)
    starts[1:] = np.cumsum(lengths[:-1] + 1)
    return starts


def _lengths(texts: list[str]) -> np.ndarray:
    return np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))


def _matches_in(pattern: re.Pattern[str], texts: list[str]) -> np.ndarray:
    """How many matches of ``pattern`` each of ``texts`` holds (none of them holds a newline)."""
    return _matches_per_line(pattern, "\n".join(texts), _line_starts(_lengths(texts)))


def _has_url(joined: str, texts: list[str], starts: np.ndarray) -> np.ndarray:
    low = joined.lower()
    if len(low) == len(joined):  # lowering kept every offset: match the whole batch at once
        return _matches_per_line(_URLISH, low, starts) > 0
    return _matches_in(_URLISH, [t.lower() for t in texts]) > 0


def _stopwords_per_line(texts: list[str]) -> np.ndarray:
    """How many of each line's words are stopwords (case-folded). The words are found line by
    line: counting them in the joined batch and handing them out by the character tables' word
    counts put words on the wrong lines when a line held a word character outside the BMP. Each
    word is lowered on its own (lowering a whole line can move a word's bounds: "İ" lowers to
    "i" and a combining dot, which is no word character); map and sum run in C."""
    contains, lower, words = _STOPWORDS.__contains__, str.lower, _WORD.findall
    return np.fromiter(
        (sum(map(contains, map(lower, words(t)))) for t in texts),
        dtype=np.float64,
        count=len(texts),
    )


def token_counts(texts: list[str]) -> np.ndarray:
    """Each line's number of tokens, as the featurizer counts them (``log_tokens``): its words,
    and half a token per Chinese or Japanese character (rounded)."""
    if not texts:
        return np.zeros(0)
    blank = np.zeros(len(texts), dtype=bool)
    return np.rint(np.expm1(_base_matrix(texts, blank, blank)[:, _BASE.index("log_tokens")]))


def _frame_base(
    frame: pd.DataFrame, texts: list[str], distinct: Distinct | None = None
) -> np.ndarray:
    """:func:`_base_matrix` of a lines frame (``texts``: its ``text`` column as a list)."""
    bb = frame["blank_before"].to_numpy(dtype=bool)
    ba = frame["blank_after"].to_numpy(dtype=bool)
    return _base_matrix(texts, bb, ba, distinct=distinct)


def _base_matrix(
    texts: list[str], bb: np.ndarray, ba: np.ndarray, *, distinct: Distinct | None = None
) -> np.ndarray:
    """The base features of every line (columns :data:`_BASE`), vectorised over the batch.
    ``distinct``: :func:`~textclf.hashing.distinct_texts` of ``texts`` when already computed."""
    codes, unique = distinct_texts(texts) if distinct is None else distinct
    if codes is None:
        return _base_rows(texts, bb, ba)
    blank = np.zeros(len(unique), dtype=bool)
    out = _base_rows(unique, blank, blank)[codes]
    out[:, _BASE.index("blank_before")] = bb
    out[:, _BASE.index("blank_after")] = ba
    return out


def _sentence_breaks(texts: list[str], joined: str) -> np.ndarray:
    """Sentence breaks per line, counted with str.count: the same as matching r"[.?!] ", faster.
    A Chinese or Japanese full stop needs no space after it (one ending the line is no break
    between sentences, as ". " cannot end a line); the lines are counted for it only when the
    batch (``joined``) holds one, which few do."""
    n = len(texts)
    breaks = np.fromiter(
        (t.count(". ") + t.count("? ") + t.count("! ") for t in texts), dtype=np.float32, count=n
    )
    if "。" in joined:
        breaks += np.fromiter(
            (t.count("。") - t.endswith("。") for t in texts), dtype=np.float32, count=n
        )
    return breaks


def _base_rows(texts: list[str], bb: np.ndarray, ba: np.ndarray) -> np.ndarray:
    """:func:`_base_matrix`, each line computed on its own (also when texts repeat)."""
    n = len(texts)
    tables = _char_tables()
    # Lines never contain a newline, so it safely separates them in one joined string.
    joined = "\n".join(texts)
    cp = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    bmp = np.minimum(cp, 0xFFFF)
    in_bmp = cp <= 0xFFFF
    lengths = _lengths(texts)
    starts = _line_starts(lengths)

    def per_line(mask: np.ndarray) -> np.ndarray:
        # One padding element: an empty last line starts at the joined text's end.
        sums = np.add.reduceat(np.r_[mask.astype(np.int64), 0], starts)
        return np.where(lengths > 0, sums, 0).astype(np.float64)

    alpha_m = tables["alpha"][bmp] & in_bmp
    alpha = per_line(alpha_m)
    upper = per_line(tables["upper"][bmp] & in_bmp)
    digit = per_line(tables["digit"][bmp] & in_bmp)
    space = per_line(tables["space"][bmp] & in_bmp & (cp != 10))
    # Words are runs of word characters; Chinese and Japanese characters are not in them but
    # weigh as written English does (see _UNSPACED_RANGES). Other lines are unchanged by this.
    unspaced = tables["unspaced"][bmp] & in_bmp
    has_unspaced = bool(unspaced.any())
    word = tables["word"][bmp] & in_bmp
    if has_unspaced:
        word &= ~unspaced
    word_start = word.copy()
    word_start[1:] &= ~word[:-1]
    nw = per_line(word_start)
    title = per_line(word_start & tables["upper"][bmp] & in_bmp)
    length = lengths.astype(np.float64)
    punct = length - alpha - digit - space
    stop = _stopwords_per_line(texts)
    if has_unspaced:
        n_unspaced = per_line(unspaced)
        nw += _UNSPACED_TOKEN * n_unspaced
        stop += per_line(tables["unspaced_function"][bmp] & in_bmp)
        extra = (_UNSPACED_LETTERS - 1.0) * n_unspaced
        alpha += extra
        length += extra
    short = np.flatnonzero(nw <= _SHORT_LINE_WORDS)
    # Each line's first code point (0 for an empty last line, which starts at the text's end).
    first_cp = np.r_[cp, 0][starts]
    first = np.minimum(first_cp, 0xFFFF)
    has_first = lengths > 0
    ends_sentence = np.fromiter(
        (t.rstrip(_CLOSERS)[-1:] in _TERMINALS and t[-1:] != "" for t in texts),
        dtype=bool,
        count=n,
    )
    ends_colon = np.fromiter((t.endswith(":") for t in texts), dtype=bool, count=n)
    # The word patterns are written in lower case: matching lowered text is much faster than
    # re.IGNORECASE. Dates and times need a digit: only lines with one are searched for them
    # (digits outside the BMP are not in the tables: lines with such characters are searched too).
    maybe_digit = (digit > 0) | (per_line(~in_bmp) > 0)
    lowered = {i: texts[i].lower() for i in short}
    boiler = np.zeros(n, dtype=np.float32)
    boiler[short] = _matches_in(_BOILER, [lowered[i] for i in short])
    dated = short[maybe_digit[short]]
    has_date = np.zeros(n, dtype=bool)
    has_date[dated] = _matches_in(_DATE, [lowered[i] for i in dated]) > 0
    timed = np.flatnonzero(maybe_digit & np.fromiter((":" in t for t in texts), bool, count=n))
    has_time = np.zeros(n, dtype=bool)
    has_time[timed] = _matches_in(_TIME, [texts[i] for i in timed]) > 0
    safe_nw = np.maximum(nw, 1)
    safe_len = np.maximum(length, 1)
    cols = [
        np.log1p(length),
        np.log1p(nw),
        np.where(nw > 0, (alpha + digit) / safe_nw, 0.0),
        np.where(length > 0, punct / safe_len, 0.0),
        np.where(length > 0, digit / safe_len, 0.0),
        np.where(alpha > 0, upper / np.maximum(alpha, 1), 0.0),
        np.where(length > 0, alpha / safe_len, 0.0),
        np.where(nw > 0, title / safe_nw, 0.0),
        np.where(nw > 0, stop / safe_nw, 0.0),
        ends_sentence,
        ends_colon,
        has_first & tables["upper"][first] & (first_cp <= 0xFFFF),
        # An emoji (outside the BMP) opening a line works as a bullet too.
        has_first & (tables["bullet"][first] | (first_cp > 0xFFFF)),
        _sentence_breaks(texts, joined),
        has_date,
        has_time,
        _has_url(joined, texts, starts),
        boiler,
        _matches_per_line(_SEPARATOR, joined, starts) > 0,
        bb,
        ba,
    ]
    return np.column_stack([np.asarray(c, dtype=np.float32) for c in cols])


class LineFeaturizer(TransformerMixin, BaseEstimator):
    """Turn a table of page lines into a feature matrix (see the module docstring).

    Parameters
    ----------
    neighbours : bool
        Add the shape features of the lines up to three before and after.
    blocks : bool
        Add features of the line's block (lines between blank lines).
    context : bool
        Add page-context features: text density windows, distances to long paragraphs, repeats.
    corpus_frequency : bool
        Learn at ``fit`` how many training pages hold each line text and how often it was content.
    min_pages : int
        A text must occur on at least this many training pages to get a content rate.
    text_model : bool
        Add the content probability of a logistic regression on the line's hashed words and word
        pairs (out-of-fold, grouped by site, for the training lines).
    text_features : int
        Size of the hashing space of the text model.
    sections : bool
        Learn at ``fit`` which short lines open a run of boilerplate or of content (section
        markers such as "Related stories" or "Comments"), and add the line's own marker rate and
        its distances to the nearest markers before and after it on the page.
    neighbour_scores : bool
        With ``text_model``, also add the text model's scores of the two lines before and the
        two after (-1 past the page's ends): the words around a line, not only its own.
    score_context : bool
        With ``text_model``, also add the text model's scores around the line and over its page:
        their means over the 5 and 15 lines on each side, the page's mean and highest score, the
        line's score above the page's mean, and the shares of the page's score mass (scores
        weighted by tokens) before and after the line. Where the page's wordy content lies, as a
        second stacking stage would see it from the first stage's probabilities, at the cost of
        a few array operations (see README, "The model").
    context_text : bool
        With ``text_model``, also add the score of a second logistic regression that reads the
        hashed words of the line and, as separate features, those of the line just before and
        just after it on the page (out of fold too). Unlike ``neighbour_scores`` it learns what
        a neighbour's words say about this line, not about the neighbour. Off by default: it
        doubles the fitting time for a gain that cross-validation could not establish (see
        docs/experiments.md).
    blank_dropout : float
        Share of the training pages (0 to 1) fitted as if written without blank lines: their
        lines' ``blank_before`` and ``blank_after`` are false. The pages are chosen by a hash
        of their id, so fitting is reproducible. Without it, a model trained on pages with
        blank lines between blocks misreads pages without them (see README, "The model").
        Prediction never changes its input; 0 turns it off.
    word_dropout : float
        Share of the training pages (0 to 1) fitted with their words disguised
        (:func:`disguise_words`: each page's letters put through a substitution cipher of its
        own, its stopwords left as they are), as the words of a language the model never read
        would look: their lines teach the model to tell content from boilerplate by the lines'
        shape and place when their words say nothing. Chosen by a hash of the page id,
        independently of ``blank_dropout``. 0 turns it off.
    """

    def __init__(
        self,
        neighbours: bool = True,
        blocks: bool = True,
        context: bool = True,
        corpus_frequency: bool = True,
        min_pages: int = 2,
        text_model: bool = True,
        text_features: int = 2**18,
        sections: bool = True,
        neighbour_scores: bool = True,
        score_context: bool = True,
        context_text: bool = False,
        blank_dropout: float = 0.3,
        word_dropout: float = 0.15,
    ) -> None:
        self.neighbours = neighbours
        self.blocks = blocks
        self.context = context
        self.corpus_frequency = corpus_frequency
        self.min_pages = min_pages
        self.text_model = text_model
        self.text_features = text_features
        self.sections = sections
        self.neighbour_scores = neighbour_scores
        self.score_context = score_context
        self.context_text = context_text
        self.blank_dropout = blank_dropout
        self.word_dropout = word_dropout

    def __setstate__(self, state: dict[str, Any]) -> None:
        # A model saved before a feature group existed has no such parameter (nor its tables):
        # the group is off, and get_params, repr and clone still work.
        super().__setstate__({**_GROUPS_ADDED_LATER, **state})

    def _uses_neighbour_scores(self) -> bool:
        return bool(self.text_model and self.neighbour_scores)

    def _uses_context_text(self) -> bool:
        return bool(self.text_model and self.context_text)

    # ------------------------------------------------------------------ fitting
    def fit(self, X: pd.DataFrame, y: Sequence[int] | None = None) -> LineFeaturizer:
        return self._fit(self._training_frame(X, y), y)

    def _training_frame(self, X: pd.DataFrame, y: Sequence[int] | None) -> pd.DataFrame:
        """The lines as fitting sees them: with labels (training a classifier), ``blank_dropout``
        of the pages without blank lines and ``word_dropout`` with their words disguised;
        without labels, as given."""
        frame = _check_frame(X)
        if y is None:
            return frame
        blank, words = self.check_params()
        return _with_words_disguised(_without_blank_lines(frame, blank), words)

    def check_params(self) -> tuple[float, float]:
        """Check the parameter values that fitting would refuse (an :class:`InputError` naming
        the first bad one), so that a pipeline can be checked before any data is read; returns
        ``blank_dropout`` and ``word_dropout`` as floats."""
        return (
            check_share("blank_dropout", self.blank_dropout),
            check_share("word_dropout", self.word_dropout),
        )

    def _fit(
        self,
        frame: pd.DataFrame,
        y: Sequence[int] | None,
        base: np.ndarray | None = None,
        keys: np.ndarray | None = None,
        hashed: Any = None,
    ) -> LineFeaturizer:
        """``base``, ``keys``, ``hashed``: the lines' base features, text keys and hashed words,
        when already computed."""
        if self.sections and y is None:
            raise InputError("sections=True needs labels: fit(X, y)")
        texts = frame["text"].tolist()
        if keys is None and (self.corpus_frequency or self.sections):
            keys = text_keys(texts)
        sites = pd.factorize(_loo_groups(frame))[0]
        self._fit_tables(keys, sites, y)
        self._fit_sections(frame, texts, keys, sites, y, base)
        self.text_clf_ = self.context_clf_ = None
        if self.text_model:
            if y is None:
                raise InputError("text_model=True needs labels: fit(X, y)")
            labels = np.asarray(y)
            self.text_prior_ = float(labels.mean()) if len(labels) else 0.5
            if len(np.unique(labels)) == 2:
                hashed = self._hash(texts) if hashed is None else hashed
                self.text_clf_ = _text_classifier().fit(hashed, labels)
                if self.context_text:
                    page = pd.factorize(frame["page_id"])[0]
                    design = _with_neighbours(hashed, page)
                    self.context_clf_ = _text_classifier().fit(design, labels)
        self.n_features_out_ = len(self.get_feature_names_out())
        return self

    def _hash(self, texts: pd.Series | Sequence[str], words: list[list[str]] | None = None) -> Any:
        """The lines' words and word pairs, hashed (:func:`~textclf.hashing.word_pair_counts`),
        rows of unit length. ``words``: the texts' :func:`~textclf.hashing.line_words`, when
        already found."""
        from sklearn.preprocessing import normalize

        return normalize(word_pair_counts(texts, self.text_features, words=words), copy=False)

    def _text_scores(
        self,
        X: pd.DataFrame,
        page: np.ndarray,
        sites: np.ndarray | None,
        hashed: Any = None,
        distinct: Distinct | None = None,
        words: list[list[str]] | None = None,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """The text model's scores of the lines, and the context text model's (None when
        ``context_text`` is off). ``page``: the lines' page index; ``sites``: the lines' sites
        while training (scores out of fold by site), else None. ``distinct``:
        :func:`~textclf.hashing.distinct_texts` of the texts when already computed, and
        ``words`` the :func:`~textclf.hashing.line_words` of its texts."""
        context = self._uses_context_text()
        if self.text_clf_ is None:  # one class only at fit: nothing to learn from words
            prior = np.full(len(X), self.text_prior_)
            return prior, prior.copy() if context else None
        if sites is None:  # predicting: hash and score each distinct text once
            if distinct is None:
                distinct, words = distinct_texts(X["text"].tolist()), None
            codes, texts = distinct
            hashed = self._hash(texts, words)
            scores = self.text_clf_.predict_proba(hashed)[:, 1]
            scores = scores if codes is None else scores[codes]
            return scores, self._context_scores(hashed, codes, page) if context else None
        hashed = self._hash(X["text"]) if hashed is None else hashed
        # Training lines get scores from models that never saw their site.
        scores = self._out_of_fold(hashed, sites, self.text_clf_)
        if not context:
            return scores, None
        return scores, self._out_of_fold(_with_neighbours(hashed, page), sites, self.context_clf_)

    def _out_of_fold(self, design: Any, sites: np.ndarray, fitted: Any) -> np.ndarray:
        """Scores of a text model on ``design`` (the training lines), each from a model fitted
        on the other sites' lines (``fitted``, the model of all of them, when too few sites)."""
        from sklearn.model_selection import GroupKFold

        y = self._loo_y
        assert y is not None  # set by fit_transform around the training transform
        scores = np.zeros(design.shape[0])
        n_splits = min(3, len(np.unique(sites)))
        if n_splits < 2:
            return fitted.predict_proba(design)[:, 1]
        for train_idx, test_idx in GroupKFold(n_splits=n_splits).split(design, y, sites):
            if len(np.unique(y[train_idx])) < 2:
                scores[test_idx] = float(y[train_idx].mean())
                continue
            clf = _text_classifier().fit(design[train_idx], y[train_idx])
            scores[test_idx] = clf.predict_proba(design[test_idx])[:, 1]
        return scores

    def _context_scores(self, words: Any, codes: np.ndarray | None, page: np.ndarray) -> np.ndarray:
        """The context text model's probabilities, from the hashed words of each distinct text
        (``words``; ``codes`` maps lines to them, None: one row per line): what
        ``predict_proba`` gives on :func:`_with_neighbours`, without building that matrix. The
        model is linear, so each text's contribution as the line itself, as the line before and
        as the line after is computed once."""
        model = self.context_clf_
        assert model is not None  # _text_scores calls this only with context_text on
        blocks = 1 + len(_CONTEXT_OFFSETS)
        weights = model.coef_.reshape(blocks, -1).T  # (words, blocks)
        parts = np.asarray(words @ weights)
        per_line = parts if codes is None else parts[codes]
        z = per_line[:, 0] + model.intercept_[0]
        for k, off in enumerate(_CONTEXT_OFFSETS, start=1):
            rows, neighbours = _neighbour_rows(page, off)
            z[rows] += per_line[neighbours, k]
        return 1.0 / (1.0 + np.exp(-z))

    def fit_transform(
        self, X: pd.DataFrame, y: Sequence[int] | None = None, **_: object
    ) -> np.ndarray:
        frame = self._training_frame(X, y)
        # The base features and text keys serve both the tables and the rows: computed once.
        texts = frame["text"].tolist()
        distinct = distinct_texts(texts)
        base = _frame_base(frame, texts, distinct) if len(frame) else None
        keys = text_keys(texts, distinct=distinct)
        hashed = self._hash(texts) if self.text_model and y is not None else None
        self._fit(frame, y, base, keys, hashed)
        # Training rows must not count their own site: leave its pages out of the tables.
        self._loo_y = None if y is None else np.asarray(y, dtype=float)
        try:
            return self._transform(
                frame,
                leave_own_page_out=True,
                base=base,
                keys=keys,
                hashed=hashed,
                distinct=distinct,
            )
        finally:
            del self._loo_y

    def _fit_tables(
        self, keys: np.ndarray | None, sites: np.ndarray, y: Sequence[int] | None
    ) -> None:
        if keys is None or not self.corpus_frequency:
            self.freq_keys_ = np.zeros(0, dtype=np.int64)
            self.freq_pages_ = np.zeros(0, dtype=np.float32)
            self.freq_content_ = np.zeros(0, dtype=np.float32)
            return
        labels = np.zeros(len(keys)) if y is None else np.asarray(y, dtype=float)
        # One vote per (site, text): a text repeated on a site counts once for that site.
        per_site = _site_votes(keys, sites, labels, "max")
        self.freq_keys_, self.freq_pages_, self.freq_content_ = _vote_table(per_site)
        self.prior_ = float(labels.mean()) if len(labels) else 0.5

    def _fit_sections(
        self,
        frame: pd.DataFrame,
        texts: list[str],
        keys: np.ndarray | None,
        sites: np.ndarray,
        y: Sequence[int] | None,
        base: np.ndarray | None,
    ) -> None:
        """Learn, for each short line text, the content share of the lines that follow it."""
        if keys is None or y is None or not self.sections:
            return
        if base is None:
            base = _frame_base(frame, texts)
        tokens = np.rint(np.expm1(base[:, _BASE.index("log_tokens")]))
        page = pd.factorize(frame["page_id"])[0].astype(np.int64)
        shares = _share_after(tokens, page, np.asarray(y, dtype=float))
        # One vote per site: a text on many pages of one site counts once.
        per_site = _site_votes(keys, sites, shares, "mean")
        self.sec_keys_, self.sec_sites_, self.sec_sum_ = _vote_table(per_site)
        self.sec_prior_ = float(per_site.mean()) if len(per_site) else 0.5

    def _section_features(
        self,
        keys: np.ndarray,
        tokens: np.ndarray,
        page: np.ndarray,
        starts: np.ndarray,
        sizes: np.ndarray,
        groups: np.ndarray | None,
    ) -> np.ndarray:
        """``groups``: the lines' sites while training (leave their own site out), else None."""
        n = len(keys)
        sites, total = _lookup((self.sec_keys_, self.sec_sites_, self.sec_sum_), keys)
        if groups is not None and self._loo_y is not None:
            # Leave the line's own site out: take back the vote its site gave the text.
            own = _own_site_vote(keys, groups, _share_after(tokens, page, self._loo_y), "mean")
            voted = (sites > 0) & ~np.isnan(own)
            sites = np.where(voted, sites - 1, sites)
            total = np.where(voted, total - np.nan_to_num(own), total)
        prior = self.sec_prior_
        known = _is_short(tokens) & (sites >= self.min_pages)
        rate = np.where(known, (total + 2 * prior) / (sites + 2), prior)
        ends = known & (rate < _END_MARKER * prior)
        begins = known & (rate > _BEGIN_MARKER * prior)
        end_prev, end_next = _distances_to_flagged(ends, starts, sizes, page)
        begin_prev, begin_next = _distances_to_flagged(begins, starts, sizes, page)
        any_prev, any_next = _distances_to_flagged(known, starts, sizes, page)
        idx = np.arange(n)
        prev_rate = np.where(
            any_prev < 50, rate[np.clip(idx - any_prev, 0, n - 1).astype(int)], prior
        )
        next_rate = np.where(
            any_next < 50, rate[np.clip(idx + any_next, 0, n - 1).astype(int)], prior
        )
        return np.column_stack(
            [
                rate,
                known,
                np.log1p(end_prev),
                np.log1p(begin_prev),
                np.log1p(end_next),
                np.log1p(begin_next),
                prev_rate,
                np.log1p(any_prev),
                next_rate,
                np.log1p(any_next),
            ]
        )

    # ------------------------------------------------------------------ transform
    def transform(self, X: pd.DataFrame) -> np.ndarray:
        return self._transform(X, leave_own_page_out=False)

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        names = ["page", *_BASE, "rel_pos", "log_index", "log_from_end", "log_page_lines"]
        names += ["page_repeats", "earlier_repeats", "later_repeats", "is_first_copy"]
        if self.neighbours:
            for off in _OFFSETS:
                names += [f"n{off:+d}_{f}" for f in _NEIGHBOUR_BASE]
                names.append(f"n{off:+d}_missing")
        if self.blocks:
            names += [
                "block_lines",
                "block_log_tokens",
                "block_mean_tokens",
                "block_ends_sentence",
                "block_pos",
                "block_stopword_share",
                "block_punct_share",
            ]
        if self.context:
            for w in _WINDOWS:
                names += [f"win{w}_mean_tokens", f"win{w}_ends_sentence", f"win{w}_stopword_share"]
            names += [
                "dist_prev_long",
                "dist_next_long",
                "tokens_before_share",
                "tokens_rel_max",
                "page_log_tokens",
                "prefix_of_later_line",
                "long_before_share",
                "in_main_span",
                "page_log_long_lines",
                "page_long_token_share",
                "body_word_overlap",
                "body_word_overlap_known",
            ]
        if self.corpus_frequency:
            names += ["log_corpus_pages", "corpus_content_rate", "corpus_rate_known"]
        if self.text_model:
            names += ["text_score"]
        if self.sections:
            names += [
                "section_rate",
                "section_known",
                "dist_prev_end_marker",
                "dist_prev_begin_marker",
                "dist_next_end_marker",
                "dist_next_begin_marker",
                "prev_marker_rate",
                "dist_prev_marker",
                "next_marker_rate",
                "dist_next_marker",
            ]
        if self._uses_neighbour_scores():
            names += [f"n{off:+d}_text_score" for off in _SCORE_OFFSETS]
        if self.text_model and self.score_context:
            names += [
                "win5_text_score",
                "win15_text_score",
                "page_mean_text_score",
                "page_max_text_score",
                "text_score_above_page_mean",
                "text_mass_before_share",
                "text_mass_after_share",
            ]
        if self._uses_context_text():
            names.append("context_text_score")
        return np.asarray(names, dtype=object)

    def _transform(
        self,
        X: pd.DataFrame,
        *,
        leave_own_page_out: bool,
        base: np.ndarray | None = None,
        keys: np.ndarray | None = None,
        hashed: Any = None,
        distinct: Distinct | None = None,
    ) -> np.ndarray:
        frame = _check_frame(X)
        n = len(frame)
        texts = frame["text"].tolist()
        bb = frame["blank_before"].to_numpy(dtype=bool)
        ba = frame["blank_after"].to_numpy(dtype=bool)
        page = pd.factorize(frame["page_id"])[0].astype(np.int64)
        if n == 0:
            return np.zeros((0, len(self.get_feature_names_out())), dtype=np.float32)
        if np.any(np.diff(page) < 0):
            raise InputError("the lines of each page must be contiguous and in page order")
        if distinct is None:  # the per-line features are computed once per distinct text
            distinct = distinct_texts(texts)
        # the distinct texts' words, found once for the words shared with the page's prose and
        # for the text model's hashed words (predicting; training hashes every line)
        reads_words = self.context or (self.text_model and not leave_own_page_out)
        words = line_words(distinct[1]) if reads_words else None
        if base is None:
            base = _base_matrix(texts, bb, ba, distinct=distinct)
        col = {name: base[:, i] for i, name in enumerate(_BASE)}
        starts = np.flatnonzero(np.r_[True, page[1:] != page[:-1]])
        sizes = np.diff(np.r_[starts, n])
        page_start = np.repeat(starts, sizes)
        page_size = np.repeat(sizes, sizes)
        index = np.arange(n) - page_start
        cols: list[np.ndarray] = [page.astype(np.float32), base]
        cols.append(
            np.column_stack(
                [
                    index / np.maximum(page_size - 1, 1),
                    np.log1p(index),
                    np.log1p(page_size - 1 - index),
                    np.log1p(page_size),
                ]
            )
        )
        if keys is None:
            keys = text_keys(texts, distinct=distinct)
        cols.append(_repeat_features(keys, page))

        if self.neighbours:
            nb = np.column_stack([col[f] for f in _NEIGHBOUR_BASE])
            for off in _OFFSETS:
                shifted, missing = _shift(nb, off, page)
                cols.append(np.column_stack([shifted, missing]))
        tokens = np.expm1(col["log_tokens"])
        if self.blocks:
            cols.append(_block_features(bb, starts, tokens, col))
        if self.context:
            cols.append(_context_features(texts, tokens, col, page, starts, sizes, distinct, words))
        sites = pd.factorize(_loo_groups(frame))[0] if leave_own_page_out else None
        if self.corpus_frequency:
            cols.append(self._frequency_features(keys, sites))
        scores = context_scores = None
        if self.text_model:
            scores, context_scores = self._text_scores(frame, page, sites, hashed, distinct, words)
            cols.append(scores[:, None])
        if self.sections:
            cols.append(self._section_features(keys, np.rint(tokens), page, starts, sizes, sites))
        if scores is not None and self._uses_neighbour_scores():
            # Training lines' scores are out of fold, so their neighbours' are too.
            for off in _SCORE_OFFSETS:
                cols.append(neighbour_values(scores, off, page, fill=-1.0)[:, None])
        if scores is not None and self.score_context:
            cols.append(_score_context(scores, tokens, page, starts, sizes))
        if context_scores is not None:
            cols.append(context_scores[:, None])
        out = np.column_stack(cols).astype(np.float32)
        return out

    def _frequency_features(self, keys: np.ndarray, sites: np.ndarray | None) -> np.ndarray:
        """``sites``: the lines' sites while training (leave their own site out), else None."""
        pages_n, content_n = _lookup((self.freq_keys_, self.freq_pages_, self.freq_content_), keys)
        if sites is not None:
            # Leave the line's own site out: it holds the text once, content or not.
            labels = np.zeros(len(keys)) if self._loo_y is None else self._loo_y
            pages_n = pages_n - 1
            content_n = content_n - _own_site_vote(keys, sites, labels, "max")
        pages_n = np.maximum(pages_n, 0)
        known = pages_n >= self.min_pages
        # Smoothed toward the prior so a text seen on two pages does not get a rate of 0 or 1.
        rate = (content_n + 2 * self.prior_) / (pages_n + 2)
        rate = np.where(known, rate, self.prior_)
        return np.column_stack([np.log1p(pages_n), rate, known.astype(np.float32)])


def _neighbour_rows(page: np.ndarray, off: int) -> tuple[np.ndarray, np.ndarray]:
    """The rows whose line ``off`` places away is on the same page, and those lines' rows."""
    n = len(page)
    if off >= 0:  # line i and line i + off, compared as two slices of the page column
        rows = np.flatnonzero(page[: max(n - off, 0)] == page[off:])
    else:
        rows = np.flatnonzero(page[-off:] == page[: max(n + off, 0)]) - off
    return rows, rows + off


def _with_neighbours(hashed: Any, page: np.ndarray) -> Any:
    """The context text model's input: each line's hashed words, then those of the lines at
    :data:`_CONTEXT_OFFSETS` on the same page (zeros past the page's ends), side by side."""
    import scipy.sparse as sp

    n = hashed.shape[0]
    blocks = [hashed]
    for off in _CONTEXT_OFFSETS:
        rows, neighbours = _neighbour_rows(page, off)
        shift = sp.csr_matrix((np.ones(len(rows)), (rows, neighbours)), shape=(n, n))
        blocks.append(shift @ hashed)
    return sp.hstack(blocks, format="csr")


def _text_classifier() -> Any:
    from sklearn.linear_model import LogisticRegression

    # liblinear shuffles its data: a fixed seed makes training reproducible.
    return LogisticRegression(C=1.0, max_iter=300, solver="liblinear", random_state=0)


def _loo_groups(frame: pd.DataFrame) -> pd.Series:
    """What a training line must not count itself in: its domain when known, else its page."""
    if "domain" in frame.columns:
        domain = frame["domain"].astype(str)
        return domain.where(domain != "", frame["page_id"].astype(str))
    return frame["page_id"]


def _check_frame(X: object) -> pd.DataFrame:
    if not isinstance(X, pd.DataFrame):
        raise InputError(
            f"expected a pandas DataFrame with columns {list(LINE_COLUMNS)}, got {type(X).__name__}"
        )
    missing = [c for c in LINE_COLUMNS if c not in X.columns]
    if missing:
        raise InputError(f"the lines table lacks column(s) {missing}; need {list(LINE_COLUMNS)}")
    return X


# Section markers: short lines ("Related stories", "Comments", "Share this") whose following
# lines are mostly boilerplate (end markers) or mostly content (begin markers).
_SECTION_MAX_TOKENS = 8
_SECTION_AFTER = 8  # how many following lines a marker's content share is measured over
_END_MARKER = 0.5  # an end marker's share is below half the average marker's
_BEGIN_MARKER = 1.6


def check_share(name: str, value: object) -> float:
    """``value`` as a float when it is a number from 0 to 1; else an InputError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= float(value) <= 1:
        raise InputError(f"{name} must be a number from 0 to 1, got {value!r}")
    return float(value)


def _chosen_pages(frame: pd.DataFrame, share: float, salt: str = "") -> np.ndarray | None:
    """Which lines of ``frame`` belong to about ``share`` of its pages: the pages whose id
    (after ``salt``) hashes (CRC-32) below that share of the hash range. None when no page is
    chosen (the frame is then used as it is)."""
    if share <= 0 or frame.empty:
        return None
    ids = frame["page_id"].astype(str)
    hashes = {pid: zlib.crc32((salt + pid).encode("utf-8")) for pid in ids.unique()}
    chosen = np.asarray(ids.map(hashes).to_numpy(dtype=np.int64) < share * 2**32)
    return chosen if chosen.any() else None


def _without_blank_lines(frame: pd.DataFrame, share: float) -> pd.DataFrame:
    """``frame`` with the blank-line flags of about ``share`` of its pages set to false."""
    chosen = _chosen_pages(frame, share)
    if chosen is None:
        return frame
    frame = frame.copy()
    for column in ("blank_before", "blank_after"):
        frame[column] = frame[column].to_numpy(dtype=bool) & ~chosen
    return frame


def _with_words_disguised(frame: pd.DataFrame, share: float) -> pd.DataFrame:
    """``frame`` with the words of about ``share`` of its pages disguised
    (:func:`disguise_words`); the pages are chosen apart from those without blank lines."""
    chosen = _chosen_pages(frame, share, salt="words:")
    if chosen is None:
        return frame
    frame = frame.copy()
    texts = frame["text"].to_numpy(dtype=object)
    texts[chosen] = disguise_words(
        texts[chosen].tolist(), frame["page_id"].astype(str).to_numpy()[chosen].tolist()
    )
    frame["text"] = texts
    return frame


@lru_cache(maxsize=4096)
def _cipher(page_id: str) -> dict[int, int]:
    """The page's letter substitution (lower and upper case alike), from a hash of its id."""
    rng = np.random.default_rng(zlib.crc32(page_id.encode("utf-8")))
    shuffled = "".join(rng.permutation(list(string.ascii_lowercase)))
    return str.maketrans(string.ascii_letters, shuffled + shuffled.upper())


def disguise_words(texts: Sequence[str], page_ids: Sequence[str]) -> list[str]:
    """The lines with their words disguised as those of a language nobody taught the model:
    each page's ASCII letters go through a substitution cipher of the page's own (so a text
    repeated on the page stays a repeat, and no two pages share a vocabulary), and the words of
    the stopword list stay as they are (most languages' function words are in it). Lengths,
    case, digits, punctuation and the page's layout are kept."""

    def disguise(text: str, table: dict[int, int]) -> str:
        def word(m: re.Match[str]) -> str:
            w = m.group()
            return w if w.lower() in _STOPWORDS else w.translate(table)

        return _WORD.sub(word, text)

    return [disguise(t, _cipher(pid)) for t, pid in zip(texts, page_ids, strict=True)]


def _is_short(tokens: np.ndarray) -> np.ndarray:
    return (tokens >= 1) & (tokens <= _SECTION_MAX_TOKENS)


def _share_after(tokens: np.ndarray, page: np.ndarray, y: np.ndarray) -> np.ndarray:
    """For each short line, the content share of the next ``_SECTION_AFTER`` lines of its page
    (NaN for other lines and for a page's last line)."""
    n = len(tokens)
    starts = np.flatnonzero(np.r_[True, page[1:] != page[:-1]])
    sizes = np.diff(np.r_[starts, n])
    csum = page_cumsum((np.asarray(y) > 0).astype(np.float64), page)
    idx = np.arange(n)
    hi = np.minimum(idx + _SECTION_AFTER, starts[page] + sizes[page] - 1)
    count = hi - idx
    share = (csum[hi] - csum) / np.maximum(count, 1)
    return np.where(_is_short(tokens) & (count > 0), share, np.nan)


def _site_votes(keys: np.ndarray, sites: np.ndarray, values: np.ndarray, how: str) -> pd.Series:
    """Each site's vote for each text key: the ``how`` ("max" or "mean") of ``values`` over its
    rows with that key. NaN values do not vote."""
    votes = pd.DataFrame({"key": keys, "site": sites, "v": values}).dropna()
    return votes.groupby(["key", "site"], sort=False)["v"].agg(how)


def _vote_table(per_site: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sorted keys, how many sites voted, the sum of their votes), from :func:`_site_votes`."""
    agg = per_site.groupby(level="key").agg(["size", "sum"])
    return (
        agg.index.to_numpy(dtype=np.int64),
        agg["size"].to_numpy(dtype=np.float32),
        agg["sum"].to_numpy(dtype=np.float32),
    )


def _lookup(
    table: tuple[np.ndarray, np.ndarray, np.ndarray], keys: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The (sites, sum of votes) of a :func:`_vote_table` for each key; 0, 0 for unknown keys."""
    table_keys, table_sites, table_sums = table
    if not len(table_keys):
        return np.zeros(len(keys)), np.zeros(len(keys))
    pos = np.minimum(np.searchsorted(table_keys, keys), len(table_keys) - 1)
    found = table_keys[pos] == keys
    return np.where(found, table_sites[pos], 0.0), np.where(found, table_sums[pos], 0.0)


def _own_site_vote(keys: np.ndarray, sites: np.ndarray, values: np.ndarray, how: str) -> np.ndarray:
    """For each row: the vote its site gave its text in :func:`_site_votes` (NaN: none)."""
    frame = pd.DataFrame({"key": keys, "site": sites, "v": values})
    return frame.groupby(["key", "site"], sort=False)["v"].transform(how).to_numpy()


def _repeat_features(keys: np.ndarray, page: np.ndarray) -> np.ndarray:
    df = pd.DataFrame({"key": keys, "page": page})
    grp = df.groupby(["page", "key"], sort=False)
    count = grp["key"].transform("size").to_numpy(dtype=np.float32)
    earlier = grp.cumcount().to_numpy(dtype=np.float32)
    later = count - 1 - earlier
    return np.column_stack([np.log1p(count - 1), np.log1p(earlier), np.log1p(later), earlier == 0])


def _shift(values: np.ndarray, off: int, page: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``values`` of the line ``off`` places away on the same page (0 past the page's ends), and
    a column that is 1 where there is no such line."""
    rows, neighbours = _neighbour_rows(page, off)
    out = np.zeros_like(values)
    out[rows] = values[neighbours]
    missing = np.ones((len(values), 1), dtype=np.float32)
    missing[rows] = 0.0
    return out, missing


def neighbour_values(values: np.ndarray, off: int, page: np.ndarray, fill: float) -> np.ndarray:
    """``values`` of the line ``off`` places away on the same page (``page``: the lines' page,
    pages contiguous), ``fill`` past the page's ends."""
    rows, neighbours = _neighbour_rows(page, off)
    out = np.full(len(values), fill, dtype=np.result_type(values, fill))
    out[rows] = values[neighbours]
    return out


def _block_features(
    bb: np.ndarray, starts: np.ndarray, tokens: np.ndarray, col: dict
) -> np.ndarray:
    n = len(bb)
    new_block = bb.copy()
    new_block[starts] = True
    block = np.cumsum(new_block) - 1
    counts = np.bincount(block).astype(np.float32)
    first = np.flatnonzero(new_block)
    size = counts[block]
    tok_sum = np.bincount(block, weights=tokens)[block]
    ends = np.bincount(block, weights=col["ends_sentence"])[block] / size
    stop = np.bincount(block, weights=col["stopword_share"])[block] / size
    punct = np.bincount(block, weights=col["punct_share"])[block] / size
    pos = (np.arange(n) - first[block]) / np.maximum(size - 1, 1)
    return np.column_stack(
        [np.log1p(size), np.log1p(tok_sum), np.log1p(tok_sum / size), ends, pos, stop, punct]
    )


def page_cumsum(values: np.ndarray, page: np.ndarray) -> np.ndarray:
    """Inclusive cumulative sums restarted at each page.

    Summed page by page (not across the batch and then differenced), so a page's features are
    bit-for-bit the same whatever else is in the batch: tree models split on exact values.
    """
    return (
        pd.Series(np.asarray(values, dtype=np.float64))
        .groupby(page, sort=False)
        .cumsum()
        .to_numpy()
    )


def window_mean(
    values: np.ndarray, w: int, page: np.ndarray, starts: np.ndarray, sizes: np.ndarray
) -> np.ndarray:
    """Mean of ``values`` over lines i-w..i+w of the same page (``page``: each line's page
    index, 0 to P-1, pages contiguous; ``starts``, ``sizes``: each page's first line and size)."""
    n = len(values)
    csum = page_cumsum(values, page)
    first = starts[page]
    last = first + sizes[page] - 1
    idx = np.arange(n)
    hi = np.minimum(idx + w, last)
    lo = np.maximum(idx - w, first)  # window is lo..hi inclusive
    below = np.where(lo > first, csum[np.maximum(lo - 1, 0)], 0.0)
    return (csum[hi] - below) / (hi - lo + 1)


def page_summary(
    values: np.ndarray,
    page: np.ndarray,
    starts: np.ndarray,
    sizes: np.ndarray,
    weights: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For each line, from ``values`` over its page: the page's mean and highest value, and the
    shares of the page's mass (``values`` times ``weights``; the values alone without weights)
    before and after the line, 0 on a page without mass. ``page``: each line's page index, 0 to
    P-1, pages contiguous; ``starts``, ``sizes``: each page's first line and size."""
    mass = values if weights is None else values * weights
    page_mean = (np.bincount(page, weights=values, minlength=len(starts)) / np.maximum(sizes, 1))[
        page
    ]
    page_max = np.maximum.reduceat(values, starts)[page] if len(values) else np.zeros(0)
    total = np.bincount(page, weights=mass, minlength=len(starts))[page]
    before = page_cumsum(mass, page) - mass
    safe = np.maximum(total, 1e-9)
    return page_mean, page_max, before / safe, (total - before - mass) / safe


def _score_context(
    scores: np.ndarray, tokens: np.ndarray, page: np.ndarray, starts: np.ndarray, sizes: np.ndarray
) -> np.ndarray:
    """The ``score_context`` features (see :class:`LineFeaturizer`) of every line."""
    page_mean, page_max, before, after = page_summary(scores, page, starts, sizes, tokens)
    return np.column_stack(
        [
            window_mean(scores, 5, page, starts, sizes),
            window_mean(scores, 15, page, starts, sizes),
            page_mean,
            page_max,
            scores - page_mean,
            before,
            after,
        ]
    )


def _context_features(texts, tokens, col, page, starts, sizes, distinct, words) -> np.ndarray:
    feats = []
    for w in _WINDOWS:
        feats.append(np.log1p(window_mean(tokens, w, page, starts, sizes)))
        feats.append(window_mean(col["ends_sentence"], w, page, starts, sizes))
        feats.append(window_mean(col["stopword_share"], w, page, starts, sizes))
    long_line = (tokens >= 25) & (col["stopword_share"] > 0.15)
    dist_prev, dist_next = _distances_to_flagged(long_line, starts, sizes, page)
    feats += [np.log1p(dist_prev), np.log1p(dist_next)]
    tok_page = np.bincount(page, weights=tokens)
    before = page_cumsum(tokens, page) - tokens
    feats.append(before / np.maximum(tok_page[page], 1))
    max_tok = np.maximum.reduceat(tokens, starts)[page]
    feats.append(tokens / np.maximum(max_tok, 1))
    feats.append(np.log1p(tok_page[page]))
    feats.append(_prefix_of_later(texts, page))
    # Where the page's main text lies: the span of its long prose lines. Teaser blocks and footers
    # come after it, navigation before; a page with few long lines is a listing, not an article.
    long_tok = tokens * long_line
    long_page = np.bincount(page, weights=long_tok, minlength=len(starts))[page]
    long_before = page_cumsum(long_tok, page) - long_tok
    feats.append(np.where(long_page > 0, long_before / np.maximum(long_page, 1), -1.0))
    has_long_before = long_before > 0
    has_long_after = (long_before + long_tok) < long_page
    feats.append(long_line | (has_long_before & has_long_after))
    n_long = np.bincount(page, weights=long_line.astype(float), minlength=len(starts))[page]
    feats.append(np.log1p(n_long))
    feats.append(long_page / np.maximum(tok_page[page], 1))
    overlap, known = _body_word_overlap(texts, page, long_line, distinct, words)
    feats += [overlap, known]
    return np.column_stack(feats)


def _distances_to_flagged(
    flagged: np.ndarray, starts: np.ndarray, sizes: np.ndarray, page: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Lines to the previous and to the next flagged line (a long prose line, a section marker)
    of the same page, capped at 50."""
    n = len(flagged)
    idx = np.arange(n)
    big = 10**9
    first, last = starts[page], starts[page] + sizes[page] - 1
    prev_incl = np.maximum.accumulate(np.where(flagged, idx, -big))
    prev = np.r_[-big, prev_incl[:-1]] if n else prev_incl
    prev = np.where(prev >= first, prev, -big)
    next_incl = np.minimum.accumulate(np.where(flagged, idx, big)[::-1])[::-1]
    nxt = np.r_[next_incl[1:], big] if n else next_incl
    nxt = np.where(nxt <= last, nxt, big)
    dist_prev = np.minimum(idx - prev, 50).astype(np.float32)
    dist_next = np.minimum(nxt - idx, 50).astype(np.float32)
    return dist_prev, dist_next


def _body_word_overlap(
    texts: list[str],
    page: np.ndarray,
    long_line: np.ndarray,
    distinct: Distinct,
    line_word_lists: list[list[str]],
) -> tuple[np.ndarray, np.ndarray]:
    """Share of a line's distinct content words that the page's other long prose lines use
    (``line_word_lists``: the :func:`~textclf.hashing.line_words` of ``distinct``'s texts).

    A page's own headline shares its words with the article; teasers of other stories do not.
    Set operations throughout: this runs on every line of every page.
    """
    n = len(texts)
    overlap = np.zeros(n, dtype=np.float32)
    known = np.zeros(n, dtype=np.float32)
    codes = distinct[0]  # (distinct_texts of texts)
    # the words of three letters or more, of the words the text model reads of the same texts:
    # a run of 3+ word characters is a run of 2+ that is at least 3 long
    words = [{w for w in ws if len(w) > 2} - _STOPWORDS for ws in line_word_lists]
    if codes is not None:
        words = [words[c] for c in codes]  # shared sets: only read below
    bounds = np.flatnonzero(np.r_[True, page[1:] != page[:-1], True])
    for a, b in itertools.pairwise(bounds):
        counts: Counter[str] = Counter()
        for i in range(a, b):
            if long_line[i]:
                counts.update(words[i])
        if not counts:
            continue
        anywhere = counts.keys()
        # A long line's own words count once: "another long line" means a count of two or more.
        elsewhere = {w for w, c in counts.items() if c > 1}
        for i in range(a, b):
            ws = words[i]
            if ws:
                shared = ws & elsewhere if long_line[i] else ws & anywhere
                overlap[i] = len(shared) / len(ws)
                known[i] = 1.0
    return overlap, known


def _prefix_of_later(texts: list[str], page: np.ndarray) -> np.ndarray:
    """1 when a later line of the page starts with this line's text (a teaser's headline)."""
    out = np.zeros(len(texts), dtype=np.float32)
    seen: set[str] = set()
    for i in range(len(texts) - 1, -1, -1):
        if i + 1 < len(texts) and page[i + 1] != page[i]:
            seen = set()
        text = texts[i]
        if len(text) >= 20:
            key = text[:40]
            if key in seen:
                out[i] = 1.0
            seen.add(key)
    return out
