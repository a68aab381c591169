"""`make cv`: grouped cross-validation on hand-made corpora, against a temporary MLflow store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from mlflow import MlflowClient

from conftest import unpinned_mlflow
from corpus_fixtures import build_tiny_dataset
from textclf.config import to_config
from textclf.crossval import CrossvalConfig, assign_folds, cross_validate, line_folds
from textclf.dataset import load_dataset
from textclf.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def _cfg(overrides: list[str]) -> CrossvalConfig:
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        return to_config(compose(config_name="crossval", overrides=overrides), CrossvalConfig)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("cv")
    dataset = build_tiny_dataset(root, ROOT / "seeds")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    overrides = [
        f"paths.dataset_dir={dataset}",
        f"mlflow.tracking_uri={uri}",
        "model=logreg",
        "model.cv=2",
        "crossval.folds=2",
    ]
    with unpinned_mlflow():
        result = cross_validate(_cfg(overrides))
        yield {"root": root, "dataset": dataset, "uri": uri, "overrides": overrides, **result}


def test_folds_hold_whole_domains():
    domains = pd.Series(["a", "a", "b", "c", "c", "c", "d", "b"])
    fold = assign_folds(domains, 2)
    assert set(fold) == {0, 1}
    for domain in domains.unique():
        assert len(set(fold[(domains == domain).to_numpy()])) == 1
    with pytest.raises(ConfigError, match="at least 5 domains"):
        assign_folds(domains, 5)


def test_every_dev_line_is_scored_once_by_a_model_that_never_saw_its_domain(run):
    lines, _ = load_dataset(run["dataset"])
    dev = pd.concat([lines[s].to_pandas() for s in ("train", "validation")])
    dev = dev[dev["label"] >= 0]
    proba, fold = run["proba"], run["fold"]
    assert len(proba) == len(dev)
    assert np.isfinite(proba).all() and ((proba >= 0) & (proba <= 1)).all()
    assert set(fold) == {0, 1}


def test_the_run_is_logged_with_fold_metrics_and_predictions(run):
    client = MlflowClient(run["uri"])
    logged = client.get_run(run["run_id"])
    metrics = logged.data.metrics
    assert logged.info.run_name == "cv-logreg-stack1"
    assert logged.data.tags["task"] == "crossval"
    assert client.get_experiment(logged.info.experiment_id).name == "textclf-cv"
    for key in ("cv/page_f1", "cv/page_f1_best_decision", "fold0/page_f1", "fold1/page_f1"):
        assert 0.0 < metrics[key] <= 1.0, key
    assert logged.data.params["model.name"] == "logreg"
    assert logged.data.params["crossval.folds"] == "2"
    assert logged.data.params["crossval.decision"] == "other_folds"
    # Training-only keys play no part here and are not logged as if they did.
    assert not {"fit_splits", "eval_splits", "refit_splits"} & set(logged.data.params)
    artifacts = {a.path for a in client.list_artifacts(run["run_id"])}
    assert {"crossval.md", "oof_predictions.parquet", "config.yaml"} <= artifacts
    path = client.download_artifacts(run["run_id"], "oof_predictions.parquet", str(run["root"]))
    oof = pd.read_parquet(path)
    assert len(oof) == len(run["proba"])
    np.testing.assert_allclose(oof["probability"].to_numpy(), run["proba"])
    # No domain is in two folds.
    assert (oof.groupby("domain")["fold"].nunique() == 1).all()
    # The held-out lines scored again without blank lines, with the same decisions.
    for key in ("cv/no_blank_lines/page_f1", "cv/no_blank_lines/page_f1_best_decision"):
        assert 0.0 <= metrics[key] <= 1.0, key
    report = Path(client.download_artifacts(run["run_id"], "crossval.md", str(run["root"])))
    assert "The same held-out lines with no blank lines: page F1" in report.read_text()


def test_each_preset_is_chosen_on_the_other_folds_like_the_decision(run):
    from textclf.features import token_counts
    from textclf.models import DEFAULT_PRESETS, choose_decisions
    from textclf.train import _frame

    cfg = _cfg(run["overrides"])
    lines, _ = load_dataset(run["dataset"])
    frame = _frame(lines, ["train", "validation"])
    proba, fold, metrics = run["proba"], run["fold"], run["metrics"]
    y, page = frame["label"].to_numpy(), frame["page_id"].to_numpy()
    texts = frame["text"].to_numpy(dtype=object)
    tokens = token_counts(frame["text"].tolist())
    assert cfg.model.drop_repeats
    for k in range(2):
        other = fold != k
        chosen = choose_decisions(
            proba[other],
            y[other],
            page[other],
            tokens[other],
            {"": 1.0, **DEFAULT_PRESETS},
            texts=texts[other],
            relative_power=cfg.model.relative_power,
        )
        assert chosen.pop("") == (
            metrics[f"fold{k}/threshold"],
            metrics[f"fold{k}/relative_threshold"],
        )
        assert set(chosen) == {"precision", "recall"}
        for name, pair in chosen.items():
            at = f"fold{k}/favor_{name}"
            assert pair == (metrics[f"{at}/threshold"], metrics[f"{at}/relative_threshold"])
    for name in DEFAULT_PRESETS:
        for key in ("page_f1", "page_precision", "page_recall", "line_f1"):
            assert 0.0 <= metrics[f"cv/favor_{name}/{key}"] <= 1.0, (name, key)
    client = MlflowClient(run["uri"])
    report = Path(client.download_artifacts(run["run_id"], "crossval.md", str(run["root"])))
    table = report.read_text().split("The decision and its presets")[1]
    for row in ("default (F1)", "favor=precision", "favor=recall"):
        assert f"| {row} |" in table


def test_presets_follow_the_config(run):
    with unpinned_mlflow():
        one = cross_validate(
            _cfg([*run["overrides"], "model.presets.recall=null", "crossval.log_predictions=false"])
        )
        fixed = cross_validate(
            _cfg(
                [
                    *run["overrides"],
                    "model.threshold=0.5",
                    "model.relative=0",
                    "crossval.log_predictions=false",
                ]
            )
        )
    assert "cv/favor_precision/page_f1" in one["metrics"]
    assert not any("favor_recall" in key for key in one["metrics"])
    # A decision given in numbers leaves nothing to choose: no preset is scored.
    assert not any("favor_" in key for key in fixed["metrics"])


def test_an_input_variant_is_scored_with_the_decisions_of_the_pages_as_they_come(run, monkeypatch):
    import textclf.variants as variants

    # A variant that leaves the lines as they are must score what the lines as they are score.
    seen: list[pd.DataFrame] = []

    def same(lines: pd.DataFrame) -> pd.DataFrame:
        seen.append(lines)
        return lines

    monkeypatch.setitem(variants.INPUT_VARIANTS, "no_blank_lines", ("the same", same))
    with unpinned_mlflow():
        result = cross_validate(_cfg(run["overrides"]))
    # It is given each fold's held-out lines, the model's input columns only.
    assert len(seen) == 2
    rows = np.concatenate([lines.index.to_numpy() for lines in seen])
    assert sorted(rows) == list(range(len(run["proba"])))
    assert list(seen[0].columns) == ["page_id", "text", "blank_before", "blank_after"]
    m = result["metrics"]
    assert m["cv/no_blank_lines/page_f1"] == m["cv/page_f1"]
    assert m["cv/no_blank_lines/page_f1_best_decision"] == m["cv/page_f1_best_decision"]
    with unpinned_mlflow():
        none = cross_validate(_cfg([*run["overrides"], "input_variants=[]"]))
    assert not any(k.startswith("cv/no_blank_lines/") for k in none["metrics"])


def test_no_fold_is_fitted_on_a_domain_it_scores(run, monkeypatch):
    import textclf.crossval as crossval

    fitted: list[set[str]] = []
    real = crossval._pipeline

    def recording(*args, **kwargs):
        pipe = real(*args, **kwargs)
        fit = pipe.fit

        def fit_and_record(X, y, **params):
            fitted.append(set(X["domain"]))
            return fit(X, y, **params)

        pipe.fit = fit_and_record
        return pipe

    monkeypatch.setattr(crossval, "_pipeline", recording)
    result = cross_validate(_cfg([*run["overrides"], "crossval.log_predictions=false"]))
    lines, _ = load_dataset(run["dataset"])
    dev = pd.concat([lines[s].to_pandas() for s in ("train", "validation")])
    domains = dev[dev["label"] >= 0]["domain"].to_numpy()
    assert len(fitted) == 2
    for k, seen in enumerate(fitted):
        scored = set(domains[result["fold"] == k])
        assert scored and seen and not scored & seen
        assert seen | scored == set(domains)


@pytest.mark.parametrize(
    ("overrides", "threshold", "relative"),
    [
        (["model.threshold=0.5", "model.relative=0"], 0.5, 0.0),
        (["model.threshold=0.4"], 0.4, None),
        (["model.relative=0.3"], None, 0.3),
    ],
)
def test_a_number_given_for_the_decision_is_kept(run, overrides, threshold, relative):
    result = cross_validate(_cfg([*run["overrides"], *overrides, "crossval.log_predictions=false"]))
    metrics = result["metrics"]
    for key, value in (("threshold", threshold), ("relative_threshold", relative)):
        if value is None:
            continue
        assert metrics[f"fold0/{key}"] == metrics[f"fold1/{key}"] == value
        assert metrics[f"best_decision/{key}"] == value  # the best decision keeps it too
    client = MlflowClient(run["uri"])
    artifacts = {a.path for a in client.list_artifacts(result["run_id"])}
    assert "oof_predictions.parquet" not in artifacts
    decision = client.get_run(result["run_id"]).data.params["crossval.decision"]
    assert decision == (
        "fixed" if threshold is not None and relative is not None else "other_folds"
    )


@pytest.mark.parametrize("drop", [True, False])
def test_repeats_of_content_lines_are_dropped_after_the_decision(run, drop):
    from textclf.models import later_copies

    keep_all = ["model.threshold=0", "model.relative=0", f"model.drop_repeats={drop}"]
    with unpinned_mlflow():
        result = cross_validate(_cfg([*run["overrides"], *keep_all]))
    client = MlflowClient(run["uri"])
    oof = pd.read_parquet(
        client.download_artifacts(result["run_id"], "oof_predictions.parquet", str(run["root"]))
    )
    lines, _ = load_dataset(run["dataset"])
    dev = pd.concat([lines[s].to_pandas() for s in ("train", "validation")])
    oof = oof.merge(dev[["page_id", "line_index", "text"]], on=["page_id", "line_index"])
    later = later_copies(np.ones(len(oof), bool), oof["page_id"].to_numpy(), oof["text"].tolist())
    assert later.any()  # the hand-made pages repeat some sentences
    assert oof["predicted"].tolist() == (~later if drop else np.ones(len(oof), bool)).tolist()


def test_decide_on_oof_takes_each_fold_models_own_decision(run):
    result = cross_validate(
        _cfg([*run["overrides"], "model.decide_on=oof", "crossval.log_predictions=false"])
    )
    run_data = MlflowClient(run["uri"]).get_run(result["run_id"]).data
    assert run_data.params["crossval.decision"] == "oof"
    for k in range(2):
        assert 0.0 < result["metrics"][f"fold{k}/threshold"] < 1.0
        for name in ("precision", "recall"):  # the fold model's own presets
            assert 0.0 < result["metrics"][f"fold{k}/favor_{name}/threshold"] < 1.0
    assert 0.0 <= result["metrics"]["cv/favor_precision/page_precision"] <= 1.0


def test_pages_and_lines_that_do_not_match_are_refused():
    pages = pd.DataFrame({"page_id": ["a", "b", "c"], "domain": ["x", "y", "z"]})
    lines = pd.DataFrame({"page_id": ["a", "b", "c", "c"]})
    page_fold, line_fold = line_folds(lines, pages, 3)
    assert list(line_fold) == [page_fold[0], page_fold[1], page_fold[2], page_fold[2]]
    with pytest.raises(ConfigError, match="no entry in the dataset's page table"):
        line_folds(pd.DataFrame({"page_id": ["a", "d"]}), pages, 2)
    twice = pd.concat([pages, pages.head(1)], ignore_index=True)
    with pytest.raises(ConfigError, match="occur twice"):
        line_folds(lines, twice, 2)
    with pytest.raises(ConfigError, match="hold no labeled line"):
        line_folds(pd.DataFrame({"page_id": ["a"]}), pages, 3)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("crossval.splits=[train,wcxb_test]", "test split"),
        ("crossval.splits=[]", "empty"),
        ("crossval.splits=[train,train]", "twice"),
        ("crossval.folds=1", "folds must be an int >= 2"),
        ("crossval.folds=true", "crossval.folds"),
        ("crossval.splits=[seeds]", "test split"),
        ("model.decide_on=wcxb_test", "test split"),
        ("max_fit_pages=-1", "max_fit_pages"),
        ("model.threshold=2", "threshold"),
        ("model.params.max_iter=-1", "max_iter"),
        ("input_variants=[no_blanks]", "input_variants: unknown"),
    ],
)
def test_bad_settings_fail_before_any_data_is_read(override, message, tmp_path):
    # tmp_path/missing holds no dataset: reading one would fail with another message.
    with pytest.raises(ConfigError, match=message):
        cross_validate(_cfg([f"paths.dataset_dir={tmp_path / 'missing'}", override]))
