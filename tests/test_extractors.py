"""The HTML extractors `make eval` and `make bench` compare textclf with (hand-written pages)."""

from __future__ import annotations

import pytest

from textclf import extractors
from textclf.errors import ConfigError

PARAGRAPHS = [
    "The council voted on Tuesday to rebuild the old harbour wall, which has been closed to the "
    "public since the storms of last winter, and the work is expected to take most of the year "
    "because the stones have to be brought in by boat from the quarry on the other side.",
    "Residents who spoke at the meeting said that they were glad the decision had finally been "
    "made, but several of them asked why it had taken so long, and whether the fishermen would "
    "be able to use the quay while the builders were working on the wall next to it.",
    "The mayor said that the harbour would stay open for the boats during the whole of the work, "
    "and that the council would write to every household in the town before the first lorries "
    "arrive, so that nobody is surprised by the noise or by the closed roads along the shore.",
]
PAGE = (
    "<html><head><title>Harbour wall to be rebuilt</title></head><body>"
    '<nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>'
    '<li><a href="/sport">Sport</a></li><li><a href="/contact">Contact us</a></li></ul></nav>'
    "<article><h1>Harbour wall to be rebuilt</h1>"
    + "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    + "</article>"
    '<aside><h3>Most read</h3><ul><li><a href="/a">Cat rescued from tree</a></li>'
    '<li><a href="/b">New bakery opens</a></li></ul></aside>'
    "<footer><p>Copyright 2026 The Harbour Gazette. All rights reserved.</p>"
    '<p><a href="/privacy">Privacy</a> | <a href="/cookies">Cookies</a></p></footer>'
    "</body></html>"
)


@pytest.mark.parametrize("name", sorted(extractors.EXTRACTORS))
def test_each_extractor_keeps_the_article_and_drops_the_menus(name: str) -> None:
    version, extract = extractors.check_extractors([name])[name]
    assert version and version[0].isdigit()
    text = extract(PAGE)
    lines = [line for line in text.splitlines() if line.strip()]
    for paragraph in PARAGRAPHS:
        assert paragraph in lines  # one paragraph per line, whole
    for boilerplate in ("Contact us", "Cat rescued from tree", "All rights reserved", "Cookies"):
        assert boilerplate not in text


@pytest.mark.parametrize("name", sorted(extractors.EXTRACTORS))
@pytest.mark.parametrize("html", ["", "   \n", "<!-- nothing -->", "<html></html>"])
def test_an_empty_document_is_an_empty_extraction(name: str, html: str) -> None:
    _, extract = extractors.check_extractors([name])[name]
    assert extract(html) == ""


def test_unknown_and_missing_extractors_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match=r"unknown extractor\(s\) \['jusText'\]; valid: justext"):
        extractors.check_extractors(["jusText"])

    def missing() -> tuple[str, object]:
        raise ImportError("No module named 'readability'")

    monkeypatch.setitem(extractors.EXTRACTORS, "readability", missing)
    with pytest.raises(ConfigError, match=r"'readability' is not installed.*textclf\[bench\]"):
        extractors.check_extractors(["trafilatura", "readability"])


def test_extract_pages_reads_each_page_once_for_all_extractors(tmp_path, monkeypatch) -> None:
    import textclf.corpora
    from corpus_fixtures import make_tiny_corpora

    corpora = make_tiny_corpora(tmp_path / "corpora", n_dev=1, n_test=2, n_sh=1)
    pages = {"0002": "wcxb", "0003": "wcxb"}
    reads: list[str] = []
    read_html = textclf.corpora.read_html
    monkeypatch.setattr(textclf.corpora, "read_html", lambda p: reads.append(p) or read_html(p))
    out = extractors.extract_pages(
        {"upper": str.upper, "length": lambda h: str(len(h))}, corpora, pages
    )
    assert len(reads) == 2
    assert set(out) == {"upper", "length"} and set(out["upper"]) == set(pages)
    assert out["length"]["0002"] == str(len(out["upper"]["0002"]))
    # No extractor: the corpora are not read at all, not even to look for the pages.
    assert extractors.extract_pages({}, tmp_path / "nowhere", pages) == {}
    with pytest.raises(ConfigError, match=r"1 wcxb page\(s\) of the dataset \(first: 9999\)"):
        extractors.extract_pages({"upper": str.upper}, corpora, {"9999": "wcxb"})
