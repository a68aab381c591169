"""Content/boilerplate labels for corpus lines, by aligning each line with the gold main text.

Two rules, both in config (``data.align``):

* a line of ``min_tokens`` or more tokens is content when at least ``threshold`` of its
  ``shingle_size``-token shingles are found, still unconsumed, in the gold. Each gold shingle can be
  consumed once, so only the first copy of a headline that a teaser block repeats is content;
* a shorter line ("Ingredients", "Step 2") is content only when its tokens occur, unconsumed and in
  order, in the stretch of gold between the content lines around it. A navigation line such as
  "Health" is not content just because the word occurs somewhere in the article.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["AlignConfig", "align_labels", "align_tokens"]

_TOKEN = re.compile(r"\w+")


@dataclass
class AlignConfig:
    """How corpus lines are matched against the gold text."""

    shingle_size: int = 3
    min_tokens: int = 3
    threshold: float = 0.7
    # Short lines must match inside the gold gap between their neighbouring content lines.
    short_lines_in_order: bool = True
    # Prepend the gold title (when the corpus has one) to a non-empty gold text: the headline is
    # content.
    use_title: bool = True


def align_tokens(text: str) -> list[str]:
    """The tokens alignment works on: lowercased ``\\w+`` runs."""
    return _TOKEN.findall(text.lower())


def align_labels(
    lines: Sequence[str],
    gold: str | None,
    title: str | None = None,
    config: AlignConfig | None = None,
) -> list[int]:
    """Label each line 1 (content) or 0 (boilerplate) by aligning it with the gold text.

    >>> align_labels(["Menu", "Big news today", "It rained all day long.", "Big news today"],
    ...              gold="It rained all day long.", title="Big news today")
    [0, 1, 1, 0]
    """
    cfg = config or AlignConfig()
    k = cfg.shingle_size
    gold_tokens = align_tokens(gold or "")
    # A page without main text has no content line, its title included: what the WCXB page
    # score rewards there is keeping nothing.
    if cfg.use_title and title and gold_tokens:
        gold_tokens = align_tokens(title) + gold_tokens
    n_lines = len(lines)
    labels = [0] * n_lines
    if not gold_tokens:
        return labels

    index: dict[tuple[str, ...], list[int]] = {}
    for at in range(len(gold_tokens) - k + 1):
        index.setdefault(tuple(gold_tokens[at : at + k]), []).append(at)
    shingle_used: set[int] = set()
    token_used = bytearray(len(gold_tokens))
    spans: list[tuple[int, int] | None] = [None] * n_lines
    line_tokens = [align_tokens(t) for t in lines]

    # Pass 1: long lines, by shingle overlap; prefer occurrences after the previous content line.
    cursor = 0
    for i, toks in enumerate(line_tokens):
        if len(toks) < max(cfg.min_tokens, k):
            continue
        shingles = [tuple(toks[j : j + k]) for j in range(len(toks) - k + 1)]
        chosen: list[int] = []
        pos: int | None
        for sh in shingles:
            positions = index.get(sh)
            if not positions:
                continue
            pos = _first_free(positions, cursor, shingle_used)
            if pos is None:
                pos = _first_free(positions, 0, shingle_used)
            if pos is not None:
                chosen.append(pos)
                shingle_used.add(pos)
        if chosen and len(chosen) / len(shingles) >= cfg.threshold:
            labels[i] = 1
            start, end = min(chosen), max(chosen) + k
            spans[i] = (start, end)
            for pos in chosen:
                token_used[pos : pos + k] = b"\x01" * k
            cursor = end
        else:
            shingle_used.difference_update(chosen)

    # Pass 2: short lines, matched in order inside the gold gap around them.
    next_start = [len(gold_tokens)] * (n_lines + 1)
    for i in range(n_lines - 1, -1, -1):
        span = spans[i]
        next_start[i] = span[0] if span else next_start[i + 1]
    lo = 0
    for i, toks in enumerate(line_tokens):
        span = spans[i]
        if span is not None:
            lo = max(lo, span[1])
            continue
        if not toks or len(toks) >= max(cfg.min_tokens, k):
            continue
        hi = next_start[i + 1] if cfg.short_lines_in_order else len(gold_tokens)
        start = lo if cfg.short_lines_in_order else 0
        pos = _find_run(gold_tokens, toks, start, hi, token_used)
        if pos is not None:
            labels[i] = 1
            token_used[pos : pos + len(toks)] = b"\x01" * len(toks)
            if cfg.short_lines_in_order:
                lo = pos + len(toks)
    return labels


def _first_free(positions: list[int], start: int, used: set[int]) -> int | None:
    for j in range(bisect_left(positions, start), len(positions)):
        if positions[j] not in used:
            return positions[j]
    return None


def _find_run(tokens: list[str], run: list[str], lo: int, hi: int, used: bytearray) -> int | None:
    n = len(run)
    first = run[0]
    for pos in range(lo, hi - n + 1):
        if tokens[pos] == first and tokens[pos : pos + n] == run and not any(used[pos : pos + n]):
            return pos
    return None
