"""Baselines scored the same way as the model: keep every line, and a heuristic line filter.

``line_rules`` follows the C4 / FineWeb line rules: keep a line that ends in terminal punctuation
and has at least three words, unless it mentions JavaScript, cookies or policies, or is a
"lorem ipsum" placeholder.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from textclf.errors import ConfigError

__all__ = ["BASELINES", "keep_all", "line_rules"]

_TERMINAL = re.compile(r"[.!?\"'”’…]$")
_WORD = re.compile(r"\w+")
_BAD = re.compile(
    r"javascript|lorem ipsum|terms of use|privacy policy|cookie policy|uses cookies|"
    r"use of cookies|use cookies",
    re.IGNORECASE,
)


def keep_all(texts: Sequence[str]) -> np.ndarray:
    """Keep every line: the page's whole text."""
    return np.ones(len(texts), dtype=np.int8)


def line_rules(texts: Sequence[str]) -> np.ndarray:
    """C4-style line filter."""
    return np.fromiter(
        (
            bool(_TERMINAL.search(t)) and len(_WORD.findall(t)) >= 3 and not _BAD.search(t)
            for t in texts
        ),
        dtype=np.int8,
        count=len(texts),
    )


BASELINES: dict[str, Callable[[Sequence[str]], np.ndarray]] = {
    "keep_all": keep_all,
    "line_rules": line_rules,
}


def get_baseline(name: str) -> Callable[[Sequence[str]], np.ndarray]:
    if name not in BASELINES:
        raise ConfigError(f"unknown baseline {name!r}; valid: {', '.join(BASELINES)}")
    return BASELINES[name]
