"""Tests for the ``textclf`` command line (called as a function, plus one ``python -m`` run)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from textclf.cli import main
from textclf.predict import Classifier

PREDICT_FIXTURES = Path(__file__).parent / "fixtures" / "predict"


@pytest.fixture
def pages_dir(tmp_path: Path, labeled_pages: dict[str, tuple[str, list[int]]]) -> Path:
    """A folder of plain-text pages (the fixtures without their labels) and two HTML pages."""
    folder = tmp_path / "pages"
    folder.mkdir()
    for name, (text, _) in labeled_pages.items():
        (folder / f"{name}.txt").write_text(text, encoding="utf-8")
    (folder / "article.html").write_bytes((PREDICT_FIXTURES / "article.html").read_bytes())
    (folder / "latin1.htm").write_bytes((PREDICT_FIXTURES / "latin1.html").read_bytes())
    (folder / "notes.md").write_text("not a page", encoding="utf-8")
    return folder


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_predict_prints_one_row_per_line(
    tiny_model_path: Path, tiny_classifier: Classifier, pages_dir: Path, capsys: Any
) -> None:
    path = pages_dir / "river.txt"
    code, out, err = run(["predict", "--model", str(tiny_model_path), str(path)], capsys)
    assert (code, err) == (0, "")
    want = tiny_classifier.predict_page(path.read_text(encoding="utf-8"))
    rows = [row.split("\t") for row in out.splitlines()]
    assert [r[2] for r in rows] == [x.text for x in want.lines]
    assert [r[0] for r in rows] == [x.label for x in want.lines]
    assert [float(r[1]) for r in rows] == pytest.approx([x.probability for x in want], abs=1e-4)


def test_a_text_file_in_a_legacy_encoding_is_read_in_it(
    tiny_model_path: Path, tmp_path: Path, capsys: Any
) -> None:
    page = (
        "Men\u00fc\n\nLe fleuve est mont\u00e9 \u00e0 No\u00ebl, d\u00e9j\u00e0 r\u00e9gl\u00e9.\n"
    )
    path = tmp_path / "cp1252.txt"
    path.write_bytes(page.encode("cp1252"))
    argv = ["extract", "--threshold", "0", "--model", str(tiny_model_path), str(path)]
    code, out, err = run(argv, capsys)
    assert (code, err) == (0, "")
    assert out == page.replace("\n\n", "\n")


def test_encoding_decodes_every_input_in_it(
    tiny_model_path: Path, tmp_path: Path, capsys: Any
) -> None:
    short = "Espa\u00f1a ma\u00f1ana\n"  # too short for the detector to tell Latin-1 apart
    (tmp_path / "short.txt").write_bytes(short.encode("latin-1"))
    (tmp_path / "utf16.txt").write_bytes("Gr\u00fc\u00dfe\nZweite Zeile\n".encode("utf-16"))
    model = ["--threshold", "0", "--model", str(tiny_model_path)]
    code, out, err = run(["extract", *model, str(tmp_path / "utf16.txt")], capsys)
    assert (code, out) == (1, "")
    assert "NUL bytes" in err and "--encoding utf-16" in err
    for jobs in ("1", "2"):
        argv = ["extract", "-q", "-j", jobs, "--encoding", "latin-1", str(tmp_path / "short.txt")]
        code, out, err = run([*argv, *model], capsys)
        assert (code, err, out) == (0, "", short)
    code, out, err = run(
        ["extract", "--encoding", "UTF-16", *model, str(tmp_path / "utf16.txt")], capsys
    )
    assert (code, err, out) == (0, "", "Gr\u00fc\u00dfe\nZweite Zeile\n")
    with pytest.raises(SystemExit) as info:
        main(["extract", "--encoding", "latin-9x", str(tmp_path / "short.txt")])
    assert info.value.code == 2
    assert "unknown encoding 'latin-9x'" in capsys.readouterr().err


def test_extract_a_folder_in_sorted_order(
    tiny_model_path: Path, tiny_classifier: Classifier, pages_dir: Path, capsys: Any
) -> None:
    code, out, err = run(["extract", "-q", "--model", str(tiny_model_path), str(pages_dir)], capsys)
    assert (code, err) == (0, "")
    names = sorted(p.name for p in pages_dir.glob("*.txt"))
    headers = [line for line in out.splitlines() if line.startswith("==> ")]
    assert headers == [f"==> {pages_dir / n} <==" for n in names]
    garden = (pages_dir / "garden.txt").read_text(encoding="utf-8")
    assert tiny_classifier.extract(garden) in out


def test_jsonl_has_one_object_per_input(
    tiny_model_path: Path, tiny_classifier: Classifier, pages_dir: Path, capsys: Any
) -> None:
    files = [str(pages_dir / "bread.txt"), str(pages_dir / "museum.txt")]
    argv = ["predict", "--format", "jsonl", "--threshold", "0.5", "--model", str(tiny_model_path)]
    code, out, err = run([*argv, *files], capsys)
    assert (code, err) == (0, "")
    objs = [json.loads(line) for line in out.splitlines()]
    assert [o["path"] for o in objs] == files
    texts = [Path(f).read_text(encoding="utf-8") for f in files]
    for obj, want in zip(objs, tiny_classifier.pipe(texts, threshold=0.5), strict=True):
        assert obj["content"] == want.content
        assert obj["lines"] == [x.to_dict() for x in want.lines]
        assert set(obj["lines"][0]) == {"text", "label", "probability", "topics", "line_index"}


def test_recursive_reads_subfolders_and_hidden_files_are_skipped(
    tiny_model_path: Path, tiny_classifier: Classifier, pages_dir: Path, capsys: Any
) -> None:
    sub = pages_dir / "site" / "2024"
    sub.mkdir(parents=True)
    (sub / "deep.txt").write_text("Menu\n\nThe ferry left at dawn and crossed the bay.\n")
    (pages_dir / ".cache").mkdir()
    (pages_dir / ".cache" / "stale.txt").write_text("A page under a hidden folder.\n")
    (pages_dir / "._river.txt").write_bytes(b"\x00\x05\x16\x07")  # a macOS AppleDouble copy
    base = ["predict", "--format", "jsonl", "--model", str(tiny_model_path)]
    top = sorted(str(p) for p in pages_dir.glob("[!.]*.txt"))

    def paths(argv: list[str]) -> list[str]:
        code, out, err = run(argv, capsys)
        assert (code, err) == (0, ""), err
        return [json.loads(line)["path"] for line in out.splitlines()]

    assert paths([*base, str(pages_dir)]) == top  # no subfolder, no hidden file
    deep = str(sub / "deep.txt")
    assert paths([*base, "-r", str(pages_dir)]) == sorted([*top, deep], key=Path)
    # A folder whose pages are all in subfolders says how to read them.
    code, out, err = run([*base, str(pages_dir / "site")], capsys)
    assert (code, out) == (1, "") and "-r reads its subfolders" in err
    (pages_dir / "docs" / "inner").mkdir(parents=True)
    (pages_dir / "docs" / "inner" / "notes.md").write_text("not a page")
    code, out, err = run([*base, "-r", str(pages_dir / "docs")], capsys)
    assert (code, out) == (1, "") and "(nor its subfolders) has no *.txt files" in err
    code, out, _ = run([*base, "--recursive", str(pages_dir / "site")], capsys)
    assert code == 0
    want = tiny_classifier.predict_page((sub / "deep.txt").read_text())
    assert json.loads(out)["lines"] == [x.to_dict() for x in want.lines]


def test_html_folder(tiny_model_path: Path, pages_dir: Path, capsys: Any) -> None:
    argv = ["predict", "--html", "--format", "jsonl", "--model", str(tiny_model_path)]
    code, out, err = run([*argv, str(pages_dir)], capsys)
    assert (code, err) == (0, "")
    objs = [json.loads(line) for line in out.splitlines()]
    assert [Path(o["path"]).name for o in objs] == ["article.html", "latin1.htm"]
    assert objs[1]["lines"][0]["text"] == "Caf\u00e9 news"
    # Extensions match whatever their case.
    (pages_dir / "article.html").rename(pages_dir / "ARTICLE.HTML")
    code, out, _ = run([*argv, str(pages_dir)], capsys)
    assert [Path(json.loads(x)["path"]).name for x in out.splitlines()] == [
        "ARTICLE.HTML",
        "latin1.htm",
    ]


def test_stdin(tiny_model_path: Path, monkeypatch: Any, capsys: Any) -> None:
    for argv in (["extract", "-"], ["extract"]):
        data = "Men\u00fc\n\nThe river rose \u2019 overnight.\n".encode() + b"\xff"
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
        code, out, err = run([*argv, "--threshold", "0", "--model", str(tiny_model_path)], capsys)
        assert (code, err) == (0, "")
        assert out == "Men\u00fc\nThe river rose \u2019 overnight.\n\ufffd\n"
    # stdin is read once: a second "-" fails alone, by name.
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"One page.\n")))
    code, out, err = run(
        ["extract", "-", "-", "--threshold", "0", "--model", str(tiny_model_path)], capsys
    )
    assert code == 1 and out == "==> - <==\nOne page.\n"
    assert err == "textclf: -: stdin (-) is named more than once\n"


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_failed_inputs_are_named_and_the_others_processed(
    tiny_model_path: Path, pages_dir: Path, tmp_path: Path, capsys: Any, jobs: str
) -> None:
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    empty_dir = tmp_path / "empty"
    empty_dir.mkdir()
    missing = tmp_path / "missing.txt"
    good = pages_dir / "forum.txt"
    argv = ["extract", "-j", jobs, "--model", str(tiny_model_path), str(missing), str(binary)]
    code, out, err = run([*argv, str(good), str(empty_dir)], capsys)
    assert code == 1
    assert err.splitlines() == [
        f"textclf: {missing}: no such file or folder",
        f"textclf: {binary}: contains NUL bytes: binary data, or UTF-16 text "
        "(give --encoding utf-16, or convert it to UTF-8)",
        f"textclf: {empty_dir}: folder has no *.txt files (use --html for HTML pages)",
    ]
    assert out.startswith(f"==> {good} <==\n")


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_page_over_the_limit_fails_alone(
    tiny_model_path: Path, pages_dir: Path, monkeypatch: Any, capsys: Any, jobs: str
) -> None:
    import functools

    import textclf.predict

    strict = functools.partial(textclf.predict.load, max_page_lines=13)
    monkeypatch.setattr(textclf.predict, "load", strict)
    files = [str(pages_dir / n) for n in ("forum.txt", "river.txt", "council.txt")]
    files += [files[1], files[0]]
    argv = ["predict", "--format", "jsonl", "-j", jobs, "--batch-size", "1"]
    code, out, err = run([*argv, "--model", str(tiny_model_path), *files], capsys)
    assert code == 1
    too_long = f"textclf: {files[1]}: page has 17 lines, more than max_page_lines=13; split it"
    assert [line.startswith(too_long) for line in err.splitlines()] == [True, True]
    paths = [json.loads(line)["path"] for line in out.splitlines()]
    assert paths == [files[0], files[2], files[0]]


def test_jobs_give_the_same_output_as_one_process(
    tiny_model_path: Path, pages_dir: Path, capsys: Any
) -> None:
    model = ["--model", str(tiny_model_path)]
    for argv in (["predict", "--format", "jsonl"], ["extract"], ["predict", "--html"]):
        outputs = []
        for jobs in ("1", "2", "-1"):
            options = ["-j", jobs, "--batch-size", "1"]
            code, out, _ = run([*argv, *model, *options, str(pages_dir)], capsys)
            assert code == 0
            outputs.append(out)
        assert outputs[0] and outputs[0] == outputs[1] == outputs[2]
    for bad in ("0", "-2", "x"):
        with pytest.raises(SystemExit) as info:
            main(["extract", *model, "-j", bad, str(pages_dir)])
        assert info.value.code == 2
        assert f"must be a positive integer or -1, got '{bad}'" in capsys.readouterr().err


def test_usage_errors(tiny_model_path: Path, capsys: Any) -> None:
    assert main([]) == 2
    for bad in ("1.5", "x", "-0.1"):
        with pytest.raises(SystemExit) as info:
            main(["predict", "--threshold", bad])
        assert info.value.code == 2
        assert "between 0 and 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["predict", "--format", "xml"])


def test_export_writes_a_folder_that_loads_without_mlflow(
    tiny_model_path: Path,
    tiny_topics: Any,
    pages_dir: Path,
    tmp_path: Path,
    capsys: Any,
    monkeypatch: Any,
) -> None:
    from textclf.serialization import dump_model

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/empty.db")
    monkeypatch.setenv(
        "TEXTCLF_TOPIC_MODEL_URI", str(dump_model(tiny_topics, tmp_path / "t.skops"))
    )
    folder = tmp_path / "out" / "model"
    code, out, err = run(["export", "--model", str(tiny_model_path), str(folder)], capsys)
    assert (code, err) == (0, "")
    assert out.splitlines() == [str(folder / "boilerplate.skops"), str(folder / "topics.skops")]
    page = str(pages_dir / "river.txt")
    expected = run(["predict", "--model", str(tiny_model_path), page], capsys)
    assert "\t" in expected[1] and expected[0] == 0
    monkeypatch.delenv("TEXTCLF_TOPIC_MODEL_URI")  # the folder brings its topic model
    assert run(["predict", "--model", str(folder), page], capsys) == expected
    # --no-topics exports the content model alone; a model that cannot be loaded writes nothing
    code, out, _ = run(
        ["export", "--no-topics", "--model", str(folder), str(tmp_path / "b")], capsys
    )
    assert (code, out) == (0, f"{tmp_path / 'b' / 'boilerplate.skops'}\n")
    code, out, err = run(
        ["export", "--model", str(tmp_path / "none.skops"), str(tmp_path / "c")], capsys
    )
    assert (code, out) == (2, "") and err.startswith("textclf: no model file at")
    assert not (tmp_path / "c").exists()
    taken = tmp_path / "taken"
    taken.write_text("a file")
    code, out, err = run(["export", "--model", str(folder), str(taken)], capsys)
    assert (code, out) == (1, "")
    assert err == f"textclf: cannot write to {taken}: {taken} exists and is not a folder\n"


def test_a_missing_model_is_a_clear_error(tmp_path: Path, capsys: Any) -> None:
    code, out, err = run(["extract", "--model", str(tmp_path / "none.skops"), "x.txt"], capsys)
    assert code == 2
    assert out == ""
    assert err.startswith("textclf: no model file at") and "make train" in err


def test_python_dash_m_textclf(tiny_model_path: Path, pages_dir: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "textclf",
            "extract",
            "--threshold",
            "0",
            "--model",
            str(tiny_model_path),
            str(pages_dir / "river.txt"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[0] == "Home | News | Sport | Weather | Contact"


def test_bench_on_a_tiny_corpus(tiny_model_path: Path, tmp_path: Path, capsys: Any) -> None:
    from corpus_fixtures import make_tiny_corpora
    from textclf import bench

    corpora = make_tiny_corpora(tmp_path / "corpora", n_dev=2, n_test=3, n_sh=2)
    reports = tmp_path / "reports"
    argv = ["--corpora-dir", str(corpora), "--model", str(tiny_model_path), "--repeats", "1"]
    argv += ["--processes", "2"]
    assert bench.main([*argv, "--reports-dir", str(reports), "--profile"]) == 0
    out = capsys.readouterr().out
    report = json.loads((reports / "bench.json").read_text(encoding="utf-8"))
    assert report["pages"] == 5
    assert report["pages_by_source"] == {"wcxb": 3, "scrapinghub": 2}
    systems = [row["system"] for row in report["rows"]]
    assert systems[:3] == [
        "textclf render (HTML to text)",
        "textclf predict (text to labels)",
        "textclf render + predict",
    ]
    assert systems[3] == "textclf predict, 2 processes (pipe n_process=2)"
    assert [s.split()[0] for s in systems[4:]] == ["trafilatura", "readability", "justext"]
    assert report["rows"][4]["speed_vs_trafilatura"] == pytest.approx(1.0)
    assert report["rows"][5]["speed_vs_trafilatura"] > 0
    assert report["processes"] == 2
    assert all(row["pages_per_s"] > 0 for row in report["rows"])
    assert report["rows"][2]["peak_rss_mb"] > 0
    assert "| textclf render + predict |" in (reports / "bench.md").read_text(encoding="utf-8")
    assert "cumulative" in out and "_predict_batch" in out


def test_bench_table_shows_the_speed_of_each_run() -> None:
    from textclf import bench

    row = {
        "system": "textclf predict (text to labels)",
        "seconds_runs": [2.0, 1.6, 2.5],
        "pages_per_s": 100.0,
        "lines_per_s": 20_000.0,
        "pages_per_cpu_s": 100.0,
        "lines_per_cpu_s": 20_000.0,
    }
    report = {
        "pages": 200,
        "pages_by_source": {"wcxb": 200},
        "lines": 40_000,
        "model": "m",
        "model_load_s": 1.0,
        "repeats": 3,
        "batch_size": 32,
        "machine": {"cpus": 2},
        "rows": [row],
        "targets": {
            "pages_per_s": 100.0,
            "lines_per_s": 30_000.0,
            "predict_pages_per_s": 99.95,
            "predict_lines_per_s": 20_000.0,
            "predict_meets_targets": False,
            "predict_meets_targets_per_cpu_s": False,
        },
    }
    table = bench.format_table(report)
    assert "| textclf predict (text to labels) | 100.0 | 100.0 / 125.0 / 80.0 | 20,000 |" in table
    header = next(line for line in table.splitlines() if line.startswith("| system"))
    body = next(line for line in table.splitlines() if line.startswith("| textclf"))
    assert header.count("|") == body.count("|")
    # a median that the table rounds up to the target is shown as it is beside the verdict
    assert "NOT met in wall-clock time (99.95 pages/s, 20,000 lines/s)" in table


def test_bench_times_the_topic_model_in_a_row_of_its_own(
    tiny_model_path: Path, tiny_topics: Any, tmp_path: Path, capsys: Any
) -> None:
    from corpus_fixtures import make_tiny_corpora
    from textclf import bench
    from textclf.serialization import dump_model

    topic_path = str(dump_model(tiny_topics, tmp_path / "topics.skops"))
    corpora = make_tiny_corpora(tmp_path / "corpora", n_dev=1, n_test=2, n_sh=1)
    argv = ["--corpora-dir", str(corpora), "--model", str(tiny_model_path), "--repeats", "1"]
    argv += ["--processes", "1", "--extractors", "--reports-dir", str(tmp_path / "reports")]
    assert bench.main([*argv, "--topic-model", topic_path, "--profile"]) == 0  # implies --topics
    out = capsys.readouterr().out
    report = json.loads((tmp_path / "reports" / "bench.json").read_text(encoding="utf-8"))
    systems = [row["system"] for row in report["rows"]]
    assert systems == [
        "textclf render (HTML to text)",
        "textclf predict (text to labels)",
        "textclf render + predict",
        "textclf predict + topics (one process)",
    ]
    assert report["topic_model"] == topic_path and report["rows"][3]["pages_per_s"] > 0
    assert f"with topic model {topic_path})" in out.splitlines()[0]
    assert "predict_topics" in out  # the profile is of prediction with topics
    # without a topic model to attach, --topics says so before timing anything
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", empty)
        mp.delenv("TEXTCLF_TOPIC_MODEL_URI", raising=False)
        assert bench.main([*argv, "--topics"]) == 2
    assert "--topics: no topic model" in capsys.readouterr().err


def test_bench_without_corpora_is_a_clear_error(tmp_path: Path, capsys: Any) -> None:
    from textclf import bench

    assert bench.main(["--corpora-dir", str(tmp_path / "none")]) == 2
    assert "TEXTCLF_CORPORA_DIR" in capsys.readouterr().err
    assert bench.main(["--corpora-dir", str(tmp_path / "none"), "--processes", "0"]) == 2
    assert "--processes must be >= 1" in capsys.readouterr().err


def test_bench_names_an_unknown_extractor_before_timing(
    tiny_model_path: Path, tmp_path: Path, capsys: Any
) -> None:
    from corpus_fixtures import make_tiny_corpora
    from textclf import bench

    corpora = make_tiny_corpora(tmp_path / "corpora", n_dev=1, n_test=1, n_sh=1)
    argv = ["--corpora-dir", str(corpora), "--model", str(tiny_model_path)]
    assert bench.main([*argv, "--extractors", "readabilty"]) == 2
    assert "unknown extractor(s) ['readabilty']" in capsys.readouterr().err
    reports = tmp_path / "reports"
    argv += ["--repeats", "1", "--processes", "1", "--extractors"]
    assert bench.main([*argv, "--reports-dir", str(reports)]) == 0
    report = json.loads((reports / "bench.json").read_text(encoding="utf-8"))
    assert len(report["rows"]) == 3  # textclf only, one process
    assert "speed_vs_trafilatura" not in report["rows"][0]


def test_text_rows_keep_their_columns_whatever_the_line_holds(
    tiny_model_path: Path, tmp_path: Path, capsys: Any
) -> None:
    page = tmp_path / "odd.txt"
    page.write_text("one\u2028two\x0cthree\nCol1\tCol2\n", encoding="utf-8")
    code, out, err = run(["predict", "--model", str(tiny_model_path), str(page)], capsys)
    assert (code, err) == (0, "")
    rows = out.splitlines()  # splits on U+2028 and form feeds too
    assert len(rows) == 2
    assert [row.split("\t")[2] for row in rows] == ["one two three", "Col1 Col2"]
    # JSONL keeps the exact text.
    code, out, _ = run(
        ["predict", "--format", "jsonl", "--model", str(tiny_model_path), str(page)], capsys
    )
    texts = [line["text"] for line in json.loads(out)["lines"]]
    assert texts == ["one\u2028two\x0cthree", "Col1\tCol2"]


def test_relative_and_no_topics_options(
    tiny_model_path: Path, pages_dir: Path, capsys: Any, monkeypatch: Any
) -> None:
    import textclf.predict as predict

    seen: dict[str, Any] = {}
    real_load = predict.load

    def spy(model: Any = None, **kwargs: Any) -> Any:
        seen.update(kwargs)
        return real_load(model, **kwargs)

    monkeypatch.setattr(predict, "load", spy)
    path = str(pages_dir / "river.txt")
    code, out, _ = run(
        [
            "predict",
            "--no-topics",
            "--threshold",
            "0",
            "--relative",
            "0",
            "--model",
            str(tiny_model_path),
            path,
        ],
        capsys,
    )
    assert code == 0 and seen["topic_model"] is False
    assert {row.split("\t")[0] for row in out.splitlines()} == {"content"}
    for bad in ("1.5", "x"):
        with pytest.raises(SystemExit) as info:
            main(["predict", "--relative", bad])
        assert info.value.code == 2
        assert "between 0 and 1" in capsys.readouterr().err


def test_a_missing_champion_says_how_to_pass_a_model(
    tmp_path: Path, capsys: Any, monkeypatch: Any
) -> None:
    monkeypatch.delenv("TEXTCLF_MODEL_URI", raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/none.db")
    code, _, err = run(["extract", "x.txt"], capsys)
    assert code == 2
    assert "No content/boilerplate model found" in err and "--model" in err


def test_keep_repeats_option(tiny_pipeline: Any, tmp_path: Path, capsys: Any) -> None:
    import copy

    from textclf.serialization import dump_model

    pipe = copy.deepcopy(tiny_pipeline)
    pipe[-1].drop_repeats = True
    model = str(dump_model(pipe, tmp_path / "model.skops"))
    page = tmp_path / "page.txt"
    story = "The river rose overnight and flooded the town."
    page.write_text(f"Home\n\n{story}\n\n{story}\n")
    argv = ["predict", "--threshold", "0", "--relative", "0", "--model", model, str(page)]
    code, out, _ = run(argv, capsys)
    assert code == 0
    assert [row.split("\t")[0] for row in out.splitlines()] == ["content"] * 2 + ["boilerplate"]
    code, out, _ = run([*argv, "--keep-repeats"], capsys)
    assert code == 0
    assert [row.split("\t")[0] for row in out.splitlines()] == ["content"] * 3


def test_favor_option(tiny_pipeline: Any, tmp_path: Path, capsys: Any) -> None:
    import copy

    from textclf.serialization import dump_model

    pipe = copy.deepcopy(tiny_pipeline)
    pipe[-1].presets_ = {"precision": (0.95, 0.9), "recall": (0.0, 0.0)}
    model = str(dump_model(pipe, tmp_path / "model.skops"))
    page = tmp_path / "page.txt"
    page.write_text("Home | News\n\nThe river rose overnight and flooded the lower town.\n")
    base = ["predict", "--no-topics", "--model", model, str(page)]
    code, out, _ = run([*base, "--favor", "recall"], capsys)
    assert code == 0
    assert {row.split("\t")[0] for row in out.splitlines()} == {"content"}
    code, favored, _ = run([*base, "--favor", "precision"], capsys)
    code_t, explicit, _ = run([*base, "--threshold", "0.95", "--relative", "0.9"], capsys)
    assert code == code_t == 0 and favored == explicit
    for extra, error in (
        (["--favor", "strict"], "no such preset"),
        (["--favor", "precision", "--threshold", "0.5"], "--favor or --threshold/--relative"),
        (["--relative", "0.2", "--favor", "recall"], "not both"),
    ):
        code, out, err = run([*base, *extra], capsys)
        assert (code, out) == (2, "") and error in err
