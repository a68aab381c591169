"""Integration: build the datasets from the real corpora (CI sets TEXTCLF_CORPORA_DIR to them).

Checks the splits, the schema, that no domain is in both train and validation, that no test page
reaches training, and the labels' oracle floors.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from textclf.dataset import LINE_FEATURES, PAGE_FEATURES, SPLITS, build_dataset, load_dataset
from textclf.topics import TopicRules, load_topics_config

ROOT = Path(__file__).resolve().parents[1]
CORPORA = Path(os.environ.get("TEXTCLF_CORPORA_DIR", ROOT / "data" / "raw" / "corpora"))

pytestmark = [pytest.mark.corpora, pytest.mark.slow]


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    if not (CORPORA / "wcxb" / "metadata.json").is_file():
        if os.environ.get("CI"):
            pytest.fail(f"CI must have the corpora: {CORPORA} has no wcxb/metadata.json")
        pytest.skip(f"no corpora at {CORPORA}; set TEXTCLF_CORPORA_DIR")
    rules = TopicRules.from_config(load_topics_config(ROOT / "conf" / "topics" / "default.yaml"))
    result = build_dataset(
        out_dir=tmp_path_factory.mktemp("real") / "dataset",
        seeds_dir=ROOT / "seeds",
        corpora_dir=CORPORA,
        sources=["seeds", "wcxb", "scrapinghub"],
        rules=rules,
        n_jobs=2,
        progress=False,
    )
    lines, pages = load_dataset(result.path)
    return result, lines, pages


def test_splits_and_schema(real):
    _, lines, pages = real
    assert tuple(lines) == SPLITS
    for split in SPLITS:
        assert lines[split].features == LINE_FEATURES
        assert pages[split].features == PAGE_FEATURES
    assert len(pages["train"]) + len(pages["validation"]) == 1358
    assert len(pages["wcxb_test"]) == 511
    assert len(pages["scrapinghub"]) == 181
    assert len(lines["train"]) > 200_000


def test_no_domain_shared_and_no_test_page_in_training(real):
    _, _, pages = real
    assert not set(pages["train"]["domain"]) & set(pages["validation"]["domain"])
    training_ids = set(pages["train"]["page_id"]) | set(pages["validation"]["page_id"])
    assert not training_ids & set(pages["wcxb_test"]["page_id"])
    assert set(pages["train"]["split"]) == {"dev"} == set(pages["validation"]["split"])


def test_oracle_floors(real):
    result, _, _ = real
    card = result.card
    assert card["oracle_wcxb_dev"]["page_f1"] >= 0.95
    assert card["splits"]["scrapinghub"]["oracle"]["page_f1"] >= 0.98
    assert card["splits"]["scrapinghub"]["oracle"]["shingle_f1"] >= 0.98
