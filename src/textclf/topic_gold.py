"""The hand-annotated topic gold set: read, write, resolve against the dataset, and a small CLI.

The gold set (``annotations/topics_gold.tsv``) gives the topics of a few hundred corpus lines, as
decided by a person reading each line in its page against the topic definitions of
``conf/topics/default.yaml``. It holds **no corpus text**: a line is referred to by its source,
page id, line index (0-based, among the page's non-empty lines) and the first 16 hex digits of
the SHA-256 of its stripped text. Resolving the file against the rendered lines (the built
dataset) checks every hash, so an annotation never silently lands on a line that changed.

File layout (UTF-8, tab-separated; ``#`` lines are comments)::

    source	page_id	line	sha	topics
    wcxb	0123	17	1f0c6a...	diplomacy,korean_peninsula
    scrapinghub	042bb7...	40	9ab1e2...

Annotation guideline: a line gets a topic when the line, read in its page, is about that topic
(a sentence of an article that carries on the article's subject counts even without a keyword; a
keyword used in another sense does not). Empty topics means "about none of the topics".

CLI (reads the built dataset, ``data/processed/dataset`` unless ``--dataset``)::

    python -m textclf.topic_gold search 'counterpart|envoy' --source scrapinghub --rule none
    python -m textclf.topic_gold show scrapinghub 042bb7... --from 30 --to 60
    python -m textclf.topic_gold add wcxb 0123 17 diplomacy,korean_peninsula
    python -m textclf.topic_gold check            # resolve every entry, print the statistics

``search`` and ``show`` print corpus text to the console for the annotator: never paste it into
the repository.
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from collections import Counter
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textclf.errors import AnnotationError, TextclfError
from textclf.files import write_atomically

__all__ = [
    "GOLD_HEADER",
    "GoldEntry",
    "gold_statistics",
    "line_hash",
    "main",
    "read_gold",
    "resolve_gold",
    "write_gold",
]

GOLD_HEADER = ("source", "page_id", "line", "sha", "topics")
SOURCES = ("wcxb", "scrapinghub", "seeds")
# The dataset splits each source's pages live in (WCXB dev is split into train and validation).
SOURCE_SPLITS = {
    "wcxb": ("train", "validation"),
    "scrapinghub": ("scrapinghub",),
    "seeds": ("seeds",),
}
_SHA = re.compile(r"^[0-9a-f]{16}$")
_COMMENTS = (
    "# Hand-annotated topics of corpus lines (textclf.topic_gold). No corpus text in this file:",
    "# a line is its source, page id, line index (0-based, non-empty lines) and the first 16 hex",
    "# of sha256(stripped line text). Topics: names from conf/topics/default.yaml,",
    "# comma-separated, empty = none. A line gets a topic when, read in its page, it is about it.",
)


def line_hash(text: str) -> str:
    """The first 16 hex digits of the SHA-256 of the stripped line text (UTF-8)."""
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class GoldEntry:
    """One annotated line: where it is, the hash of its text, and its topics."""

    source: str
    page_id: str
    line: int
    sha: str
    topics: tuple[str, ...]

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.source, self.page_id, self.line)


def _parse_topics(field: str, where: str, known: Collection[str] | None) -> tuple[str, ...]:
    names = tuple(t.strip() for t in field.split(",") if t.strip())
    if len(set(names)) != len(names):
        raise AnnotationError(f"{where}: a topic is repeated in {field!r}")
    if known is not None:
        unknown = [t for t in names if t not in known]
        if unknown:
            raise AnnotationError(
                f"{where}: unknown topic(s) {', '.join(unknown)}; the taxonomy has "
                f"{', '.join(known)}"
            )
    return names


def read_gold(path: Path | str, known_topics: Collection[str] | None = None) -> list[GoldEntry]:
    """Read and check a gold file; topics are checked against ``known_topics`` when given.

    Raises :class:`~textclf.errors.AnnotationError` naming the file and line at fault.
    """
    path = Path(path)
    if not path.is_file():
        raise AnnotationError(f"no topic gold set at {path}")
    entries: list[GoldEntry] = []
    seen: dict[tuple[str, str, int], int] = {}
    header_seen = False
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.startswith("#"):
            continue
        where = f"{path}:{n}"
        cells = raw.split("\t")
        if not header_seen:
            if tuple(c.strip() for c in cells) != GOLD_HEADER:
                raise AnnotationError(
                    f"{where}: expected the header {' '.join(GOLD_HEADER)!r} (tab-separated)"
                )
            header_seen = True
            continue
        if len(cells) == 4:
            cells.append("")
        if len(cells) != 5:
            raise AnnotationError(f"{where}: expected 5 tab-separated columns, got {len(cells)}")
        source, page_id, line, sha, topics = (c.strip() for c in cells)
        if source not in SOURCES:
            raise AnnotationError(f"{where}: unknown source {source!r}; valid: {SOURCES}")
        if not page_id:
            raise AnnotationError(f"{where}: empty page id")
        if not (line.isascii() and line.isdecimal()):
            raise AnnotationError(f"{where}: line must be a non-negative integer, got {line!r}")
        if not _SHA.match(sha):
            raise AnnotationError(f"{where}: sha must be 16 lower-case hex digits, got {sha!r}")
        names = _parse_topics(topics, where, known_topics)
        entry = GoldEntry(source, page_id, int(line), sha, names)
        if entry.key in seen:
            raise AnnotationError(f"{where}: the same line is annotated on line {seen[entry.key]}")
        seen[entry.key] = n
        entries.append(entry)
    if not header_seen:
        raise AnnotationError(f"{path}: no header row {' '.join(GOLD_HEADER)!r}")
    return entries


def write_gold(path: Path | str, entries: Iterable[GoldEntry]) -> Path:
    """Write entries (sorted by source, page, line) atomically, with the explanatory comments."""
    path = Path(path)
    order = {s: i for i, s in enumerate(SOURCES)}
    rows = sorted(entries, key=lambda e: (order.get(e.source, 99), e.page_id, e.line))
    body = [*_COMMENTS, "\t".join(GOLD_HEADER)]
    body += [f"{e.source}\t{e.page_id}\t{e.line}\t{e.sha}\t{','.join(e.topics)}" for e in rows]
    return write_atomically(path, ("\n".join(body) + "\n").encode("utf-8"))


# --- resolving against the dataset ---------------------------------------------------------


def _page_index(lines: Mapping[str, Any], sources: Collection[str]) -> dict[tuple[str, str], Any]:
    """(source, page_id) -> the page's rows (a DataFrame sorted by line index, with ``split``)."""
    import pandas as pd

    pages: dict[tuple[str, str], Any] = {}
    for source in sources:
        for split in SOURCE_SPLITS[source]:
            if split not in lines:
                continue
            frame = lines[split]
            if not isinstance(frame, pd.DataFrame):
                frame = frame.to_pandas()
            frame = frame.assign(split=split)
            for page_id, rows in frame.groupby("page_id", sort=False):
                pages[(source, str(page_id))] = rows.sort_values("line_index").reset_index(
                    drop=True
                )
    return pages


def _find_line(entry: GoldEntry, texts: Sequence[str]) -> int:
    """The index of the entry's line in ``texts``: its own index when the hash matches there,
    else the nearest line with that hash; raises when there is none."""
    if entry.line < len(texts) and line_hash(texts[entry.line]) == entry.sha:
        return entry.line
    matches = [i for i, t in enumerate(texts) if line_hash(t) == entry.sha]
    if not matches:
        now = (
            f"line {entry.line} now hashes to {line_hash(texts[entry.line])}"
            if entry.line < len(texts)
            else f"the page now has only {len(texts)} lines"
        )
        raise AnnotationError(
            f"topic gold {entry.source}/{entry.page_id} line {entry.line}: no line of the page "
            f"hashes to {entry.sha} any more ({now}). The rendering or the corpus changed: "
            "annotate the line again (python -m textclf.topic_gold show/add)."
        )
    return min(matches, key=lambda i: abs(i - entry.line))


def resolve_gold(
    entries: Sequence[GoldEntry],
    lines: Mapping[str, Any],
    *,
    missing_pages: str = "error",
    changed_lines: str = "error",
) -> Any:
    """The lines of every page that holds a gold line, with the gold attached.

    ``lines`` maps split names to the dataset's line tables (``datasets.Dataset`` or
    DataFrames). Returns one DataFrame with every line of those pages (pages contiguous, in line
    order, so a topic model sees whole pages), the dataset's columns plus ``split`` and
    ``gold_topics`` (a list for gold lines, ``None`` for the others). Raises
    :class:`~textclf.errors.AnnotationError` when a page is missing unless
    ``missing_pages="skip"`` (a debug build of the dataset holds only some pages: their entries
    are then left out, and the frame may be empty), and when a hash no longer matches unless
    ``changed_lines="skip"`` (then the frame's ``attrs["changed"]`` lists the errors).
    """
    import pandas as pd

    for name, value in (("missing_pages", missing_pages), ("changed_lines", changed_lines)):
        if value not in ("error", "skip"):
            raise ValueError(f"{name} must be 'error' or 'skip', got {value!r}")
    if not entries:
        raise AnnotationError("the topic gold set is empty")
    index = _page_index(lines, {e.source for e in entries})
    by_page: dict[tuple[str, str], list[GoldEntry]] = {}
    for e in entries:
        by_page.setdefault((e.source, e.page_id), []).append(e)
    frames = []
    changed: list[str] = []
    for (source, page_id), page_entries in by_page.items():
        rows = index.get((source, page_id))
        if rows is None and missing_pages == "skip":
            continue
        if rows is None:
            raise AnnotationError(
                f"topic gold: page {source}/{page_id} is not in the dataset (splits "
                f"{', '.join(SOURCE_SPLITS[source])}); was the dataset built with every source?"
            )
        texts = rows["text"].tolist()
        gold: list[list[str] | None] = [None] * len(rows)
        for e in page_entries:
            try:
                i = _find_line(e, texts)
            except AnnotationError as exc:
                if changed_lines == "error":
                    raise
                changed.append(str(exc))
                continue
            if gold[i] is not None:
                raise AnnotationError(
                    f"topic gold {source}/{page_id}: two entries resolve to line {i}"
                )
            gold[i] = list(e.topics)
        frames.append(rows.assign(gold_topics=gold))
    if frames:
        out = pd.concat(frames, ignore_index=True)
    else:
        out = pd.DataFrame(columns=["source", "page_id", "line_index", "text", "gold_topics"])
    out.attrs["changed"] = changed
    return out


def gold_statistics(resolved: Any, topic_names: Sequence[str]) -> dict[str, Any]:
    """Gold lines per source and positives per topic (overall and per source)."""
    gold = resolved[resolved["gold_topics"].notna()]
    per_source = Counter(gold["source"])
    positives = {t: 0 for t in topic_names}
    per_source_topic: dict[str, dict[str, int]] = {
        s: dict.fromkeys(topic_names, 0) for s in per_source
    }
    for source, topics in zip(gold["source"], gold["gold_topics"], strict=True):
        for t in topics:
            positives[t] = positives.get(t, 0) + 1
            per_source_topic[source][t] = per_source_topic[source].get(t, 0) + 1
    return {
        "lines": len(gold),
        "lines_per_source": dict(per_source),
        "no_topic": int(sum(len(t) == 0 for t in gold["gold_topics"])),
        "content_lines": int((gold["label"] == 1).sum()),
        "positives": positives,
        "positives_per_source": per_source_topic,
    }


# --- command line ------------------------------------------------------------------------


def _defaults() -> tuple[Path, Path, Path]:
    from textclf.config import project_root

    root = project_root()
    return (
        root / "data" / "processed" / "dataset",
        root / "annotations" / "topics_gold.tsv",
        root / "conf" / "topics" / "default.yaml",
    )


def _load_lines(dataset: Path) -> Any:
    from textclf.dataset import load_dataset

    lines, _ = load_dataset(dataset)
    return lines


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _label_name(label: int) -> str:
    return {1: "C", 0: "b"}.get(int(label), "?")


def _cmd_search(args: argparse.Namespace) -> int:
    import re

    try:
        re.compile(args.regex)
    except re.error as exc:
        raise AnnotationError(f"not a valid regular expression {args.regex!r}: {exc}") from exc
    lines = _load_lines(args.dataset)
    sources = [args.source] if args.source else list(SOURCES)
    gold_keys: set[tuple[str, str, int]] = set()
    if args.gold.is_file():
        gold_keys = {e.key for e in read_gold(args.gold)}
    hits = []
    for source in sources:
        for split in SOURCE_SPLITS[source]:
            if split not in lines:
                continue
            frame = lines[split].to_pandas()
            keep = frame["text"].str.contains(args.regex, case=args.case, regex=True)
            if args.min_words:
                keep &= frame["text"].str.split().str.len() >= args.min_words
            if args.label:
                keep &= frame["label"] == (1 if args.label == "content" else 0)
            n_topics = frame["topics"].map(len)
            if args.rule == "none":
                keep &= n_topics == 0
            elif args.rule == "any":
                keep &= n_topics > 0
            elif args.rule:
                keep &= frame["topics"].map(lambda ts: args.rule in ts)
            for row in frame[keep].itertuples(index=False):
                key = (source, str(row.page_id), int(row.line_index))
                if args.new and key in gold_keys:
                    continue
                hits.append((*key, row.label, list(row.topics), row.text))
    if args.shuffle:
        import random

        random.Random(args.shuffle).shuffle(hits)
    for source, page_id, i, label, topics, text in hits[: args.limit]:
        print(
            f"{source} {page_id} {i} {_label_name(label)} [{','.join(topics)}] "
            f"{_short(text, args.width)}"
        )
    print(f"# {len(hits)} line(s) match; {min(len(hits), args.limit)} shown", file=sys.stderr)
    return 0


def _match_page(index: Mapping[tuple[str, str], Any], source: str, page_id: str) -> str:
    """The full id of the page ``page_id`` names: itself, or the one page it is a prefix of."""
    if (source, page_id) in index:
        return page_id
    found = [p for s, p in index if s == source and p.startswith(page_id)]
    if len(found) != 1:
        what = "no page" if not found else f"{len(found)} pages"
        raise AnnotationError(f"{what} of {source} match {page_id!r}")
    return found[0]


def _cmd_show(args: argparse.Namespace) -> int:
    lines = _load_lines(args.dataset)
    index = _page_index(lines, [args.source])
    args.page_id = _match_page(index, args.source, args.page_id)
    rows = index[(args.source, args.page_id)]
    gold = {}
    if args.gold.is_file():
        gold = {
            e.line: e.topics
            for e in read_gold(args.gold)
            if (e.source, e.page_id) == (args.source, args.page_id)
        }
    stop = args.to if args.to is not None else len(rows)
    for row in rows.iloc[args.start : stop].itertuples(index=False):
        i = int(row.line_index)
        mark = f" GOLD[{','.join(gold[i])}]" if i in gold else ""
        print(
            f"{i:4d} {_label_name(row.label)} [{','.join(row.topics)}]{mark} "
            f"{_short(row.text, args.width)}"
        )
    return 0


def _cmd_add(args: argparse.Namespace) -> int:
    from textclf.topics import load_topics_config

    names = list(load_topics_config(args.topics).taxonomy)
    requests: list[tuple[str, str, int, str]] = []
    if args.stdin:
        for raw in sys.stdin:
            parts = raw.split()
            if not parts or parts[0].startswith("#"):
                continue
            if len(parts) not in (3, 4) or not (parts[2].isascii() and parts[2].isdecimal()):
                raise AnnotationError(
                    f"expected 'source page_id line [topics]' with a line number, got {raw!r}"
                )
            requests.append((parts[0], parts[1], int(parts[2]), parts[3] if len(parts) > 3 else ""))
    else:
        requests.append((args.source, args.page_id, args.line, args.topics_csv or ""))
    lines = _load_lines(args.dataset)
    index = _page_index(lines, {r[0] for r in requests})
    entries = {e.key: e for e in read_gold(args.gold, names)} if args.gold.is_file() else {}
    done: list[str] = []
    for source, prefix, line, topics in requests:
        page_id = _match_page(index, source, prefix)
        rows = index.get((source, page_id))
        if rows is None or not 0 <= line < len(rows):
            raise AnnotationError(f"no line {line} on page {source}/{page_id}")
        topics = "" if topics.strip().lower() == "none" else topics  # about none of them
        entry = GoldEntry(
            source,
            page_id,
            line,
            line_hash(rows["text"].iloc[line]),
            _parse_topics(topics, f"{source}/{page_id}/{line}", names),
        )
        action = "replaced" if entry.key in entries else "added"
        entries[entry.key] = entry
        done.append(f"{action} {source} {page_id} {line} [{','.join(entry.topics)}]")
    write_gold(args.gold, entries.values())  # all rows or none
    print("\n".join(done))
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from textclf.topics import load_topics_config

    names = list(load_topics_config(args.topics).taxonomy)
    entries = read_gold(args.gold, names)
    resolved = resolve_gold(entries, _load_lines(args.dataset), missing_pages=args.missing_pages)
    stats = gold_statistics(resolved, names)
    skipped = len(entries) - stats["lines"]
    print(
        f"{args.gold}: {stats['lines']} gold lines resolved"
        + (f", {skipped} on pages this dataset does not have (skipped)" if skipped else "")
    )
    print(f"  per source: {stats['lines_per_source']}")
    print(f"  content lines: {stats['content_lines']}, lines with no topic: {stats['no_topic']}")
    sources = list(stats["positives_per_source"])
    print(f"  {'topic':24s} {'all':>5s} " + " ".join(f"{s:>11s}" for s in sources))
    for t in names:
        per = " ".join(f"{stats['positives_per_source'][s][t]:>11d}" for s in sources)
        print(f"  {t:24s} {stats['positives'][t]:>5d} {per}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m textclf.topic_gold``."""
    dataset, gold, topics = _defaults()
    parser = argparse.ArgumentParser(
        prog="python -m textclf.topic_gold",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--dataset", type=Path, default=dataset, help="built dataset folder")
    parser.add_argument("--gold", type=Path, default=gold, help="the gold TSV file")
    parser.add_argument("--topics", type=Path, default=topics, help="the taxonomy YAML")
    sub = parser.add_subparsers(dest="command", required=True)

    search = sub.add_parser("search", help="list candidate lines matching a regex")
    search.add_argument("regex")
    search.add_argument("--source", choices=SOURCES)
    search.add_argument("--rule", help="only lines the rules give this topic ('none', 'any')")
    search.add_argument("--label", choices=("content", "boilerplate"))
    search.add_argument("--min-words", type=int, default=0)
    search.add_argument("--limit", type=int, default=50)
    search.add_argument("--width", type=int, default=220)
    search.add_argument("--shuffle", type=int, default=0, help="shuffle with this seed")
    search.add_argument("--case", action="store_true", help="case-sensitive regex")
    search.add_argument("--new", action="store_true", help="skip lines already in the gold set")
    search.set_defaults(func=_cmd_search)

    show = sub.add_parser("show", help="print a page's lines (index, C/b label, rule topics)")
    show.add_argument("source", choices=SOURCES)
    show.add_argument("page_id")
    show.add_argument("--from", dest="start", type=int, default=0)
    show.add_argument("--to", type=int)
    show.add_argument("--width", type=int, default=220)
    show.set_defaults(func=_cmd_show)

    add = sub.add_parser("add", help="add or replace the annotation of a line")
    add.add_argument("source", nargs="?", choices=SOURCES)
    add.add_argument("page_id", nargs="?")
    add.add_argument("line", nargs="?", type=int)
    add.add_argument("topics_csv", nargs="?", metavar="topics", help="comma-separated, or none")
    add.add_argument(
        "--stdin", action="store_true", help="read 'source page_id line [topics]' rows from stdin"
    )
    add.set_defaults(func=_cmd_add)

    check = sub.add_parser("check", help="resolve every entry against the dataset; statistics")
    check.add_argument(
        "--missing-pages",
        choices=("error", "skip"),
        default="error",
        help="entries on pages the dataset lacks (a data.limit build): fail (default) or skip",
    )
    check.set_defaults(func=_cmd_check)

    args = parser.parse_args(argv)
    if args.command == "add" and not args.stdin and (args.source is None or args.line is None):
        parser.error("add needs source, page_id and line (or --stdin)")
    try:
        return int(args.func(args))
    except TextclfError as exc:  # no dataset, a bad taxonomy, a bad gold file or row
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except UnicodeDecodeError as exc:
        print(f"error: a file is not UTF-8 text ({exc})", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
