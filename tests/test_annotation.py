from pathlib import Path

import pytest
from omegaconf import OmegaConf

from textclf.annotation import (
    LineAnnotation,
    annotation_path,
    escape_text,
    read_annotation,
    unescape_text,
    validate_annotation,
    write_annotation,
)
from textclf.errors import AnnotationError
from textclf.pages import lines_from_text, read_seed_pages, read_text_file

ROOT = Path(__file__).resolve().parents[1]
SEED_PAGE = ROOT / "seeds" / "000_2af67d93a0b182bd.txt"
TAXONOMY = ROOT / "conf" / "topics" / "default.yaml"

PAGE = ["Home | News | Sport", "Talks in Geneva", "The ministers met on Monday.", "Share"]
ANNOTATIONS = [
    LineAnnotation(0, (), PAGE[0]),
    LineAnnotation(1, ("diplomacy",), PAGE[1]),
    LineAnnotation(1, ("diplomacy", "middle_east"), PAGE[2]),
    LineAnnotation(0, (), PAGE[3]),
]


@pytest.fixture
def ann_file(tmp_path: Path) -> Path:
    path = tmp_path / "page.annotation.tsv"
    write_annotation(path, ANNOTATIONS, url="https://example.org/a")
    return path


def test_annotation_path_lies_beside_the_page():
    assert annotation_path(Path("seeds/000_x.txt")) == Path("seeds/000_x.annotation.tsv")


def test_round_trip(ann_file: Path):
    assert read_annotation(ann_file, PAGE) == ANNOTATIONS
    assert read_annotation(ann_file) == ANNOTATIONS  # without the page: no check
    raw = ann_file.read_text(encoding="utf-8").splitlines()
    assert raw[0] == "# url: https://example.org/a"
    assert "label\ttopics\ttext" in raw
    assert raw[-1] == "boilerplate\t\tShare"
    assert list(ann_file.parent.iterdir()) == [ann_file]  # no temporary file left behind


def test_tabs_and_backslashes_are_escaped(tmp_path: Path):
    texts = ["a\tb", "C:\\Users\\tom", "ends with \\"]
    path = tmp_path / "x.annotation.tsv"
    write_annotation(path, [LineAnnotation(1, (), t) for t in texts])
    rows = path.read_text(encoding="utf-8").splitlines()[-3:]
    assert rows[0] == "content\t\ta\\tb"
    assert all(row.count("\t") == 2 for row in rows)
    assert [a.text for a in read_annotation(path, texts)] == texts
    for text in texts:
        assert unescape_text(escape_text(text)) == text
    # A hand-typed lone backslash before another character stays as it is.
    assert unescape_text("C:\\Users") == "C:\\Users"


def test_write_is_atomic_on_error(ann_file: Path):
    before = ann_file.read_bytes()
    with pytest.raises(AnnotationError, match="invalid topic"):
        write_annotation(ann_file, [LineAnnotation(1, ("a,b",), "x")])
    assert ann_file.read_bytes() == before
    assert list(ann_file.parent.iterdir()) == [ann_file]


def test_comments_and_tolerant_reading(tmp_path: Path):
    path = tmp_path / "x.annotation.tsv"
    path.write_text(
        "# url: https://example.org\n# reminder\n\nLabel\tTopics\tText\n"
        "Content\tdiplomacy , health,\tFirst line  \n\nboilerplate\t\t#hashtag\n",
        encoding="utf-8",
    )
    ann = read_annotation(path, ["First line", "#hashtag"])
    assert ann == [
        LineAnnotation(1, ("diplomacy", "health"), "First line"),
        LineAnnotation(0, (), "#hashtag"),
    ]


def _check(path: Path, page: list[str]) -> str:
    with pytest.raises(AnnotationError) as info:
        validate_annotation(path, page)
    message = str(info.value)
    assert str(path) in message
    return message


def test_edited_line_is_refused(ann_file: Path):
    page = [*PAGE]
    page[2] = "The ministers met on Tuesday."
    message = _check(ann_file, page)
    header_row = ann_file.read_text(encoding="utf-8").splitlines().index("label\ttopics\ttext")
    assert f"row {header_row + 4}" in message  # the file row of the third entry
    assert "page line 3 is 'The ministers met on Tuesday.'" in message
    assert "the annotation has 'The ministers met on Monday.'" in message
    assert "re-annotate" in message


def test_added_line_is_refused(ann_file: Path):
    page = [*PAGE[:2], "A new paragraph.", *PAGE[2:]]
    message = _check(ann_file, page)
    assert "the page has 5 non-empty lines but the annotation has 4 rows" in message
    assert "page line 3 is 'A new paragraph.'" in message
    assert "added" in message


def test_removed_line_is_refused(ann_file: Path):
    page = [PAGE[0], PAGE[2], PAGE[3]]
    message = _check(ann_file, page)
    assert "the page has 3 non-empty lines but the annotation has 4 rows" in message
    assert "page line 2 is 'The ministers met on Monday.'" in message
    assert "'Talks in Geneva'" in message
    assert "removed" in message


def test_trailing_line_removed_from_the_page(ann_file: Path):
    message = _check(ann_file, PAGE[:3])
    assert "the page ends but the annotation has 'Share'" in message


def test_long_lines_are_shortened_around_the_difference(tmp_path: Path):
    text = "word " * 100 + "alpha " + "word " * 50
    path = tmp_path / "x.annotation.tsv"
    write_annotation(path, [LineAnnotation(1, (), text.strip())])
    message = _check(path, [text.replace("alpha", "omega").strip()])
    assert "omega" in message and "alpha" in message
    assert len(message) < 600


def test_unknown_label(tmp_path: Path):
    path = tmp_path / "x.annotation.tsv"
    path.write_text("label\ttopics\ttext\nmain\t\tHello\n", encoding="utf-8")
    with pytest.raises(AnnotationError, match=r"row 2: unknown label 'main'") as info:
        read_annotation(path)
    assert str(path) in str(info.value)


def test_unknown_topic(ann_file: Path):
    with pytest.raises(AnnotationError, match="unknown topic 'middle_east'") as info:
        read_annotation(ann_file, PAGE, known_topics={"diplomacy", "health"})
    assert str(ann_file) in str(info.value)
    assert read_annotation(ann_file, PAGE, known_topics={"diplomacy", "middle_east"})


def test_missing_header(tmp_path: Path):
    path = tmp_path / "x.annotation.tsv"
    path.write_text("# url: x\ncontent\t\tHello\n", encoding="utf-8")
    with pytest.raises(AnnotationError, match="row 2: missing header row"):
        read_annotation(path)
    path.write_text("# only comments\n", encoding="utf-8")
    with pytest.raises(AnnotationError, match="missing header"):
        read_annotation(path)


def test_wrong_number_of_columns(tmp_path: Path):
    path = tmp_path / "x.annotation.tsv"
    path.write_text("label\ttopics\ttext\ncontent Hello\n", encoding="utf-8")
    with pytest.raises(AnnotationError, match="row 2: expected 3 tab-separated columns"):
        read_annotation(path)


def test_bad_entries_are_refused():
    with pytest.raises(AnnotationError, match="label must be 0"):
        LineAnnotation(2, (), "x")
    assert LineAnnotation(1, ["a"], "x").topics == ("a",)  # type: ignore[arg-type]


def test_missing_file_is_named(tmp_path: Path):
    with pytest.raises(AnnotationError, match="not found"):
        read_annotation(tmp_path / "nope.annotation.tsv")


# --- the real seed -----------------------------------------------------------------------


def test_seed_annotation_matches_its_page():
    lines = [line.text for line in lines_from_text(read_text_file(SEED_PAGE))]
    topics = OmegaConf.load(TAXONOMY).taxonomy.keys()
    ann = validate_annotation(annotation_path(SEED_PAGE), lines, known_topics=set(topics))
    assert len(ann) == len(lines) == 46
    labels = [a.label for a in ann]
    assert labels.count(1) == 8 and labels.count(0) == 38
    by_text = {a.text: a for a in ann}
    # The headline and standfirst are content; the repeated headline (image title) is not.
    headline = "Putin meets North Korean foreign minister"
    assert [a.label for a in ann if a.text == headline] == [1, 0]
    assert by_text["Read more"].label == 0
    assert by_text["Ukrainian statehood could soon suffer serious blow – Putin"].label == 0
    for a in ann:
        if a.label == 1:
            assert {"diplomacy", "korean_peninsula"} <= set(a.topics), a.text


def test_seed_pages_carry_the_annotation():
    [page] = [p for p in read_seed_pages(ROOT / "seeds") if p.page_id == SEED_PAGE.stem]
    assert page.labels is not None and page.topics is not None
    assert len(page.labels) == len(page.topics) == len(page.lines) == 46
    assert page.url == ""  # no url comment: we do not invent one


def test_the_annotation_command_writes_a_template_and_checks_a_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import os

    from textclf.annotation import main

    page = tmp_path / "new.txt"
    page.write_text("Home | News\n\nThe river rose.\n", encoding="utf-8")
    umask = os.umask(0o022)
    try:
        assert main(["template", str(page), "--url", "https://example.org/1"]) == 0
    finally:
        os.umask(umask)
    ann = tmp_path / "new.annotation.tsv"
    assert ann.stat().st_mode & 0o777 == 0o644
    rows = read_annotation(ann, ["Home | News", "The river rose."])
    assert [r.label for r in rows] == [0, 0]
    assert main(["template", str(page)]) == 2  # no overwrite without --force
    assert "--force" in capsys.readouterr().err
    assert main(["check", str(tmp_path)]) == 0
    assert "1 pages, 1 annotated" in capsys.readouterr().out
    ann.write_text(ann.read_text().replace("\t\tThe river", "\tnot_a_topic\tThe river"))
    assert main(["check", str(tmp_path)]) == 2
    assert "not_a_topic" in capsys.readouterr().err


def test_the_check_command_checks_the_training_pages_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from textclf.annotation import main

    for folder in (tmp_path / "seeds", tmp_path / "seeds" / "train"):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "p.txt").write_text("Menu\n\nThe river rose.\n", encoding="utf-8")
        assert main(["template", str(folder / "p.txt")]) == 0
    monkeypatch.setenv("TEXTCLF_ROOT", str(tmp_path))
    capsys.readouterr()
    assert main(["--topics", str(TAXONOMY), "check"]) == 0
    out = capsys.readouterr().out
    assert f"{tmp_path / 'seeds'}: 1 pages" in out
    assert f"{tmp_path / 'seeds' / 'train'}: 1 pages" in out
    bad = tmp_path / "seeds" / "train" / "p.annotation.tsv"
    bad.write_text(bad.read_text().replace("The river rose.", "The river fell."))
    assert main(["--topics", str(TAXONOMY), "check"]) == 2
    assert "p.annotation.tsv" in capsys.readouterr().err


def test_a_template_can_be_prefilled_by_a_model(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tiny_model_path: Path,
) -> None:
    import textclf
    from textclf.annotation import main

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/none.db")  # no topic model
    monkeypatch.delenv("TEXTCLF_TOPIC_MODEL_URI", raising=False)
    text = SEED_PAGE.read_text(encoding="utf-8")
    page = tmp_path / "page.txt"
    page.write_text(text, encoding="utf-8")
    assert main(["template", str(page), "--model", str(tiny_model_path)]) == 0
    assert "marked content by" in capsys.readouterr().out
    lines = [line.text for line in lines_from_text(text)]
    rows = read_annotation(tmp_path / "page.annotation.tsv", lines)
    expected = [int(p.is_content) for p in textclf.load(tiny_model_path).predict_page(text).lines]
    assert [r.label for r in rows] == expected and 0 < sum(expected) < len(expected)
    # With one of the model's decision presets.
    argv = ["template", str(page), "--model", str(tiny_model_path), "--force"]
    assert main([*argv, "--favor", "precision"]) == 0
    assert "(favor precision)" in capsys.readouterr().out
    rows = read_annotation(tmp_path / "page.annotation.tsv", lines)
    precise = textclf.load(tiny_model_path).predict_page(text, favor="precision").lines
    assert [r.label for r in rows] == [int(p.is_content) for p in precise]
    (tmp_path / "page.annotation.tsv").unlink()
    for extra, error in ((["--favor", "strict"], "no such preset"), ([], "give --model too")):
        args = [*argv, *extra] if extra else ["template", str(page), "--favor", "precision"]
        assert main(args) == 2
        assert error in capsys.readouterr().err
        assert not (tmp_path / "page.annotation.tsv").exists()
    # No model where it is looked for: a clear error, and nothing written.
    other = tmp_path / "other.txt"
    other.write_text("Menu\n", encoding="utf-8")
    assert main(["template", str(other), "--model"]) == 2
    assert "make train" in capsys.readouterr().err
    assert not (tmp_path / "other.annotation.tsv").exists()
