"""Score line decisions on a dataset split: line, page and snippet metrics in one call.

Used for the labels' oracle score (keep exactly the lines labeled content), for models and for
baselines, so every number in the project is computed the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from textclf.metrics import (
    bootstrap_intervals,
    line_scores,
    page_text,
    shingle_scores,
    snippet_rates,
    wcxb_scores,
)

__all__ = ["page_predictions", "score_difference", "score_pages", "score_split"]


def page_predictions(
    page_ids: Sequence[str], texts: Sequence[str], keep: Sequence[int] | np.ndarray
) -> dict[str, str]:
    """Each page's predicted text: its kept lines, in order, joined by newlines."""
    by_page: dict[str, tuple[list[str], list[int]]] = {}
    for pid, text, k in zip(page_ids, texts, keep, strict=True):
        lines, flags = by_page.setdefault(pid, ([], []))
        lines.append(text)
        flags.append(int(k))
    return {pid: page_text(lines, flags) for pid, (lines, flags) in by_page.items()}


def score_split(
    lines: Mapping[str, Sequence[Any]],
    pages: Mapping[str, Sequence[Any]],
    keep: Sequence[int] | np.ndarray,
    *,
    intervals: bool = False,
) -> dict[str, float]:
    """Score keep/drop decisions for the lines of one split.

    ``lines`` needs columns ``page_id``, ``text`` and ``label``; ``pages`` needs ``page_id``,
    ``page_type``, ``gold_text``, ``has_gold``, ``snippets_with`` and ``snippets_without``.
    Returns ``line_*`` metrics over lines with a known label, ``page_*`` WCXB page metrics (and per
    page type), ``shingle_*`` Scrapinghub metrics and ``snippet_*`` rates, over pages with gold;
    with ``intervals``, also the 95% bootstrap intervals of the page and shingle F1
    (``page_f1_low``, ``page_f1_high``, ``shingle_f1_low``, ``shingle_f1_high``).
    """
    keep = np.asarray(keep, dtype=np.int8)
    labels = np.asarray(lines["label"], dtype=np.int8)
    out: dict[str, float] = {}
    known = labels >= 0
    if known.any():
        for key, value in line_scores(labels[known], keep[known]).items():
            out[f"line_{key}"] = float(value)
    preds = page_predictions(lines["page_id"], lines["text"], keep)
    out.update(score_pages(pages, preds, intervals=intervals))
    return out


def score_pages(
    pages: Mapping[str, Sequence[Any]],
    preds: Mapping[str, str],
    *,
    intervals: bool = False,
) -> dict[str, float]:
    """The page metrics of :func:`score_split` for predicted page texts (``{page id: text}``; a
    page missing from ``preds`` counts as an empty prediction), whoever made them: the model's
    kept lines, a baseline's, or an HTML extractor's output."""
    out: dict[str, float] = {}
    rows = [i for i, has in enumerate(pages["has_gold"]) if has]
    if not rows:
        return out
    pred_texts = [preds.get(pages["page_id"][i], "") for i in rows]
    golds = [pages["gold_text"][i] for i in rows]
    types = [pages["page_type"][i] or "unknown" for i in rows]
    for key, value in wcxb_scores(pred_texts, golds, types).items():
        out[f"page_{key}"] = float(value)
    for key, value in shingle_scores(pred_texts, golds).items():
        out[f"shingle_{key}"] = float(value)
    snip = snippet_rates(
        pred_texts,
        [pages["snippets_with"][i] for i in rows],
        [pages["snippets_without"][i] for i in rows],
    )
    for key, value in snip.items():
        out[f"snippet_{key}"] = float(value)
    if intervals:
        out.update(bootstrap_intervals(pred_texts, golds))
    return out


def score_difference(
    pages: Mapping[str, Sequence[Any]], preds: Mapping[str, str], versus: Mapping[str, str]
) -> dict[str, float]:
    """How much better the page texts ``preds`` score than ``versus`` on the pages with gold,
    with paired 95% bootstrap intervals (:func:`~textclf.metrics.bootstrap_intervals` with
    ``versus``): the keys ``page_f1_diff``, ``shingle_f1_diff`` and their ``_low``/``_high``."""
    rows = [i for i, has in enumerate(pages["has_gold"]) if has]
    ids = [pages["page_id"][i] for i in rows]
    out = bootstrap_intervals(
        [preds.get(pid, "") for pid in ids],
        [pages["gold_text"][i] for i in rows],
        versus=[versus.get(pid, "") for pid in ids],
    )
    return {k: v for k, v in out.items() if "_diff" in k}
