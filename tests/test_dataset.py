"""Building the line datasets from hand-made corpora and the seed page."""

from pathlib import Path

import pytest

from corpus_fixtures import make_tiny_corpora
from textclf.dataset import (
    LINE_FEATURES,
    PAGE_FEATURES,
    SPLITS,
    assign_split,
    build_dataset,
    load_dataset,
)
from textclf.errors import ConfigError, CorpusError
from textclf.labels import AlignConfig
from textclf.topics import TopicRules, load_topics_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def rules():
    return TopicRules.from_config(load_topics_config(ROOT / "conf" / "topics" / "default.yaml"))


@pytest.fixture(scope="module")
def built(tmp_path_factory, rules):
    root = tmp_path_factory.mktemp("build")
    corpora = make_tiny_corpora(root / "corpora")
    result = build_dataset(
        out_dir=root / "dataset",
        seeds_dir=ROOT / "seeds",
        corpora_dir=corpora,
        sources=["seeds", "wcxb", "scrapinghub"],
        rules=rules,
        validation_fraction=0.3,
        n_jobs=1,
        progress=False,
    )
    return root, corpora, result


def test_splits_schema_and_no_leak(built):
    _, _, result = built
    lines, pages = load_dataset(result.path)
    assert tuple(lines) == SPLITS and tuple(pages) == SPLITS
    for split in SPLITS:
        assert lines[split].features == LINE_FEATURES
        assert pages[split].features == PAGE_FEATURES
    assert (
        len(pages["wcxb_test"]) == 4 and len(pages["scrapinghub"]) == 3 and len(pages["seeds"]) == 1
    )
    assert len(pages["train"]) + len(pages["validation"]) == 16
    assert len(pages["validation"]) > 0
    assert not set(pages["train"]["domain"]) & set(pages["validation"]["domain"])
    assert set(pages["train"]["split"]) == {"dev"}
    assert set(lines["seeds"]["label_source"]) == {"gold"}
    assert set(lines["train"]["label_source"]) == {"aligned"}
    assert set(lines["train"]["topic_source"]) == {"rule"}


def test_lines_are_labeled_by_alignment(built):
    _, _, result = built
    lines, _ = load_dataset(result.path)
    page = lines["train"].filter(lambda r: r["page_id"] == lines["train"][0]["page_id"])
    by_text = {}
    for text, label in zip(page["text"], page["label"], strict=True):
        by_text.setdefault(text, []).append(label)
    assert by_text["Home"] == [0]
    assert by_text["Subscribe to our newsletter"] == [0]
    assert 1 in next(v for k, v in by_text.items() if len(k) > 100)
    assert page["line_index"] == list(range(len(page)))
    assert set(page["n_lines"]) == {len(page)}


def test_card_has_counts_and_oracle(built):
    _, _, result = built
    card = result.card
    assert card["splits"]["train"]["oracle"]["page_f1"] > 0.95
    assert card["splits"]["scrapinghub"]["oracle"]["shingle_f1"] > 0.95
    assert (result.path / "card.md").read_text().startswith("# textclf line dataset")


def test_rebuild_is_skipped_when_nothing_changed_and_redone_when_config_changes(built, rules):
    root, corpora, first = built
    kwargs = dict(
        out_dir=root / "dataset",
        seeds_dir=ROOT / "seeds",
        corpora_dir=corpora,
        sources=["seeds", "wcxb", "scrapinghub"],
        rules=rules,
        validation_fraction=0.3,
        n_jobs=1,
        progress=False,
    )
    again = build_dataset(**kwargs)
    assert not again.rebuilt and again.fingerprint == first.fingerprint
    changed = build_dataset(**{**kwargs, "validation_fraction": 0.5})
    assert changed.rebuilt and changed.fingerprint != first.fingerprint
    leftovers = [p.name for p in root.iterdir() if p.name.startswith(".dataset")]
    assert leftovers == []


def test_failed_build_leaves_previous_dataset_intact(built, rules, monkeypatch):
    root, corpora, _ = built
    out = root / "dataset"
    before = (out / "fingerprint.json").read_text()

    def boom(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("datasets.DatasetDict.save_to_disk", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        build_dataset(
            out_dir=out,
            seeds_dir=ROOT / "seeds",
            corpora_dir=corpora,
            sources=["seeds", "wcxb"],
            rules=rules,
            n_jobs=1,
            force=True,
            progress=False,
        )
    assert (out / "fingerprint.json").read_text() == before
    assert [p.name for p in root.iterdir() if p.name.startswith(".dataset")] == []


def test_missing_corpora_without_download_is_a_clear_error(tmp_path, rules):
    with pytest.raises(CorpusError, match="TEXTCLF_CORPORA_DIR"):
        build_dataset(
            out_dir=tmp_path / "out",
            seeds_dir=ROOT / "seeds",
            corpora_dir=tmp_path / "nowhere",
            sources=["wcxb"],
            rules=rules,
            progress=False,
        )


def test_assign_split_is_by_domain():
    a = assign_split("wcxb", "dev", "example.com", 0.2, 13)
    assert all(assign_split("wcxb", "dev", "example.com", 0.2, 13) == a for _ in range(3))
    assert assign_split("wcxb", "test", "example.com", 0.2, 13) == "wcxb_test"
    assert assign_split("scrapinghub", "test", "x.com", 0.2, 13) == "scrapinghub"
    shares = [assign_split("wcxb", "dev", f"d{i}.com", 0.2, 13) for i in range(2000)]
    assert 0.15 < shares.count("validation") / len(shares) < 0.25


def _build(tmp_path, rules, corpora, **kwargs):
    args = {
        "out_dir": tmp_path / "dataset",
        "seeds_dir": ROOT / "seeds",
        "corpora_dir": corpora,
        "sources": ["seeds", "wcxb", "scrapinghub"],
        "rules": rules,
        "validation_fraction": 0.3,
        "n_jobs": 1,
        "progress": False,
        **kwargs,
    }
    return build_dataset(**args)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"limit": -5}, "data.limit"),
        ({"sources": []}, "data.sources is empty"),
        ({"validation_fraction": 1.5}, "validation_fraction"),
        ({"validation_fraction": 0.0}, "validation_fraction"),
        ({"n_jobs": 0}, "data.n_jobs"),
        ({"align": AlignConfig(shingle_size=0)}, "shingle_size"),
        ({"align": AlignConfig(threshold=0.0)}, "data.align.threshold"),
    ],
)
def test_bad_build_settings_are_refused_before_any_work(built, rules, tmp_path, setting, message):
    _, corpora, _ = built
    with pytest.raises(ConfigError, match=message):
        _build(tmp_path, rules, corpora, **setting)
    assert not (tmp_path / "dataset").exists()


def test_a_limited_build_keeps_pages_of_every_corpus_split(built, rules, tmp_path):
    _, corpora, _ = built
    result = _build(tmp_path, rules, corpora, limit=1)
    _, pages = load_dataset(result.path)
    assert result.card["build"]["limit"] == 1  # a debug build says so
    assert "(the first 1 pages of each corpus split)" in (result.path / "card.md").read_text()
    assert "wcxb_test" in pages and len(pages["wcxb_test"]) == 1
    dev = sum(len(pages[s]) for s in ("train", "validation") if s in pages)
    assert dev == 1 and len(pages["scrapinghub"]) == 1


def test_a_wcxb_folder_of_another_layout_is_a_clear_error(built, rules, tmp_path):
    import shutil

    _, corpora, _ = built
    bad = tmp_path / "corpora"
    shutil.copytree(corpora, bad)
    (bad / "wcxb" / "metadata.json").write_text('{"pages": {}}')
    with pytest.raises(CorpusError, match="not the WCXB layout"):
        _build(tmp_path, rules, bad)
    (bad / "wcxb" / "metadata.json").write_text('{"files": {')
    with pytest.raises(CorpusError, match="not valid JSON"):
        _build(tmp_path, rules, bad)


def test_seed_annotation_topics_must_be_in_the_taxonomy(built, rules, tmp_path):
    import shutil

    from textclf.errors import AnnotationError

    _, corpora, _ = built
    seeds = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", seeds)
    [ann] = list(seeds.glob("*.tsv")) or pytest.skip("the seed page has no annotation")
    text = ann.read_text(encoding="utf-8")
    ann.write_text(text.replace("diplomacy", "nonexistent_topic", 1), encoding="utf-8")
    with pytest.raises(AnnotationError, match="nonexistent_topic"):
        _build(tmp_path, rules, corpora, seeds_dir=seeds, sources=["seeds"])


def test_an_empty_seeds_folder_warns(built, rules, tmp_path, caplog):
    _, corpora, _ = built
    (tmp_path / "seeds").mkdir()
    with caplog.at_level("WARNING", logger="textclf.dataset"):
        _build(tmp_path, rules, corpora, seeds_dir=tmp_path / "seeds", sources=["seeds", "wcxb"])
    assert "no seed pages" in caplog.text


def test_the_dataset_is_not_private_and_stale_temporary_folders_go(built, rules, tmp_path):
    import os
    import stat

    _, corpora, _ = built
    dead = _dead_pid()
    stale = tmp_path / f".dataset.tmp-{dead}-abcd"
    running = tmp_path / f".dataset.tmp-{os.getpid()}-efgh"  # a build still running
    for folder in (stale, running):
        (folder / "lines").mkdir(parents=True)
    umask = os.umask(0o022)
    try:
        _build(tmp_path, rules, corpora, sources=["seeds", "wcxb"])
    finally:
        os.umask(umask)
    assert not stale.exists() and running.exists()
    assert stat.S_IMODE((tmp_path / "dataset").stat().st_mode) == 0o755
    # A build killed after moving the previous one aside: the previous one comes back.
    previous = (tmp_path / "dataset" / "fingerprint.json").read_text()
    (tmp_path / "dataset").rename(tmp_path / f".dataset.old-{dead}")
    from textclf.dataset import _remove_leftovers

    _remove_leftovers(tmp_path / "dataset")
    assert (tmp_path / "dataset" / "fingerprint.json").read_text() == previous


def _dead_pid() -> int:
    import subprocess

    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_the_fingerprint_follows_the_seed_pages_not_other_files(tmp_path):
    import shutil

    from textclf.dataset import fingerprint

    seeds = tmp_path / "seeds"
    shutil.copytree(ROOT / "seeds", seeds)

    def fp() -> str:
        return fingerprint(seeds, tmp_path / "corpora", ["seeds"], {})

    before = fp()
    (seeds / ".000.txt.swp").write_bytes(b"editor state")
    (seeds / "notes.md").write_text("to do")
    assert fp() == before
    (seeds / "001_new.txt").write_text("A new page.\n")
    assert fp() != before


def _write_page(folder: Path, name: str, lines: list[tuple[int, str]], url: str = "") -> Path:
    from textclf.annotation import LineAnnotation, write_annotation

    folder.mkdir(parents=True, exist_ok=True)
    page = folder / f"{name}.txt"
    page.write_text("\n\n".join(text for _, text in lines) + "\n", encoding="utf-8")
    if lines and lines[0][0] >= 0:  # a label of -1 on the first line: no annotation
        write_annotation(
            folder / f"{name}.annotation.tsv",
            [LineAnnotation(label, (), text) for label, text in lines],
            url=url,
        )
    return page


TRAIN_PAGE = [
    (0, "Home | News | Sport"),
    (1, "Harbour town opens a new ferry terminal"),
    (1, "The terminal, built over three years, will serve four ferry lines from Monday."),
    (0, "Read more: Council approves the budget"),
]


def _build_seeds_only(tmp_path: Path, rules):
    """A build of ``tmp_path/seeds`` (held out) and ``tmp_path/seeds/train`` (to train on)."""
    return build_dataset(
        out_dir=tmp_path / "dataset",
        seeds_dir=tmp_path / "seeds",
        train_pages_dir=tmp_path / "seeds" / "train",
        corpora_dir=tmp_path / "no-corpora",
        sources=["seeds"],
        rules=rules,
        n_jobs=1,
        progress=False,
    )


def test_annotated_pages_in_seeds_train_join_the_training_data(tmp_path, rules, caplog):
    seeds = tmp_path / "seeds"
    _write_page(seeds, "held_out", [(1, "A held-out page of its own")], url="https://b.example/x")
    _write_page(seeds / "train", "mine", TRAIN_PAGE, url="https://www.a.example/story")
    first = _build_seeds_only(tmp_path, rules)
    lines, pages = load_dataset(first.path)
    dev = [s for s in ("train", "validation") if s in pages]
    assert len(dev) == 1  # one site: one of the two
    assert assign_split("seeds", "dev", "a.example", 0.2, 13) == dev[0]
    page = pages[dev[0]][0]
    assert (page["page_id"], page["domain"], page["split"]) == ("mine", "a.example", "dev")
    assert lines[dev[0]]["label"] == [0, 1, 1, 0]  # the hand labels, not "unknown"
    assert set(lines[dev[0]]["label_source"]) == {"gold"}
    assert pages["seeds"]["page_id"] == ["held_out"]  # the held-out page stays held out
    assert pages["seeds"]["domain"] == ["b.example"]
    assert "hold 1 annotated page(s) of your own" in (first.path / "card.md").read_text()

    # Another training page rebuilds; the same one on the held-out page's site is warned about.
    _write_page(seeds / "train", "same_site", TRAIN_PAGE, url="https://b.example/y")
    with caplog.at_level("WARNING", logger="textclf.dataset"):
        second = _build_seeds_only(tmp_path, rules)
    assert second.rebuilt and second.fingerprint != first.fingerprint
    assert "b.example" in caplog.text and "share their site" in caplog.text


def test_a_training_page_without_annotation_is_a_clear_error(tmp_path, rules):
    from textclf.errors import AnnotationError

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    page = _write_page(seeds / "train", "unlabeled", [(-1, "Some page text")])
    with pytest.raises(AnnotationError, match=f"{page}.*no annotation.*template"):
        _build_seeds_only(tmp_path, rules)
    assert not (tmp_path / "dataset").exists()


def test_a_training_page_named_like_another_page_is_refused(tmp_path, rules):
    seeds = tmp_path / "seeds"
    _write_page(seeds, "same", [(1, "A held-out page")])
    _write_page(seeds / "train", "same", TRAIN_PAGE)
    with pytest.raises(CorpusError, match=r"\['same'\].*rename it"):
        _build_seeds_only(tmp_path, rules)
    assert not (tmp_path / "dataset").exists()
