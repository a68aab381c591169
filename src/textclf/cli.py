"""The ``textclf`` command: classify or clean pages from files, folders or stdin.

    textclf predict page.txt                 # label<TAB>probability<TAB>[topics<TAB>]text
    textclf extract --html pages/ > out.txt  # the content of every pages/*.html, *.htm
    cat page.txt | textclf extract           # no input (or "-") reads stdin
    textclf predict --format jsonl pages/    # one JSON object per page
    textclf extract -r crawl/                # crawl/ and its subfolders' *.txt
    textclf export models/                   # the model as files: --model models/ elsewhere

Results go to stdout in input order; errors go to stderr as ``textclf: <path>: <reason>``, and a
failed input does not stop the others. Exit status: 0 when every input was processed, 1 when
some input failed, 2 on a usage error or when no model could be loaded.

In text output, tabs and line-separator characters inside a line are written as spaces (one row
per line, always the same columns); ``--format jsonl`` keeps the exact text.

Input files are read as bytes: text pages are decoded as UTF-8, or in the detected encoding when
they are not UTF-8 (a cp1252 or Shift-JIS file; see ``textclf.render.decode_text``), HTML pages
with their declared or detected encoding; ``--encoding NAME`` decodes every input in NAME
instead (detection can misread a short page). A file containing NUL bytes is refused as
binary (UTF-16 text too, unless ``--encoding utf-16`` is given).
"""

from __future__ import annotations

import argparse
import codecs
import collections
import json
import os
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from textclf import __version__
from textclf.errors import InputError, ModelNotFoundError, TextclfError
from textclf.predict import DEFAULT_BATCH_SIZE, check_n_process

if TYPE_CHECKING:
    from textclf.predict import Classifier, PagePrediction

__all__ = ["build_parser", "main"]

STDIN = "-"
NL = "\n"
TEXT_PATTERNS = ("*.txt",)
HTML_PATTERNS = ("*.html", "*.htm")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
# Characters that would split a text-output row into more columns or lines: tabs, and every
# character str.splitlines() breaks on (the page splitter keeps them inside a line).
_ROW_BREAKERS = re.compile("[\t\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


@dataclass(frozen=True)
class _Input:
    """One page to process, or an argument that already failed (``error`` set)."""

    name: str
    path: Path | None = None  # None: stdin
    error: str | None = None


def _threshold(value: str) -> float:
    try:
        t = float(value)
    except ValueError:
        t = float("nan")
    if not 0.0 <= t <= 1.0:
        raise argparse.ArgumentTypeError(f"must be a number between 0 and 1, got {value!r}")
    return t


def _positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value!r}")
    return n


def _jobs(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1 and n != -1:
        raise argparse.ArgumentTypeError(f"must be a positive integer or -1, got {value!r}")
    try:
        return check_n_process(n)
    except InputError as exc:  # no fork on this platform
        raise argparse.ArgumentTypeError(str(exc)) from None


def _encoding(value: str) -> str:
    try:
        return codecs.lookup(value).name
    except LookupError:
        raise argparse.ArgumentTypeError(f"unknown encoding {value!r}") from None


def build_parser() -> argparse.ArgumentParser:
    model_options = argparse.ArgumentParser(add_help=False)
    model_options.add_argument(
        "--no-topics",
        action="store_true",
        help="do not load a topic model (no topics column or key)",
    )
    model_options.add_argument(
        "--model",
        default=None,
        metavar="URI",
        help="a .skops file, a folder written by `textclf export`, an MLflow model folder or "
        "URI (models:/..., runs:/...); default: $TEXTCLF_MODEL_URI, else the champion "
        "models:/textclf-boilerplate@champion",
    )
    common = argparse.ArgumentParser(add_help=False, parents=[model_options])
    common.add_argument(
        "inputs",
        nargs="*",
        metavar="INPUT",
        help="files, folders (all their *.txt, or *.html/*.htm with --html, sorted; hidden "
        "files skipped) or - for stdin (the default)",
    )
    common.add_argument("--html", action="store_true", help="inputs are HTML: render them first")
    common.add_argument(
        "--encoding",
        type=_encoding,
        default=None,
        metavar="NAME",
        help="decode every input in this encoding (e.g. cp1252, utf-16) instead of detecting "
        "it; bytes invalid in it become U+FFFD",
    )
    common.add_argument(
        "-r",
        "--recursive",
        action="store_true",
        help="read folders' subfolders too (their pages in sorted path order; hidden folders, "
        "whose names start with a dot, are skipped)",
    )
    common.add_argument(
        "--format",
        choices=("text", "jsonl"),
        default="text",
        help="text (default) or jsonl: one object per input with path, lines, content",
    )
    common.add_argument(
        "--threshold",
        type=_threshold,
        default=None,
        metavar="T",
        help="content probability threshold in [0, 1] (default: the model's trained one)",
    )
    common.add_argument(
        "--relative",
        type=_threshold,
        default=None,
        metavar="R",
        help="a content line also needs this share in [0, 1] of its page's highest probability "
        "(raised to the model's relative power) "
        "(default: the model's trained one; 0 turns it off)",
    )
    common.add_argument(
        "--favor",
        default=None,
        metavar="PRESET",
        help="use one of the model's decision presets instead of its trained decision: "
        "precision (less, cleaner text) or recall (less text lost); not with --threshold or "
        "--relative",
    )
    common.add_argument(
        "--keep-repeats",
        action="store_true",
        help="keep a line as content even when a content line earlier on its page has the same "
        "text (by default such repeats are boilerplate when the model was trained so)",
    )
    common.add_argument(
        "--batch-size",
        type=_positive_int,
        default=DEFAULT_BATCH_SIZE,
        metavar="N",
        help="pages per batch",
    )
    common.add_argument(
        "-j",
        "--jobs",
        type=_jobs,
        default=1,
        metavar="N",
        help="worker processes (default 1; -1: one per core; POSIX only): the batches are "
        "shared among them, and up to 2 x N batches are read ahead",
    )
    common.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    parser = argparse.ArgumentParser(
        prog="textclf",
        description="Tell the content lines of web pages from their boilerplate.",
        epilog="Exit status: 0 all inputs done, 1 some input failed, 2 usage error or no model.",
    )
    parser.add_argument("--version", action="version", version=f"textclf {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser(
        "predict",
        parents=[common],
        help="label every line: content or boilerplate, with its probability",
        description="Label every non-empty line of each page. Text output: "
        "label<TAB>probability<TAB>text per line (a topics column before the text when the "
        "model has a topic model).",
    )
    sub.add_parser(
        "extract",
        parents=[common],
        help="print the content of each page",
        description="Print the content lines of each page.",
    )
    export = sub.add_parser(
        "export",
        parents=[model_options],
        help="save the model to a folder, to use without the MLflow store",
        description="Write the model (the champion unless --model names one) and its topic "
        "model to FOLDER as boilerplate.skops and topics.skops, for another machine or tool: "
        "textclf.load(FOLDER), or --model FOLDER here. Loading from it skips MLflow.",
    )
    export.add_argument("folder", metavar="FOLDER", help="where to write (created if needed)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    if args.command == "export":
        return _export(args)
    if args.favor is not None and (args.threshold is not None or args.relative is not None):
        # said in the command line's words, before a model is loaded
        print(
            "textclf: give --favor or --threshold/--relative, not both: a preset is a threshold "
            "and a relative part",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        return _run(args)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader (e.g. `| head`) went away: stop quietly, without a second error at exit.
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return EXIT_FAILED


def _load(args: argparse.Namespace, **decision: Any) -> Classifier | None:
    """The model the options name, or None after saying on stderr why there is none."""
    from textclf.predict import load

    try:
        clf = load(args.model, topic_model=False if args.no_topics else None)
        clf.predict_page("", **decision)  # bad decision options fail once, up front
    except (TextclfError, TypeError) as exc:
        missing = isinstance(exc, ModelNotFoundError) and not args.model
        hint = " (on the command line: --model PATH_OR_URI)" if missing else ""
        print(f"textclf: {exc}{hint}", file=sys.stderr)
        return None
    return clf


def _export(args: argparse.Namespace) -> int:
    clf = _load(args)
    if clf is None:
        return EXIT_USAGE
    try:
        written = clf.save(args.folder)
    except (OSError, TextclfError) as exc:
        print(f"textclf: cannot write to {args.folder}: {_reason(exc)}", file=sys.stderr)
        return EXIT_FAILED
    for path in written:
        print(path)
    return EXIT_OK


def _run(args: argparse.Namespace) -> int:
    inputs = list(_expand(args.inputs or [STDIN], html=args.html, recursive=args.recursive))
    clf = _load(args, **_decision(args))
    if clf is None:
        return EXIT_USAGE

    from tqdm import tqdm

    out = sys.stdout
    headers = args.format == "text" and len(inputs) > 1
    failed = wrote = 0
    progress = tqdm(
        total=len(inputs),
        file=sys.stderr,
        unit="page",
        disable=args.quiet or len(inputs) < 2 or not sys.stderr.isatty(),
    )
    with progress:
        for item, result in _predict_all(clf, inputs, args):
            progress.update(1)
            if isinstance(result, str):
                failed += 1
                progress.write(f"textclf: {item.name}: {result}", file=sys.stderr)
                continue
            if headers:
                out.write(f"{NL if wrote else ''}==> {item.name} <==\n")
            _write(out, item.name, result, args)
            wrote += 1
    out.flush()
    return EXIT_FAILED if failed else EXIT_OK


def _expand(args: Sequence[str], *, html: bool, recursive: bool = False) -> Iterator[_Input]:
    """The inputs named on the command line, folders expanded (with their subfolders when
    ``recursive``), in order."""
    patterns = HTML_PATTERNS if html else TEXT_PATTERNS
    stdin_seen = False
    for arg in args:
        if arg == STDIN:
            # stdin can be read once: a second "-" would silently be an empty page.
            error = "stdin (-) is named more than once" if stdin_seen else None
            stdin_seen = True
            yield _Input(STDIN, error=error)
            continue
        path = Path(arg)
        if path.is_dir():
            # Extensions match whatever their case (page.TXT, INDEX.HTML).
            suffixes = {pattern.removeprefix("*").lower() for pattern in patterns}
            found = _walk(path) if recursive else _visible(path.iterdir())
            files = sorted(p for p in found if p.suffix.lower() in suffixes and p.is_file())
            if not files:
                kinds = "/".join(patterns)
                hints = [] if html else ["use --html for HTML pages"]
                if not recursive and any(p.is_dir() for p in _visible(path.iterdir())):
                    hints.append("-r reads its subfolders")
                hint = f" ({'; '.join(hints)})" if hints else ""
                where = " (nor its subfolders)" if recursive else ""
                yield _Input(arg, path, f"folder{where} has no {kinds} files{hint}")
            yield from (_Input(str(p), p) for p in files)
        elif path.exists():
            yield _Input(arg, path)
        else:
            yield _Input(arg, path, "no such file or folder")


def _visible(paths: Iterator[Path]) -> Iterator[Path]:
    """``paths`` without hidden ones (a name starting with a dot: editors' swap files, macOS's
    ``._page.txt`` copies)."""
    return (p for p in paths if not p.name.startswith("."))


def _walk(folder: Path) -> Iterator[Path]:
    """Every visible file below ``folder`` (hidden folders are not entered, links to folders
    not followed: no loops)."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        yield from _visible(Path(root) / f for f in files)


def _read(item: _Input, limit: int, encoding: str | None) -> bytes:
    """The bytes of one input (as UTF-8 when its ``encoding`` is given), refusing files over
    ``limit`` bytes and binary data."""
    if item.path is None:
        data = sys.stdin.buffer.read(limit + 1)
    else:
        size = item.path.stat().st_size
        if size > limit:
            raise InputError(f"file too large: {size:,} bytes, more than {limit:,}")
        data = item.path.read_bytes()
    if len(data) > limit:
        raise InputError(f"input too large: more than {limit:,} bytes")
    if encoding is not None:
        data = data.decode(encoding, "replace").encode("utf-8", "surrogatepass")
    if b"\x00" in data:
        raise InputError(
            "contains NUL bytes: binary data, or UTF-16 text (give --encoding utf-16, "
            "or convert it to UTF-8)"
        )
    return data


def _predict_all(
    clf: Classifier, inputs: list[_Input], args: argparse.Namespace
) -> Iterator[tuple[_Input, PagePrediction | str]]:
    """(input, prediction or error message) for every input, in order.

    Inputs are read and predicted ``--batch-size`` at a time, and at most ``max_page_bytes`` of
    them at a time, so memory stays bounded however many files there are.
    """
    if args.jobs > 1:
        yield from _predict_in_processes(clf, inputs, args)
        return
    chunk: list[tuple[_Input, bytes | str]] = []
    size = 0
    for item in inputs:
        data = _load_input(item, clf.max_page_bytes, args.encoding)
        chunk.append((item, data))
        size += len(data) if isinstance(data, bytes) else 0
        if len(chunk) >= args.batch_size or size >= clf.max_page_bytes:
            yield from _predict_chunk(clf, chunk, args)
            chunk, size = [], 0
    yield from _predict_chunk(clf, chunk, args)


def _predict_in_processes(
    clf: Classifier, inputs: list[_Input], args: argparse.Namespace
) -> Iterator[tuple[_Input, PagePrediction | str]]:
    """:func:`_predict_all` with ``--jobs`` worker processes: one ``pipe`` over all the inputs,
    started again after a page that fails (which is then predicted alone, to name its error)."""
    source = iter(inputs)
    # Inputs read and not yet reported, in order: what a new pipe must start from.
    queue: collections.deque[tuple[_Input, bytes | str]] = collections.deque()

    def pages() -> Iterator[bytes]:
        yield from [data for _, data in queue if isinstance(data, bytes)]
        for item in source:
            data = _load_input(item, clf.max_page_bytes, args.encoding)
            queue.append((item, data))
            if isinstance(data, bytes):
                yield data

    def unreadable() -> Iterator[tuple[_Input, str]]:
        while queue and isinstance(queue[0][1], str):
            item, reason = queue.popleft()
            yield item, str(reason)

    while True:
        preds = clf.pipe(
            pages(),
            batch_size=args.batch_size,
            html=args.html,
            n_process=args.jobs,
            **_decision(args),
        )
        try:
            for pred in preds:
                yield from unreadable()
                yield queue.popleft()[0], pred
        except Exception:
            yield from unreadable()
            if not queue:  # not a page's failure
                raise
            item, data = queue.popleft()  # the page the pipe stopped at
            assert isinstance(data, bytes)
            yield item, _predict_one(clf, data, args)
            continue
        break
    yield from unreadable()


def _load_input(item: _Input, limit: int, encoding: str | None) -> bytes | str:
    """The bytes of an input, or why it cannot be read."""
    if item.error is not None:
        return item.error
    try:
        return _read(item, limit, encoding)
    except (OSError, TextclfError) as exc:
        return _reason(exc)


def _predict_chunk(
    clf: Classifier, chunk: list[tuple[_Input, bytes | str]], args: argparse.Namespace
) -> Iterator[tuple[_Input, PagePrediction | str]]:
    pages = [data for _, data in chunk if isinstance(data, bytes)]
    try:
        batch = clf.pipe(
            pages,
            batch_size=max(len(pages), 1),
            html=args.html,
            **_decision(args),
        )
        preds: Iterator[PagePrediction | str] = iter(list(batch))
    except Exception:
        # Some page of the batch failed: redo them one by one to name it.
        preds = (_predict_one(clf, page, args) for page in pages)
    for item, data in chunk:
        yield item, next(preds) if isinstance(data, bytes) else data


def _decision(args: argparse.Namespace) -> dict[str, Any]:
    """The decision options of the command line, as the predict methods take them (None: the
    model's own)."""
    return {
        "threshold": args.threshold,
        "relative": args.relative,
        "drop_repeats": False if args.keep_repeats else None,
        "favor": args.favor,
    }


def _predict_one(clf: Classifier, page: bytes, args: argparse.Namespace) -> PagePrediction | str:
    try:
        predict = clf.predict_html if args.html else clf.predict_page
        return predict(page, **_decision(args))
    except Exception as exc:  # one bad page must not stop the others
        return _reason(exc)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError) and not isinstance(exc, TextclfError):
        return "no such file or folder"
    if isinstance(exc, OSError) and exc.strerror and not isinstance(exc, TextclfError):
        return exc.strerror
    if isinstance(exc, TextclfError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _write(out: TextIO, name: str, page: PagePrediction, args: argparse.Namespace) -> None:
    if args.format == "jsonl":
        out.write(json.dumps({"path": name, **page.to_dict()}, ensure_ascii=False) + "\n")
    elif args.command == "extract":
        if page.content:
            out.write(page.content + "\n")
    else:
        for line in page.lines:
            topics = "" if line.topics is None else (",".join(line.topics) or "-") + "\t"
            text = _ROW_BREAKERS.sub(" ", line.text)
            out.write(f"{line.label}\t{line.probability:.4f}\t{topics}{text}\n")
