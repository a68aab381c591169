"""The same pages written another way, to measure how the model reads text from other tools.

The corpora's pages, like the seed page, separate their blocks with blank lines; many
HTML-to-text tools write one block per line with no blank line between blocks, and some put a
blank line after every line. Pages in a language the model never read are measured with their
words disguised (``unknown_words``: each page's letters through a cipher of its own, stopwords
kept). A variant rewrites the featurizer's input table (:data:`textclf.features.LINE_COLUMNS`):
the lines and their labels stay the same, so its scores compare directly with the scores of the
pages as they come. ``make eval``
(``input_variants`` in conf/evaluate.yaml) and ``make train`` and ``make cv``
(``input_variants`` in conf/train.yaml) score them.

A render variant writes a corpus page's HTML as text another way (:data:`RENDER_VARIANTS`):
the lines differ, so only page scores compare. ``make eval`` scores them
(``render_variants`` in conf/evaluate.yaml).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any

import numpy as np
import pandas as pd

from textclf.errors import ConfigError
from textclf.features import disguise_words
from textclf.models import Decision
from textclf.render import html_to_text_nodes

__all__ = [
    "INPUT_VARIANTS",
    "RENDER_VARIANTS",
    "check_input_variants",
    "check_render_variants",
    "variant_keeps",
    "variant_probabilities",
]


def _no_blank_lines(lines: pd.DataFrame) -> pd.DataFrame:
    return lines.assign(blank_before=False, blank_after=False)


def _blank_lines_everywhere(lines: pd.DataFrame) -> pd.DataFrame:
    return lines.assign(blank_before=True, blank_after=True)


def _unknown_words(lines: pd.DataFrame) -> pd.DataFrame:
    texts = disguise_words(lines["text"].tolist(), lines["page_id"].astype(str).tolist())
    return lines.assign(text=texts)


#: name: (how reports describe it, the rewrite of the lines table).
INPUT_VARIANTS: dict[str, tuple[str, Callable[[pd.DataFrame], pd.DataFrame]]] = {
    "no_blank_lines": ("no blank lines", _no_blank_lines),
    "blank_lines_everywhere": ("a blank line between all lines", _blank_lines_everywhere),
    "unknown_words": ("words disguised, stopwords kept", _unknown_words),
}


#: name: (how reports describe it, ``html -> text``).
RENDER_VARIANTS: dict[str, tuple[str, Callable[[str], str]]] = {
    "text_nodes": ("one text node per line", html_to_text_nodes),
}


def _check(names: Sequence[str], known: Collection[str], kind: str, setting: str) -> list[str]:
    bad = [name for name in names if name not in known]
    if bad:
        raise ConfigError(f"{setting}: unknown {kind}(s) {bad}; valid: {', '.join(known)}")
    return list(names)


def check_input_variants(names: Sequence[str], setting: str) -> list[str]:
    """``names`` when every one is a variant; else a ConfigError naming ``setting``."""
    return _check(names, INPUT_VARIANTS, "input variant", setting)


def check_render_variants(names: Sequence[str], setting: str) -> list[str]:
    """``names`` when every one is a render variant; else a ConfigError naming ``setting``."""
    return _check(names, RENDER_VARIANTS, "render variant", setting)


def variant_probabilities(
    pipe: Any, lines: pd.DataFrame, names: Sequence[str]
) -> dict[str, np.ndarray]:
    """The content probabilities the fitted pipeline ``pipe`` gives ``lines`` (the model's input
    columns) written as each variant of ``names``: ``{name: probabilities}``."""
    return {name: pipe.predict_proba(INPUT_VARIANTS[name][1](lines))[:, 1] for name in names}


def variant_keeps(
    pipe: Any,
    lines: pd.DataFrame,
    names: Sequence[str],
    decision: Decision,
) -> dict[str, np.ndarray]:
    """The 0/1 content decisions (``int8``) the fitted pipeline makes on ``lines`` written as each
    variant of ``names``, with the ``decision`` (:class:`textclf.models.Decision`) made for the
    lines as they come: ``{name: keep}``. A variant changes blank-line flags, or letters within
    each page by one cipher (a repeat stays a repeat), so ``lines``' page ids and texts hold."""
    page, texts = lines["page_id"].to_numpy(), lines["text"].to_numpy()
    return {
        name: decision.mask(proba, page, texts).astype(np.int8)
        for name, proba in variant_probabilities(pipe, lines, names).items()
    }
