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
from textclf.crossval import CrossvalConfig, assign_folds, cross_validate
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
    # The best single decision is chosen on the same predictions: never below the cross-fitted.
    assert metrics["cv/page_f1_best_decision"] >= metrics["cv/page_f1"] - 1e-9
    assert logged.data.params["model.name"] == "logreg"
    assert logged.data.params["crossval.folds"] == "2"
    artifacts = {a.path for a in client.list_artifacts(run["run_id"])}
    assert {"crossval.md", "oof_predictions.parquet", "config.yaml"} <= artifacts
    path = client.download_artifacts(run["run_id"], "oof_predictions.parquet", str(run["root"]))
    oof = pd.read_parquet(path)
    assert len(oof) == len(run["proba"])
    np.testing.assert_allclose(oof["probability"].to_numpy(), run["proba"])
    # No domain is in two folds.
    assert (oof.groupby("domain")["fold"].nunique() == 1).all()


def test_fixed_decision_is_used_as_given(run, tmp_path):
    overrides = [
        *run["overrides"],
        "model.threshold=0.5",
        "model.relative=0",
        "crossval.log_predictions=false",
    ]
    result = cross_validate(_cfg(overrides))
    metrics = result["metrics"]
    assert metrics["fold0/threshold"] == 0.5 and metrics["fold1/threshold"] == 0.5
    assert metrics["fold0/relative_threshold"] == 0.0
    artifacts = {a.path for a in MlflowClient(run["uri"]).list_artifacts(result["run_id"])}
    assert "oof_predictions.parquet" not in artifacts


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("crossval.splits=[train,wcxb_test]", "test split"),
        ("crossval.splits=[]", "empty"),
        ("crossval.splits=[train,train]", "twice"),
        ("crossval.folds=1", "folds must be an int >= 2"),
        ("model.threshold=2", "threshold"),
        ("model.params.max_iter=-1", "max_iter"),
    ],
)
def test_bad_settings_fail_before_any_data_is_read(override, message, tmp_path):
    cfg = _cfg([f"paths.dataset_dir={tmp_path / 'missing'}", override])
    with pytest.raises(ConfigError, match=message):
        cross_validate(cfg)
