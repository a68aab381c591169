"""``make train``: train the content/boilerplate model (and the topic model), tracked in MLflow.

python -m textclf.train                          # default: hgb, one stage
python -m textclf.train model=logreg             # another estimator from the registry
python -m textclf.train -m model=logreg,hgb      # a sweep; compare the runs in `make ui`
python -m textclf.train experiment=stack2        # an experiment overlay (conf/experiment/)
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import hydra
import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from textclf import tracking
from textclf.config import TrainConfig, exit_on_error, to_config
from textclf.dataset import TEST_SPLITS, load_dataset
from textclf.errors import ConfigError
from textclf.features import MODEL_INPUT, token_counts
from textclf.models import (
    auto_or_fraction,
    build_pipeline,
    check_presets,
    check_weighting,
    choose_decision_and_presets,
    content_mask,
    decision_grids,
    decision_of,
    preset_keeps,
    preset_params,
    presets_of,
)
from textclf.scoring import score_split
from textclf.serialization import trusted_types
from textclf.variants import check_input_variants, variant_keeps

__all__ = [
    "assign_folds",
    "crossval_decision",
    "log_run_setup",
    "main",
    "needs_refit",
    "run_name",
    "train",
    "train_boilerplate",
]

log = logging.getLogger(__name__)


def run_name(cfg: TrainConfig) -> str:
    """What was trained, e.g. ``hgb-stack2``."""
    return cfg.run_name or f"{cfg.model.name}-stack{cfg.model.stages}"


def _check_splits(lines: Any, splits: list[str]) -> None:
    missing = [s for s in splits if s not in lines]
    if missing:
        raise ConfigError(f"unknown split(s) {missing}; the dataset has {list(lines)}")


#: The scores logged for a decision chosen by cross-validation and for each of its presets
#: (``decision_cv/...`` here, ``cv/favor_<name>/...`` in ``make cv``).
DECISION_SCORES = ("page_f1", "page_precision", "page_recall", "line_f1", "shingle_f1")


def check_train_config(cfg: TrainConfig) -> None:
    """The checks both tasks make before reading any data: held-out splits, ``max_fit_pages``,
    ``input_variants``."""
    check_held_out_splits(cfg)
    check_max_fit_pages(cfg)
    check_input_variants(cfg.input_variants, "input_variants")


def check_max_fit_pages(cfg: TrainConfig) -> None:
    if cfg.max_fit_pages < 0:
        raise ConfigError(
            f"max_fit_pages must be 0 (all pages) or positive, got {cfg.max_fit_pages}"
        )


def refuse_test_splits(name: str, splits: list[str], instead: str) -> None:
    """A ConfigError when the setting ``name`` names a test split; ``instead`` says what to do."""
    test = [s for s in splits if s in TEST_SPLITS]
    if test:
        raise ConfigError(
            f"{name} names the test split(s) {test}: {', '.join(TEST_SPLITS)} are held out "
            f"for `make eval`; {instead}"
        )


def decision_settings(cfg: TrainConfig) -> tuple[float | str, float | str]:
    """``model.threshold`` and ``model.relative`` checked ("auto" or a fraction), and
    ``model.weighting`` checked with them."""
    threshold = auto_or_fraction(cfg.model.threshold, "model.threshold")
    relative = auto_or_fraction(cfg.model.relative, "model.relative")
    check_weighting(cfg.model.weighting, "model.weighting")
    return threshold, relative


def check_held_out_splits(cfg: TrainConfig) -> None:
    """Refuse to fit, refit, choose a decision or score on a test split in ``make train``, and
    to score (``eval_splits``) on a split the model is fitted on.

    ``wcxb_test``, ``scrapinghub`` and ``seeds`` are held out for ``make eval``: a model fitted
    on them, or whose decision or thresholds come from them, has no honest test numbers left.
    """
    used = {
        "fit_splits": list(cfg.fit_splits),
        "refit_splits": list(cfg.refit_splits),
        "eval_splits": list(cfg.eval_splits),
        "model.decide_on": [str(cfg.model.decide_on).strip()],
    }
    overlap = sorted(set(cfg.eval_splits) & set(cfg.fit_splits))
    if overlap:
        raise ConfigError(
            f"eval_splits {list(cfg.eval_splits)} and fit_splits {list(cfg.fit_splits)} share "
            f"{overlap}: a model scored on the lines it was fitted on has no held-out score (and "
            "the champion rule would compare it); leave them out of eval_splits"
        )
    for name, splits in used.items():
        refuse_test_splits(
            name,
            splits,
            "train, choose decisions and score in training on WCXB dev splits (train, "
            "validation) only",
        )


def limit_pages(frame: pd.DataFrame, max_pages: int, seed: int) -> pd.DataFrame:
    """At most ``max_pages`` whole pages of ``frame`` (a seeded sample, in their order); all of
    them when ``max_pages`` is 0."""
    pages = frame["page_id"].unique()
    if not max_pages or len(pages) <= max_pages:
        return frame
    keep = np.random.default_rng(seed).choice(pages, max_pages, replace=False)
    return frame[frame["page_id"].isin(keep)].reset_index(drop=True)


def _frame(lines: Any, splits: list[str]) -> pd.DataFrame:
    _check_splits(lines, splits)
    frames = [lines[s].to_pandas() for s in splits]
    frame = pd.concat(frames, ignore_index=True)
    return frame[frame["label"] >= 0].reset_index(drop=True)


def train_boilerplate(
    cfg: TrainConfig, *, config_dict: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Fit the pipeline on ``cfg.fit_splits``, choose its decision, score ``cfg.eval_splits``;
    then fit it again on ``cfg.refit_splits`` (when they differ) and log and register that."""
    # Bad settings fail here, before the dataset is read.
    check_train_config(cfg)
    threshold, relative = decision_settings(cfg)
    if cfg.mlflow.champion_on_new_dataset not in ("keep", "replace", "compare"):
        raise ConfigError(
            "mlflow.champion_on_new_dataset must be keep, replace or compare, not "
            f"{cfg.mlflow.champion_on_new_dataset!r}"
        )
    decide_on = _decision_split(cfg)
    pipe = _pipeline(cfg, threshold, relative, decide_on)  # checks the estimator's settings
    lines, pages = load_dataset(Path(cfg.paths.dataset_dir))
    fingerprint = _fingerprint(Path(cfg.paths.dataset_dir))
    train_df = limit_pages(_frame(lines, cfg.fit_splits), cfg.max_fit_pages, cfg.seed)
    if train_df.empty:
        raise ConfigError(f"no labeled lines in {cfg.fit_splits}: run `make data` first")
    # Every split named must exist, and the held-out and refit ones hold labels, before anything
    # is fitted.
    split_decision = decide_on not in ("oof", "crossval")
    named = [*cfg.eval_splits, *cfg.refit_splits, *([decide_on] if split_decision else [])]
    _check_splits(lines, named)
    # Each held-out split is read once: scored in the loop below, digested for the champion
    # rule, and used to choose the decision when it is decide_on.
    evaluated = {split: _frame(lines, [split]) for split in cfg.eval_splits}
    scored_on = eval_lines_digest(pd.concat(evaluated.values())) if evaluated else ""
    held_out = None
    if split_decision:
        held_out = evaluated[decide_on] if decide_on in evaluated else _frame(lines, [decide_on])
    if held_out is not None and held_out.empty:
        raise ConfigError(f"model.decide_on={decide_on}: that split has no labeled lines")
    refit_df = (
        limit_pages(_frame(lines, cfg.refit_splits), cfg.max_fit_pages, cfg.seed)
        if needs_refit(cfg)
        else None
    )
    if refit_df is not None and refit_df.empty:
        raise ConfigError(f"no labeled lines in refit_splits {cfg.refit_splits}")
    name = run_name(cfg)
    uri = tracking.init_store(cfg.mlflow.tracking_uri or None)
    tags = {"task": "boilerplate", EVAL_DIGEST_TAG: scored_on}
    with tracking.start_run(cfg.mlflow.experiment, name, uri, tags=tags) as run:
        log_run_setup(cfg, config_dict, train_df, fingerprint, "training")
        fit_seconds = _fit(pipe, train_df)
        metrics: dict[str, float] = {"fit_seconds": fit_seconds}
        if held_out is not None:
            pipe[-1].choose_decision_on(
                pipe[0].transform(held_out[MODEL_INPUT]),
                held_out["label"].to_numpy(),
                held_out["text"].tolist(),
            )
        elif decide_on == "crossval" and pipe[-1].decided_on_ == "pending":
            # The pages the registered model is fitted on, and their page table for scoring.
            cv_df, cv_splits = (
                (refit_df, cfg.refit_splits) if refit_df is not None else (train_df, cfg.fit_splits)
            )
            cv_pages = pd.concat([pages[s].to_pandas() for s in cv_splits], ignore_index=True)
            if cfg.max_fit_pages:  # only the sampled pages were cross-validated
                cv_pages = cv_pages[cv_pages["page_id"].isin(set(cv_df["page_id"]))]
            chosen, presets, cv_metrics = crossval_decision(
                cfg, cv_df, cv_pages, threshold, relative
            )
            pipe[-1].set_decision(*chosen, chosen_on="crossval", presets=presets)
            metrics.update(cv_metrics)
        chosen_on = decide_on if pipe[-1].decided_on_ == "held_out" else pipe[-1].decided_on_
        # a split, "crossval", "oof" or "fixed"
        decision = decision_of(pipe)
        threshold, relative_threshold = float(decision.threshold), float(decision.relative)
        presets = presets_of(pipe)
        tracking.log_params(
            {
                "decision.chosen_on": chosen_on,
                **preset_params(presets, "decision."),
            }
        )
        metrics.update(
            {
                "threshold": threshold,
                "relative_threshold": relative_threshold,
                "train_lines": float(len(train_df)),
            }
        )
        log.info(
            "%s: fitted on %d lines in %.1f s (threshold %.3f, relative %.2f, chosen on %s)",
            name,
            len(train_df),
            fit_seconds,
            threshold,
            relative_threshold,
            chosen_on,
        )
        for split, df in evaluated.items():
            columns, split_pages = df.to_dict("list"), pages[split].to_dict()
            start = time.perf_counter()
            proba = pipe.predict_proba(df[MODEL_INPUT])[:, 1]
            seconds = time.perf_counter() - start
            keep = decision.mask(proba, df["page_id"].to_numpy(), columns["text"]).astype(np.int8)
            scores = score_split(columns, split_pages, keep)
            scores["lines_per_second"] = len(df) / max(seconds, 1e-9)
            metrics.update({f"{split}/{k}": v for k, v in scores.items()})
            variants = variant_keeps(pipe, df[MODEL_INPUT], cfg.input_variants, decision)
            for variant, v_keep in variants.items():  # the same lines written another way
                v_scores = score_split(columns, split_pages, v_keep)
                metrics.update({f"{split}/{variant}/{k}": v for k, v in v_scores.items()})
            for preset, p_keep in preset_keeps(proba, df, decision, presets).items():
                p_scores = score_split(columns, split_pages, p_keep)
                metrics.update({f"{split}/favor_{preset}/{k}": v for k, v in p_scores.items()})
            _log_split_figures(split, df, proba, keep, threshold, scores)
            _log_wrong_lines(split, df, proba, keep, cfg.mlflow.wrong_lines_sample, cfg.seed)
            log.info(
                "%s %s: line_f1 %.4f page_f1 %.4f shingle_f1 %.4f",
                name,
                split,
                scores.get("line_f1", float("nan")),
                scores.get("page_f1", float("nan")),
                scores.get("shingle_f1", float("nan")),
            )
        # The validation metrics above are the held-out scores of the model fitted on fit_splits;
        # the model registered is that pipeline fitted again on refit_splits (when they differ),
        # with the same settings and decision: more sites to learn from, nothing chosen anew.
        fitted_on = cfg.fit_splits
        if refit_df is not None:
            pipe, refit_metrics = _refit(cfg, refit_df, threshold, relative_threshold, presets)
            metrics.update(refit_metrics)
            fitted_on = cfg.refit_splits
        tracking.log_params({"model.fitted_on": "+".join(fitted_on)})
        tracking.log_metrics(metrics)
        example = train_df[MODEL_INPUT].head(20).reset_index(drop=True)
        info = tracking.log_sklearn_model(
            pipe,
            input_example=example,
            registered_name=cfg.mlflow.registered_model if cfg.mlflow.register else None,
            trusted_types=trusted_types(),
        )
        version, promoted = tracking.register_and_promote(
            info,
            cfg.mlflow.registered_model,
            cfg.mlflow.champion_metric,
            metrics,
            uri,
            policy=_champion_policy(cfg, scored_on, uri),
        )
        return {
            "run_id": run.info.run_id,
            "version": version,
            "promoted": promoted,
            "metrics": metrics,
            "model": pipe,
        }


def log_run_setup(
    cfg: TrainConfig,
    config_dict: dict[str, Any] | None,
    frame: pd.DataFrame,
    fingerprint: str,
    context: str,
    drop: tuple[str, ...] = (),
) -> None:
    """Log to the active run what a boilerplate run is made of: the config (flattened params
    without the topic model's, nor the keys ``drop`` names or starts, and as an artifact) and
    the dataset its lines come from."""
    params = tracking.flatten(config_dict or asdict(cfg))
    params.pop("paths.root", None)
    # The topic model's settings belong to its own runs.
    skip = ("topic_model.", *drop)
    params = {k: v for k, v in params.items() if not k.startswith(skip)}
    tracking.log_params(params)
    tracking.log_dict_artifact(config_dict or asdict(cfg), "config.yaml")
    tracking.log_dataset_input(
        frame.head(1000)[[*MODEL_INPUT, "label"]],
        name="textclf-lines",
        source=str(cfg.paths.dataset_dir),
        digest=fingerprint,
        context=context,
    )


#: Run tag: a digest of the lines (page, text, label) the run's eval_splits scores are on.
EVAL_DIGEST_TAG = "eval_lines_digest"


def eval_lines_digest(frame: pd.DataFrame) -> str:
    """A digest of the scored lines: page, text and label of each, in order. Two runs whose
    digests are equal scored the same lines against the same labels, whatever the code."""
    import hashlib

    digest = hashlib.sha256()
    for page, text, label in zip(frame["page_id"], frame["text"], frame["label"], strict=True):
        digest.update(f"{page}\t{label}\t{text}\n".encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:20]


def _champion_policy(cfg: TrainConfig, scored_on: str, uri: str) -> str:
    """How to treat the champion: compare scores when its run scored the same lines (same
    pages, texts and labels), else ``mlflow.champion_on_new_dataset``. A champion whose run
    did not record them (older runs) is compared as before."""
    if not cfg.mlflow.register:
        return "compare"
    theirs = tracking.champion_tag(cfg.mlflow.registered_model, EVAL_DIGEST_TAG, uri)
    if not theirs or theirs == scored_on:
        return "compare"
    policy = cfg.mlflow.champion_on_new_dataset
    log.warning(
        "the champion of %s was scored on other validation lines (digest %s) than this model "
        "(%s), e.g. after a dataset rebuilt with other settings: the scores do not compare%s",
        cfg.mlflow.registered_model,
        theirs,
        scored_on,
        {
            "keep": ", so the champion stays (mlflow.champion_on_new_dataset=replace makes "
            "the new model the champion)",
            "replace": "; mlflow.champion_on_new_dataset=replace: the new model replaces it",
            "compare": "; mlflow.champion_on_new_dataset=compare: compared anyway",
        }[policy],
    )
    return policy


def _pipeline(
    cfg: TrainConfig, threshold: float | str, relative: float | str, decide_on: str
) -> Any:
    return build_pipeline(
        estimator=cfg.model.name,
        estimator_params=cfg.model.params,
        features=asdict(cfg.features),
        stack={
            "stages": cfg.model.stages,
            "cv": cfg.model.cv,
            "threshold": threshold,
            "random_state": cfg.seed,
            "weighting": cfg.model.weighting,
            "relative": relative,
            "decide_on": "oof" if decide_on == "oof" else "held_out",
            "drop_repeats": cfg.model.drop_repeats,
            "relative_power": cfg.model.relative_power,
            "presets": cfg.model.presets,
        },
    )


def _fit(pipe: Any, frame: pd.DataFrame) -> float:
    """Fit ``pipe`` on the labeled lines of ``frame`` (folds grouped by domain); the seconds."""
    start = time.perf_counter()
    pipe.fit(
        frame[[*MODEL_INPUT, "domain"]],
        frame["label"].to_numpy(),
        model__groups=frame["domain"].to_numpy(),
        model__texts=frame["text"].tolist(),  # for a decision chosen out of fold
    )
    return time.perf_counter() - start


def assign_folds(domains: pd.Series, folds: int, setting: str = "crossval.folds") -> np.ndarray:
    """The fold of each row: whole domains per fold, folds about equal in rows (sklearn's
    ``GroupKFold``, deterministic). ``setting`` names the fold count in the error when there
    are fewer domains than folds."""
    from sklearn.model_selection import GroupKFold

    n_domains = domains.nunique()
    if n_domains < folds:
        raise ConfigError(
            f"{setting}={folds} needs at least {folds} domains; the lines have {n_domains}"
        )
    out = np.full(len(domains), -1, dtype=np.int64)
    dummy = np.zeros(len(domains))
    for k, (_, test) in enumerate(GroupKFold(n_splits=folds).split(dummy, groups=domains)):
        out[test] = k
    return out


def crossval_decision(
    cfg: TrainConfig,
    frame: pd.DataFrame,
    page_table: pd.DataFrame,
    threshold: float | str,
    relative: float | str,
) -> tuple[tuple[float, float], dict[str, tuple[float, float]], dict[str, float]]:
    """The decision (threshold, relative) chosen on held-out predictions of all of ``frame``'s
    lines: ``cfg.model.decision_folds`` folds of whole domains, each scored by the pipeline
    fitted on the others; and the presets (``cfg.model.presets``) chosen on the same
    predictions. Returns them with metrics: each fold's fitting time, and the scores of the
    decision and of each preset over those predictions (``decision_cv/*``,
    ``decision_cv/favor_<preset>/*``; optimistic: chosen on them).

    The validation split is one draw of about 250 pages, and the best decision on so few pages
    moves from draw to draw over a flat surface. In ``make cv``'s out-of-fold predictions (three
    seeds), decisions chosen on the 900 pages of two folds scored 0.002 higher on the third
    than decisions chosen on validation-sized draws from them, in 8 of 9 comparisons."""
    folds = cfg.model.decision_folds
    if folds < 2:
        raise ConfigError(f"model.decision_folds must be 2 or more, got {folds}")
    fold = assign_folds(frame["domain"], folds, "model.decision_folds")
    proba = np.full(len(frame), np.nan)
    metrics: dict[str, float] = {}
    # Whole domains, so whole pages, in each fold: the held-out lines stay in page order.
    for k in range(folds):
        test = fold == k
        pipe = _pipeline(cfg, threshold, relative, "held_out")
        metrics[f"decision_cv/fold{k}/fit_seconds"] = _fit(
            pipe, frame[~test].reset_index(drop=True)
        )
        proba[test] = pipe.predict_proba(frame.loc[test, MODEL_INPUT])[:, 1]
        log.info(
            "decision cross-validation: fold %d/%d fitted in %.1f s",
            k + 1,
            folds,
            metrics[f"decision_cv/fold{k}/fit_seconds"],
        )
    texts = frame["text"].tolist()
    repeats = texts if cfg.model.drop_repeats else None  # the texts the repeats rule reads
    y, page = frame["label"].to_numpy(), frame["page_id"].to_numpy()
    power = cfg.model.relative_power
    (t, r), presets = choose_decision_and_presets(
        proba,
        y,
        page,
        token_counts(texts),
        check_presets(cfg.model.presets, "model.presets"),
        texts=repeats,
        relative_power=power,
        **decision_grids(threshold, relative),
    )
    lines = frame[["page_id", "text", "label"]].to_dict("list")
    page_columns = page_table.to_dict("list")
    for prefix, (pt, pr) in [("decision_cv", (t, r))] + [
        (f"decision_cv/favor_{name}", pair) for name, pair in presets.items()
    ]:
        scores = score_split(lines, page_columns, content_mask(proba, page, pt, pr, repeats, power))
        for key in DECISION_SCORES:
            if key in scores:
                metrics[f"{prefix}/{key}"] = scores[key]
    log.info(
        "decision cross-validation: threshold %.3f, relative %.2f (page_f1 %.4f over %d pages)%s",
        t,
        r,
        metrics.get("decision_cv/page_f1", float("nan")),
        frame["page_id"].nunique(),
        "".join(
            f"; {name}: threshold {pt:.3f}, relative {pr:.2f}" for name, (pt, pr) in presets.items()
        ),
    )
    return (t, r), presets, metrics


def needs_refit(cfg: TrainConfig) -> bool:
    """Whether ``cfg.refit_splits`` asks for a second fit: not empty and not ``fit_splits``.

    A split named twice is a ConfigError (its lines would count twice).
    """
    for name, splits in (("refit_splits", cfg.refit_splits), ("fit_splits", cfg.fit_splits)):
        if len(set(splits)) != len(splits):
            raise ConfigError(f"{name} names a split twice: {list(splits)}")
    return bool(cfg.refit_splits) and set(cfg.refit_splits) != set(cfg.fit_splits)


def _refit(
    cfg: TrainConfig,
    frame: pd.DataFrame,
    threshold: float,
    relative: float,
    presets: dict[str, tuple[float, float]],
) -> tuple[Any, dict[str, float]]:
    """The same pipeline fitted again on ``frame`` (the lines of ``cfg.refit_splits``), with the
    decision and the presets already chosen."""
    pipe = _pipeline(cfg, threshold, relative, "held_out")
    seconds = _fit(pipe, frame)
    pipe[-1].set_decision(threshold, relative, pipe[-1].decided_on_, presets)
    log.info(
        "refitted on %s: %d lines in %.1f s (threshold %.3f, relative %.2f kept)",
        "+".join(cfg.refit_splits),
        len(frame),
        seconds,
        threshold,
        relative,
    )
    return pipe, {"refit_seconds": seconds, "refit_lines": float(len(frame))}


def _decision_split(cfg: TrainConfig) -> str:
    """``model.decide_on``, checked: "crossval", "oof", or a split the model is not fitted on."""
    decide_on = str(cfg.model.decide_on).strip()
    if not decide_on:
        raise ConfigError(
            'model.decide_on must be "crossval", "oof" or the name of a held-out split'
        )
    if decide_on in cfg.fit_splits:
        raise ConfigError(
            f"model.decide_on={decide_on} is one of fit_splits {cfg.fit_splits}: the decision "
            'must be chosen on lines the model did not see (a held-out split, or "oof")'
        )
    return decide_on


def _fingerprint(path: Path) -> str:
    from textclf.dataset import read_fingerprint

    return read_fingerprint(path) or "unknown"


def _log_split_figures(
    split: str,
    df: pd.DataFrame,
    proba: np.ndarray,
    keep: np.ndarray,
    threshold: float,
    scores: dict,
) -> None:
    import matplotlib.pyplot as plt

    from textclf.reporting import confusion_figure, page_type_figure, pr_curve_figure

    y = df["label"].to_numpy()
    for fig, fname in (
        (confusion_figure(y, keep, f"{split}: lines"), f"figures/{split}_confusion.png"),
        (
            pr_curve_figure(y, proba, threshold, f"{split}: content lines"),
            f"figures/{split}_pr_curve.png",
        ),
        (
            page_type_figure(scores, "page_f1/", f"{split}: page F1 per page type"),
            f"figures/{split}_f1_per_page_type.png",
        ),
    ):
        tracking.log_figure(fig, fname)
        plt.close(fig)


def _log_wrong_lines(
    split: str, df: pd.DataFrame, proba: np.ndarray, keep: np.ndarray, n: int, seed: int
) -> None:
    wrong = df.assign(probability=proba, predicted=keep)
    wrong = wrong[wrong["predicted"] != wrong["label"]]
    if wrong.empty:
        return
    sample = wrong.sample(min(n, len(wrong)), random_state=seed).sort_values(
        ["page_id", "line_index"]
    )
    cols = ["page_id", "page_type", "line_index", "label", "predicted", "probability", "text"]
    tracking.log_text_artifact(sample[cols].to_csv(index=False), f"wrong_lines/{split}.csv")


def train(cfg: TrainConfig, config_dict: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train every task in ``cfg.tasks``."""
    results: dict[str, Any] = {}
    if not cfg.tasks:
        raise ConfigError("tasks is empty: name boilerplate, topics or both")
    unknown = sorted(set(cfg.tasks) - {"boilerplate", "topics"})
    if unknown:
        raise ConfigError(f"unknown task(s) {unknown}; valid: boilerplate, topics")
    if "boilerplate" in cfg.tasks:
        results["boilerplate"] = train_boilerplate(cfg, config_dict=config_dict)
    if "topics" in cfg.tasks:
        from textclf.topic_train import train_topics

        results["topics"] = train_topics(cfg, config_dict=config_dict)
    return results


@hydra.main(version_base="1.3", config_path="../../conf", config_name="train")
@exit_on_error
def main(dcfg: DictConfig) -> float | None:
    cfg = to_config(dcfg, TrainConfig)
    config_dict = OmegaConf.to_container(dcfg, resolve=True)
    results = train(cfg, config_dict=config_dict)  # type: ignore[arg-type]
    if "boilerplate" in results:
        # Returned for sweepers: the metric to maximise.
        return results["boilerplate"]["metrics"].get(cfg.mlflow.champion_metric)
    return None


if __name__ == "__main__":
    main()
