"""Training and evaluation end to end on hand-made corpora, against a temporary MLflow store."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from mlflow import MlflowClient

from conftest import unpinned_mlflow
from corpus_fixtures import build_tiny_dataset, make_tiny_corpora
from textclf.config import EvaluateConfig, TrainConfig, to_config
from textclf.errors import ConfigError, CorpusError
from textclf.evaluate import evaluate, load_pipeline
from textclf.train import train

ROOT = Path(__file__).resolve().parents[1]


def _compose(name: str, overrides: list[str]):
    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        return compose(config_name=name, overrides=overrides)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """Train twice and evaluate once; MLflow's process-wide URIs, which training and evaluation
    pin to this store, are unpinned after the module's tests."""
    with unpinned_mlflow():
        yield _train_and_evaluate(tmp_path_factory)


def _train_and_evaluate(tmp_path_factory):
    root = tmp_path_factory.mktemp("mlflow")
    dataset = build_tiny_dataset(root, ROOT / "seeds")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    common = [
        f"paths.dataset_dir={dataset}",
        f"paths.reports_dir={root / 'reports'}",
        f"mlflow.tracking_uri={uri}",
    ]
    train_overrides = [*common, "model=logreg", "model.cv=2", "mlflow.wrong_lines_sample=5"]
    cfg = to_config(_compose("train", train_overrides), TrainConfig)
    first = train(cfg)["boilerplate"]
    # A deliberately bad model: it keeps almost nothing, so it must not become the champion.
    bad_overrides = [
        *train_overrides,
        "model.decide_on=validation",  # the relative part chosen on the validation split
        "model.threshold=0.999",
        "features=shape_only",
        "run_name=bad",
    ]
    bad = to_config(_compose("train", bad_overrides), TrainConfig)
    second = train(bad)["boilerplate"]
    ecfg = to_config(
        _compose("evaluate", [*common, f"paths.corpora_dir={root / 'corpora'}"]), EvaluateConfig
    )
    evaluation = evaluate(ecfg)["boilerplate"]
    return {"root": root, "uri": uri, "first": first, "second": second, "eval": evaluation}


def test_training_run_is_logged(store):
    client = MlflowClient(store["uri"])
    run = client.get_run(store["first"]["run_id"])
    assert run.info.run_name == "logreg-stack1"
    assert run.data.params["model.name"] == "logreg"
    assert run.data.params["features.neighbours"] == "True"
    assert run.data.metrics["validation/page_f1"] > 0.8
    assert "validation/line_f1" in run.data.metrics
    # the validation lines scored again without blank lines and with words disguised
    # (input_variants)
    assert 0.0 <= run.data.metrics["validation/no_blank_lines/page_f1"] <= 1.0
    assert 0.0 <= run.data.metrics["validation/unknown_words/page_f1"] <= 1.0
    assert run.data.params["input_variants"] == '["no_blank_lines", "unknown_words"]'
    assert 0 < run.data.metrics["threshold"] < 1
    # The decision came from a cross-validation over the refit pages (conf/model/*.yaml).
    assert run.data.params["decision.chosen_on"] == "crossval"
    assert run.data.params["model.decision_folds"] == "3"
    assert 0.0 <= run.data.metrics["decision_cv/page_f1"] <= 1.0
    assert {f"decision_cv/fold{k}/fit_seconds" for k in range(3)} <= set(run.data.metrics)
    # The decision presets, chosen on the same predictions, and scored on validation.
    for name in ("precision", "recall"):
        assert 0.0 <= float(run.data.params[f"decision.favor_{name}.threshold"]) <= 1.0
        assert 0.0 <= float(run.data.params[f"decision.favor_{name}.relative"]) <= 1.0
        assert 0.0 <= run.data.metrics[f"decision_cv/favor_{name}/page_f1"] <= 1.0
        assert 0.0 <= run.data.metrics[f"validation/favor_{name}/page_f1"] <= 1.0
    m = run.data.metrics
    assert m["decision_cv/favor_precision/page_precision"] >= m["decision_cv/page_precision"]
    assert m["decision_cv/favor_recall/page_recall"] >= m["decision_cv/page_recall"]
    bad = client.get_run(store["second"]["run_id"])
    assert bad.data.params["decision.chosen_on"] == "validation"
    assert "decision_cv/page_f1" not in bad.data.metrics
    assert not [k for k in run.data.params if k.startswith("topic_model.")]
    paths = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"config.yaml", "figures"} <= paths
    # A sample of wrong lines is logged whenever there are any.
    assert "wrong_lines" in paths or run.data.metrics["validation/line_accuracy"] == 1.0
    figures = {a.path for a in client.list_artifacts(run.info.run_id, "figures")}
    assert "figures/validation_confusion.png" in figures
    assert "figures/validation_pr_curve.png" in figures
    assert "figures/validation_f1_per_page_type.png" in figures
    inputs = run.inputs.dataset_inputs
    assert inputs and inputs[0].dataset.name == "textclf-lines"
    from textclf.dataset import load_dataset
    from textclf.train import EVAL_DIGEST_TAG, _frame, eval_lines_digest

    lines, _ = load_dataset(Path(run.data.params["paths.dataset_dir"]))
    assert run.data.tags[EVAL_DIGEST_TAG] == eval_lines_digest(_frame(lines, ["validation"]))


def test_the_registered_model_is_refitted_on_all_dev_with_the_chosen_decision(store):
    client = MlflowClient(store["uri"])
    run = client.get_run(store["first"]["run_id"])
    metrics = run.data.metrics
    assert json.loads(run.data.params["refit_splits"]) == ["train", "validation"]
    # Validation was scored by the model fitted on train; the refit saw validation too.
    assert metrics["refit_lines"] > metrics["train_lines"]
    assert run.data.params["model.fitted_on"] == "train+validation"
    # The registered version is the refit, read back from the store.
    version = store["first"]["version"]
    pipe = load_pipeline(f"models:/textclf-boilerplate/{version}", store["uri"])
    scaler = pipe[-1].stages_[0][0]  # logreg: StandardScaler, then LogisticRegression
    assert scaler.n_samples_seen_ == metrics["refit_lines"]
    assert pipe[-1].threshold_ == pytest.approx(metrics["threshold"])
    assert pipe[-1].relative_threshold_ == pytest.approx(metrics["relative_threshold"])
    # The repeats rule (model.drop_repeats, on by default) travels with the model.
    assert run.data.params["model.drop_repeats"] == "True" and pipe[-1].drop_repeats is True
    # So do the presets chosen with the decision.
    params = run.data.params
    assert pipe[-1].presets_ == {
        name: (
            float(params[f"decision.favor_{name}.threshold"]),
            float(params[f"decision.favor_{name}.relative"]),
        )
        for name in ("precision", "recall")
    }


def test_model_is_registered_and_champion_moves_only_on_improvement(store):
    client = MlflowClient(store["uri"])
    assert store["first"]["version"] == "1" and store["first"]["promoted"]
    assert store["second"]["version"] == "2" and not store["second"]["promoted"]
    champion = client.get_model_version_by_alias("textclf-boilerplate", "champion")
    assert str(champion.version) == "1"
    logged = client.get_logged_model(champion.model_id) if champion.model_id else None
    assert logged is None or logged.name == "model"
    # The signature describes what the pyfunc flavour returns: predict's 0/1 per line.
    import mlflow.artifacts
    import numpy as np
    import pandas as pd
    from mlflow.models import Model

    folder = Path(mlflow.artifacts.download_artifacts(champion.source, tracking_uri=store["uri"]))
    meta = Model.load(folder / "MLmodel")
    [output] = meta.signature.outputs.inputs
    example = pd.read_json(folder / "input_example.json", orient="split")
    predicted = load_pipeline(champion.source, store["uri"]).predict(example)
    assert output.type == predicted.dtype and output.shape == (-1,)
    assert set(np.unique(predicted)) <= {0, 1}


def test_evaluation_names_the_model_version_and_scores_baselines(store):
    client = MlflowClient(store["uri"])
    run = client.get_run(store["eval"]["run_id"])
    assert run.data.tags["model_version"] == "1"
    champion = client.get_model_version("textclf-boilerplate", "1")
    assert run.data.tags["model_run_id"] == store["first"]["run_id"] == champion.run_id
    model_id = champion.model_id or champion.source.removeprefix("models:/")
    assert run.data.tags["model_id"] == model_id
    # The test scores show on the logged model's page, and the eval run names its dataset.
    model_metrics = {m.key: m.value for m in client.get_logged_model(model_id).metrics}
    assert model_metrics["wcxb_test/page_f1"] == run.data.metrics["wcxb_test/page_f1"]
    inputs = {i.dataset.name for i in run.inputs.dataset_inputs}
    assert {"textclf-wcxb_test", "textclf-scrapinghub", "textclf-seeds"} <= inputs
    m = run.data.metrics
    for split in ("wcxb_test", "scrapinghub", "seeds"):
        assert f"{split}/page_f1" in m
        assert f"{split}/keep_all/page_f1" in m
        assert f"{split}/line_rules/page_f1" in m
    assert "scrapinghub/shingle_f1" in m
    assert m["wcxb_test/page_f1"] > m["wcxb_test/keep_all/page_f1"]
    assert "summary.md" in {a.path for a in client.list_artifacts(run.info.run_id)}
    assert "| textclf | wcxb_test |" in store["eval"]["summary"]
    assert "page_f1_95ci" in store["eval"]["summary"]
    # The HTML extractors, run on the same pages' HTML, are scored in the same run (not on the
    # seeds, which have no HTML), and textclf's paired difference from each is reported.
    for name in ("trafilatura", "readability", "justext"):
        version = run.data.params[f"extractor/{name}"]
        for split in ("wcxb_test", "scrapinghub"):
            assert 0.0 <= m[f"{split}/{name}/page_f1"] <= 1.0
            assert f"| {name} {version} (HTML) | {split} |" in store["eval"]["summary"]
        assert not any(k.startswith(f"seeds/{name}/") for k in m)
    # The model again on the same lines without blank lines, with blank lines everywhere, and
    # with each page's words disguised.
    for split in ("wcxb_test", "scrapinghub", "seeds"):
        for variant, described in (
            ("no_blank_lines", "no blank lines"),
            ("blank_lines_everywhere", "a blank line between all lines"),
            ("unknown_words", "words disguised, stopwords kept"),
        ):
            assert 0.0 <= m[f"{split}/{variant}/page_f1"] <= 1.0
            assert f"| textclf ({described}) | {split} |" in store["eval"]["summary"]
    # And on the corpus pages' HTML written one text node per line (the seeds have no HTML).
    for split in ("wcxb_test", "scrapinghub"):
        assert 0.0 < m[f"{split}/text_nodes/page_f1"] <= 1.0
        row = f"| textclf (one text node per line, from HTML) | {split} |"
        assert row in store["eval"]["summary"]
    assert not any(k.startswith("seeds/text_nodes/") for k in m)
    # The model's decision presets, on the same probabilities.
    for split in ("wcxb_test", "scrapinghub", "seeds"):
        for name in ("precision", "recall"):
            assert 0.0 <= m[f"{split}/favor_{name}/page_f1"] <= 1.0
            assert f"| textclf (favor {name}) | {split} |" in store["eval"]["summary"]
    assert float(run.data.params["favor_precision.threshold"]) >= 0.0
    per_type = store["eval"]["summary"].split("per page type")[1]
    assert "| wcxb_test | textclf (favor precision) |" in per_type
    assert (store["root"] / "reports" / "eval_boilerplate.md").is_file()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_runs_are_served_over_the_rest_api(store):
    port = _free_port()
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"}
    cmd = [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", store["uri"]]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--workers", "1"]
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    pytest.fail("mlflow server did not start")
                time.sleep(0.5)
        req = urllib.request.Request(
            f"{base}/api/2.0/mlflow/experiments/get-by-name?experiment_name=textclf-boilerplate"
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            exp_id = json.load(resp)["experiment"]["experiment_id"]
        body = json.dumps({"experiment_ids": [exp_id], "max_results": 10}).encode()
        req = urllib.request.Request(
            f"{base}/api/2.0/mlflow/runs/search",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            runs = json.load(resp)["runs"]
        names = {r["info"]["run_name"] for r in runs}
        assert {"logreg-stack1", "bad"} <= names
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_a_champion_scored_on_other_lines_stays_unless_told(tmp_path, caplog):
    """Validation scores on other lines (pages, texts or labels) do not compare: by default a
    new model does not replace such a champion, whatever its score. Code changes alone (the
    same lines) do not matter."""
    import pandas as pd
    from sklearn.dummy import DummyClassifier

    from textclf import tracking
    from textclf.train import EVAL_DIGEST_TAG, _champion_policy, eval_lines_digest

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    tracking.init_store(uri)
    X = pd.DataFrame({"a": [0.0, 1.0]})
    metric = "validation/page_f1"
    lines_a = pd.DataFrame({"page_id": ["p", "p"], "text": ["Menu", "Story."], "label": [0, 1]})
    lines_b = lines_a.assign(label=[1, 1])  # the same lines, labeled otherwise
    a, b = eval_lines_digest(lines_a), eval_lines_digest(lines_b)
    assert a != b and a == eval_lines_digest(lines_a.copy())

    def train_on(
        digest: str | None, score: float, policy: str, log_metric: bool = True
    ) -> tuple[str | None, bool]:
        tags = {EVAL_DIGEST_TAG: digest} if digest else {}
        with tracking.start_run("builds", "r", uri, tags=tags):
            if log_metric:
                tracking.log_metrics({metric: score})
            info = tracking.log_sklearn_model(
                DummyClassifier().fit(X, [0, 1]),
                input_example=X,
                registered_name="m",
                trusted_types=[],
            )
            return tracking.register_and_promote(
                info, "m", metric, {metric: score}, uri, policy=policy
            )

    cfg = TrainConfig()
    cfg.mlflow.registered_model = "m"
    assert _champion_policy(cfg, a, uri) == "compare"  # no champion yet
    assert train_on(a, 0.8, "compare") == ("1", True)
    assert _champion_policy(cfg, a, uri) == "compare"
    with caplog.at_level("WARNING", logger="textclf.train"):
        policy = _champion_policy(cfg, b, uri)
    assert policy == "keep"
    assert f"scored on other validation lines (digest {a}) than this model ({b})" in caplog.text
    assert train_on(b, 0.9, policy) == ("2", False)
    client = MlflowClient(uri)
    assert str(client.get_model_version_by_alias("m", "champion").version) == "1"
    cfg.mlflow.champion_on_new_dataset = "replace"
    assert _champion_policy(cfg, b, uri) == "replace"
    assert train_on(b, 0.1, "replace") == ("3", True)
    assert str(client.get_model_version_by_alias("m", "champion").version) == "3"
    # On the champion's lines, scores are compared again.
    assert _champion_policy(cfg, b, uri) == "compare"
    assert train_on(b, 0.05, "compare") == ("4", False)
    # A champion without the metric (e.g. fitted on all of dev, promoted by hand) stays.
    assert train_on(b, 0.2, "replace", log_metric=False) == ("5", True)
    with caplog.at_level("WARNING", logger="textclf.tracking"):
        assert train_on(b, 0.99, "compare") == ("6", False)
    assert "has no validation/page_f1 to compare with" in caplog.text
    # A champion whose run recorded no digest (an older run) is compared as before.
    assert train_on(None, 0.5, "replace") == ("7", True)
    assert _champion_policy(cfg, a, uri) == "compare"


def test_evaluating_an_unknown_split_fails_before_any_run(store):
    client = MlflowClient(store["uri"])
    experiment = client.get_experiment_by_name("textclf-boilerplate-eval")
    before = len(client.search_runs([experiment.experiment_id]))
    dataset = client.get_run(store["first"]["run_id"]).data.params["paths.dataset_dir"]
    overrides = [
        f"paths.dataset_dir={dataset}",
        f"paths.reports_dir={store['root'] / 'reports'}",
        f"mlflow.tracking_uri={store['uri']}",
        "splits=[wcxb_test,wcxb_tset]",
        "tasks=[boilerplate]",
    ]
    cfg = to_config(_compose("evaluate", overrides), EvaluateConfig)
    with pytest.raises(ConfigError, match=r"unknown split.*wcxb_tset"):
        evaluate(cfg)
    assert len(client.search_runs([experiment.experiment_id])) == before


@pytest.mark.parametrize(
    ("setting", "error"),
    [
        ("extractors=[trafilatur]", r"unknown extractor.*trafilatur"),
        ("input_variants=[no_blanks]", r"input_variants: unknown input variant.*no_blanks"),
        ("render_variants=[nodes]", r"render_variants: unknown render variant.*nodes.*text_nodes"),
        # Corpora that hold only one of the dataset's three Scrapinghub pages.
        ("paths.corpora_dir={other}", r"2 scrapinghub page\(s\) of the dataset .* not in the"),
        ("paths.corpora_dir={empty}", r"ground-truth.json is missing"),
    ],
)
def test_bad_extractor_settings_are_named(store, tmp_path, setting, error):
    other = make_tiny_corpora(tmp_path / "other", n_sh=1)
    (tmp_path / "empty").mkdir()
    params = MlflowClient(store["uri"]).get_run(store["first"]["run_id"]).data.params
    overrides = [
        f"paths.dataset_dir={params['paths.dataset_dir']}",
        f"paths.reports_dir={tmp_path / 'reports'}",
        f"mlflow.tracking_uri={store['uri']}",
        "splits=[scrapinghub]",
        "tasks=[boilerplate]",
        setting.format(other=other, empty=tmp_path / "empty"),
    ]
    cfg = to_config(_compose("evaluate", overrides), EvaluateConfig)
    client = MlflowClient(store["uri"])
    experiment = client.get_experiment_by_name("textclf-boilerplate-eval")
    before = len(client.search_runs([experiment.experiment_id]))
    with pytest.raises((ConfigError, CorpusError), match=error):
        evaluate(cfg)
    assert len(client.search_runs([experiment.experiment_id])) == before  # failed before a run


def test_crossval_decision_is_chosen_on_held_out_predictions_of_every_line(store):
    import numpy as np
    import pandas as pd
    from sklearn.model_selection import GroupKFold

    from textclf.dataset import load_dataset
    from textclf.features import MODEL_INPUT, token_counts
    from textclf.models import choose_decision
    from textclf.train import _fit, _frame, _pipeline, crossval_decision

    params = MlflowClient(store["uri"]).get_run(store["first"]["run_id"]).data.params
    overrides = [f"paths.dataset_dir={params['paths.dataset_dir']}", "model=logreg", "model.cv=2"]
    cfg = to_config(_compose("train", overrides), TrainConfig)
    lines, pages = load_dataset(Path(params["paths.dataset_dir"]))
    frame = _frame(lines, ["train", "validation"])
    page_table = pd.concat([pages[s].to_pandas() for s in ["train", "validation"]])
    decision, presets, metrics = crossval_decision(cfg, frame, page_table, "auto", "auto")
    # The same by hand: every line scored by the pipeline fitted on the other domains' lines,
    # the decision chosen on all of them with the repeats rule.
    proba = np.full(len(frame), np.nan)
    for fit_rows, test_rows in GroupKFold(3).split(frame, groups=frame["domain"]):
        pipe = _pipeline(cfg, "auto", "auto", "held_out")
        _fit(pipe, frame.iloc[fit_rows].reset_index(drop=True))
        proba[test_rows] = pipe.predict_proba(frame.iloc[test_rows][MODEL_INPUT])[:, 1]
    texts = frame["text"].tolist()
    y, page = frame["label"].to_numpy(), frame["page_id"].to_numpy()
    assert decision == choose_decision(proba, y, page, token_counts(texts), texts=texts)
    assert 0.0 <= metrics["decision_cv/page_f1"] <= 1.0
    # The presets, on the same predictions.
    assert presets == {
        name: choose_decision(proba, y, page, token_counts(texts), texts=texts, beta=beta)
        for name, beta in (("precision", 0.5), ("recall", 2.0))
    }
    assert 0.0 <= metrics["decision_cv/favor_recall/page_f1"] <= 1.0
    # ... for the model's relative power (the same folds and fits: the same probabilities)
    cfg.model.relative_power = 12
    sharp, _, _ = crossval_decision(cfg, frame, page_table, "auto", "auto")
    want = choose_decision(proba, y, page, token_counts(texts), texts=texts, relative_power=12)
    assert sharp == want
    cfg.model.relative_power = 1
    # Numbers given are kept; bad fold counts are named.
    assert crossval_decision(cfg, frame, page_table, 0.4, 0.5)[0] == (0.4, 0.5)
    for folds, error in ((1, "2 or more"), (50, "needs at least 50 domains")):
        cfg.model.decision_folds = folds
        with pytest.raises(ConfigError, match=error):
            crossval_decision(cfg, frame, page_table, "auto", "auto")


def test_the_decision_cross_validation_scores_only_the_sampled_pages(store, tmp_path):
    params = MlflowClient(store["uri"]).get_run(store["first"]["run_id"]).data.params
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    overrides = [
        f"paths.dataset_dir={params['paths.dataset_dir']}",
        f"paths.reports_dir={tmp_path / 'reports'}",
        f"mlflow.tracking_uri={uri}",
        "model=logreg",
        "model.cv=2",
        "max_fit_pages=8",  # of the 16 dev pages
        "mlflow.register=false",
        "tasks=[boilerplate]",
    ]
    with unpinned_mlflow():
        sampled = train(to_config(_compose("train", overrides), TrainConfig))["boilerplate"]
    full = MlflowClient(store["uri"]).get_run(store["first"]["run_id"]).data.metrics
    # The pages left out of the sample were not predicted: they do not count as empty ones.
    assert sampled["metrics"]["decision_cv/page_f1"] > 0.8 * full["decision_cv/page_f1"]


def test_annotated_pages_of_ones_own_are_trained_on(tmp_path):
    """`seeds/train/` pages (paths.train_pages_dir) reach both models' training data."""
    from textclf.annotation import LineAnnotation, write_annotation
    from textclf.dataset import assign_split, load_dataset

    # A site the build puts in train (the tiny build holds 30% of the dev sites out).
    site = next(
        f"site{i}.example"
        for i in range(100)
        if assign_split("seeds", "dev", f"site{i}.example", 0.3, 13) == "train"
    )
    folder = tmp_path / "train_pages"
    folder.mkdir()
    page = [
        (0, "Home | World | Business"),
        (1, "Harbour town opens a new ferry terminal"),
        (1, "The terminal, built over three years, will serve four ferry lines, the council said."),
        (0, "Read more: Council approves the budget"),
    ]
    (folder / "ferry.txt").write_text("\n\n".join(t for _, t in page) + "\n", encoding="utf-8")
    write_annotation(
        folder / "ferry.annotation.tsv",
        [LineAnnotation(y, ("economy_business",) if y else (), t) for y, t in page],
        url=f"https://{site}/ferry",
    )
    dataset = build_tiny_dataset(tmp_path, ROOT / "seeds", folder)
    lines, _ = load_dataset(dataset)
    train_df = lines["train"].to_pandas()
    mine = train_df[train_df["page_id"] == "ferry"]
    assert mine["label"].tolist() == [0, 1, 1, 0]
    assert mine["topics"].map(list).tolist() == [[], ["economy_business"], ["economy_business"], []]
    assert set(mine["topic_source"]) == {"gold"}
    overrides = [
        f"paths.dataset_dir={dataset}",
        f"paths.reports_dir={tmp_path / 'reports'}",
        f"mlflow.tracking_uri=sqlite:///{tmp_path / 'mlflow.db'}",
        "model=logreg",
        "model.cv=2",
        "mlflow.register=false",
        "topic_model.register=false",
        "topic_model.params.n_word_features=4096",
        "topic_model.params.n_char_features=4096",
    ]
    with unpinned_mlflow():
        result = train(to_config(_compose("train", overrides), TrainConfig))
    assert result["boilerplate"]["metrics"]["train_lines"] == len(train_df)
    assert result["topics"]["metrics"]["train_lines"] == len(train_df)
