"""Build, split, save and load the line-level datasets.

The dataset folder (``data/processed/dataset``) holds two ``datasets.DatasetDict`` with the same
splits (``train``, ``validation``, ``wcxb_test``, ``scrapinghub``, ``seeds``): ``lines``, one row
per non-empty line, and ``pages``, one row per page with its gold; plus a dataset card and the
build's fingerprint. It is rebuilt only when the fingerprint changes, and always atomically.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from datasets import Dataset, DatasetDict, Features, List, Value, load_from_disk

from textclf import __version__
from textclf.corpora import SOURCES as CORPORA
from textclf.errors import ConfigError, CorpusError
from textclf.files import make_public
from textclf.labels import AlignConfig, align_labels
from textclf.pages import Page, read_seed_pages
from textclf.render import RenderOptions
from textclf.topics import TopicRules

__all__ = [
    "LINE_FEATURES",
    "PAGE_FEATURES",
    "SPLITS",
    "TEST_SPLITS",
    "BuildResult",
    "assign_split",
    "build_dataset",
    "load_dataset",
]

log = logging.getLogger(__name__)

SPLITS = ("train", "validation", "wcxb_test", "scrapinghub", "seeds")
TEST_SPLITS = ("wcxb_test", "scrapinghub", "seeds")
CONTENT, BOILERPLATE, UNKNOWN = 1, 0, -1

LINE_FEATURES = Features(
    {
        "page_id": Value("string"),
        "source": Value("string"),
        "domain": Value("string"),
        "page_type": Value("string"),
        "line_index": Value("int32"),
        "n_lines": Value("int32"),
        "text": Value("string"),
        "blank_before": Value("bool"),
        "blank_after": Value("bool"),
        # 1 content, 0 boilerplate, -1 unknown (a seed page without hand annotation).
        "label": Value("int8"),
        "label_source": Value("string"),  # gold (hand annotation) | aligned | none
        "topics": List(Value("string")),
        "topic_source": Value("string"),  # gold (hand annotation) | rule
    }
)

PAGE_FEATURES = Features(
    {
        "page_id": Value("string"),
        "source": Value("string"),
        "split": Value("string"),
        "url": Value("string"),
        "domain": Value("string"),
        "page_type": Value("string"),
        "n_lines": Value("int32"),
        "gold_text": Value("string"),
        "gold_title": Value("string"),
        "has_gold": Value("bool"),
        "snippets_with": List(Value("string")),
        "snippets_without": List(Value("string")),
    }
)

# Modules whose code decides what the dataset contains: a change to any rebuilds it.
_CODE_MODULES = ("pages", "render", "labels", "topics", "annotation", "corpora", "dataset")


@dataclass
class BuildResult:
    """What :func:`build_dataset` did."""

    path: Path
    fingerprint: str
    rebuilt: bool
    seconds: float
    card: dict[str, Any]


def assign_split(
    source: str, native_split: str, domain: str, validation_fraction: float, seed: int
) -> str:
    """The dataset split of a page. WCXB dev, and the training pages of ``seeds/train/``, go to
    train or validation by a hash of their domain; the other seed pages are the seeds split."""
    if source == "seeds" and native_split != "dev":
        return "seeds"
    if source == "scrapinghub":
        return "scrapinghub"
    if source == "wcxb" and native_split == "test":
        return "wcxb_test"
    if source in ("wcxb", "seeds"):
        digest = hashlib.blake2b(f"{seed}:{domain}".encode(), digest_size=8).digest()
        share = int.from_bytes(digest, "big") / 2**64
        return "validation" if share < validation_fraction else "train"
    raise CorpusError(f"unknown source {source!r}")


def _label_corpus_page(
    record: Any, render: RenderOptions, align: AlignConfig, rules: TopicRules
) -> dict:
    from textclf.corpora import load_page

    page = load_page(record, render)
    labels = align_labels(page.texts, page.gold_text, page.gold_title, align)
    return _page_rows(page, labels, "aligned", rules.label_lines(page.texts), "rule")


def _page_rows(
    page: Page,
    labels: Sequence[int],
    label_source: str,
    topics: Sequence[Sequence[str]],
    topic_source: str,
) -> dict:
    n = len(page.lines)
    return {
        "page": {
            "page_id": page.page_id,
            "source": page.source,
            "split": page.split,
            "url": page.url,
            "domain": page.domain,
            "page_type": page.page_type or "unknown",
            "n_lines": n,
            "gold_text": page.gold_text or "",
            "gold_title": page.gold_title or "",
            "has_gold": page.gold_text is not None or page.labels is not None,
            "snippets_with": list(page.snippets_with),
            "snippets_without": list(page.snippets_without),
        },
        "lines": {
            "page_id": [page.page_id] * n,
            "source": [page.source] * n,
            "domain": [page.domain] * n,
            "page_type": [page.page_type or "unknown"] * n,
            "line_index": list(range(n)),
            "n_lines": [n] * n,
            "text": [line.text for line in page.lines],
            "blank_before": [line.blank_before for line in page.lines],
            "blank_after": [line.blank_after for line in page.lines],
            "label": [int(x) for x in labels],
            "label_source": [label_source] * n,
            "topics": [list(t) for t in topics],
            "topic_source": [topic_source] * n,
        },
    }


def _seed_rows(page: Page, rules: TopicRules) -> dict:
    if page.labels is not None and page.topics is not None:
        page.gold_text = "\n".join(
            t for t, y in zip(page.texts, page.labels, strict=True) if y == CONTENT
        )
        return _page_rows(page, page.labels, "gold", page.topics, "gold")
    return _page_rows(
        page, [UNKNOWN] * len(page.lines), "none", rules.label_lines(page.texts), "rule"
    )


def _read_train_pages(folder: Path, rules: TopicRules, held_out: Sequence[Page]) -> list[Page]:
    """The annotated pages of ``folder``, to train on; every page needs its annotation."""
    from textclf.annotation import annotation_path
    from textclf.errors import AnnotationError

    pages = read_seed_pages(folder, known_topics=rules.names, split="dev")
    for page in pages:
        if page.labels is None:
            path = folder / f"{page.page_id}.txt"
            raise AnnotationError(
                f"{path} has no annotation ({annotation_path(path).name}): a training page "
                "needs its labels. Write one with `python -m textclf.annotation template "
                f"{path}` and mark its content lines, or move the page out of {folder}"
            )
    shared = sorted({p.domain for p in pages} & {p.domain for p in held_out})
    if shared:
        log.warning(
            "training pages in %s share their site with held-out seed pages (%s): the seeds "
            "split no longer measures the model on sites it has not seen",
            folder,
            ", ".join(shared[:5]),
        )
    log.info("%d training page(s) from %s", len(pages), folder)
    return pages


def _check_unique_ids(page_ids: Sequence[str]) -> None:
    """Every page id once: a page's lines are told apart from its neighbours' by its id."""
    counts = Counter(page_ids)
    repeated = sorted(i for i, n in counts.items() if n > 1)
    if repeated:
        raise CorpusError(
            f"page id(s) {repeated[:5]} belong to more than one page: a page of seeds/ or "
            "seeds/train/ (its id is its file name without .txt) is named like another page; "
            "rename it"
        )


def _hash_files(paths: Iterable[Path], root: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(paths):
        digest.update(str(path.relative_to(root)).encode())
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def fingerprint(
    seeds_dir: Path,
    corpora_dir: Path,
    sources: Sequence[str],
    settings: dict[str, Any],
    train_pages_dir: Path | None = None,
) -> str:
    """A hash of the inputs, the code that reads them, and the settings."""
    code_dir = Path(__file__).parent
    parts = {
        "version": __version__,
        "code": _hash_files([code_dir / f"{m}.py" for m in _CODE_MODULES], code_dir),
        "settings": settings,
        "sources": list(sources),
    }
    if "seeds" in sources:
        # What a build reads: the pages and their annotations (not an editor's swap files).
        for name, folder in (("seeds", seeds_dir), ("train_pages", train_pages_dir)):
            if folder is not None and folder.is_dir():
                files = [
                    p
                    for p in folder.iterdir()
                    if p.is_file() and (p.suffix == ".txt" or p.name.endswith(".annotation.tsv"))
                ]
                parts[name] = _hash_files(files, folder)
    for name in CORPORA:
        if name in sources and (corpora_dir / name).is_dir():
            files = [p for p in (corpora_dir / name).rglob("*") if p.is_file()]
            parts[name] = _hash_files(files, corpora_dir)
    blob = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:20]


def read_fingerprint(path: Path) -> str | None:
    try:
        return json.loads((path / "fingerprint.json").read_text())["fingerprint"]
    except (OSError, ValueError, KeyError):
        return None


def build_dataset(
    *,
    out_dir: Path,
    seeds_dir: Path,
    corpora_dir: Path,
    sources: Sequence[str],
    rules: TopicRules,
    train_pages_dir: Path | None = None,
    topics_settings: dict[str, Any] | None = None,
    render: RenderOptions | None = None,
    align: AlignConfig | None = None,
    validation_fraction: float = 0.2,
    split_seed: int = 13,
    limit: int = 0,
    n_jobs: int = 2,
    force: bool = False,
    download: Any = None,
    progress: bool = True,
) -> BuildResult:
    """Build the datasets into ``out_dir`` unless an identical build is already there.

    With ``seeds`` among the sources, the pages of ``seeds_dir`` are the held-out seeds split and
    those of ``train_pages_dir`` (when it exists; each needs its hand annotation) join WCXB dev,
    in train or validation by their domain. ``topics_settings`` (the taxonomy as a dict) goes
    into the fingerprint, so editing a topic's rules rebuilds. ``download`` is a callable
    ``(corpora_dir) -> None`` that fetches missing corpora, or None to fail with a clear message
    when they are missing.
    """
    start = time.perf_counter()
    render = render or RenderOptions()
    align = align or AlignConfig()
    _check_settings(sources, validation_fraction, limit, n_jobs, align)
    out_dir, seeds_dir, corpora_dir = Path(out_dir), Path(seeds_dir), Path(corpora_dir)
    corpus_sources = [s for s in sources if s in CORPORA]
    unknown = sorted(set(sources) - {"seeds", *CORPORA})
    if unknown:
        raise CorpusError(f"unknown data source(s) {unknown}; valid: seeds, {', '.join(CORPORA)}")
    if corpus_sources:
        missing = [s for s in corpus_sources if not (corpora_dir / s).is_dir()]
        if missing:
            if download is None:
                raise CorpusError(
                    f"corpora {missing} not found in {corpora_dir}. Set TEXTCLF_CORPORA_DIR to the "
                    "folder that holds wcxb/ and scrapinghub/, or enable data.download."
                )
            download(corpora_dir)

    settings = {
        "render": asdict(render),
        "align": asdict(align),
        "validation_fraction": validation_fraction,
        "split_seed": split_seed,
        "limit": limit,
        "topics": topics_settings if topics_settings is not None else rules.names,
    }
    train_pages_dir = Path(train_pages_dir) if train_pages_dir is not None else None
    fp = fingerprint(seeds_dir, corpora_dir, sources, settings, train_pages_dir)
    if not force and read_fingerprint(out_dir) == fp:
        card = json.loads((out_dir / "card.json").read_text())
        return BuildResult(out_dir, fp, False, time.perf_counter() - start, card)

    results: list[dict] = []
    if "seeds" in sources:
        seed_pages = read_seed_pages(seeds_dir, known_topics=rules.names)
        if not seed_pages:
            log.warning("no seed pages (*.txt) in %s: the dataset has no seeds split", seeds_dir)
        results.extend(_seed_rows(page, rules) for page in seed_pages)
        if train_pages_dir is not None and train_pages_dir.is_dir():
            train_pages = _read_train_pages(train_pages_dir, rules, seed_pages)
            results.extend(_seed_rows(page, rules) for page in train_pages)
    from textclf.corpora import iter_records

    records = []
    for source in corpus_sources:
        recs = list(iter_records(corpora_dir, source))
        if limit:  # the first pages of each of the corpus's splits: a debug build has test pages
            seen: dict[str, int] = defaultdict(int)
            for rec in recs:
                seen[rec.split] += 1
                if seen[rec.split] <= limit:
                    records.append(rec)
        else:
            records.extend(recs)
    _check_unique_ids([r["page"]["page_id"] for r in results] + [r.page_id for r in records])
    results.extend(_run_parallel(records, render, align, rules, n_jobs, progress))

    lines: dict[str, dict[str, list]] = {s: defaultdict(list) for s in SPLITS}
    pages: dict[str, dict[str, list]] = {s: defaultdict(list) for s in SPLITS}
    for res in results:
        page = res["page"]
        split = assign_split(
            page["source"], page["split"], page["domain"], validation_fraction, split_seed
        )
        for key, value in page.items():
            pages[split][key].append(value)
        for key, values in res["lines"].items():
            lines[split][key].extend(values)

    # A split with no pages (e.g. a build without Scrapinghub) is left out: datasets cannot
    # reload an empty saved split.
    present = [s for s in SPLITS if pages[s]]
    line_dd = DatasetDict(
        {s: Dataset.from_dict(dict(lines[s]), features=LINE_FEATURES) for s in present}
    )
    page_dd = DatasetDict(
        {s: Dataset.from_dict(dict(pages[s]), features=PAGE_FEATURES) for s in present}
    )
    _check_no_leak(page_dd)
    seconds = time.perf_counter() - start
    from textclf.card import dataset_card

    # How it was built, for the card: the sources and the settings that choose its pages.
    build = {"sources": list(sources), **{k: settings[k] for k in _CARD_SETTINGS}}
    card = dataset_card(line_dd, page_dd, rules.names, fingerprint=fp, seconds=seconds, build=build)
    _write_atomically(out_dir, line_dd, page_dd, card, fp, progress)
    return BuildResult(out_dir, fp, True, time.perf_counter() - start, card)


_CARD_SETTINGS = ("limit", "validation_fraction", "split_seed")


def _check_settings(
    sources: Sequence[str], validation_fraction: float, limit: int, n_jobs: int, align: AlignConfig
) -> None:
    """Refuse settings that would build a wrong or empty dataset, before any work."""
    if not sources:
        raise ConfigError("data.sources is empty: name seeds, wcxb, scrapinghub or several")
    if not 0.0 < validation_fraction < 1.0:
        raise ConfigError(
            f"data.split.validation_fraction must be between 0 and 1, got {validation_fraction}"
        )
    if limit < 0:
        raise ConfigError(f"data.limit must be 0 (every page) or positive, got {limit}")
    if n_jobs == 0:
        raise ConfigError("data.n_jobs must be a positive number of workers, or -1 for all cores")
    if align.shingle_size < 1 or align.min_tokens < 1:
        raise ConfigError(
            f"data.align.shingle_size and min_tokens must be >= 1, got {align.shingle_size} "
            f"and {align.min_tokens}"
        )
    if not 0.0 < align.threshold <= 1.0:
        raise ConfigError(f"data.align.threshold must be in (0, 1], got {align.threshold}")


def _run_parallel(records, render, align, rules, n_jobs, progress) -> list[dict]:
    if not records:
        return []
    from joblib import Parallel, delayed
    from tqdm.auto import tqdm

    jobs = Parallel(n_jobs=n_jobs, batch_size=16, return_as="generator")(
        delayed(_label_corpus_page)(r, render, align, rules) for r in records
    )
    return list(tqdm(jobs, total=len(records), desc="render+label pages", disable=not progress))


def _check_no_leak(pages: DatasetDict) -> None:
    """No test page and no validation domain may reach training."""
    if "train" not in pages:
        return
    train_domains = set(pages["train"]["domain"])
    shared = train_domains & set(pages["validation"]["domain"] if "validation" in pages else [])
    if shared:
        raise AssertionError(f"domains in both train and validation: {sorted(shared)[:5]}")
    for split in ("train", "validation"):
        if split not in pages:
            continue
        bad = [
            p
            for p, s in zip(pages[split]["page_id"], pages[split]["split"], strict=True)
            if s != "dev"
        ]
        if bad:
            raise AssertionError(f"test pages reached {split}: {bad[:5]}")


def _write_atomically(
    out_dir: Path, lines: DatasetDict, pages: DatasetDict, card: dict, fp: str, progress: bool
) -> None:
    from datasets.utils.logging import disable_progress_bar, enable_progress_bar

    from textclf.card import render_card_markdown

    # Saving is quick: its per-split bars are noise next to the rendering bar.
    disable_progress_bar()
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(out_dir)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-{os.getpid()}-", dir=out_dir.parent))
    make_public(tmp, directory=True)  # mkdtemp makes it private; the dataset is not
    try:
        lines.save_to_disk(str(tmp / "lines"))
        pages.save_to_disk(str(tmp / "pages"))
        (tmp / "card.json").write_text(json.dumps(card, indent=2, sort_keys=True))
        (tmp / "card.md").write_text(render_card_markdown(card))
        (tmp / "fingerprint.json").write_text(json.dumps({"fingerprint": fp}))
        old = None
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
            os.replace(out_dir, old)
        try:
            os.replace(tmp, out_dir)
        except BaseException:
            if old is not None:  # put the previous build back
                os.replace(old, out_dir)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if progress:
            enable_progress_bar()


def _remove_leftovers(out_dir: Path) -> None:
    """Clean up after builds into ``out_dir`` that were killed (their process is gone): remove
    their temporary folders, and put back a previous build one of them had moved aside, or
    remove it when a newer build is in place. A running build's folders are left alone."""
    for folder in sorted(out_dir.parent.glob(f".{out_dir.name}.*-*")):
        kind, _, rest = folder.name[len(out_dir.name) + 2 :].partition("-")
        pid = rest.split("-", 1)[0]
        if kind not in ("tmp", "old") or not pid.isdecimal() or _process_alive(int(pid)):
            continue
        if kind == "old" and not out_dir.exists():
            os.replace(folder, out_dir)
        else:
            shutil.rmtree(folder, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, as another user's process
        return True
    return True


def load_dataset(path: Path) -> tuple[DatasetDict, DatasetDict]:
    """Load ``(lines, pages)`` from a built dataset folder; a clear error when it is missing."""
    path = Path(path)
    if read_fingerprint(path) is None:
        raise CorpusError(f"no dataset at {path}: run `make data` first")
    return load_from_disk(str(path / "lines")), load_from_disk(str(path / "pages"))
