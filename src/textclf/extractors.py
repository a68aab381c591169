"""HTML main-text extractors that textclf is measured against, scored by ``make eval``.

textclf sees only a page's rendered text; an HTML extractor sees its markup too. ``make eval``
runs each extractor named in ``extractors`` (config) on the HTML of the same test pages and
scores its output with the same metrics, so the comparison the project is judged by (a text-only
line classifier against the best HTML extractors) is measured in every evaluation run, not
quoted. Only the corpora's pages have HTML: the seed pages are text, and get no extractor row.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Collection, Mapping
from pathlib import Path

from textclf.errors import ConfigError

__all__ = ["EXTRACTORS", "check_extractors", "extract_pages"]


def _trafilatura() -> tuple[str, Callable[[str], str]]:
    trafilatura = importlib.import_module("trafilatura")

    def extract(html: str) -> str:
        return trafilatura.extract(html) or ""  # its defaults, as its published scores use

    return trafilatura.__version__, extract


#: Extractor name -> a loader returning its version and its ``html -> main text`` function.
EXTRACTORS: dict[str, Callable[[], tuple[str, Callable[[str], str]]]] = {
    "trafilatura": _trafilatura,
}
#: The pip extra that installs each extractor.
_EXTRA = {"trafilatura": "bench"}


def check_extractors(names: Collection[str]) -> dict[str, tuple[str, Callable[[str], str]]]:
    """Load the named extractors: ``{name: (version, extract)}``. An unknown name, or one that is
    not installed, is a :class:`ConfigError` saying how to get it or leave it out."""
    unknown = sorted(set(names) - set(EXTRACTORS))
    if unknown:
        raise ConfigError(
            f"unknown extractor(s) {unknown}; valid: {', '.join(sorted(EXTRACTORS))} "
            "(or extractors=[] for none)"
        )
    loaded = {}
    for name in names:
        try:
            loaded[name] = EXTRACTORS[name]()
        except ImportError as exc:
            raise ConfigError(
                f"extractor {name!r} is not installed ({exc}): pip install "
                f"'textclf[{_EXTRA[name]}]' (make install does), or pass extractors=[]"
            ) from exc
    return loaded


def extract_pages(
    extract: Callable[[str], str],
    corpora_dir: Path | str,
    pages: Mapping[str, str],
) -> dict[str, str]:
    """Run ``extract`` on the HTML of ``pages`` (page id -> source, ``wcxb`` or
    ``scrapinghub``), read from the corpora under ``corpora_dir``: ``{page id: text}``.

    A page that the corpora do not hold is a :class:`ConfigError` (the dataset was built from
    other corpora than ``paths.corpora_dir`` points at)."""
    from textclf.corpora import SOURCES, iter_records, read_html

    wanted: dict[str, set[str]] = {}
    for page_id, source in pages.items():
        if source not in SOURCES:
            raise ConfigError(f"page {page_id} comes from {source!r}, which has no HTML")
        wanted.setdefault(source, set()).add(page_id)
    out: dict[str, str] = {}
    for source, ids in wanted.items():
        for record in iter_records(Path(corpora_dir), source):
            if record.page_id in ids:
                out[record.page_id] = extract(read_html(record.html_path))
        missing = sorted(ids - out.keys())
        if missing:
            raise ConfigError(
                f"{len(missing)} {source} page(s) of the dataset (first: {missing[0]}) are not in "
                f"the corpora at {corpora_dir}: point paths.corpora_dir (TEXTCLF_CORPORA_DIR) at "
                "the corpora the dataset was built from, or pass extractors=[]"
            )
    return out
