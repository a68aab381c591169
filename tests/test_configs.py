"""Every config composes and validates against its schema, experiments and debug modes included."""

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from textclf.config import EvaluateConfig, PrepareConfig, TrainConfig, to_config
from textclf.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "conf"


def _compose(name, overrides=()):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose(config_name=name, overrides=list(overrides))


@pytest.mark.parametrize("experiment", sorted(p.stem for p in (CONF / "experiment").glob("*.yaml")))
def test_every_experiment_composes(experiment):
    cfg = to_config(_compose("train", [f"experiment={experiment}"]), TrainConfig)
    assert cfg.run_name


@pytest.mark.parametrize("debug", sorted(p.stem for p in (CONF / "debug").glob("*.yaml")))
def test_every_debug_mode_composes(debug):
    to_config(_compose("train", [f"debug={debug}"]), TrainConfig)


@pytest.mark.parametrize("model", sorted(p.stem for p in (CONF / "model").glob("*.yaml")))
def test_every_model_composes(model):
    cfg = to_config(_compose("train", [f"model={model}"]), TrainConfig)
    assert cfg.model.name == model


def test_primary_configs_compose_with_absolute_paths():
    prep = to_config(_compose("prepare"), PrepareConfig)
    assert Path(prep.paths.dataset_dir).is_absolute()
    assert Path(prep.paths.corpora_dir).is_absolute()
    to_config(_compose("evaluate"), EvaluateConfig)


@pytest.mark.parametrize("experiment", sorted(p.stem for p in (CONF / "experiment").glob("*.yaml")))
def test_crossval_composes_the_training_config_with_any_experiment(experiment):
    from textclf.crossval import CrossvalConfig

    cfg = to_config(_compose("crossval", [f"experiment={experiment}"]), CrossvalConfig)
    train = to_config(_compose("train", [f"experiment={experiment}"]), TrainConfig)
    assert cfg.model == train.model and cfg.features == train.features
    assert cfg.crossval.folds == 3 and cfg.crossval.splits == ["train", "validation"]


def test_unknown_key_is_a_config_error():
    dcfg = _compose("train")
    dcfg_dict = dict(dcfg)
    dcfg_dict["modle"] = {"name": "hgb"}
    with pytest.raises(ConfigError, match="modle"):
        to_config(dcfg_dict, TrainConfig)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("model.weighting=by_length", "model.weighting"),
        ("model.threshold=1.5", "model.threshold"),
        ("model.relative=often", "model.relative"),
        ("model.decide_on=train", "model.decide_on=train is one of fit_splits"),
        ("mlflow.champion_on_new_dataset=never", "mlflow.champion_on_new_dataset"),
        ("model.params.max_iter=-1", "bad parameters for estimator 'hgb'.*max_iter"),
        ("model.stages=0", "model.stages must be an int >= 1"),
        ("model.relative_power=0.5", r"model\.relative_power must be a number >= 1"),
        ("model.presets.recall=0", r"model\.presets\.recall must be a number > 0"),
        ("+model.presets.Strict=0.3", "preset names are lower-case identifiers"),
        ("model=random_forest model.params.n_estimators=0", "n_estimators"),
        ("model=linear_svm model.params.C=-1", "'C'"),
        ("features.blank_dropout=1.5", "features.blank_dropout must be a number from 0 to 1"),
        ("features.word_dropout=-1", "features.word_dropout must be a number from 0 to 1"),
        ("input_variants=[no_blanks]", "input_variants: unknown input variant"),
    ],
)
def test_bad_model_settings_fail_before_any_data_is_read(tmp_path, override, message):
    from textclf.train import train_boilerplate

    cfg = to_config(_compose("train", override.split()), TrainConfig)
    cfg.paths.dataset_dir = str(tmp_path / "no-dataset-here")
    with pytest.raises(ConfigError, match=message):
        train_boilerplate(cfg)


@pytest.mark.parametrize("task", ["boilerplate", "topics"])
@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("fit_splits=[train,scrapinghub]", "fit_splits"),
        ("refit_splits=[train,validation,wcxb_test]", "refit_splits"),
        ("eval_splits=[validation,seeds]", "eval_splits"),
        ("model.decide_on=wcxb_test", "model.decide_on"),
    ],
)
def test_a_test_split_in_training_is_refused_before_any_data_is_read(tmp_path, task, override, key):
    from textclf.topic_train import train_topics
    from textclf.train import train_boilerplate

    cfg = to_config(_compose("train", [override]), TrainConfig)
    cfg.paths.dataset_dir = str(tmp_path / "no-dataset-here")
    cfg.mlflow.tracking_uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    run = train_boilerplate if task == "boilerplate" else train_topics
    with pytest.raises(ConfigError, match=rf"{key} names the test split"):
        run(cfg)
    assert not (tmp_path / "mlflow.db").exists()


def test_bad_topic_threshold_smoothing_fails_before_any_data_is_read(tmp_path):
    from textclf.topic_train import train_topics

    cfg = to_config(_compose("train", ["topic_model.gold_threshold_smoothing=-1"]), TrainConfig)
    cfg.paths.dataset_dir = str(tmp_path / "no-dataset-here")
    with pytest.raises(ConfigError, match=r"topic_model\.gold_threshold_smoothing must be"):
        train_topics(cfg)


@pytest.mark.parametrize("task", ["boilerplate", "topics"])
def test_scoring_on_the_fitted_lines_is_refused(tmp_path, task):
    from textclf.topic_train import train_topics
    from textclf.train import check_held_out_splits, train_boilerplate

    cfg = to_config(_compose("train", ["fit_splits=[train,validation]"]), TrainConfig)
    cfg.paths.dataset_dir = str(tmp_path / "no-dataset-here")
    run = train_boilerplate if task == "boilerplate" else train_topics
    with pytest.raises(ConfigError, match=r"share \['validation'\]"):
        run(cfg)
    # experiment=full_dev fits on all of dev and scores nothing in training.
    full = to_config(_compose("train", ["experiment=full_dev"]), TrainConfig)
    check_held_out_splits(full)


@pytest.mark.parametrize(
    "override",
    ["refit_splits=[train,valdation]", "eval_splits=[valdation]", "model.decide_on=valdation"],
)
def test_an_unknown_split_fails_before_any_fitting(tmp_path, override):
    from corpus_fixtures import build_tiny_dataset
    from textclf.train import train_boilerplate

    dataset = build_tiny_dataset(tmp_path, ROOT / "seeds")
    cfg = to_config(_compose("train", [f"paths.dataset_dir={dataset}", override]), TrainConfig)
    cfg.mlflow.tracking_uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    with pytest.raises(ConfigError, match=r"unknown split.*valdation"):
        train_boilerplate(cfg)
    assert not (tmp_path / "mlflow.db").exists()  # failed before any run was started


@pytest.mark.parametrize(
    ("fit", "refit", "expected"),
    [
        (["train"], ["train", "validation"], True),
        (["train"], [], False),
        (["train", "validation"], ["validation", "train"], False),
        (["train"], ["validation"], True),
    ],
)
def test_needs_refit_when_the_refit_splits_differ(fit, refit, expected):
    from textclf.train import needs_refit

    cfg = TrainConfig(fit_splits=fit, refit_splits=refit)
    assert needs_refit(cfg) is expected


def test_a_split_named_twice_is_an_error():
    from textclf.train import needs_refit

    with pytest.raises(ConfigError, match="refit_splits names a split twice"):
        needs_refit(TrainConfig(fit_splits=["train"], refit_splits=["train", "train"]))


def test_only_the_default_run_refits():
    assert to_config(_compose("train"), TrainConfig).refit_splits == ["train", "validation"]
    for extra in ("experiment=full_dev", "debug=fast"):
        assert to_config(_compose("train", [extra]), TrainConfig).refit_splits == []


def test_every_model_config_weights_its_lines_like_the_metric():
    for model in sorted(p.stem for p in (CONF / "model").glob("*.yaml")):
        cfg = to_config(_compose("train", [f"model={model}"]), TrainConfig)
        assert cfg.model.weighting == "page_tokens"


def test_the_decision_is_chosen_by_cross_validation_full_dev_included():
    cfg = to_config(_compose("train", ["experiment=full_dev"]), TrainConfig)
    assert "validation" in cfg.fit_splits and not cfg.refit_splits
    assert cfg.model.decide_on == "crossval"
    for model in ("hgb", "logreg", "linear_svm", "random_forest"):
        cfg = to_config(_compose("train", [f"model={model}"]), TrainConfig)
        assert (cfg.model.decide_on, cfg.model.decision_folds) == ("crossval", 3)


def test_the_default_model_takes_the_relative_share_of_its_sharpened_page_best():
    # make cv (seeds 0, 1, 2): the share of the page's best probability to the 12th power
    # scored 0.003 to 0.004 above the plain share (8 folds of 9); the other estimators, whose
    # probabilities were not compared so, keep the plain share.
    assert to_config(_compose("train"), TrainConfig).model.relative_power == 12
    for model in ("logreg", "linear_svm", "random_forest"):
        cfg = to_config(_compose("train", [f"model={model}"]), TrainConfig)
        assert cfg.model.relative_power == 1


def test_every_model_config_chooses_the_two_presets_and_one_can_be_left_out():
    from textclf.models import check_presets

    for model in ("hgb", "logreg", "linear_svm", "random_forest"):
        cfg = to_config(_compose("train", [f"model={model}"]), TrainConfig)
        assert cfg.model.presets == {"precision": 0.5, "recall": 2.0}
    cfg = to_config(_compose("train", ["model.presets.recall=null"]), TrainConfig)
    assert check_presets(cfg.model.presets) == {"precision": 0.5}
    cfg = to_config(_compose("train", ["+model.presets.strict=0.25"]), TrainConfig)
    assert check_presets(cfg.model.presets)["strict"] == 0.25


def test_limit_pages_samples_whole_pages():
    import pandas as pd

    from textclf.train import limit_pages

    frame = pd.DataFrame({"page_id": list("aabbbcdde"), "x": range(9)})
    assert limit_pages(frame, 0, 0) is frame
    assert limit_pages(frame, 10, 0) is frame
    small = limit_pages(frame, 2, 0)
    assert small["page_id"].nunique() == 2
    for page in small["page_id"].unique():  # whole pages
        assert (
            small[small.page_id == page]["x"].tolist() == frame[frame.page_id == page]["x"].tolist()
        )
    assert small["x"].is_monotonic_increasing  # in the frame's order
    samples = {tuple(limit_pages(frame, 2, seed)["page_id"].unique()) for seed in range(20)}
    assert len(samples) > 1  # the seed decides which pages


def test_debug_fast_is_quick_for_every_estimator_and_registers_nothing(tmp_path):
    from dataclasses import asdict

    from textclf.models import build_pipeline
    from textclf.train import train_boilerplate

    for model in ("hgb", "logreg", "linear_svm", "random_forest"):
        cfg = to_config(_compose("train", ["debug=fast", f"model={model}"]), TrainConfig)
        assert cfg.max_fit_pages > 0 and cfg.refit_splits == []
        assert not cfg.mlflow.register and not cfg.topic_model.register
        # The estimator accepts the debug settings (hgb's max_iter broke random_forest).
        build_pipeline(
            estimator=cfg.model.name,
            estimator_params=dict(cfg.model.params),
            features=asdict(cfg.features),
            stack={"stages": cfg.model.stages, "cv": cfg.model.cv},
        )
    bad = to_config(_compose("train", ["max_fit_pages=-1"]), TrainConfig)
    bad.paths.dataset_dir = str(tmp_path / "no-dataset-here")
    with pytest.raises(ConfigError, match="max_fit_pages"):
        train_boilerplate(bad)


def test_empty_tasks_are_refused():
    from textclf.evaluate import evaluate
    from textclf.train import train

    with pytest.raises(ConfigError, match="tasks is empty"):
        train(to_config(_compose("train", ["tasks=[]"]), TrainConfig))
    with pytest.raises(ConfigError, match="tasks is empty"):
        evaluate(to_config(_compose("evaluate", ["tasks=[]"]), EvaluateConfig))


def test_evaluating_a_missing_model_file_says_so(tmp_path):
    from textclf.errors import ModelNotFoundError
    from textclf.evaluate import load_pipeline

    with pytest.raises(ModelNotFoundError, match=r"no model file at /nonexistent/model\.skops"):
        load_pipeline("/nonexistent/model.skops", f"sqlite:///{tmp_path / 'm.db'}")
