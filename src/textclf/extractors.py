"""HTML main-text extractors that textclf is measured against, scored by ``make eval``.

textclf sees only a page's rendered text; an HTML extractor sees its markup too. ``make eval``
runs each extractor named in ``extractors`` (config) on the HTML of the same test pages and
scores its output with the same metrics, so the comparison the project is judged by (a text-only
line classifier against the best HTML extractors) is measured in every evaluation run, not
quoted. Only the corpora's pages have HTML: the seed pages are text, and get no extractor row.

Each extractor runs with its defaults, the way published benchmark scores use it:

* ``trafilatura``: ``trafilatura.extract(html)``;
* ``readability``: readability-lxml (the Python port of Mozilla's Readability),
  ``Document(html).summary(html_partial=True)``, the HTML it keeps rendered to text by
  :func:`textclf.render.html_to_text`, the renderer textclf's own input comes from;
* ``justext``: ``justext.justext(html, English stoplist)``, its non-boilerplate paragraphs
  one per line (jusText needs a language's stoplist; the Scrapinghub benchmark's jusText
  score used the English one).

An empty document is an empty extraction, not an error.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Collection, Mapping
from pathlib import Path

from textclf.errors import ConfigError

__all__ = ["EXTRACTORS", "check_extractors", "extract_pages"]


def _trafilatura() -> tuple[str, Callable[[str], str]]:
    trafilatura = importlib.import_module("trafilatura")

    def extract(html: str) -> str:
        return trafilatura.extract(html) or ""  # its defaults, as its published scores use

    return trafilatura.__version__, extract


def _readability() -> tuple[str, Callable[[str], str]]:
    # ImportError too when another package named "readability" is installed instead.
    from importlib.metadata import version

    from readability import Document
    from readability.readability import Unparseable

    from textclf.render import html_to_text

    logging.getLogger("readability.readability").setLevel(logging.CRITICAL)  # per-page chatter

    def extract(html: str) -> str:
        try:
            kept = Document(html).summary(html_partial=True)
        except Unparseable:  # what it raises for an empty document
            return ""
        return html_to_text(kept)

    return version("readability-lxml"), extract


def _justext() -> tuple[str, Callable[[str], str]]:
    justext = importlib.import_module("justext")
    from importlib.metadata import version

    from lxml.etree import ParserError  # lxml comes with jusText

    stoplist = justext.get_stoplist("English")

    def extract(html: str) -> str:
        try:
            paragraphs = justext.justext(html, stoplist)
        except ParserError:  # lxml: "Document is empty" (markup with no elements)
            return ""
        return "\n".join(p.text for p in paragraphs if not p.is_boilerplate)

    return version("jusText"), extract


#: Extractor name -> a loader returning its version and its ``html -> main text`` function.
EXTRACTORS: dict[str, Callable[[], tuple[str, Callable[[str], str]]]] = {
    "trafilatura": _trafilatura,
    "readability": _readability,
    "justext": _justext,
}
#: The pip extra that installs each extractor.
_EXTRA = {"trafilatura": "bench", "readability": "bench", "justext": "bench"}


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
    extractors: Mapping[str, Callable[[str], str]],
    corpora_dir: Path | str,
    pages: Mapping[str, str],
) -> dict[str, dict[str, str]]:
    """Run each of ``extractors`` (name -> ``html -> text``) on the HTML of ``pages`` (page id
    -> source, ``wcxb`` or ``scrapinghub``), read once from the corpora under ``corpora_dir``:
    ``{name: {page id: text}}``.

    A page that the corpora do not hold is a :class:`ConfigError` (the dataset was built from
    other corpora than ``paths.corpora_dir`` points at)."""
    from textclf.corpora import SOURCES, iter_records, read_html

    if not extractors:  # nothing to run: the corpora are not read
        return {}
    wanted: dict[str, set[str]] = {}
    for page_id, source in pages.items():
        if source not in SOURCES:
            raise ConfigError(f"page {page_id} comes from {source!r}, which has no HTML")
        wanted.setdefault(source, set()).add(page_id)
    out: dict[str, dict[str, str]] = {name: {} for name in extractors}
    for source, ids in wanted.items():
        found = set()
        for record in iter_records(Path(corpora_dir), source):
            if record.page_id in ids:
                html = read_html(record.html_path)
                for name, extract in extractors.items():
                    out[name][record.page_id] = extract(html)
                found.add(record.page_id)
        missing = sorted(ids - found)
        if missing:
            raise ConfigError(
                f"{len(missing)} {source} page(s) of the dataset (first: {missing[0]}) are not in "
                f"the corpora at {corpora_dir}: point paths.corpora_dir (TEXTCLF_CORPORA_DIR) at "
                "the corpora the dataset was built from, or pass extractors=[]"
            )
    return out
