"""End to end: a topic added to the config reaches the dataset, the model, MLflow and predict.

Everything runs on the tiny hand-made corpora (tests/corpus_fixtures.py) against a temporary
MLflow store; the gold set is a small one written here for the fixture pages.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hydra import compose, initialize_config_dir
from mlflow import MlflowClient

from conftest import unpinned_mlflow
from textclf.config import EvaluateConfig, TrainConfig, to_config
from textclf.topic_gold import GoldEntry, line_hash, read_gold, write_gold
from textclf.topics import load_topics_config, topics_config

ROOT = Path(__file__).resolve().parents[1]
NEW_TOPIC = "infrastructure"
SMALL = [
    "topic_model.params.n_word_features=4096",
    "topic_model.params.n_char_features=4096",
    "topic_model.gold_min_positives=1",
]


def _taxonomy() -> Any:
    """The project's taxonomy plus a topic a user adds: no code change needed."""
    base = load_topics_config(ROOT / "conf" / "topics" / "default.yaml")
    raw = {
        "taxonomy": {
            **{
                name: {"definition": t.definition, "keywords": t.keywords, "cased": t.cased}
                | {"patterns": t.patterns}
                for name, t in base.taxonomy.items()
            },
            NEW_TOPIC: {
                "definition": "Roads, bridges, railways and public works.",
                "keywords": ["bridge", "bridges", "traffic", "roads"],
            },
        },
        "page_rule": {"min_lines": 1, "min_share": 0.1},
    }
    return topics_config(raw)


def _compose(name: str, overrides: list[str]) -> Any:
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        return compose(config_name=name, overrides=overrides)


def _gold(lines: Any, path: Path) -> Path:
    """A few fixture lines annotated by hand (they are made-up sentences, not corpus text)."""
    entries = []
    wanted = {
        "Officials said the bridge would reopen": (NEW_TOPIC,),
        "The minister met her counterpart": ("diplomacy", "economy_business"),
        "Privacy policy": (),
        "The museum will display the collection": ("culture_entertainment",),
    }
    for split, source in (
        ("train", "wcxb"),
        ("validation", "wcxb"),
        ("scrapinghub", "scrapinghub"),
    ):
        frame = lines[split].to_pandas()
        for start, topics in wanted.items():
            hits = frame[frame["text"].str.startswith(start)].head(2)
            for row in hits.itertuples(index=False):
                entries.append(
                    GoldEntry(source, row.page_id, row.line_index, line_hash(row.text), topics)
                )
    return write_gold(path, entries)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Train twice and evaluate once; then unpin MLflow's process-wide URIs (training sets
    them), so that later tests find their own stores."""
    with unpinned_mlflow():
        yield _train_and_evaluate(tmp_path_factory)


def _train_and_evaluate(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from corpus_fixtures import make_tiny_corpora
    from textclf.dataset import build_dataset, load_dataset
    from textclf.evaluate import evaluate
    from textclf.topics import TopicRules
    from textclf.train import train

    root = tmp_path_factory.mktemp("topics_e2e")
    topics = _taxonomy()
    # `make data` with the new topic in the config
    dataset = build_dataset(
        out_dir=root / "dataset",
        seeds_dir=ROOT / "seeds",
        corpora_dir=make_tiny_corpora(root / "corpora"),
        sources=["seeds", "wcxb", "scrapinghub"],
        rules=TopicRules.from_config(topics),
        validation_fraction=0.3,
        n_jobs=1,
        progress=False,
    ).path
    lines, _ = load_dataset(dataset)
    gold = _gold(lines, root / "gold.tsv")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    common = [
        f"paths.dataset_dir={dataset}",
        f"paths.reports_dir={root / 'reports'}",
        f"mlflow.tracking_uri={uri}",
        f"topic_model.gold_path={gold}",
        "tasks=[topics]",
    ]
    cfg = to_config(_compose("train", [*common, *SMALL]), TrainConfig)
    cfg.topic_model.topics = topics
    first = train(cfg)["topics"]
    # The gold set grows (here: its WCXB lines say "no topic" more often) before the next run,
    # which must compare itself with the champion re-scored on the new set.
    grown = [
        e if e.source != "wcxb" or e.line % 2 else GoldEntry(e.source, e.page_id, e.line, e.sha, ())
        for e in read_gold(gold)
    ]
    gold2 = write_gold(root / "gold2.tsv", grown)
    # A deliberately bad model: heavily regularised, no rule floor. It must not become champion.
    bad_overrides = [
        *common,
        *SMALL,
        "topic_model.params.alpha=1.0",
        f"topic_model.gold_path={gold2}",
    ]
    bad_overrides += ["topic_model.params.rule_floor=false", "run_name=bad"]
    bad = to_config(_compose("train", bad_overrides), TrainConfig)
    bad.topic_model.topics = topics
    second = train(bad)["topics"]
    ecfg = to_config(_compose("evaluate", common), EvaluateConfig)
    ecfg.topic_model.topics = topics
    evaluation = evaluate(ecfg)["topics"]
    return {
        "root": root,
        "uri": uri,
        "first": first,
        "second": second,
        "eval": evaluation,
        "lines": lines,
        "gold2": gold2,
    }


def test_a_new_topic_reaches_the_model(run: dict[str, Any]) -> None:
    import pandas as pd

    model = run["first"]["model"]
    assert NEW_TOPIC in model.topics_
    # One page about a bridge, one with nothing about the new topic.
    page = pd.DataFrame(
        {
            "page_id": ["p", "p", "p", "q", "q", "q"],
            "text": [
                "Home",
                "The old bridge on the ring road will reopen to traffic next week.",
                "Subscribe to our newsletter",
                "Home",
                "The museum will display the collection of paintings until spring.",
                "Subscribe to our newsletter",
            ],
        }
    )
    topics = model.predict_topics(page)
    assert NEW_TOPIC in topics[1]
    # Not on a page without it. (On the bridge page, page context may carry it to the other
    # lines: the tiny fixture model is too small to say more.)
    assert not any(NEW_TOPIC in t for t in topics[3:])


def test_the_training_run_is_logged(run: dict[str, Any]) -> None:
    client = MlflowClient(run["uri"])
    r = client.get_run(run["first"]["run_id"])
    assert r.info.run_name == "topics-linear"
    assert r.data.tags["task"] == "topics"
    metrics = r.data.metrics
    for key in (
        "gold/macro_f1",
        "gold/micro_f1",
        "gold/rules_macro_f1",
        f"gold/f1/{NEW_TOPIC}",
        f"gold/rules_f1/{NEW_TOPIC}",
        "gold_wcxb/macro_f1",
        f"validation/f1/{NEW_TOPIC}",
        f"threshold/{NEW_TOPIC}",
    ):
        assert key in metrics, key
    assert metrics[f"gold/f1/{NEW_TOPIC}"] >= 0.8
    assert "topic_model.params.alpha" in r.data.params
    paths = {a.path for a in client.list_artifacts(r.info.run_id)}
    assert {"config.yaml", "taxonomy.json", "gold_report.md", "figures"} <= paths
    figures = {a.path for a in client.list_artifacts(r.info.run_id, "figures")}
    assert "figures/gold_f1_per_topic.png" in figures


def test_champion_moves_only_on_improvement(run: dict[str, Any]) -> None:
    client = MlflowClient(run["uri"])
    assert run["first"]["version"] == "1" and run["first"]["promoted"]
    assert run["second"]["version"] == "2" and not run["second"]["promoted"]
    champion = client.get_model_version_by_alias("textclf-topics", "champion")
    assert str(champion.version) == "1"
    # The signature describes what the pyfunc flavour returns: a lines x topics 0/1 matrix.
    import mlflow.artifacts
    from mlflow.models import Model

    folder = Path(mlflow.artifacts.download_artifacts(champion.source, tracking_uri=run["uri"]))
    import numpy as np

    [output] = Model.load(folder / "MLmodel").signature.outputs.inputs
    topics = json.loads(client.get_run(champion.run_id).data.params["topic_model.topic_names"])
    assert output.type == np.int8 and output.shape == (-1, len(topics))


def test_the_champion_is_compared_on_the_current_gold_set(run: dict[str, Any]) -> None:
    from textclf.topic_train import gold_evaluation, load_gold

    key = "champion_now/gold_wcxb/macro_f1"
    assert key not in run["first"]["metrics"]  # no champion yet
    first = run["first"]["model"]
    names = list(first.topics_)
    pages = load_gold(run["gold2"], run["lines"], names)
    expected = gold_evaluation(first, pages, names, first.taxonomy)["metrics"]["gold_wcxb/macro_f1"]
    assert expected != run["first"]["metrics"]["gold_wcxb/macro_f1"]  # the sets do differ
    logged = MlflowClient(run["uri"]).get_run(run["second"]["run_id"]).data.metrics
    assert logged[key] == pytest.approx(expected)


def test_validation_metrics_are_those_of_the_registered_model(run: dict[str, Any]) -> None:
    from textclf.topic_model import f1_scores
    from textclf.topic_train import _smoothed

    model = run["first"]["model"]  # the model logged and registered, thresholds and all
    names = list(model.topics_)
    df = run["lines"]["validation"].to_pandas()
    recipe = to_config(_compose("train", []), TrainConfig).topic_model  # what the run used
    _, ys = _smoothed(df, names, recipe)
    expected = f1_scores(ys, model.predict(df[["page_id", "text"]]), names)["macro_f1"]
    logged = MlflowClient(run["uri"]).get_run(run["first"]["run_id"]).data.metrics
    assert logged["validation/macro_f1"] == pytest.approx(expected)


def test_evaluation_scores_the_champion_against_the_rules(run: dict[str, Any]) -> None:
    result = run["eval"]
    assert result["version"] == "1"
    assert result["metrics"]["gold/macro_f1"] == run["first"]["metrics"]["gold/macro_f1"]
    report = (run["root"] / "reports" / "eval_topics.md").read_text()
    assert "Per topic" in report and NEW_TOPIC in report
    r = MlflowClient(run["uri"]).get_run(result["run_id"])
    assert "gold/rules_macro_f1" in r.data.metrics
    assert r.data.tags["model_run_id"] == run["first"]["run_id"]
    assert r.inputs.dataset_inputs  # the dataset's fingerprint


def test_predict_load_attaches_the_topic_champion(
    run: dict[str, Any], tiny_model_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from textclf.predict import TOPIC_MODEL_ENV, load

    monkeypatch.setenv("MLFLOW_TRACKING_URI", run["uri"])
    monkeypatch.delenv(TOPIC_MODEL_ENV, raising=False)
    monkeypatch.delenv("TEXTCLF_MODEL_URI", raising=False)
    text = "Menu\n\nThe old bridge will reopen to traffic.\nTraffic on the bridge was heavy."
    clf = load(tiny_model_path)
    assert clf.topic_model is not None
    page = clf.predict_page(text, threshold=0.0)
    assert NEW_TOPIC in page.lines[1].topics
    assert page.topics is not None and NEW_TOPIC in page.topics
    assert load(tiny_model_path, topic_model=False).predict_page(text).topics is None
    monkeypatch.setenv(TOPIC_MODEL_ENV, "models:/textclf-topics/2")
    assert load(tiny_model_path).topic_model.get_params()["alpha"] == 1.0
    with pytest.raises(Exception, match="wrong task"):
        load(tiny_model_path, topic_model=str(tiny_model_path))
