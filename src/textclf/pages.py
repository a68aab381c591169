"""Pages as textclf sees them: an id, where it came from, and its lines of visible text.

A page's text is one block per line, as scrapers hold it (see ``seeds/``). Blank lines separate
blocks; we keep, for each non-empty line, whether a blank line comes before or after it.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from textclf.errors import InputError

__all__ = ["Line", "Page", "lines_from_text", "read_seed_pages", "read_text_file"]

# Characters str.strip() does not remove but that render as nothing.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_NEWLINES = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class Line:
    """One non-empty line of a page. ``index``: its position among the page's raw lines (blank
    ones included, split on ``\\n``, ``\\r\\n`` and ``\\r``), counting from 0."""

    text: str
    blank_before: bool = False
    blank_after: bool = False
    index: int = -1


@dataclass(slots=True)
class Page:
    """A page: its identity, its lines and, when known, its gold text.

    ``labels`` and ``topics`` hold a hand annotation (one entry per line) when the page has one.
    """

    page_id: str
    source: str
    lines: list[Line]
    url: str = ""
    domain: str = ""
    page_type: str = ""
    split: str = ""
    gold_text: str | None = None
    gold_title: str | None = None
    snippets_with: list[str] = field(default_factory=list)
    snippets_without: list[str] = field(default_factory=list)
    labels: list[int] | None = None
    topics: list[list[str]] | None = None

    @property
    def texts(self) -> list[str]:
        return [line.text for line in self.lines]


def clean_line(raw: str) -> str:
    """Strip surrounding white space (including invisible format characters) from one line."""
    text = raw.strip()
    # Invisible characters are rare: test the ends before paying for a second and third strip.
    if text and (text[0] in _INVISIBLE or text[-1] in _INVISIBLE):
        return text.strip(_INVISIBLE).strip()
    return text


def lines_from_text(text: str) -> list[Line]:
    """Split a page's text into its non-empty lines, remembering the blank lines around them.

    >>> lines = lines_from_text("Menu\\n\\nTitle\\nBody")
    >>> [(x.text, x.blank_before, x.blank_after, x.index) for x in lines]
    [('Menu', False, True, 0), ('Title', True, False, 2), ('Body', False, False, 3)]
    """
    if not isinstance(text, str):
        raise InputError(f"expected the page text as str, got {type(text).__name__}")
    out: list[Line] = []
    pending_blank = False
    raw_lines = _NEWLINES.split(text) if "\r" in text else text.split("\n")  # same, faster
    for index, raw in enumerate(raw_lines):
        cleaned = clean_line(raw)
        if not cleaned:
            if out:
                pending_blank = True
            continue
        if pending_blank and out:
            prev = out[-1]
            out[-1] = Line(prev.text, prev.blank_before, True, prev.index)
        out.append(Line(cleaned, pending_blank, False, index))
        pending_blank = False
    return out


def lines_from_texts(texts: Sequence[str] | Iterable[str]) -> list[Line]:
    """Wrap already-split lines. Empty entries count as blank lines between their neighbours."""
    return lines_from_text(join_lines(texts))


def join_lines(texts: Sequence[str] | Iterable[str]) -> str:
    """Already-split lines as one page text, a line each: a line break inside an entry becomes
    a space, so that entry ``i`` is line ``i`` of the text."""
    if isinstance(texts, str | bytes | bytearray):
        raise InputError(
            "expected a list of lines, got a single "
            f"{type(texts).__name__}; pass text.splitlines() or use predict_page(text)"
        )
    if not isinstance(texts, Iterable):
        raise InputError(f"expected a list of lines, got {texts!r}")
    return "\n".join(_require_str(t, i) for i, t in enumerate(texts))


def _require_str(value: object, index: int) -> str:
    if not isinstance(value, str):
        raise InputError(f"line {index} is {type(value).__name__}, expected str")
    if "\n" in value or "\r" in value:
        # A line with a newline inside would shift every later line's index.
        return value.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return value


def read_text_file(path: Path) -> str:
    """Read a UTF-8 text file, with an error that names the file when it is not text."""
    data = path.read_bytes()
    if b"\x00" in data:
        raise InputError(f"{path}: contains NUL bytes; this is not a text page")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not valid UTF-8 (byte {exc.start}); re-encode it") from exc


def read_seed_pages(
    seeds_dir: Path, known_topics: Collection[str] | None = None, *, split: str = "test"
) -> list[Page]:
    """Read every ``*.txt`` page in ``seeds_dir`` (not its subfolders), with its hand annotation
    when there is one (its topics must be among ``known_topics`` when given).

    ``split`` is the pages' native split: ``test`` for the held-out seed pages, ``dev`` for
    training pages (``seeds/train/``). A page's domain is its annotation's ``# url:`` host, else
    ``seeds:<page id>`` (a site of its own, for the features that leave a line's own site out).
    """
    from textclf.annotation import annotation_path, read_annotation
    from textclf.corpora import domain_of

    seeds_dir = Path(seeds_dir)
    if not seeds_dir.is_dir():
        raise InputError(f"seed folder {seeds_dir} does not exist")
    pages: list[Page] = []
    for path in sorted(seeds_dir.glob("*.txt")):
        lines = lines_from_text(read_text_file(path))
        page = Page(page_id=path.stem, source="seeds", lines=lines, split=split)
        ann_path = annotation_path(path)
        if ann_path.exists():
            ann = read_annotation(
                ann_path, [line.text for line in lines], known_topics=known_topics
            )
            page.labels = [a.label for a in ann]
            page.topics = [list(a.topics) for a in ann]
            page.url = _first_url(ann_path)
        page.domain = domain_of(page.url) or f"seeds:{page.page_id}"
        pages.append(page)
    return pages


def _first_url(path: Path) -> str:
    for raw in path.read_text(encoding="utf-8").splitlines():
        if raw.startswith("# url:"):
            return raw.split(":", 1)[1].strip()
    return ""
