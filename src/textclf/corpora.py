"""Read the public benchmark corpora (WCXB, Scrapinghub): HTML plus gold main text per page."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from textclf.errors import CorpusError
from textclf.pages import Page, lines_from_text
from textclf.render import RenderOptions, decode_html, html_to_text

__all__ = ["CorpusRecord", "iter_records", "load_page"]

SOURCES = ("wcxb", "scrapinghub")


@dataclass(frozen=True)
class CorpusRecord:
    """One corpus page before rendering: where its HTML is and what its gold says."""

    page_id: str
    source: str
    split: str
    html_path: Path
    url: str = ""
    domain: str = ""
    page_type: str = ""
    gold_text: str | None = None
    gold_title: str | None = None
    snippets_with: list[str] = field(default_factory=list)
    snippets_without: list[str] = field(default_factory=list)


def domain_of(url: str) -> str:
    """The host of a URL without a leading ``www.``."""
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def iter_records(corpora_dir: Path, source: str) -> Iterator[CorpusRecord]:
    """Yield the pages of one corpus, in a stable order."""
    corpora_dir = Path(corpora_dir)
    if source == "wcxb":
        yield from _iter_wcxb(corpora_dir / "wcxb")
    elif source == "scrapinghub":
        yield from _iter_scrapinghub(corpora_dir / "scrapinghub")
    else:
        raise CorpusError(f"unknown corpus {source!r}; valid names: {', '.join(SOURCES)}")


def _read_json(path: Path) -> dict:
    if not path.is_file():
        raise CorpusError(
            f"{path} is missing: the corpus folder is incomplete. "
            "Delete it to have `make data` download it again, or fix TEXTCLF_CORPORA_DIR."
        )
    try:
        with path.open(encoding="utf-8") as fh:
            data = json.load(fh)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CorpusError(
            f"{path} is not valid JSON ({exc}): the corpus folder is damaged. Delete it to have "
            "`make data` download it again, or fix TEXTCLF_CORPORA_DIR."
        ) from exc
    if not isinstance(data, dict):
        raise CorpusError(f"{path}: expected a JSON object, found {type(data).__name__}")
    return data


def _iter_wcxb(root: Path) -> Iterator[CorpusRecord]:
    metadata = _read_json(root / "metadata.json")
    files = metadata.get("files")
    if not isinstance(files, dict) or not files:
        raise CorpusError(
            f'{root / "metadata.json"} lists no pages (no "files" object): this is not the '
            "WCXB layout (metadata.json with files, dev/ and test/ folders)"
        )
    for page_id in sorted(files):
        meta = files[page_id]
        split = meta["split"]
        gt = _read_json(root / split / "ground-truth" / f"{page_id}.json")
        gold = gt.get("ground_truth") or {}
        page_type = meta.get("page_type") or (
            gt.get("_internal", {}).get("page_type", {}) or {}
        ).get("primary", "")
        yield CorpusRecord(
            page_id=page_id,
            source="wcxb",
            split=split,
            html_path=root / split / "html" / f"{page_id}.html.gz",
            url=gt.get("url", "") or "",
            domain=meta.get("domain") or domain_of(gt.get("url", "") or ""),
            page_type="collection" if page_type == "category" else page_type,
            gold_text=gold.get("main_content") or "",
            gold_title=gold.get("title") or None,
            snippets_with=list(gold.get("with") or []),
            snippets_without=list(gold.get("without") or []),
        )


def _iter_scrapinghub(root: Path) -> Iterator[CorpusRecord]:
    gt = _read_json(root / "ground-truth.json")
    for page_id in sorted(gt):
        item = gt[page_id]
        url = item.get("url", "") or ""
        yield CorpusRecord(
            page_id=page_id,
            source="scrapinghub",
            split="test",
            html_path=root / "html" / f"{page_id}.html.gz",
            url=url,
            domain=domain_of(url),
            page_type="article",
            gold_text=item.get("articleBody") or "",
        )


def read_html(path: Path) -> str:
    """Read a (possibly gzipped) HTML file and decode it."""
    if not path.is_file():
        raise CorpusError(f"{path} is missing: the corpus folder is incomplete")
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return decode_html(data)


def load_page(record: CorpusRecord, render: RenderOptions | None = None) -> Page:
    """Render a corpus page's HTML into lines and attach its gold."""
    text = html_to_text(read_html(record.html_path), render)
    return Page(
        page_id=record.page_id,
        source=record.source,
        lines=lines_from_text(text),
        url=record.url,
        domain=record.domain,
        page_type=record.page_type,
        split=record.split,
        gold_text=record.gold_text,
        gold_title=record.gold_title,
        snippets_with=record.snippets_with,
        snippets_without=record.snippets_without,
    )
