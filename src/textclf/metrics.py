"""Every evaluation metric of textclf, in one place.

* :func:`page_text` builds a page's predicted text from its lines and the content decisions.
* WCXB page scores (:func:`wcxb_scores`): bag-of-words precision, recall and F1 per page,
  averaged over pages (optionally per page type).
* Scrapinghub article-extraction-benchmark scores (:func:`shingle_scores`): 4-token shingle
  precision and recall per page, averaged over pages, and the F1 of the two averages.
* WCXB snippet rates (:func:`snippet_rates`): share of "with" snippets found in the prediction
  (higher is better) and of "without" snippets found in it (lower is better).
* Line-level scores of the content class (:func:`line_scores`).
* Bootstrap intervals of the page and shingle F1 (:func:`bootstrap_intervals`): how far a
  score could move on another sample of pages like these; and of the difference between two
  systems on the same pages (``versus``, paired).

All functions are pure Python plus numpy. Mismatched input lengths raise :class:`ValueError`
naming both lengths; texts that are not ``str`` raise :class:`TypeError`.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence, Sized
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "SHINGLE_SIZE",
    "PageScore",
    "bootstrap_intervals",
    "line_scores",
    "page_text",
    "shingle_page_counts",
    "shingle_scores",
    "shingles",
    "snippet_rates",
    "wcxb_page_scores",
    "wcxb_scores",
    "wcxb_tokens",
]

SHINGLE_SIZE = 4
"""Number of tokens in one shingle of the Scrapinghub benchmark."""

_WORD = re.compile(r"\w+")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class PageScore:
    """Precision, recall and F1 of one page."""

    precision: float
    recall: float
    f1: float


# --------------------------------------------------------------------------- validation


def _check_same_length(name_a: str, a: Sized, name_b: str, b: Sized) -> None:
    if len(a) != len(b):
        raise ValueError(f"{name_a} has {len(a)} items but {name_b} has {len(b)}; they must match")


def _check_text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be str, got {type(value).__name__}")
    return value


def _check_texts(values: Sequence[str], what: str) -> Sequence[str]:
    if isinstance(values, str):
        raise TypeError(f"{what} must be a sequence of str (one per page), got a single str")
    for i, value in enumerate(values):
        _check_text(value, f"{what}[{i}]")
    return values


def _f1(precision: float, recall: float) -> float:
    total = precision + recall
    return 2.0 * precision * recall / total if total > 0 else 0.0


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values) if values else 0.0


# --------------------------------------------------------------------------- page text


def page_text(lines: Sequence[str], keep: Sequence[bool | int]) -> str:
    """Return a page's predicted text: the lines whose ``keep`` entry is true, joined by "\\n".

    ``keep`` may hold bools or 0/1 ints (a numpy array works too).
    """
    _check_texts(lines, "lines")
    _check_same_length("lines", lines, "keep", keep)
    return "\n".join(line for line, k in zip(lines, keep, strict=True) if k)


# --------------------------------------------------------------------------- WCXB page F1


def wcxb_tokens(text: str) -> list[str]:
    """Return the WCXB tokens of ``text``: the ``\\w+`` runs of its lowercased form."""
    return _WORD.findall(_check_text(text, "text").lower())


def wcxb_page_scores(pred: str, gold: str) -> PageScore:
    """Return the WCXB bag-of-words precision, recall and F1 of one page.

    The overlap is the size of the multiset intersection of the two token bags;
    P = overlap / #pred tokens, R = overlap / #gold tokens. A gold text without tokens scores
    1 (P, R and F1) when the prediction has no tokens either and 0 otherwise; a prediction
    without tokens against a non-empty gold scores 0.
    """
    pred_tokens = wcxb_tokens(pred)
    gold_tokens = wcxb_tokens(gold)
    if not gold_tokens:
        value = 0.0 if pred_tokens else 1.0
        return PageScore(value, value, value)
    if not pred_tokens:
        return PageScore(0.0, 0.0, 0.0)
    overlap = (Counter(pred_tokens) & Counter(gold_tokens)).total()
    precision = overlap / len(pred_tokens)
    recall = overlap / len(gold_tokens)
    return PageScore(precision, recall, _f1(precision, recall))


def wcxb_scores(
    preds: Sequence[str],
    golds: Sequence[str],
    page_types: Sequence[str] | None = None,
) -> dict[str, float]:
    """Return the WCXB scores of a set of pages: per-page scores averaged over pages.

    Keys: ``precision``, ``recall``, ``f1`` (means over pages; 0.0 when there are no pages) and
    ``n_pages``. When ``page_types`` is given (one per page), also ``precision/<type>``,
    ``recall/<type>``, ``f1/<type>`` and ``n_pages/<type>`` for every type present.
    """
    _check_texts(preds, "preds")
    _check_texts(golds, "golds")
    _check_same_length("preds", preds, "golds", golds)
    if page_types is not None:
        _check_texts(page_types, "page_types")
        _check_same_length("preds", preds, "page_types", page_types)

    scores = [wcxb_page_scores(p, g) for p, g in zip(preds, golds, strict=True)]
    result: dict[str, float] = _wcxb_means(scores, "")
    if page_types is not None:
        by_type: dict[str, list[PageScore]] = {}
        for score, page_type in zip(scores, page_types, strict=True):
            by_type.setdefault(page_type, []).append(score)
        for page_type in sorted(by_type):
            result.update(_wcxb_means(by_type[page_type], f"/{page_type}"))
    return result


def _wcxb_means(scores: Sequence[PageScore], suffix: str) -> dict[str, float]:
    return {
        f"precision{suffix}": _mean([s.precision for s in scores]),
        f"recall{suffix}": _mean([s.recall for s in scores]),
        f"f1{suffix}": _mean([s.f1 for s in scores]),
        f"n_pages{suffix}": len(scores),
    }


# --------------------------------------------------------------------------- Scrapinghub shingles


def shingles(text: str) -> Counter[tuple[str, ...]]:
    """Return the multiset of 4-token shingles of ``text`` (tokens are ``\\w+``, case kept).

    A text with 1 to 3 tokens is one shingle of all its tokens; a text without tokens gives an
    empty multiset.
    """
    tokens = _WORD.findall(_check_text(text, "text"))
    if not tokens:
        return Counter()
    if len(tokens) < SHINGLE_SIZE:
        return Counter([tuple(tokens)])
    return Counter(zip(*(tokens[i:] for i in range(SHINGLE_SIZE)), strict=False))


def shingle_page_counts(pred: str, gold: str) -> tuple[int, int, int]:
    """Return ``(tp, fp, fn)`` of one page: tp is the size of the shingle multiset intersection,
    fp = #pred shingles - tp and fn = #gold shingles - tp."""
    pred_shingles = shingles(pred)
    gold_shingles = shingles(gold)
    tp = (pred_shingles & gold_shingles).total()
    return tp, pred_shingles.total() - tp, gold_shingles.total() - tp


def _shingle_page_pr(pred: str, gold: str) -> tuple[float, float]:
    """One page's shingle precision and recall, NaN where undefined: precision needs predicted
    shingles, recall gold ones; both are 1 when nothing is missed and nothing is extra."""
    tp, fp, fn = shingle_page_counts(pred, gold)
    precision = (1.0 if fp == fn == 0 else tp / (tp + fp)) if tp + fp > 0 else math.nan
    recall = (1.0 if fp == fn == 0 else tp / (tp + fn)) if tp + fn > 0 else math.nan
    return precision, recall


def shingle_scores(preds: Sequence[str], golds: Sequence[str]) -> dict[str, float]:
    """Return the Scrapinghub benchmark scores of a set of pages.

    Per page, P = tp / (tp + fp) and R = tp / (tp + fn) (both 1 when fp = fn = 0). P is only
    defined, and averaged, over pages whose prediction has shingles; R over pages whose gold
    has shingles (a page with both empty counts in neither). ``f1`` is the harmonic mean of the
    averaged P and R. Keys: ``precision``, ``recall``, ``f1``, ``n_pages``; an average over no
    pages is 0.0.
    """
    _check_texts(preds, "preds")
    _check_texts(golds, "golds")
    _check_same_length("preds", preds, "golds", golds)

    pages = [_shingle_page_pr(pred, gold) for pred, gold in zip(preds, golds, strict=True)]
    precision = _mean([p for p, _ in pages if not math.isnan(p)])
    recall = _mean([r for _, r in pages if not math.isnan(r)])
    return {
        "precision": precision,
        "recall": recall,
        "f1": _f1(precision, recall),
        "n_pages": len(preds),
    }


# --------------------------------------------------------------------------- WCXB snippets


def _normalise(text: str) -> str:
    return _SPACES.sub(" ", text.lower()).strip()


def _count_found(
    texts: Sequence[str], snippets: Sequence[Sequence[str]], what: str
) -> tuple[int, int]:
    found = total = 0
    for i, (text, page_snippets) in enumerate(zip(texts, snippets, strict=True)):
        if isinstance(page_snippets, str):
            raise TypeError(f"{what}[{i}] must be a sequence of str, got a single str")
        for j, snippet in enumerate(page_snippets):
            needle = _normalise(_check_text(snippet, f"{what}[{i}][{j}]"))
            if not needle:
                continue
            total += 1
            found += needle in text
    return found, total


def snippet_rates(
    preds: Sequence[str],
    withs: Sequence[Sequence[str]],
    withouts: Sequence[Sequence[str]],
) -> dict[str, float]:
    """Return the WCXB snippet rates of a set of pages.

    ``withs[i]`` are snippets that page ``i``'s prediction should contain, ``withouts[i]``
    snippets it should not. Matching is a substring test after lowercasing and collapsing runs
    of white space (including the "\\n" between lines) to one space, on both sides; snippets
    that are empty after this are ignored. Rates are pooled over all snippets of all pages.

    Keys: ``with_rate`` (share of "with" snippets found; higher is better), ``without_rate``
    (share of "without" snippets found; lower is better), ``n_with`` and ``n_without``. A rate
    key is left out when there are no snippets of its kind.
    """
    _check_texts(preds, "preds")
    _check_same_length("preds", preds, "withs", withs)
    _check_same_length("preds", preds, "withouts", withouts)
    texts = [_normalise(p) for p in preds]
    found_with, n_with = _count_found(texts, withs, "withs")
    found_without, n_without = _count_found(texts, withouts, "withouts")
    result: dict[str, float] = {"n_with": n_with, "n_without": n_without}
    if n_with:
        result["with_rate"] = found_with / n_with
    if n_without:
        result["without_rate"] = found_without / n_without
    return result


# --------------------------------------------------------------------------- line level


def _as_labels(values: ArrayLike, what: str) -> np.ndarray:
    array = np.asarray(values)
    if array.ndim != 1:
        raise ValueError(f"{what} must be one-dimensional, got shape {array.shape}")
    if array.size and array.dtype.kind not in "biuf":
        raise TypeError(f"{what} must hold numeric labels, got dtype {array.dtype}")
    return array


def line_scores(y_true: ArrayLike, y_pred: ArrayLike) -> dict[str, float]:
    """Return line-level scores of the content class (label 1).

    Keys: ``precision``, ``recall``, ``f1`` of label 1, ``accuracy``, ``support`` (number of
    true content lines) and ``n_lines``. A zero division gives 0.0.
    """
    true = _as_labels(y_true, "y_true")
    pred = _as_labels(y_pred, "y_pred")
    _check_same_length("y_true", true, "y_pred", pred)
    true_pos = true == 1
    pred_pos = pred == 1
    tp = int(np.count_nonzero(true_pos & pred_pos))
    n_pred = int(np.count_nonzero(pred_pos))
    support = int(np.count_nonzero(true_pos))
    n_lines = int(true.size)
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / support if support else 0.0
    accuracy = int(np.count_nonzero(true == pred)) / n_lines if n_lines else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": _f1(precision, recall),
        "accuracy": accuracy,
        "support": support,
        "n_lines": n_lines,
    }


# --------------------------------------------------------------------------- bootstrap intervals


def bootstrap_intervals(
    preds: Sequence[str],
    golds: Sequence[str],
    *,
    versus: Sequence[str] | None = None,
    level: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
    min_pages: int = 10,
) -> dict[str, float]:
    """Percentile bootstrap intervals of the WCXB page F1 and the Scrapinghub shingle F1.

    The pages are resampled with replacement ``resamples`` times (seeded: the same inputs give
    the same interval) and each score recomputed the way :func:`wcxb_scores` and
    :func:`shingle_scores` compute it. Keys: ``page_f1_low``, ``page_f1_high``,
    ``shingle_f1_low``, ``shingle_f1_high`` (the ``level`` interval); empty with fewer than
    ``min_pages`` pages, where resampling says little (one page always gives its own score).
    A few hundred pages measure a score to about +-0.02 (WCXB test's 511 pages: +-0.018 around
    0.866; Scrapinghub's 181: +-0.025).

    ``versus``, another system's texts of the same pages, adds how much better ``preds`` score
    than it, with a paired bootstrap: both are scored on the same resamples, so what the pages
    have in common (easy and hard pages) cancels out, and the difference is measured more
    tightly than the two systems' own intervals suggest. Keys ``page_f1_diff`` and
    ``shingle_f1_diff`` (the differences on all the pages), each with ``_low`` and ``_high``.
    """
    systems = {"preds": preds} if versus is None else {"preds": preds, "versus": versus}
    for name, values in (*systems.items(), ("golds", golds)):
        _check_texts(values, name)
        _check_same_length(name, values, "golds", golds)
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be between 0 and 1, got {level}")
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1, got {resamples}")
    n = len(preds)
    if n == 0 or n < min_pages:  # (min_pages may be 0)
        return {}
    sample = np.random.default_rng(seed).integers(0, n, size=(resamples, n))
    tails = [100 * (1 - level) / 2, 100 * (1 + level) / 2]
    per_page = {name: _per_page(texts, golds) for name, texts in systems.items()}
    scores = {name: _resampled_scores(values, sample) for name, values in per_page.items()}
    out: dict[str, float] = {}
    for key, resampled in zip(("page_f1", "shingle_f1"), scores["preds"], strict=True):
        out[f"{key}_low"], out[f"{key}_high"] = map(float, np.percentile(resampled, tails))
    if versus is not None:
        everything = np.arange(n)[None, :]
        whole = {name: _resampled_scores(values, everything) for name, values in per_page.items()}
        for i, key in enumerate(("page_f1", "shingle_f1")):
            out[f"{key}_diff"] = float(whole["preds"][i][0] - whole["versus"][i][0])
            diff = scores["preds"][i] - scores["versus"][i]
            out[f"{key}_diff_low"], out[f"{key}_diff_high"] = map(float, np.percentile(diff, tails))
    return out


def _per_page(
    preds: Sequence[str], golds: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each page's WCXB F1, shingle precision and shingle recall (NaN where undefined, as
    :func:`shingle_scores` leaves them out)."""
    page_f1 = np.array([wcxb_page_scores(p, g).f1 for p, g in zip(preds, golds, strict=True)])
    shingle = np.array(
        [_shingle_page_pr(p, g) for p, g in zip(preds, golds, strict=True)], dtype=np.float64
    ).reshape(-1, 2)
    return page_f1, shingle[:, 0], shingle[:, 1]


def _resampled_scores(
    per_page: tuple[np.ndarray, np.ndarray, np.ndarray], sample: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Mean page F1 and shingle F1 of each resample (a row of page indices)."""
    page_f1, precision, recall = per_page
    p = _nanmean_rows(precision[sample])
    r = _nanmean_rows(recall[sample])
    total = p + r
    shingle_f1 = np.divide(2 * p * r, total, out=np.zeros_like(total), where=total > 0)
    return page_f1[sample].mean(axis=1), shingle_f1


def _nanmean_rows(values: np.ndarray) -> np.ndarray:
    """Row means over the defined (non-NaN) entries; 0.0 for a row with none (as :func:`_mean`)."""
    defined = ~np.isnan(values)
    counts = defined.sum(axis=1)
    sums = np.where(defined, values, 0.0).sum(axis=1)
    return np.divide(sums, counts, out=np.zeros(len(values)), where=counts > 0)
