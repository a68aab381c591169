"""Download the public corpora (WCXB, Scrapinghub) when the corpora folder does not have them.

Each corpus comes from its public GitHub repository as the source archive of a pinned commit. The
archive is streamed to a temporary file, extracted safely, normalised into the local layout that
:mod:`textclf.corpora` reads, and only then renamed into place: the corpora folder never holds a
half-written corpus, and temporary files are removed whatever happens.

Local layout (``corpora_dir``)::

    wcxb/metadata.json                    {"files": {id: {"split": "dev"|"test", ...}}}
    wcxb/{dev,test}/html/NNNN.html.gz
    wcxb/{dev,test}/ground-truth/NNNN.json
    wcxb/LICENSE
    scrapinghub/html/<id>.html.gz
    scrapinghub/ground-truth.json
    scrapinghub/LICENSE

Run ``python -m textclf.download [CORPORA_DIR]`` to fetch them by hand.
"""

from __future__ import annotations

import contextlib
import gzip
import http.client
import json
import logging
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from tqdm import tqdm

from textclf import __version__
from textclf.errors import ConfigError, CorpusError, DownloadError, TextclfError

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_SOURCES",
    "LAYOUT",
    "CorpusSource",
    "corpora_ready",
    "ensure_corpora",
    "main",
    "missing_corpora",
]

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://github.com"
_ARCHIVE_URL = "{base_url}/{repo}/archive/{commit}.tar.gz"
_CHUNK = 1 << 20
_GZIP_MAGIC = b"\x1f\x8b"
_SPLITS = ("dev", "test")
_LICENSE_NAMES = ("LICENSE", "LICENSE.md", "LICENSE.txt", "LICENCE", "LICENCE.md", "COPYING")

# What must exist under corpora_dir/<name> for the corpus to count as present.
_REQUIRED: dict[str, tuple[str, ...]] = {
    "wcxb": (
        "metadata.json",
        "dev/html/",
        "dev/ground-truth/",
        "test/html/",
        "test/ground-truth/",
    ),
    "scrapinghub": ("ground-truth.json", "html/"),
}
_TITLES = {"wcxb": "WCXB", "scrapinghub": "Scrapinghub"}

LAYOUT = (
    "wcxb/metadata.json, wcxb/{dev,test}/html/NNNN.html.gz, "
    "wcxb/{dev,test}/ground-truth/NNNN.json; "
    "scrapinghub/html/<id>.html.gz, scrapinghub/ground-truth.json"
)
"""One-line description of the expected layout of the corpora folder, for error messages."""


@dataclass(frozen=True)
class CorpusSource:
    """A corpus and where to download it: a GitHub repository at a pinned commit.

    ``name`` is the corpus folder under ``corpora_dir`` and picks how the archive is laid out
    (``"wcxb"`` or ``"scrapinghub"``).
    """

    name: str
    repo: str
    commit: str

    @property
    def title(self) -> str:
        """The corpus name for messages, e.g. ``WCXB``."""
        return _TITLES.get(self.name, self.name)

    def archive_url(self, base_url: str = DEFAULT_BASE_URL) -> str:
        """The URL of the source archive (``.tar.gz``) of the pinned commit."""
        return _ARCHIVE_URL.format(
            base_url=base_url.rstrip("/"), repo=self.repo.strip("/"), commit=self.commit
        )


DEFAULT_SOURCES: tuple[CorpusSource, ...] = (
    CorpusSource("wcxb", "Murrough-Foley/web-content-extraction-benchmark", "c039d5ee9f5a"),
    CorpusSource("scrapinghub", "scrapinghub/article-extraction-benchmark", "4a3bc979f76c"),
)
"""The two public corpora textclf trains and evaluates on."""


# --------------------------------------------------------------------------------------------
# Local state


def _check_name(name: str) -> None:
    if name not in _REQUIRED:
        raise ConfigError(f"unknown corpus {name!r}; valid names: {', '.join(_REQUIRED)}")


def _missing_parts(folder: Path, name: str) -> list[str]:
    """The required files/folders of corpus ``name`` that ``folder`` lacks."""
    missing = []
    for part in _REQUIRED[name]:
        path = folder / part.rstrip("/")
        ok = path.is_dir() if part.endswith("/") else path.is_file()
        if not ok:
            missing.append(part)
    return missing


def corpora_ready(corpora_dir: Path, name: str) -> bool:
    """Whether ``corpora_dir/<name>`` has the expected layout of corpus ``name``.

    Only the structure is checked (the metadata/ground-truth files and the page folders), not
    every page. Raises :class:`~textclf.errors.ConfigError` for an unknown corpus name.
    """
    _check_name(name)
    folder = Path(corpora_dir) / name
    return folder.is_dir() and not _missing_parts(folder, name)


def missing_corpora(
    corpora_dir: Path, sources: Iterable[CorpusSource] = DEFAULT_SOURCES
) -> list[str]:
    """Names of the corpora that ``corpora_dir`` lacks or has incomplete, in ``sources`` order."""
    return [s.name for s in sources if not corpora_ready(corpora_dir, s.name)]


def _is_empty_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink() and not any(path.iterdir())


def _check_not_broken(corpora_dir: Path, source: CorpusSource) -> None:
    """Raise CorpusError if ``corpora_dir/<name>`` exists but lacks files (we never overwrite)."""
    folder = corpora_dir / source.name
    if not (folder.exists() or folder.is_symlink()) or _is_empty_dir(folder):
        return
    if not folder.is_dir():
        raise CorpusError(
            f"{folder} is not a folder. Remove it to have `make data` download {source.title} "
            f"there, or set TEXTCLF_CORPORA_DIR to a folder that has the corpora "
            f"(layout: {LAYOUT})"
        )
    missing = _missing_parts(folder, source.name)
    if missing:
        raise CorpusError(
            f"the {source.title} corpus folder {folder} is incomplete: it lacks "
            f"{', '.join(missing)}. Delete {folder} to have `make data` download it again, "
            f"or copy a complete copy there (layout: {LAYOUT})"
        )


# --------------------------------------------------------------------------------------------
# Public entry point


def ensure_corpora(
    corpora_dir: Path,
    *,
    base_url: str = DEFAULT_BASE_URL,
    sources: Sequence[CorpusSource] = DEFAULT_SOURCES,
    timeout: float = 60.0,
    progress: bool = True,
) -> Path:
    """Make sure ``corpora_dir`` holds every corpus of ``sources``; download the missing ones.

    A corpus already laid out under ``corpora_dir/<name>`` is left alone (no network access at
    all when every corpus is there). A missing one is downloaded from
    ``{base_url}/{repo}/archive/{commit}.tar.gz``, extracted, normalised into the local layout
    and renamed into place atomically.

    Returns ``corpora_dir``.

    Raises:
        CorpusError: ``corpora_dir/<name>`` exists but lacks files (nothing is downloaded then;
            delete the folder to re-download).
        DownloadError: the download failed (no network, HTTP error, timeout), the archive is
            corrupt or unsafe, or it lacks the expected files.
    """
    corpora_dir = Path(corpora_dir)
    for source in sources:
        _check_name(source.name)
    todo = [s for s in sources if not corpora_ready(corpora_dir, s.name)]
    if not todo:
        return corpora_dir
    # Check every corpus first: do not download one and then fail on a broken local folder.
    for source in todo:
        _check_not_broken(corpora_dir, source)

    created = not corpora_dir.exists()
    try:
        corpora_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"cannot create the corpora folder {corpora_dir}: {exc}") from exc
    try:
        for source in todo:
            _download_one(corpora_dir, source, base_url, timeout, progress)
    except BaseException:
        if created:
            with contextlib.suppress(OSError):
                corpora_dir.rmdir()  # only if empty: a corpus that did arrive stays
        raise
    return corpora_dir


# --------------------------------------------------------------------------------------------
# Download


def _network_error(source: CorpusSource, url: str, corpora_dir: Path, reason: object) -> str:
    return (
        f"could not download {source.title} from {url}: {reason}. This machine seems to have no "
        f"network: copy the corpora to {corpora_dir} or set TEXTCLF_CORPORA_DIR to a folder that "
        f"has them (layout: {LAYOUT})"
    )


def _download_one(
    corpora_dir: Path, source: CorpusSource, base_url: str, timeout: float, progress: bool
) -> None:
    target = corpora_dir / source.name
    url = source.archive_url(base_url)
    log.info("downloading %s from %s", source.title, url)
    archive: Path | None = None
    work: Path | None = None
    try:
        try:
            fd, tmp_name = tempfile.mkstemp(
                prefix=f".{source.name}-", suffix=".tar.gz.part", dir=corpora_dir.parent
            )
            archive = Path(tmp_name)
            with os.fdopen(fd, "wb") as out:
                _fetch(url, out, archive, source, corpora_dir, timeout, progress)
            # The work folder sits in corpora_dir so that the final rename stays on one file system.
            work = Path(tempfile.mkdtemp(prefix=f".{source.name}-", suffix=".tmp", dir=corpora_dir))
            extract_dir = work / "extract"
            out_dir = work / source.name
            _extract(archive, extract_dir, source, url)
            archive.unlink()
            _LAYOUTS[source.name](extract_dir, out_dir, source, url)
            _publish(out_dir, target, source)
        except TextclfError:
            raise
        except OSError as exc:  # disk full, permissions...: still no raw traceback
            raise DownloadError(
                f"could not install {source.title} into {target}: {_describe(exc)}"
            ) from exc
    finally:
        if archive is not None:
            archive.unlink(missing_ok=True)
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
    log.info("%s is ready in %s", source.title, target)


def _fetch(
    url: str,
    out: BinaryIO,
    out_path: Path,
    source: CorpusSource,
    corpora_dir: Path,
    timeout: float,
    progress: bool,
) -> None:
    """Stream ``url`` into the open binary file ``out``."""
    request = urllib.request.Request(url, headers={"User-Agent": f"textclf/{__version__}"})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        raise DownloadError(
            f"could not download {source.title} from {url}: HTTP error {exc.code} {exc.reason}. "
            f"Check that the repository {source.repo} and commit {source.commit} exist, or copy "
            f"the corpora to {corpora_dir} (layout: {LAYOUT})"
        ) from exc
    except urllib.error.URLError as exc:
        raise DownloadError(_network_error(source, url, corpora_dir, exc.reason)) from exc
    except (OSError, http.client.HTTPException, ValueError) as exc:
        # TimeoutError, ConnectionResetError, a malformed URL or response...
        raise DownloadError(_network_error(source, url, corpora_dir, _describe(exc))) from exc

    with response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        received = 0
        with tqdm(
            total=total,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            desc=f"{source.title}",
            file=sys.stderr,
            disable=not progress,
        ) as bar:
            while True:
                try:
                    chunk = response.read(_CHUNK)
                except (OSError, http.client.HTTPException) as exc:
                    raise DownloadError(
                        _network_error(source, url, corpora_dir, _describe(exc))
                    ) from exc
                if not chunk:
                    break
                try:
                    out.write(chunk)
                except OSError as exc:
                    raise DownloadError(
                        f"could not save {source.title} from {url} to {out_path}: {exc}"
                    ) from exc
                received += len(chunk)
                bar.update(len(chunk))
    if total is not None and received < total:
        raise DownloadError(
            _network_error(
                source, url, corpora_dir, f"the transfer stopped after {received} of {total} bytes"
            )
        )


def _describe(exc: BaseException) -> str:
    text = str(exc)
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


# --------------------------------------------------------------------------------------------
# Safe extraction


def _safe_member(member: tarfile.TarInfo, dest: str) -> tarfile.TarInfo:
    """Tar filter: refuse absolute paths, ``..``, links and special files; then ``data``."""
    name = member.name
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or os.path.isabs(name) or ".." in parts:
        raise tarfile.FilterError(f"unsafe path in the archive: {name!r}")
    if member.issym() or member.islnk():
        raise tarfile.FilterError(f"link in the archive: {name!r}")
    if not (member.isfile() or member.isdir()):
        raise tarfile.FilterError(f"special file in the archive: {name!r}")
    return tarfile.data_filter(member, dest)


def _extract(archive: Path, dest: Path, source: CorpusSource, url: str) -> None:
    """Extract ``archive`` into ``dest`` safely; any problem becomes a DownloadError."""
    dest.mkdir()
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            tar.extractall(dest, filter=_safe_member)
    except tarfile.FilterError as exc:
        raise DownloadError(
            f"refusing the {source.title} archive from {url}: {exc}. Nothing was installed"
        ) from exc
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise DownloadError(
            f"the {source.title} archive from {url} is corrupt or not a .tar.gz "
            f"({_describe(exc)}). Try again, or copy the corpora by hand (layout: {LAYOUT})"
        ) from exc


# --------------------------------------------------------------------------------------------
# Normalising the upstream layouts


def _find_root(extract_dir: Path, marker: str, subdirs: Sequence[str]) -> Path | None:
    """The shallowest folder holding ``marker``, preferring one that also has ``subdirs``."""
    hits = sorted(
        (p.parent for p in extract_dir.rglob(marker) if p.is_file()),
        key=lambda p: (len(p.relative_to(extract_dir).parts), str(p)),
    )
    for folder in hits:
        if any((folder / sub).is_dir() for sub in subdirs):
            return folder
    return hits[0] if hits else None


def _lacks(source: CorpusSource, url: str, what: str) -> DownloadError:
    return DownloadError(
        f"the {source.title} archive from {url} lacks {what}: the repository layout may have "
        f"changed. Copy the corpora by hand instead (layout: {LAYOUT})"
    )


def _page_id(path: Path) -> str | None:
    """``0001`` for ``0001.html`` or ``0001.html.gz``; None for other files."""
    name = path.name
    for suffix in (".html.gz", ".html", ".htm.gz", ".htm"):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return None


def _html_pages(folder: Path) -> dict[str, Path]:
    """Page id -> HTML file in ``folder`` (a ``.gz`` file wins over a plain one)."""
    pages: dict[str, Path] = {}
    if not folder.is_dir():
        return pages
    for path in sorted(folder.iterdir(), key=lambda p: p.name):
        page_id = _page_id(path)
        if page_id is None or not path.is_file():
            continue
        if page_id not in pages or path.name.endswith(".gz"):
            pages[page_id] = path
    return pages


def _store_html(src: Path, dst: Path) -> None:
    """Move ``src`` to ``dst`` (``.html.gz``), gzipping it if it is plain HTML."""
    with src.open("rb") as fh:
        gzipped = fh.read(2) == _GZIP_MAGIC
    if gzipped:
        src.replace(dst)
        return
    # mtime=0 and no file name: the same page always gives the same bytes.
    with (
        src.open("rb") as fin,
        dst.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as fout,
    ):
        shutil.copyfileobj(fin, fout, _CHUNK)


def _copy_license(root: Path, extract_dir: Path, out_dir: Path, source: CorpusSource) -> None:
    candidates = [root, *root.parents]
    for folder in candidates:
        for name in _LICENSE_NAMES:
            path = folder / name
            if path.is_file():
                shutil.copyfile(path, out_dir / "LICENSE")
                return
        if folder == extract_dir:
            break
    log.warning("the %s archive has no LICENSE file", source.title)


def _read_json(path: Path, source: CorpusSource, url: str) -> object:
    try:
        with path.open(encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError) as exc:
        raise DownloadError(
            f"the {source.title} archive from {url} has an unreadable {path.name}: {exc}"
        ) from exc


def _layout_wcxb(extract_dir: Path, out_dir: Path, source: CorpusSource, url: str) -> None:
    """Lay WCXB out; each page goes only to the split ``metadata.json`` assigns it."""
    root = _find_root(extract_dir, "metadata.json", _SPLITS)
    if root is None:
        raise _lacks(source, url, "metadata.json")
    missing = [
        f"{split}/{kind}/"
        for split in _SPLITS
        for kind in ("html", "ground-truth")
        if not (root / split / kind).is_dir()
    ]
    if missing:
        raise _lacks(source, url, ", ".join(missing) + f" (next to {root.name}/metadata.json)")

    meta = _read_json(root / "metadata.json", source, url)
    files = meta.get("files") if isinstance(meta, dict) else None
    if not isinstance(files, dict) or not files:
        raise _lacks(source, url, 'a "files" table in metadata.json')
    assigned: dict[str, str] = {}
    for page_id, info in files.items():
        split = info.get("split") if isinstance(info, dict) else None
        if split not in _SPLITS:
            raise DownloadError(
                f"the {source.title} archive from {url}: metadata.json gives page {page_id!r} "
                f"the split {split!r}, expected one of {', '.join(_SPLITS)}"
            )
        assigned[str(page_id)] = split

    html = {split: _html_pages(root / split / "html") for split in _SPLITS}
    truth = {
        split: {p.stem: p for p in (root / split / "ground-truth").glob("*.json") if p.is_file()}
        for split in _SPLITS
    }
    for split in _SPLITS:
        (out_dir / split / "html").mkdir(parents=True)
        (out_dir / split / "ground-truth").mkdir(parents=True)

    absent: list[str] = []
    dropped = 0
    for page_id, split in sorted(assigned.items()):
        # Prefer the copy in the assigned split's folder; a page filed under the other split
        # (upstream's dev folder holds copies of test pages) still goes to the assigned one.
        other = "test" if split == "dev" else "dev"
        found = next(
            (s for s in (split, other) if page_id in html[s] and page_id in truth[s]), None
        )
        if found is None:
            absent.append(f"{split}/ground-truth/{page_id}.json + {split}/html/{page_id}.html")
            continue
        _store_html(html[found][page_id], out_dir / split / "html" / f"{page_id}.html.gz")
        truth[found][page_id].replace(out_dir / split / "ground-truth" / f"{page_id}.json")
        if found == split and page_id in html[other]:
            dropped += 1
    if absent:
        shown = "; ".join(absent[:5]) + (f"; ... ({len(absent)} pages)" if len(absent) > 5 else "")
        raise _lacks(source, url, f"pages that metadata.json lists: {shown}")
    unlisted = {p for s in _SPLITS for p in html[s]} - assigned.keys()
    if dropped:
        log.info("%s: dropped %d copies filed under the wrong split", source.title, dropped)
    if unlisted:
        log.warning(
            "%s: skipped %d pages that metadata.json does not list", source.title, len(unlisted)
        )
    shutil.copyfile(root / "metadata.json", out_dir / "metadata.json")
    _copy_license(root, extract_dir, out_dir, source)


def _layout_scrapinghub(extract_dir: Path, out_dir: Path, source: CorpusSource, url: str) -> None:
    """Lay Scrapinghub out: ``html/<id>.html.gz`` and ``ground-truth.json``."""
    root = _find_root(extract_dir, "ground-truth.json", ("html",))
    if root is None:
        raise _lacks(source, url, "ground-truth.json")
    if not (root / "html").is_dir():
        raise _lacks(source, url, f"html/ (next to {root.name}/ground-truth.json)")
    truth = _read_json(root / "ground-truth.json", source, url)
    if not isinstance(truth, dict) or not truth:
        raise _lacks(source, url, "a non-empty ground-truth.json")
    pages = _html_pages(root / "html")
    absent = sorted(str(page_id) for page_id in truth if str(page_id) not in pages)
    if absent:
        shown = ", ".join(f"html/{p}.html.gz" for p in absent[:5])
        raise _lacks(source, url, f"pages that ground-truth.json lists ({len(absent)}): {shown}")
    (out_dir / "html").mkdir(parents=True)
    for page_id, path in pages.items():
        _store_html(path, out_dir / "html" / f"{page_id}.html.gz")
    shutil.copyfile(root / "ground-truth.json", out_dir / "ground-truth.json")
    _copy_license(root, extract_dir, out_dir, source)


_LAYOUTS: dict[str, Callable[[Path, Path, CorpusSource, str], None]] = {
    "wcxb": _layout_wcxb,
    "scrapinghub": _layout_scrapinghub,
}


def _publish(out_dir: Path, target: Path, source: CorpusSource) -> None:
    """Rename the finished ``out_dir`` to ``target`` in one step."""
    missing = _missing_parts(out_dir, source.name)
    if missing:  # a bug in the layout code, not in the archive
        raise DownloadError(f"internal error: the {source.title} layout lacks {missing}")
    if _is_empty_dir(target):
        target.rmdir()
    try:
        out_dir.rename(target)
    except OSError as exc:
        if corpora_ready(target.parent, source.name):
            return  # another process finished first; ours is discarded with the work folder
        raise DownloadError(f"could not move {source.title} into {target}: {exc}") from exc


# --------------------------------------------------------------------------------------------
# Command line


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m textclf.download [CORPORA_DIR]``: fetch the missing corpora."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m textclf.download", description=__doc__)
    parser.add_argument(
        "corpora_dir",
        nargs="?",
        type=Path,
        default=Path(os.environ.get("TEXTCLF_CORPORA_DIR") or "data/raw/corpora"),
        help="the corpora folder (default: $TEXTCLF_CORPORA_DIR or data/raw/corpora)",
    )
    parser.add_argument("--base-url", default=DEFAULT_BASE_URL)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        ensure_corpora(
            args.corpora_dir, base_url=args.base_url, timeout=args.timeout, progress=not args.quiet
        )
    except (CorpusError, DownloadError, ConfigError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"corpora ready in {args.corpora_dir}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
