"""Hand annotations of a page's lines: which are content, which boilerplate, and their topics.

A page ``seeds/<stem>.txt`` is annotated in ``seeds/<stem>.annotation.tsv`` beside it: UTF-8,
tab-separated (``<TAB>`` below is one tab character), in this layout::

    # url: https://example.org/news/1                     <- optional comments, only at the top
    # any other reminder for the annotator
    label<TAB>topics<TAB>text                              <- the header row, required
    boilerplate<TAB><TAB>Home News Sport
    content<TAB>diplomacy,korean_peninsula<TAB>Putin meets North Korean foreign minister

After the header comes one row per non-empty line of the page, in page order (the lines that
:func:`textclf.pages.lines_from_text` gives, already stripped):

* ``label`` is ``content`` (the page's own main text) or ``boilerplate`` (everything else);
* ``topics`` is a comma-separated list of topic names (see ``conf/topics/default.yaml``); it may
  be empty;
* ``text`` is the line's exact text, so that an annotation that no longer matches its page (a line
  added, removed or edited) is refused instead of silently labelling the wrong lines.

Escaping: page lines practically never hold a tab, but if one does, it is written as the two
characters ``\\t`` in the text column, and a backslash is written as ``\\\\``; reading undoes both.
A backslash followed by any other character is read as it stands, so hand-typed text such as
``C:\\Users`` survives (only ``\\t`` and ``\\\\`` are special).

From the shell::

    python -m textclf.annotation template seeds/new_page.txt   # a starter annotation to edit
    python -m textclf.annotation template seeds/train/p.txt --model   # pre-filled by the champion
    python -m textclf.annotation template p.txt --model --favor precision  # ... with a preset
    python -m textclf.annotation check                         # every seed annotation
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path
from typing import TYPE_CHECKING

from textclf.errors import AnnotationError
from textclf.files import write_atomically

if TYPE_CHECKING:
    from textclf.pages import Line

__all__ = [
    "HEADER",
    "LABELS",
    "LineAnnotation",
    "annotation_path",
    "read_annotation",
    "validate_annotation",
    "write_annotation",
]

#: Label names in the file and the integer labels they stand for.
LABELS: dict[str, int] = {"content": 1, "boilerplate": 0}
_LABEL_NAMES = {value: name for name, value in LABELS.items()}
#: The header row's columns.
HEADER = ("label", "topics", "text")
ANNOTATION_SUFFIX = ".annotation.tsv"

_GUIDELINE = (
    "# label: content = the page's own main text (headline, standfirst, body paragraphs, in-body",
    "#   subheadings, quotes, body lists and tables); boilerplate = everything else (navigation,",
    "#   dates, bylines, captions, credits, related links, teasers, share/ads/cookie/legal text).",
    "# topics: comma-separated names from conf/topics/default.yaml (may be empty).",
    "# text: the page's non-empty line exactly (a tab is written \\t, a backslash \\\\).",
)


@dataclass(frozen=True)
class LineAnnotation:
    """The annotation of one non-empty page line: 1 = content, 0 = boilerplate."""

    label: int
    topics: tuple[str, ...]
    text: str

    def __post_init__(self) -> None:
        if self.label not in _LABEL_NAMES or isinstance(self.label, bool):
            raise AnnotationError(
                f"label must be 0 (boilerplate) or 1 (content), got {self.label!r}"
            )
        if isinstance(self.topics, str):
            raise AnnotationError(f"topics must be a list of names, not the str {self.topics!r}")
        if not isinstance(self.topics, tuple):
            object.__setattr__(self, "topics", tuple(self.topics))


def annotation_path(page_path: Path) -> Path:
    """Where the hand annotation of ``page_path`` lies: ``<dir>/<stem>.annotation.tsv``."""
    page_path = Path(page_path)
    return page_path.with_name(page_path.stem + ANNOTATION_SUFFIX)


def escape_text(text: str) -> str:
    """Escape a line's text for the text column (backslash and tab)."""
    return text.replace("\\", "\\\\").replace("\t", "\\t")


def unescape_text(field: str) -> str:
    """Undo :func:`escape_text`; any other backslash sequence is kept as it stands."""
    if "\\" not in field:
        return field
    out: list[str] = []
    i, n = 0, len(field)
    while i < n:
        ch = field[i]
        if ch == "\\" and i + 1 < n and field[i + 1] in "\\t":
            out.append("\t" if field[i + 1] == "t" else "\\")
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


@dataclass(frozen=True)
class _Row:
    row: int  # 1-based line number in the file
    ann: LineAnnotation


def _parse(path: Path) -> list[_Row]:
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise AnnotationError(f"{path}: annotation file not found") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise AnnotationError(f"{path}: not valid UTF-8 (byte {exc.start}); re-encode it") from exc

    rows: list[_Row] = []
    seen_header = False
    for number, line in enumerate(text.splitlines(), start=1):
        if not seen_header:
            stripped = line.strip()
            if not stripped or stripped.startswith("#"):
                continue
            columns = tuple(col.strip().lower() for col in line.split("\t"))
            if columns != HEADER:
                raise AnnotationError(
                    f"{path} row {number}: missing header row; expected "
                    f"{chr(9).join(HEADER)!r} after the '#' comment lines, found {_show(line)}"
                )
            seen_header = True
            continue
        if not line.strip():
            continue  # a blank row carries nothing: page lines are never empty
        fields = line.split("\t", 2)
        if len(fields) != 3:
            raise AnnotationError(
                f"{path} row {number}: expected 3 tab-separated columns (label, topics, text), "
                f"found {len(fields)}: {_show(line)}"
            )
        label_field, topics_field, text_field = fields
        label_name = label_field.strip().lower()
        if label_name not in LABELS:
            raise AnnotationError(
                f"{path} row {number}: unknown label {label_field.strip()!r}; "
                f"use one of {', '.join(LABELS)}"
            )
        topics: list[str] = []
        for topic in topics_field.split(","):
            topic = topic.strip()
            if topic and topic not in topics:
                topics.append(topic)
        line_text = unescape_text(text_field).strip()
        if not line_text:
            raise AnnotationError(f"{path} row {number}: the text column is empty")
        rows.append(_Row(number, LineAnnotation(LABELS[label_name], tuple(topics), line_text)))
    if not seen_header:
        raise AnnotationError(
            f"{path}: missing header row {chr(9).join(HEADER)!r} (the file has no rows)"
        )
    return rows


def read_annotation(
    path: Path,
    page_lines: Sequence[str] | None = None,
    *,
    known_topics: Collection[str] | None = None,
) -> list[LineAnnotation]:
    """Read a hand annotation, one entry per non-empty page line.

    With ``page_lines`` (the page's non-empty lines, as :func:`textclf.pages.lines_from_text`
    gives them) the annotation must match the page line for line; with ``known_topics`` every
    topic must be one of them. Raises :class:`AnnotationError` otherwise.
    """
    rows = _parse(path)
    if page_lines is not None:
        _check_matches_page(path, rows, page_lines)
    if known_topics is not None:
        _check_topics(path, rows, known_topics)
    return [r.ann for r in rows]


def validate_annotation(
    path: Path,
    page_lines: Sequence[str],
    known_topics: Collection[str] | None = None,
) -> list[LineAnnotation]:
    """Check that an annotation matches its page (and the taxonomy); return its entries."""
    return read_annotation(path, page_lines, known_topics=known_topics)


def write_annotation(
    path: Path,
    annotations: Iterable[LineAnnotation],
    *,
    url: str = "",
    comments: Sequence[str] = _GUIDELINE,
) -> None:
    """Write an annotation file atomically (a temporary file, then ``os.replace``).

    ``url`` becomes a ``# url: ...`` comment; ``comments`` (by default a guideline reminder) are
    written after it, each prefixed with ``#`` when it is not already.
    """
    path = Path(path)
    out = []
    if url:
        if "\n" in url or "\r" in url:
            raise AnnotationError(f"{path}: the url must be one line, got {url!r}")
        out.append(f"# url: {url.strip()}")
    for comment in comments:
        comment = comment.replace("\r", " ").replace("\n", " ")
        out.append(comment if comment.startswith("#") else f"# {comment}")
    out.append("\t".join(HEADER))
    for i, ann in enumerate(annotations, start=1):
        for topic in ann.topics:
            if not topic or topic != topic.strip() or any(c in topic for c in ",\t\r\n"):
                raise AnnotationError(
                    f"{path}: line {i} has an invalid topic name {topic!r} "
                    "(no commas, tabs, newlines or surrounding spaces)"
                )
        text = ann.text.strip()
        if not text or "\n" in text or "\r" in text:
            raise AnnotationError(
                f"{path}: line {i} must be one non-empty line of text, got {ann.text!r}"
            )
        out.append(f"{_LABEL_NAMES[ann.label]}\t{','.join(ann.topics)}\t{escape_text(text)}")
    write_atomically(path, ("\n".join(out) + "\n").encode("utf-8"))


# --- checks -------------------------------------------------------------------------------


_MAX_SHOWN = 100


def _show(text: str, start: int = 0) -> str:
    """``repr`` of a text, shortened around ``start`` when it is long."""
    if len(text) <= _MAX_SHOWN + 20:
        return repr(text)
    begin = max(0, min(start - 30, len(text) - _MAX_SHOWN))
    piece = text[begin : begin + _MAX_SHOWN]
    return ("…" if begin else "") + repr(piece) + ("…" if begin + _MAX_SHOWN < len(text) else "")


def _show_pair(expected: str, found: str) -> tuple[str, str]:
    """Both texts, shortened around their first difference."""
    common = 0
    for a, b in zip(expected, found, strict=False):
        if a != b:
            break
        common += 1
    return _show(expected, common), _show(found, common)


def _check_matches_page(path: Path, rows: Sequence[_Row], page_lines: Sequence[str]) -> None:
    page = [str(line) for line in page_lines]
    found = [r.ann.text for r in rows]
    if page == found:
        return
    n_page, n_ann = len(page), len(found)

    def row_of(j: int) -> int:
        return rows[j].row if j < len(rows) else (rows[-1].row + 1 if rows else 1)

    if n_page == n_ann:
        differing = [i for i, (a, b) in enumerate(zip(page, found, strict=True)) if a != b]
        i = differing[0]
        expected, got = _show_pair(page[i], found[i])
        message = (
            f"{path} row {row_of(i)}: page line {i + 1} is {expected} but the annotation has "
            f"{got} (was the page edited? re-annotate this line)"
        )
        if len(differing) > 1:
            message += f"; {len(differing)} lines differ in all"
        raise AnnotationError(message)

    counts = f"the page has {n_page} non-empty lines but the annotation has {n_ann} rows; "
    opcodes = SequenceMatcher(None, page, found, autojunk=False).get_opcodes()
    tag, i1, i2, j1, j2 = next(op for op in opcodes if op[0] != "equal")
    if tag == "replace" and (i2 - i1) == (j2 - j1):
        expected, got = _show_pair(page[i1], found[j1])
        message = (
            f"{path} row {row_of(j1)}: {counts}page line {i1 + 1} is {expected} but the "
            f"annotation has {got} (was the page edited? re-annotate this line)"
        )
    elif tag == "delete" or (tag == "replace" and (i2 - i1) > (j2 - j1)):
        message = (
            f"{path} row {row_of(j1)}: {counts}page line {i1 + 1} is {_show(page[i1])} but the "
            "annotation has no row for it (was a line added to the page? "
            + ("annotate it before this row)" if j1 < n_ann else "add a row for it at the end)")
        )
    else:  # "insert": rows that the page no longer has
        where = f"page line {i1 + 1} is {_show(page[i1])}" if i1 < n_page else "the page ends"
        message = (
            f"{path} row {row_of(j1)}: {counts}{where} but the annotation has "
            f"{_show(found[j1])} (was this line removed from the page? delete the row)"
        )
    raise AnnotationError(message)


def _check_topics(path: Path, rows: Sequence[_Row], known_topics: Collection[str]) -> None:
    known = set(known_topics)
    for r in rows:
        unknown = [t for t in r.ann.topics if t not in known]
        if unknown:
            raise AnnotationError(
                f"{path} row {r.row}: unknown topic {unknown[0]!r}; known topics: "
                f"{', '.join(sorted(known)) or '(none)'}"
            )


# --- command line ---------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m textclf.annotation template PAGE`` / ``check [FOLDER]``."""
    import argparse
    import sys

    from textclf.config import project_root
    from textclf.errors import TextclfError

    root = project_root()
    parser = argparse.ArgumentParser(
        prog="python -m textclf.annotation",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--topics",
        type=Path,
        default=root / "conf" / "topics" / "default.yaml",
        help="the taxonomy whose topic names annotations may use",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    template = sub.add_parser(
        "template", help="write PAGE's annotation with every line boilerplate, to edit by hand"
    )
    template.add_argument("page", type=Path, help="a plain-text page, e.g. seeds/new.txt")
    template.add_argument("--url", default="", help="the page's address, kept as a comment")
    template.add_argument("--force", action="store_true", help="overwrite an annotation")
    template.add_argument(
        "--model",
        nargs="?",
        const="",
        default=None,
        metavar="URI",
        help="pre-fill the labels (and topics) with a model's predictions, to correct by hand: "
        "the champion, or a model path or URI as textclf.load() takes it",
    )
    template.add_argument(
        "--favor",
        default=None,
        metavar="PRESET",
        help="with --model: pre-fill with one of the model's decision presets (precision: the "
        "fewest boilerplate lines marked content, as news pages need)",
    )
    check = sub.add_parser(
        "check",
        help="check every annotation in FOLDER against its page (default: seeds/ and, when it "
        "exists, seeds/train/)",
    )
    check.add_argument("folder", type=Path, nargs="?")
    check.add_argument("--topics", type=Path, default=argparse.SUPPRESS, help="as above")
    args = parser.parse_args(argv)
    try:
        if args.command == "template":
            if args.favor is not None and args.model is None:
                raise AnnotationError("--favor chooses a model's decision: give --model too")
            return _template(args.page, args.url, args.force, args.model, args.favor)
        if args.folder is not None:
            folders = [args.folder]
        else:
            train = root / "seeds" / "train"
            folders = [root / "seeds", *([train] if train.is_dir() else [])]
        for folder in folders:
            _check(folder, args.topics)
        return 0
    except (TextclfError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _template(
    page: Path, url: str, force: bool, model: str | None = None, favor: str | None = None
) -> int:
    from textclf.pages import lines_from_text, read_text_file

    out = annotation_path(page)
    if out.exists() and not force:
        raise AnnotationError(f"{out} exists; pass --force to overwrite it")
    text = read_text_file(page)
    lines = lines_from_text(text)
    if not lines:
        raise AnnotationError(f"{page} has no non-empty line to annotate")
    if model is None:
        rows = [LineAnnotation(0, (), line.text) for line in lines]
        how = "all boilerplate; mark the content lines and topics"
    else:
        rows, source = _predicted_rows(text, lines, model, favor)
        content = sum(r.label for r in rows)
        preset = f" (favor {favor})" if favor else ""
        how = f"{content} marked content by {source}{preset}; check every line and its topics"
    write_annotation(out, rows, url=url)
    print(f"wrote {out}: {len(lines)} lines, {how}")
    return 0


def _predicted_rows(
    text: str, lines: Sequence[Line], model: str, favor: str | None = None
) -> tuple[list[LineAnnotation], str]:
    """One annotation row per line of ``lines`` (the page ``text`` split), labeled and tagged
    as the model predicts them (with its preset ``favor``, if given); the model's source."""
    import textclf

    clf = textclf.load(model or None)
    predicted = {p.line_index: p for p in clf.predict_page(text, favor=favor).lines}
    rows = []
    for line in lines:
        p = predicted.get(line.index)
        rows.append(
            LineAnnotation(int(p.is_content), tuple(p.topics or ()), line.text)
            if p is not None
            else LineAnnotation(0, (), line.text)
        )
    return rows, clf.source


def _check(folder: Path, topics: Path) -> None:
    from textclf.pages import read_seed_pages
    from textclf.topics import load_topics_config

    names = list(load_topics_config(topics).taxonomy)
    pages = read_seed_pages(folder, known_topics=names)  # raises on the first bad annotation
    annotated = [p for p in pages if p.labels is not None]
    content = sum(sum(p.labels or []) for p in annotated)
    print(
        f"{folder}: {len(pages)} pages, {len(annotated)} annotated, all match their pages "
        f"and the taxonomy ({content} content lines)"
    )


if __name__ == "__main__":
    raise SystemExit(main())
