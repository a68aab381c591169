"""The dataset card: counts per split, page type and topic, label sources and oracle scores."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
from datasets import DatasetDict

from textclf.scoring import score_split

__all__ = ["dataset_card", "render_card_markdown"]

_ORACLE_KEYS = ("page_f1", "page_precision", "page_recall", "shingle_f1", "snippet_with_rate")


def dataset_card(
    lines: DatasetDict,
    pages: DatasetDict,
    topic_names: list[str],
    *,
    fingerprint: str,
    seconds: float,
    build: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Summarise a built dataset. The oracle keeps exactly the lines labeled content.
    ``build``: how it was built (sources, page limit, split settings), recorded as is."""
    card: dict[str, Any] = {
        "fingerprint": fingerprint,
        "build_seconds": round(seconds, 1),
        "build": dict(build or {}),
        "topics": list(topic_names),
        "splits": {},
    }
    for split in lines:
        ln, pg = lines[split], pages[split]
        labels = np.asarray(ln["label"], dtype=np.int8)
        known = labels >= 0
        topic_counts = Counter(t for ts in ln["topics"] for t in ts)
        info: dict[str, Any] = {
            "pages": len(pg),
            "lines": len(ln),
            "domains": len(set(pg["domain"])),
            "content_share": round(float(labels[known].mean()), 4) if known.any() else None,
            "page_types": dict(sorted(Counter(pg["page_type"]).items())),
            "sources": dict(sorted(Counter(pg["source"]).items())),
            "label_sources": dict(Counter(ln["label_source"])),
            "topic_sources": dict(Counter(ln["topic_source"])),
            "topic_lines": {name: topic_counts.get(name, 0) for name in topic_names},
        }
        if len(ln) and known.any():
            scores = score_split(ln.to_dict(), pg.to_dict(), (labels == 1).astype(np.int8))
            info["oracle"] = {
                k: round(v, 4)
                for k, v in scores.items()
                if k in _ORACLE_KEYS or k.startswith("page_f1/")
            }
        card["splits"][split] = info
    # The labels' quality over all of WCXB dev (train and validation together).
    dev = [s for s in ("train", "validation") if s in lines]
    if dev:
        from datasets import concatenate_datasets

        ln = concatenate_datasets([lines[s] for s in dev])
        pg = concatenate_datasets([pages[s] for s in dev])
        keep = (np.asarray(ln["label"], dtype=np.int8) == 1).astype(np.int8)
        scores = score_split(ln.to_dict(), pg.to_dict(), keep)
        card["oracle_wcxb_dev"] = {
            k: round(v, 4)
            for k, v in scores.items()
            if k in _ORACLE_KEYS or k.startswith("page_f1/")
        }
    return card


def _build_summary(build: dict[str, Any]) -> str:
    if not build:
        return ""
    limit = build.get("limit") or 0
    pages = f"the first {limit} pages of each corpus split" if limit else "every page"
    return f" from {', '.join(build.get('sources', []))} ({pages})"


def render_card_markdown(card: dict[str, Any]) -> str:
    """The card as Markdown, for people."""
    splits = card["splits"]
    out = [
        "# textclf line dataset",
        "",
        f"Fingerprint `{card['fingerprint']}`, built in {card['build_seconds']} s"
        + _build_summary(card.get("build", {}))
        + ".",
        "Labels: 1 content, 0 boilerplate, -1 unknown. Corpus lines are labeled by alignment with "
        "the gold text; seed lines by hand annotation.",
        "",
        "## Splits",
        "",
        "| split | pages | lines | domains | content share | oracle page F1 | oracle shingle F1 |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, info in splits.items():
        oracle = info.get("oracle", {})
        out.append(
            f"| {name} | {info['pages']} | {info['lines']} | {info['domains']} | "
            f"{_fmt(info['content_share'])} | {_fmt(oracle.get('page_f1'))} | "
            f"{_fmt(oracle.get('shingle_f1'))} |"
        )
    own = sum(splits[s]["sources"].get("seeds", 0) for s in ("train", "validation") if s in splits)
    if own:
        out += [
            "",
            f"Train and validation hold {own} annotated page(s) of your own (`seeds/train/`, "
            "labeled by hand) besides WCXB dev's; the oracle below counts them.",
        ]
    if "oracle_wcxb_dev" in card:
        dev = card["oracle_wcxb_dev"]
        out += [
            "",
            "Oracle over all of WCXB dev (train + validation): "
            f"page F1 {_fmt(dev.get('page_f1'))}, shingle F1 {_fmt(dev.get('shingle_f1'))}.",
        ]
    types = sorted({t for info in splits.values() for t in info["page_types"]})
    out += ["", "## Pages per page type", "", "| split | " + " | ".join(types) + " |"]
    out.append("|---|" + "---:|" * len(types))
    for name, info in splits.items():
        out.append(
            f"| {name} | " + " | ".join(str(info["page_types"].get(t, 0)) for t in types) + " |"
        )
    out += ["", "## Oracle page F1 per page type", "", "| split | " + " | ".join(types) + " |"]
    out.append("|---|" + "---:|" * len(types))
    for name, info in splits.items():
        oracle = info.get("oracle", {})
        out.append(
            f"| {name} | " + " | ".join(_fmt(oracle.get(f"page_f1/{t}")) for t in types) + " |"
        )
    topics = card["topics"]
    out += ["", "## Lines per topic", "", "| split | " + " | ".join(topics) + " |"]
    out.append("|---|" + "---:|" * len(topics))
    for name, info in splits.items():
        out.append(
            f"| {name} | " + " | ".join(str(info["topic_lines"].get(t, 0)) for t in topics) + " |"
        )
    out += ["", "## Label sources", ""]
    for name, info in splits.items():
        out.append(f"- {name}: labels {info['label_sources']}, topics {info['topic_sources']}")
    return "\n".join(out) + "\n"


def _fmt(value: Any) -> str:
    return "–" if value is None else f"{value:.3f}" if isinstance(value, float) else str(value)
