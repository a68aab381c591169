"""The topic gold set tool and the training recipe, on the tiny hand-made dataset."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from corpus_fixtures import TOPIC_RECIPE, build_tiny_dataset
from textclf.errors import AnnotationError, ConfigError
from textclf.topic_gold import (
    GoldEntry,
    gold_statistics,
    line_hash,
    main,
    read_gold,
    resolve_gold,
    write_gold,
)

ROOT = Path(__file__).resolve().parents[1]
NAMES = ["diplomacy", "economy_business"]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_dataset(tmp_path_factory.mktemp("topic_gold"), ROOT / "seeds")


@pytest.fixture(scope="module")
def lines(dataset: Path) -> Any:
    from textclf.dataset import load_dataset

    return load_dataset(dataset)[0]


def _entry(lines: Any, split: str, row: int, topics: tuple[str, ...] = ()) -> GoldEntry:
    r = lines[split][row]
    source = {"scrapinghub": "scrapinghub", "seeds": "seeds"}.get(split, "wcxb")
    return GoldEntry(source, r["page_id"], r["line_index"], line_hash(r["text"]), topics)


def test_line_hash_is_of_the_stripped_text() -> None:
    assert line_hash("  Hello world \n") == line_hash("Hello world")
    assert len(line_hash("x")) == 16
    assert line_hash("a") != line_hash("b")


def test_write_and_read_round_trip(tmp_path: Path) -> None:
    entries = [
        GoldEntry("wcxb", "0002", 5, "0123456789abcdef", ("diplomacy",)),
        GoldEntry("seeds", "s1", 0, "fedcba9876543210", ()),
        GoldEntry("wcxb", "0001", 7, "00112233445566aa", ("diplomacy", "economy_business")),
    ]
    path = write_gold(tmp_path / "gold.tsv", entries)
    text = path.read_text()
    assert text.startswith("#") and "source\tpage_id\tline\tsha\ttopics" in text
    back = read_gold(path, NAMES)
    assert [e.key for e in back] == [("wcxb", "0001", 7), ("wcxb", "0002", 5), ("seeds", "s1", 0)]
    assert back[0].topics == ("diplomacy", "economy_business")
    assert back[2].topics == ()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("nope\n", "header"),
        ("source\tpage_id\tline\tsha\ttopics\nwcxb\t1\tx\t0123456789abcdef\t\n", "line must be"),
        ("source\tpage_id\tline\tsha\ttopics\nwcxb\t1\t2\tXYZ\t\n", "sha must be"),
        ("source\tpage_id\tline\tsha\ttopics\nweb\t1\t2\t0123456789abcdef\t\n", "unknown source"),
        (
            "source\tpage_id\tline\tsha\ttopics\nwcxb\t1\t2\t0123456789abcdef\tsports\n",
            "unknown topic",
        ),
        (
            "source\tpage_id\tline\tsha\ttopics\nwcxb\t1\t2\t0123456789abcdef\t\n"
            "wcxb\t1\t2\t0123456789abcdef\t\n",
            "same line",
        ),
    ],
)
def test_read_gold_refuses_bad_files(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "gold.tsv"
    path.write_text(body)
    with pytest.raises(AnnotationError, match=message):
        read_gold(path, NAMES)


def test_the_committed_gold_set_is_well_formed() -> None:
    from textclf.topics import load_topics_config

    names = list(load_topics_config(ROOT / "conf" / "topics" / "default.yaml").taxonomy)
    entries = read_gold(ROOT / "annotations" / "topics_gold.tsv", names)
    assert len(entries) >= 250
    assert {e.source for e in entries} == {"wcxb", "scrapinghub", "seeds"}
    positives = {t: sum(t in e.topics for e in entries) for t in names}
    assert min(positives.values()) >= 15, positives


def test_resolve_gold_attaches_the_gold_to_whole_pages(lines: Any) -> None:
    entries = [_entry(lines, "train", 3, ("diplomacy",)), _entry(lines, "scrapinghub", 10)]
    resolved = resolve_gold(entries, lines)
    gold = resolved[resolved["gold_topics"].notna()]
    assert len(gold) == 2
    assert sorted(map(tuple, gold["gold_topics"])) == [(), ("diplomacy",)]
    # every line of the two pages is there, in page order
    for _, rows in resolved.groupby("page_id", sort=False):
        assert rows["line_index"].tolist() == list(range(len(rows)))
    stats = gold_statistics(resolved, NAMES)
    assert stats["lines"] == 2 and stats["positives"]["diplomacy"] == 1


def test_resolve_gold_fails_clearly_when_a_line_changed(lines: Any) -> None:
    entry = _entry(lines, "train", 3, ("diplomacy",))
    changed = GoldEntry(entry.source, entry.page_id, entry.line, "0" * 16, entry.topics)
    with pytest.raises(AnnotationError, match="no line of the page hashes to 0000"):
        resolve_gold([changed], lines)


def test_resolve_gold_follows_a_line_that_moved(lines: Any) -> None:
    entry = _entry(lines, "train", 3, ("diplomacy",))
    moved = GoldEntry(entry.source, entry.page_id, entry.line + 1, entry.sha, entry.topics)
    resolved = resolve_gold([moved], lines)
    gold = resolved[resolved["gold_topics"].notna()]
    assert gold["line_index"].tolist() == [entry.line]


def test_resolve_gold_missing_pages(lines: Any) -> None:
    ghost = GoldEntry("wcxb", "9999", 0, "0" * 16, ())
    with pytest.raises(AnnotationError, match="not in the dataset"):
        resolve_gold([ghost], lines)
    assert resolve_gold([ghost], lines, missing_pages="skip").empty


def test_cli_add_check_search_show(
    dataset: Path, lines: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gold = tmp_path / "gold.tsv"
    base = ["--dataset", str(dataset), "--gold", str(gold)]
    row = lines["train"][3]
    assert main([*base, "add", "wcxb", row["page_id"], str(row["line_index"]), "diplomacy"]) == 0
    assert read_gold(gold)[0].sha == line_hash(row["text"])
    assert main([*base, "check"]) == 0
    out = capsys.readouterr().out
    assert "1 gold lines resolved" in out
    assert main([*base, "search", "counterpart", "--source", "wcxb", "--limit", "2"]) == 0
    assert "counterpart" in capsys.readouterr().out
    assert main([*base, "show", "wcxb", row["page_id"], "--to", "5"]) == 0
    assert "GOLD[diplomacy]" in capsys.readouterr().out
    assert main([*base, "add", "wcxb", "9999", "0"]) == 2  # no such page: a clear error
    assert "no page" in capsys.readouterr().err
    # "none": about none of the topics; the file stays readable by others.
    line = str(row["line_index"])
    umask = os.umask(0o022)
    try:
        assert main([*base, "add", "wcxb", row["page_id"], line, "none"]) == 0
    finally:
        os.umask(umask)
    assert read_gold(gold)[0].topics == ()
    assert gold.stat().st_mode & 0o777 == 0o644
    # Clear errors, not tracebacks; a bad row writes nothing.
    before = gold.read_text()
    cases = [
        (["--dataset", str(tmp_path / "nods"), "--gold", str(gold), "check"], "make data"),
        ([*base, "--topics", str(tmp_path / "nope.yaml"), "check"], "nope.yaml"),
        ([*base, "search", "("], "not a valid regular expression"),
    ]
    for argv, message in cases:
        assert main(argv) == 2
        assert message in capsys.readouterr().err
    stdin = io.StringIO(f"wcxb {row['page_id']} {line} diplomacy\nwcxb {row['page_id']} x\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "stdin", stdin)
        assert main([*base, "add", "--stdin"]) == 2
    captured = capsys.readouterr()
    assert "with a line number" in captured.err and "added" not in captured.out
    assert gold.read_text() == before
    (tmp_path / "latin1.tsv").write_bytes("caf\xe9".encode("latin-1"))
    assert main(["--dataset", str(dataset), "--gold", str(tmp_path / "latin1.tsv"), "check"]) == 2
    assert "not UTF-8" in capsys.readouterr().err


def test_build_training_set(lines: Any) -> None:
    from textclf.topic_train import build_training_set, taxonomy_data
    from textclf.topics import load_topics_config

    topics = load_topics_config(ROOT / "conf" / "topics" / "default.yaml")
    taxonomy = taxonomy_data(topics)
    names = list(taxonomy)
    frame = lines["train"].to_pandas()
    train, targets, stats = build_training_set(frame, names, taxonomy, TOPIC_RECIPE)
    assert len(train) == len(targets) and targets.shape[1] == len(names)
    assert stats["smoothed_positives"] >= stats["rule_positives"] > 0
    n_keywords = sum(len(t["keywords"]) + len(t["cased"]) for t in taxonomy.values())
    assert stats["keyword_lines"] == n_keywords
    assert len(train) == len(frame) + stats["masked_lines"] + n_keywords
    added = train.iloc[len(frame) :]
    assert added["page_id"].str.match(r"^(masked|keyword):").all()
    assert np.asarray(targets[len(frame) :]).sum(axis=1).min() >= 1  # added lines have a topic


def test_the_dataset_and_the_config_must_agree(dataset: Path) -> None:
    from textclf.topic_train import _check_names, dataset_topic_names

    names = dataset_topic_names(dataset)
    assert "diplomacy" in names
    with pytest.raises(ConfigError, match="make data"):
        _check_names(names, [*names, "weather"], dataset)


def test_load_gold_leaves_out_a_corpus_that_only_reuses_page_ids(
    lines: Any, tmp_path: Path
) -> None:
    from textclf.topic_train import load_gold
    from textclf.topics import load_topics_config

    names = list(load_topics_config(ROOT / "conf" / "topics" / "default.yaml").taxonomy)
    # The committed gold set against the tiny fixture: same seed page, other WCXB pages.
    gold = load_gold(ROOT / "annotations" / "topics_gold.tsv", lines, names)
    assert set(gold["source"]) == {"seeds"}
    # One WCXB line that matches and one that does not: the corpus changed, an error.
    good = _entry(lines, "train", 3, ("diplomacy",))
    bad = GoldEntry("wcxb", good.page_id, good.line + 1, "0" * 16, ())
    path = write_gold(tmp_path / "gold.tsv", [good, bad])
    with pytest.raises(AnnotationError, match="no longer match"):
        load_gold(path, lines, names)


def test_a_champion_that_no_longer_loads_falls_back_to_its_logged_score(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import textclf.evaluate
    from textclf import topic_train, tracking

    def broken(model_uri: str, uri: str) -> Any:
        raise OSError("artifact missing")

    monkeypatch.setattr(tracking, "model_version_of", lambda model_uri, uri: "4")
    monkeypatch.setattr(textclf.evaluate, "load_pipeline", broken)
    tm = type("TM", (), {"registered_model": "textclf-topics", "champion_metric": "gold/x"})()
    with caplog.at_level("WARNING", logger="textclf.topic_train"):
        assert topic_train._champion_on_gold(tm, "sqlite://", None, NAMES, {}) is None
    assert "cannot load the champion" in caplog.text and "artifact missing" in caplog.text


def test_evaluating_without_a_topic_model_leaves_no_stale_report(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from textclf.config import EvaluateConfig
    from textclf.topic_train import evaluate_topics

    cfg = EvaluateConfig()
    cfg.paths.reports_dir = str(tmp_path / "reports")
    cfg.mlflow.tracking_uri = f"sqlite:///{tmp_path / 'empty.db'}"
    report = tmp_path / "reports" / "eval_topics.md"
    report.parent.mkdir()
    report.write_text("# Evaluation of models:/textclf-topics@champion (version 3)\n")
    with caplog.at_level("WARNING", logger="textclf.topic_train"):
        assert evaluate_topics(cfg)["run_id"] is None
    assert "topics not evaluated" in caplog.text
    assert report.read_text().startswith("# Topic evaluation\n\nNot evaluated: no topic model")


def test_seed_checks_average_over_several_seed_pages() -> None:
    from types import SimpleNamespace

    import datasets
    import pandas as pd

    from textclf.topic_train import _seed_checks
    from textclf.topics import PageRule

    seeds = pd.DataFrame(
        {
            "page_id": ["a", "a", "a", "b", "b"],
            "text": ["Menu", "Talks in Seoul.", "More talks.", "Match report.", "Goal!"],
            "label": [0, 1, 1, 1, 1],
        }
    )
    tags = {"Menu": [], "Talks in Seoul.": ["diplomacy"], "More talks.": ["diplomacy"]}
    model = SimpleNamespace(
        predict_topics=lambda frame: [tags.get(t, ["sports"]) for t in frame["text"]],
        page_rule_=PageRule(min_lines=1, min_share=0.5),
    )
    out = _seed_checks(model, {"seeds": datasets.Dataset.from_pandas(seeds)}, [*NAMES, "sports"])
    # Page a is about diplomacy, page b about sports: each is half of the seed pages.
    assert out["seeds/page_topic/diplomacy"] == 0.5
    assert out["seeds/page_topic/sports"] == 0.5
    assert out["seeds/content_share/diplomacy"] == 0.5  # 2 of the 4 content lines


def test_page_topics_are_scored_on_pages_with_enough_content_lines() -> None:
    import numpy as np
    import pandas as pd

    from textclf.topic_train import PAGE_MIN_LINES, _page_scores
    from textclf.topics import PageRule

    names = ["diplomacy", "sports"]
    n = PAGE_MIN_LINES
    # Page a: n content lines about diplomacy, and one boilerplate line about sports.
    # Page b: too few content lines to be scored.
    labels = [1] * n + [0] + [1, 1]
    gold = pd.DataFrame({"page_id": ["a"] * (n + 1) + ["b"] * 2, "label": labels, "source": "wcxb"})
    y = np.array([[1, 0]] * n + [[0, 1]] + [[0, 1]] * 2)
    model = np.array([[1, 1]] * n + [[0, 0]] + [[0, 0]] * 2)  # adds sports everywhere on a
    rules = np.array([[1, 0]] * n + [[0, 1]] + [[1, 0]] * 2)  # right on the scored page
    out = _page_scores(gold, y, model, rules, names, PageRule(2, 0.15), "gold")
    assert out["gold/pages"] == 1
    assert out["gold/rules_page_f1"] == 1.0
    assert out["gold/page_f1"] == 2 * 1 / (2 + 1)  # {diplomacy, sports} against {diplomacy}
