"""Tests for textclf.download: fake GitHub archives served from a local HTTP server (offline)."""

from __future__ import annotations

import gzip
import io
import json
import socket
import tarfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from textclf.download import (
    DEFAULT_SOURCES,
    CorpusSource,
    corpora_ready,
    ensure_corpora,
    missing_corpora,
)
from textclf.errors import CorpusError, DownloadError

WCXB, SCRAPINGHUB = DEFAULT_SOURCES
WCXB_PATH = "/Murrough-Foley/web-content-extraction-benchmark/archive/c039d5ee9f5a.tar.gz"
SH_PATH = "/scrapinghub/article-extraction-benchmark/archive/4a3bc979f76c.tar.gz"
WCXB_TOP = "web-content-extraction-benchmark-c039d5ee9f5a0123456789abcdef012345678901"
SH_TOP = "article-extraction-benchmark-4a3bc979f76c0123456789abcdef012345678901"

META = {
    "name": "fake",
    "files": {
        "0001": {"split": "dev", "page_type": "article", "domain": "a.example", "spa": False},
        "0002": {"split": "dev", "page_type": "forum", "domain": "b.example", "spa": False},
        "0003": {"split": "test", "page_type": "product", "domain": "c.example", "spa": True},
    },
}


def _html(page_id: str) -> bytes:
    return f"<html><body><p>page {page_id}</p></body></html>".encode()


def _truth(page_id: str) -> bytes:
    return json.dumps({"ground_truth": {"main_content": f"page {page_id}"}}).encode()


def make_tar(files: dict[str, bytes], extra: list[tarfile.TarInfo] | None = None) -> bytes:
    """A .tar.gz holding ``files`` (path -> bytes), plus hand-made members ``extra``."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info in extra or []:
            tar.addfile(info, io.BytesIO(b"x" * info.size) if info.isfile() else None)
    return buf.getvalue()


def wcxb_files(prefix: str = "") -> dict[str, bytes]:
    """A fake WCXB checkout: dev holds 0001 (plain), 0002 (gzipped) and a copy of test page 0003."""
    base = f"{WCXB_TOP}/{prefix}"
    return {
        f"{WCXB_TOP}/README.md": b"fake",
        f"{WCXB_TOP}/LICENSE": b"CC-BY-4.0 (fake)",
        f"{base}metadata.json": json.dumps(META).encode(),
        f"{base}dev/html/0001.html": _html("0001"),
        f"{base}dev/html/0002.html.gz": gzip.compress(_html("0002")),
        f"{base}dev/html/0003.html": _html("0003"),
        f"{base}dev/ground-truth/0001.json": _truth("0001"),
        f"{base}dev/ground-truth/0002.json": _truth("0002"),
        f"{base}dev/ground-truth/0003.json": _truth("0003"),
        f"{base}test/html/0003.html": _html("0003"),
        f"{base}test/ground-truth/0003.json": _truth("0003"),
    }


def scrapinghub_files() -> dict[str, bytes]:
    """A fake Scrapinghub checkout: one gzipped page, one plain page."""
    truth = {"aaa": {"articleBody": "a", "url": "https://a.example/"}, "bbb": {"articleBody": "b"}}
    return {
        f"{SH_TOP}/LICENSE": b"MIT (fake)",
        f"{SH_TOP}/ground-truth.json": json.dumps(truth).encode(),
        f"{SH_TOP}/html/aaa.html.gz": gzip.compress(_html("aaa")),
        f"{SH_TOP}/html/bbb.html": _html("bbb"),
        f"{SH_TOP}/output/other.json": b"{}",
    }


@dataclass
class FakeGitHub:
    """What the local server serves (path -> bytes) and the paths it was asked for."""

    base_url: str = ""
    routes: dict[str, bytes] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    hang: threading.Event | None = None


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "*")
    monkeypatch.setenv("NO_PROXY", "*")


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    state = FakeGitHub()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            if state.hang is not None:
                state.hang.wait(5)
                return
            body = state.routes.get(self.path)
            if body is None:
                self.send_error(404, "Not Found")
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/x-gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        if state.hang is not None:
            state.hang.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def served(github: FakeGitHub) -> FakeGitHub:
    github.routes[WCXB_PATH] = make_tar(wcxb_files())
    github.routes[SH_PATH] = make_tar(scrapinghub_files())
    return github


def _ensure(corpora: Path, github: FakeGitHub, **kwargs: object) -> Path:
    return ensure_corpora(corpora, base_url=github.base_url, progress=False, timeout=5, **kwargs)


def _assert_clean(tmp_path: Path) -> None:
    """No temporary file or half-written corpus anywhere under tmp_path."""
    leftovers = [p for p in tmp_path.rglob("*") if p.name.startswith(".")]
    assert leftovers == []
    for name in ("wcxb", "scrapinghub"):
        folder = tmp_path / "corpora" / name
        assert not folder.exists() or corpora_ready(tmp_path / "corpora", name)


def _gunzip(path: Path) -> bytes:
    data = path.read_bytes()
    assert data[:2] == b"\x1f\x8b", f"{path} is not gzipped"
    return gzip.decompress(data)


def test_downloads_both_corpora_into_the_local_layout(served: FakeGitHub, tmp_path: Path) -> None:
    corpora = tmp_path / "corpora"
    assert missing_corpora(corpora) == ["wcxb", "scrapinghub"]

    assert _ensure(corpora, served) == corpora

    assert sorted(served.requests) == sorted([WCXB_PATH, SH_PATH])
    wcxb = corpora / "wcxb"
    assert json.loads((wcxb / "metadata.json").read_text()) == META
    assert (wcxb / "LICENSE").read_bytes() == b"CC-BY-4.0 (fake)"
    assert sorted(p.name for p in (wcxb / "dev/html").iterdir()) == ["0001.html.gz", "0002.html.gz"]
    assert sorted(p.name for p in (wcxb / "dev/ground-truth").iterdir()) == [
        "0001.json",
        "0002.json",
    ]
    assert sorted(p.name for p in (wcxb / "test/html").iterdir()) == ["0003.html.gz"]
    assert sorted(p.name for p in (wcxb / "test/ground-truth").iterdir()) == ["0003.json"]
    for split, page_id in (("dev", "0001"), ("dev", "0002"), ("test", "0003")):
        assert _gunzip(wcxb / split / "html" / f"{page_id}.html.gz") == _html(page_id)
        assert (wcxb / split / "ground-truth" / f"{page_id}.json").read_bytes() == _truth(page_id)

    sh = corpora / "scrapinghub"
    assert sorted(p.name for p in sh.iterdir()) == ["LICENSE", "ground-truth.json", "html"]
    assert sorted(p.name for p in (sh / "html").iterdir()) == ["aaa.html.gz", "bbb.html.gz"]
    assert _gunzip(sh / "html/bbb.html.gz") == _html("bbb")
    assert json.loads((sh / "ground-truth.json").read_text())["aaa"]["articleBody"] == "a"

    assert missing_corpora(corpora) == []
    assert corpora_ready(corpora, "wcxb") and corpora_ready(corpora, "scrapinghub")
    _assert_clean(tmp_path)


def test_second_call_downloads_nothing(served: FakeGitHub, tmp_path: Path) -> None:
    corpora = tmp_path / "corpora"
    _ensure(corpora, served)
    assert len(served.requests) == 2
    _ensure(corpora, served)
    assert len(served.requests) == 2


def test_only_the_missing_corpus_is_downloaded(served: FakeGitHub, tmp_path: Path) -> None:
    corpora = tmp_path / "corpora"
    _ensure(corpora, served, sources=(WCXB,))
    assert served.requests == [WCXB_PATH]
    _ensure(corpora, served)
    assert served.requests == [WCXB_PATH, SH_PATH]


@pytest.mark.parametrize("prefix", ["data/", "benchmark/"])
def test_wcxb_nested_in_a_subfolder(github: FakeGitHub, tmp_path: Path, prefix: str) -> None:
    github.routes[WCXB_PATH] = make_tar(wcxb_files(prefix))
    _ensure(tmp_path / "corpora", github, sources=(WCXB,))
    wcxb = tmp_path / "corpora/wcxb"
    assert (wcxb / "LICENSE").is_file()
    assert sorted(p.name for p in (wcxb / "test/html").iterdir()) == ["0003.html.gz"]
    assert not (wcxb / "dev/html/0003.html.gz").exists()


def test_page_filed_under_the_wrong_split_goes_to_the_metadata_split(
    github: FakeGitHub, tmp_path: Path
) -> None:
    # Upstream has 0003 only in dev/, but metadata.json says test: it must land in test/.
    meta = json.loads(json.dumps(META))
    meta["files"]["0004"] = {"split": "test", "page_type": "service", "domain": "d.example"}
    files = wcxb_files()
    files[f"{WCXB_TOP}/metadata.json"] = json.dumps(meta).encode()
    files[f"{WCXB_TOP}/test/html/0004.html"] = files.pop(f"{WCXB_TOP}/test/html/0003.html")
    files[f"{WCXB_TOP}/test/ground-truth/0004.json"] = files.pop(
        f"{WCXB_TOP}/test/ground-truth/0003.json"
    )
    github.routes[WCXB_PATH] = make_tar(files)
    _ensure(tmp_path / "corpora", github, sources=(WCXB,))
    wcxb = tmp_path / "corpora/wcxb"
    assert _gunzip(wcxb / "test/html/0003.html.gz") == _html("0003")
    assert (wcxb / "test/ground-truth/0003.json").is_file()
    assert not (wcxb / "dev/html/0003.html.gz").exists()
    assert not (wcxb / "dev/ground-truth/0003.json").exists()


def test_http_404_names_the_url(github: FakeGitHub, tmp_path: Path) -> None:
    with pytest.raises(DownloadError) as info:
        _ensure(tmp_path / "corpora", github)
    message = str(info.value)
    assert f"{github.base_url}{WCXB_PATH}" in message
    assert "404" in message
    assert github.requests == [WCXB_PATH]
    assert not (tmp_path / "corpora").exists()
    _assert_clean(tmp_path)


def test_connection_refused_explains_the_missing_network(tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    corpora = tmp_path / "corpora"
    with pytest.raises(DownloadError) as info:
        ensure_corpora(corpora, base_url=f"http://127.0.0.1:{port}", progress=False, timeout=2)
    message = str(info.value)
    assert message.startswith(f"could not download WCXB from http://127.0.0.1:{port}{WCXB_PATH}")
    assert "no network" in message
    assert str(corpora) in message
    assert "TEXTCLF_CORPORA_DIR" in message
    assert "wcxb/metadata.json" in message
    assert isinstance(info.value, OSError)
    _assert_clean(tmp_path)


def test_timeout_is_a_download_error(github: FakeGitHub, tmp_path: Path) -> None:
    github.hang = threading.Event()
    with pytest.raises(DownloadError, match="no network"):
        ensure_corpora(tmp_path / "corpora", base_url=github.base_url, progress=False, timeout=0.2)
    _assert_clean(tmp_path)


@pytest.mark.parametrize("how", ["garbage", "truncated"])
def test_corrupt_archive_leaves_nothing_behind(
    served: FakeGitHub, tmp_path: Path, how: str
) -> None:
    good = served.routes[WCXB_PATH]
    served.routes[WCXB_PATH] = b"<html>not a tarball</html>" if how == "garbage" else good[:-200]
    with pytest.raises(DownloadError, match="corrupt"):
        _ensure(tmp_path / "corpora", served)
    assert not (tmp_path / "corpora").exists()
    assert list(tmp_path.iterdir()) == []


def test_failure_keeps_a_corpus_that_did_arrive(served: FakeGitHub, tmp_path: Path) -> None:
    served.routes[SH_PATH] = b"garbage"
    with pytest.raises(DownloadError, match="Scrapinghub"):
        _ensure(tmp_path / "corpora", served)
    assert missing_corpora(tmp_path / "corpora") == ["scrapinghub"]
    _assert_clean(tmp_path)


def _member(name: str, kind: bytes = tarfile.REGTYPE, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    info.size = 1 if kind == tarfile.REGTYPE else 0
    return info


@pytest.mark.parametrize(
    "member",
    [
        _member(f"{WCXB_TOP}/../evil.txt"),
        _member("../evil.txt"),
        _member("/tmp/evil.txt"),
        _member(f"{WCXB_TOP}/link", tarfile.SYMTYPE, "/etc/passwd"),
        _member(f"{WCXB_TOP}/hard", tarfile.LNKTYPE, f"{WCXB_TOP}/README.md"),
    ],
    ids=["dotdot-nested", "dotdot", "absolute", "symlink", "hardlink"],
)
def test_unsafe_members_are_rejected(
    github: FakeGitHub, tmp_path: Path, member: tarfile.TarInfo
) -> None:
    github.routes[WCXB_PATH] = make_tar(wcxb_files(), extra=[member])
    corpora = tmp_path / "sub" / "corpora"
    with pytest.raises(DownloadError, match="refusing the WCXB archive"):
        _ensure(corpora, github)
    assert not (tmp_path / "evil.txt").exists()
    assert not (tmp_path / "sub" / "evil.txt").exists()
    assert not corpora.exists()
    assert list((tmp_path / "sub").iterdir()) == []


@pytest.mark.parametrize(
    ("drop", "named"),
    [
        ("metadata.json", "metadata.json"),
        ("test/ground-truth/", "test/ground-truth/"),
        ("dev/html/0002.html.gz", "dev/html/0002.html"),
    ],
)
def test_archive_lacking_files_says_which(
    github: FakeGitHub, tmp_path: Path, drop: str, named: str
) -> None:
    files = {k: v for k, v in wcxb_files().items() if not k.startswith(f"{WCXB_TOP}/{drop}")}
    github.routes[WCXB_PATH] = make_tar(files)
    with pytest.raises(DownloadError, match="lacks") as info:
        _ensure(tmp_path / "corpora", github, sources=(WCXB,))
    assert named in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_scrapinghub_archive_lacking_ground_truth(github: FakeGitHub, tmp_path: Path) -> None:
    files = scrapinghub_files()
    del files[f"{SH_TOP}/ground-truth.json"]
    github.routes[SH_PATH] = make_tar(files)
    with pytest.raises(DownloadError, match=r"lacks ground-truth\.json"):
        _ensure(tmp_path / "corpora", github, sources=(SCRAPINGHUB,))
    assert list(tmp_path.iterdir()) == []


def test_incomplete_local_folder_is_a_corpus_error(served: FakeGitHub, tmp_path: Path) -> None:
    corpora = tmp_path / "corpora"
    (corpora / "wcxb" / "dev" / "html").mkdir(parents=True)
    assert not corpora_ready(corpora, "wcxb")
    with pytest.raises(CorpusError) as info:
        _ensure(corpora, served)
    message = str(info.value)
    assert "metadata.json" in message and "test/html/" in message
    assert "Delete" in message
    assert served.requests == []  # nothing downloaded, not even the other corpus


def test_empty_local_folder_is_filled(served: FakeGitHub, tmp_path: Path) -> None:
    corpora = tmp_path / "corpora"
    (corpora / "wcxb").mkdir(parents=True)
    _ensure(corpora, served)
    assert missing_corpora(corpora) == []


def test_base_url_and_template() -> None:
    source = CorpusSource("wcxb", "owner/repo", "abc123")
    assert source.archive_url("http://host:1/") == "http://host:1/owner/repo/archive/abc123.tar.gz"
    assert WCXB.archive_url() == f"https://github.com{WCXB_PATH}"
    assert SCRAPINGHUB.archive_url() == f"https://github.com{SH_PATH}"


def test_unknown_corpus_name(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown corpus"):
        corpora_ready(tmp_path, "nope")
