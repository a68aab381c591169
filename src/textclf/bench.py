"""``make bench``: how fast the default model cleans pages, next to the HTML extractors.

On the WCXB test pages and the Scrapinghub pages (read from ``$TEXTCLF_CORPORA_DIR``, default
``<project>/data/raw/corpora``), in one process each, one after the other:

* textclf: render the HTML to text (:func:`textclf.render.html_to_text`), then classify the lines
  with ``Classifier.pipe``; the two steps are timed separately. With ``--processes`` above 1
  (default: one per core), classifying is timed again with ``pipe(n_process=...)``, the worker
  processes' start included (the targets are per process, from the one-process row). With
  ``--topics``, it is timed again with the topic model attached (``--topic-model``, default as
  :func:`textclf.load`: the topic champion), as ``load()`` gives it by default; the peak memory
  then includes the topic model's;
* each HTML extractor of ``--extractors`` (default: trafilatura, readability, jusText), HTML in,
  text out, with the function ``make eval`` scores (:data:`textclf.extractors.EXTRACTORS`).

Each system runs in a fresh child process so that its peak memory (``ru_maxrss``) is its own; the
HTML of every page is read into memory before timing starts. Speeds are medians of ``--repeats``
passes; "lines" are the non-empty lines of the rendered pages, for both systems. The table is
printed and written to ``reports/bench.json`` and ``reports/bench.md``.

``--profile`` also runs one pass of prediction (with the topic model under ``--topics``) under
cProfile and prints the 15 functions with the largest cumulative time.

    python -m textclf.bench --repeats 3
    python -m textclf.bench --limit 50 --profile --model /tmp/model.skops
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from textclf.errors import TextclfError
from textclf.extractors import EXTRACTORS, check_extractors
from textclf.predict import DEFAULT_BATCH_SIZE

__all__ = ["main", "run_bench"]

SOURCES = ("wcxb", "scrapinghub")
DEFAULT_EXTRACTORS = tuple(EXTRACTORS)  # trafilatura, readability, justext
TARGET_PAGES_PER_S = 100.0
TARGET_LINES_PER_S = 30_000.0


@dataclass(frozen=True)
class BenchPage:
    source: str
    page_id: str
    html_path: Path


def bench_pages(corpora_dir: Path, sources: tuple[str, ...], limit: int = 0) -> list[BenchPage]:
    """The test pages of each corpus (WCXB: split ``test``; Scrapinghub: all), ``limit`` each."""
    from textclf.corpora import iter_records

    pages: list[BenchPage] = []
    for source in sources:
        n = 0
        for rec in iter_records(corpora_dir, source):
            if rec.split != "test":
                continue
            pages.append(BenchPage(source, rec.page_id, rec.html_path))
            n += 1
            if limit and n >= limit:
                break
    return pages


def _maxrss_mb() -> float:
    """Peak resident memory of this process so far, in MB."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 1024 / (1024 if sys.platform == "darwin" else 1)  # bytes on macOS, KB on Linux


def _read_all(paths: list[Path]) -> list[str]:
    from textclf.corpora import read_html

    return [read_html(p) for p in paths]


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its children that have ended (the worker processes
    of ``pipe(n_process=...)`` end with the iteration)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


class _Timer:
    """Wall-clock and CPU seconds of each timed step (CPU time tells a busy machine apart)."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.cpu: list[float] = []

    def __enter__(self) -> _Timer:
        self._start = (time.perf_counter(), _cpu_seconds())
        return self

    def __exit__(self, *exc: object) -> None:
        self.wall.append(time.perf_counter() - self._start[0])
        self.cpu.append(_cpu_seconds() - self._start[1])

    def __add__(self, other: _Timer) -> _Timer:
        out = _Timer()
        out.wall = [a + b for a, b in zip(self.wall, other.wall, strict=True)]
        out.cpu = [a + b for a, b in zip(self.cpu, other.cpu, strict=True)]
        return out


def measure_textclf(
    paths: list[Path],
    model: str | None,
    repeats: int,
    batch_size: int,
    topics: bool = False,
    processes: int = 1,
    topic_model: str | None = None,
) -> dict[str, Any]:
    """Run in a child process: time rendering and prediction over every page, ``repeats`` times
    (and prediction with ``processes`` worker processes when more than one, and with the topic
    model too when ``topics``)."""
    from textclf.predict import Classifier, load, topic_model_source
    from textclf.render import html_to_text

    t0 = time.perf_counter()
    # The content/boilerplate model alone in the rows the targets are judged on (trafilatura
    # does no topic tagging); with ``topics``, also the same model with the topic model, as
    # load() gives it by default.
    tagger = None
    if topics:
        tagger = load(model, topic_model=topic_model)
        if tagger.topic_model is None:
            raise TextclfError(
                "--topics: no topic model is registered as textclf-topics@champion "
                "(train one with `make train`, or pass --topic-model)"
            )
        clf = Classifier(tagger.pipeline, source=tagger.source)
    else:
        clf = load(model, topic_model=False)
    load_s = time.perf_counter() - t0
    htmls = _read_all(paths)
    # Warm up (lazy imports, first-call caches) on a few pages, untimed.
    warm_texts = [html_to_text(h) for h in htmls[:8]]
    for warm in (clf, tagger) if tagger is not None else (clf,):
        list(warm.pipe(warm_texts, batch_size=batch_size))
    setup_mb = _maxrss_mb()
    render, predict, parallel, tagged, lines = _Timer(), _Timer(), _Timer(), _Timer(), 0
    for _ in range(repeats):
        with render:
            texts = [html_to_text(h) for h in htmls]
        with predict:
            lines = sum(len(p.lines) for p in clf.pipe(texts, batch_size=batch_size))
        if tagger is not None:
            with tagged:
                if sum(len(p.lines) for p in tagger.pipe(texts, batch_size=batch_size)) != lines:
                    raise AssertionError("the topic model's pipe gave another number of lines")
        if processes > 1:
            with parallel:  # starting the workers included
                pipe = clf.pipe(texts, batch_size=batch_size, n_process=processes)
                if sum(len(p.lines) for p in pipe) != lines:
                    raise AssertionError("pipe(n_process=...) gave another number of lines")
    return {
        "model": clf.source,
        "threshold": clf.threshold,
        "load_s": load_s,
        "lines": lines,
        "render": render,
        "predict": predict,
        "parallel": parallel if processes > 1 else None,
        "topics": tagged if tagger is not None else None,
        "topic_model": topic_model_source(topic_model) if tagger is not None else None,
        "setup_rss_mb": setup_mb,
        "peak_rss_mb": _maxrss_mb(),
    }


def measure_extractor(name: str, paths: list[Path], repeats: int) -> dict[str, Any]:
    """Run in a child process: time the HTML extractor ``name`` over every page."""
    version, extract = check_extractors([name])[name]
    htmls = _read_all(paths)
    for h in htmls[:8]:
        extract(h)
    setup_mb = _maxrss_mb()
    timer = _Timer()
    for _ in range(repeats):
        with timer:
            for h in htmls:
                extract(h)
    return {
        "version": version,
        "extract": timer,
        "setup_rss_mb": setup_mb,
        "peak_rss_mb": _maxrss_mb(),
    }


def _in_child(fn: Any, *args: Any) -> Any:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


def _row(
    name: str, timer: _Timer, pages: int, lines: int, mem: dict[str, Any] | None
) -> dict[str, Any]:
    wall, cpu = statistics.median(timer.wall), statistics.median(timer.cpu)
    row = {
        "system": name,
        "seconds_median": wall,
        "seconds_runs": timer.wall,
        "cpu_seconds_median": cpu,
        "pages_per_s": pages / max(wall, 1e-9),
        "lines_per_s": lines / max(wall, 1e-9),
        "pages_per_cpu_s": pages / max(cpu, 1e-9),
        "lines_per_cpu_s": lines / max(cpu, 1e-9),
    }
    if mem is not None:
        row["peak_rss_mb"] = mem["peak_rss_mb"]
        row["rss_growth_mb"] = mem["peak_rss_mb"] - mem["setup_rss_mb"]
    return row


def run_bench(
    pages: list[BenchPage],
    *,
    model: str | None = None,
    repeats: int = 3,
    batch_size: int = DEFAULT_BATCH_SIZE,
    extractors: Sequence[str] = DEFAULT_EXTRACTORS,
    topics: bool = False,
    processes: int = 1,
    topic_model: str | None = None,
) -> dict[str, Any]:
    """Measure textclf and each of ``extractors`` on ``pages``; return the report as a dict.
    Speeds are also given relative to trafilatura's when it is one of them. With ``processes``
    > 1, prediction is also timed with that many worker processes (``pipe(n_process=...)``);
    with ``topics``, with the topic model (``topic_model``; None: as :func:`textclf.load`)."""
    paths = [p.html_path for p in pages]
    tc = _in_child(
        measure_textclf, paths, model, repeats, batch_size, topics, processes, topic_model
    )
    n, lines = len(pages), tc["lines"]
    rows = [
        _row("textclf render (HTML to text)", tc["render"], n, lines, None),
        _row("textclf predict (text to labels)", tc["predict"], n, lines, None),
        _row("textclf render + predict", tc["render"] + tc["predict"], n, lines, tc),
    ]
    if tc["parallel"] is not None:
        name = f"textclf predict, {processes} processes (pipe n_process={processes})"
        rows.append(_row(name, tc["parallel"], n, lines, None))
    if tc["topics"] is not None:
        rows.append(_row("textclf predict + topics (one process)", tc["topics"], n, lines, None))
    base = None
    for name in extractors:
        ex = _in_child(measure_extractor, name, paths, repeats)
        rows.append(_row(f"{name} {ex['version']} extract", ex["extract"], n, lines, ex))
        if name == "trafilatura":
            base = rows[-1]
    if base is not None:
        for row in rows:
            row["speed_vs_trafilatura"] = row["pages_per_s"] / base["pages_per_s"]
            row["cpu_speed_vs_trafilatura"] = row["pages_per_cpu_s"] / base["pages_per_cpu_s"]
    predict = rows[1]
    return {
        "pages": n,
        "pages_by_source": {s: sum(p.source == s for p in pages) for s in SOURCES},
        "lines": lines,
        "repeats": repeats,
        "batch_size": batch_size,
        "processes": processes,
        "model": tc["model"],
        "threshold": tc["threshold"],
        "topic_model": tc["topic_model"],
        "model_load_s": tc["load_s"],
        "rows": rows,
        "targets": {
            "pages_per_s": TARGET_PAGES_PER_S,
            "lines_per_s": TARGET_LINES_PER_S,
            "predict_pages_per_s": predict["pages_per_s"],
            "predict_lines_per_s": predict["lines_per_s"],
            "predict_meets_targets": predict["pages_per_s"] >= TARGET_PAGES_PER_S
            and predict["lines_per_s"] >= TARGET_LINES_PER_S,
            "predict_meets_targets_per_cpu_s": predict["pages_per_cpu_s"] >= TARGET_PAGES_PER_S
            and predict["lines_per_cpu_s"] >= TARGET_LINES_PER_S,
        },
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        },
    }


def format_table(report: dict[str, Any]) -> str:
    """The report as a Markdown table (also readable as plain text)."""
    src = ", ".join(f"{k} {v}" for k, v in report["pages_by_source"].items() if v)
    load = report["machine"].get("load_average")
    head = (
        f"{report['pages']} pages ({src}), {report['lines']:,} rendered lines; "
        f"model {report['model']} (loaded in {report['model_load_s']:.2f} s"
        + (f", with topic model {report['topic_model']}" if report.get("topic_model") else "")
        + f"); median of {report['repeats']} runs, one process unless the row says otherwise, "
        f"batch size {report['batch_size']}"
        + (f"; load average {load[0]:.1f} on {report['machine']['cpus']} CPUs." if load else ".")
    )
    lines = [
        head,
        "",
        "| system | pages/s | pages/s of each run | lines/s | vs trafilatura | pages/CPU-s "
        "| lines/CPU-s | vs trafilatura (CPU) | peak RSS MB | RSS growth MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def num(value: float | None, fmt: str) -> str:
        return "" if value is None else format(value, fmt)

    for row in report["rows"]:
        ratio, cpu_ratio = row.get("speed_vs_trafilatura"), row.get("cpu_speed_vs_trafilatura")
        runs = " / ".join(f"{report['pages'] / max(t, 1e-9):,.1f}" for t in row["seconds_runs"])
        lines.append(
            f"| {row['system']} | {row['pages_per_s']:,.1f} | {runs} | {row['lines_per_s']:,.0f} | "
            f"{num(ratio, '.2f')}{'x' if ratio else ''} | {row['pages_per_cpu_s']:,.1f} | "
            f"{row['lines_per_cpu_s']:,.0f} | {num(cpu_ratio, '.2f')}{'x' if cpu_ratio else ''} | "
            f"{num(row.get('peak_rss_mb'), ',.0f')} | {num(row.get('rss_growth_mb'), ',.0f')} |"
        )
    t = report["targets"]
    lines += [
        "",
        f"Targets for prediction (>= {t['pages_per_s']:.0f} pages/s and "
        f">= {t['lines_per_s']:,.0f} lines/s per process): "
        f"{'met' if t['predict_meets_targets'] else 'NOT met'} in wall-clock time "
        f"({t['predict_pages_per_s']:,.2f} pages/s, {t['predict_lines_per_s']:,.0f} lines/s), "
        f"{'met' if t['predict_meets_targets_per_cpu_s'] else 'NOT met'} per CPU-second.",
        "pages/s is the median over the runs, in the order they ran: where the runs spread wider "
        "than a row's distance to a target, the machine's state decides it. "
        "CPU-seconds are those of the process (and of its worker processes): on a busy machine "
        "they show what one free core would do. Peak RSS includes the HTML of every page held "
        "in memory; RSS growth is the peak minus the memory after loading the pages (and the "
        "model).",
    ]
    return "\n".join(lines)


def write_report(report: dict[str, Any], reports_dir: Path) -> tuple[Path, Path]:
    """Write ``bench.json`` and ``bench.md`` atomically."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    out = []
    for name, body in (
        ("bench.json", json.dumps(report, indent=2) + "\n"),
        ("bench.md", "# textclf benchmark\n\n" + format_table(report) + "\n"),
    ):
        path = reports_dir / name
        tmp = path.with_name(f".{name}.tmp")
        tmp.write_text(body, encoding="utf-8")
        os.replace(tmp, path)
        out.append(path)
    return out[0], out[1]


def profile_prediction(
    pages: list[BenchPage],
    model: str | None,
    batch_size: int,
    top: int = 15,
    topics: bool = False,
    topic_model: str | None = None,
) -> str:
    """cProfile one pass of prediction (rendering excluded), with the topic model when
    ``topics``: the top functions, cumulatively."""
    import cProfile
    import io
    import pstats

    from textclf.predict import load
    from textclf.render import html_to_text

    clf = load(model, topic_model=topic_model if topics else False)
    texts = [html_to_text(h) for h in _read_all([p.html_path for p in pages])]
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in clf.pipe(texts, batch_size=batch_size):
        pass
    profiler.disable()
    buf = io.StringIO()
    pstats.Stats(profiler, stream=buf).sort_stats("cumulative").print_stats(top)
    return buf.getvalue()


def _default_corpora_dir() -> Path:
    env = os.environ.get("TEXTCLF_CORPORA_DIR", "").strip()
    if env:
        return Path(env).expanduser()
    from textclf.config import project_root

    return project_root() / "data" / "raw" / "corpora"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m textclf.bench",
        description="Measure textclf's prediction speed against HTML extractors' on the test "
        "pages.",
    )
    parser.add_argument("--model", default=None, help="model path or URI (default: as load())")
    parser.add_argument(
        "--corpora-dir",
        type=Path,
        default=None,
        help="corpora folder (default: $TEXTCLF_CORPORA_DIR, else <project>/data/raw/corpora)",
    )
    parser.add_argument("--sources", nargs="+", choices=SOURCES, default=list(SOURCES))
    parser.add_argument("--limit", type=int, default=0, help="at most N pages per corpus (0: all)")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes (median reported)")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument(
        "--processes",
        type=int,
        default=os.cpu_count() or 1,
        help="also time prediction with this many worker processes (default: one per core; "
        "1: only one process)",
    )
    parser.add_argument("--reports-dir", type=Path, default=None, help="default: <project>/reports")
    parser.add_argument(
        "--extractors",
        nargs="*",
        default=list(DEFAULT_EXTRACTORS),
        metavar="NAME",
        help="HTML extractors to time as well (default: %(default)s; none: --extractors)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="also cProfile one pass of prediction"
    )
    parser.add_argument(
        "--topics",
        action="store_true",
        help="also time prediction with the topic model (a row of its own; --profile profiles it)",
    )
    parser.add_argument(
        "--topic-model",
        default=None,
        help="topic model path or URI to time (implies --topics; default: as load(): "
        "$TEXTCLF_TOPIC_MODEL_URI, else the topic champion)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.topics = args.topics or args.topic_model is not None  # --topic-model implies --topics
    if args.repeats < 1 or args.batch_size < 1 or args.processes < 1 or args.limit < 0:
        print(
            "textclf.bench: --repeats, --batch-size and --processes must be >= 1, --limit >= 0",
            file=sys.stderr,
        )
        return 2
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    corpora_dir = args.corpora_dir or _default_corpora_dir()
    try:
        pages = bench_pages(corpora_dir, tuple(args.sources), args.limit)
    except TextclfError as exc:
        print(
            f"textclf.bench: {exc}\nSet TEXTCLF_CORPORA_DIR to the corpora folder or run "
            "`make data`.",
            file=sys.stderr,
        )
        return 2
    if not pages:
        print(f"textclf.bench: no test pages under {corpora_dir}", file=sys.stderr)
        return 2
    try:
        check_extractors(args.extractors)  # unknown or not installed: say so before timing
    except TextclfError as exc:
        print(f"textclf.bench: {exc}", file=sys.stderr)
        return 2
    try:
        report = run_bench(
            pages,
            model=args.model,
            repeats=args.repeats,
            batch_size=args.batch_size,
            extractors=args.extractors,
            topics=args.topics,
            processes=args.processes,
            topic_model=args.topic_model,
        )
    except TextclfError as exc:
        print(f"textclf.bench: {exc}", file=sys.stderr)
        return 2
    print(format_table(report))
    if args.reports_dir is None:
        from textclf.config import project_root

        args.reports_dir = project_root() / "reports"
    json_path, md_path = write_report(report, args.reports_dir)
    print(f"\nwrote {json_path} and {md_path}")
    if args.profile:
        print("\ncProfile of one prediction pass (rendering excluded), top 15 by cumulative time:")
        print(
            profile_prediction(
                pages,
                args.model,
                args.batch_size,
                topics=args.topics,
                topic_model=args.topic_model,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
