"""``make cv``: cross-validate the boilerplate model on WCXB dev, folds grouped by domain.

The validation split alone is one draw of about 250 pages; comparing two settings on it moves
with which sites landed there. This fits the same pipeline ``make train`` builds (same config
groups and overrides) on k-1 folds of WCXB dev and scores the held-out fold, for every fold, so
that each dev page is scored once by a model that never saw its site.

python -m textclf.crossval                              # the default model, 3 folds
python -m textclf.crossval model=logreg crossval.folds=5
python -m textclf.crossval -m features.sections=true,false   # a sweep; compare in `make ui`

The decision (threshold and page-relative share) of each fold is chosen on the out-of-fold
predictions of the *other* folds (``cv/page_f1``); with ``model.decide_on=oof``, each fold's
model chooses its own on out-of-fold predictions of its training lines, as ``make train`` would;
numbers given in ``model.threshold`` / ``model.relative`` are kept. The choice on the other folds
is not strictly clean: their predictions come from models that were fitted on this fold's lines
(a second-order effect; a nested choice would cost k(k-1) more fits). It also moves from fold to
fold, so settings are best compared on ``cv/page_f1_best_decision``: the best single decision
(within the fixed settings) over all of the out-of-fold predictions, a little optimistic but the
same for every setting compared, and what a sweep is given to maximise
(``crossval.sweep_metric``). The out-of-fold probabilities are logged
(``oof_predictions.parquet``) for decision experiments that need no refitting.

The decision presets of ``model.presets`` (``favor="precision"``, ``favor="recall"``) are chosen
the same way as the decision, fold by fold, and scored on the held-out fold
(``cv/favor_<name>/*``): what each preset trades, measured on pages its choice never saw. With a
decision given in numbers there is nothing to choose and no preset is scored.

``fit_splits``, ``eval_splits`` and ``refit_splits`` of the training config play no part here
(``crossval.splits`` says which pages are cross-validated) and are not logged.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hydra
import numpy as np
import pandas as pd
from omegaconf import DictConfig, OmegaConf

from textclf import tracking
from textclf.config import TrainConfig, exit_on_error, to_config
from textclf.dataset import load_dataset
from textclf.errors import ConfigError
from textclf.features import MODEL_INPUT, token_counts
from textclf.models import (
    check_presets,
    choose_decision,
    choose_decision_and_presets,
    content_mask,
    decision_grids,
    presets_of,
)
from textclf.reporting import markdown_table
from textclf.scoring import score_split
from textclf.train import (
    DECISION_SCORES,
    _fingerprint,
    _frame,
    _pipeline,
    assign_folds,
    check_max_fit_pages,
    decision_settings,
    limit_pages,
    log_run_setup,
    refuse_test_splits,
    run_name,
)
from textclf.variants import INPUT_VARIANTS, check_input_variants, variant_probabilities

__all__ = [
    "CrossvalConfig",
    "CrossvalSettings",
    "assign_folds",
    "cross_validate",
    "line_folds",
    "main",
]

log = logging.getLogger(__name__)

#: Training-config keys cross-validation does not use (not logged as its params).
_NOT_USED = ("fit_splits", "eval_splits", "refit_splits", "tasks", "mlflow.register")


@dataclass
class CrossvalSettings:
    """The ``crossval`` block of ``conf/crossval.yaml``."""

    folds: int = 3
    # WCXB dev splits whose pages are cross-validated (never a test split).
    splits: list[str] = field(default_factory=lambda: ["train", "validation"])
    experiment: str = "textclf-cv"
    # Log the out-of-fold probabilities of every line as an artifact.
    log_predictions: bool = True
    # The metric `python -m textclf.crossval -m ...` returns to the sweeper (higher is better).
    sweep_metric: str = "cv/page_f1_best_decision"


@dataclass
class CrossvalConfig(TrainConfig):
    """``make cv``: the training config (model, features, overrides) plus ``crossval``."""

    crossval: CrossvalSettings = field(default_factory=CrossvalSettings)


def check_crossval_config(cfg: CrossvalConfig) -> tuple[float | str, float | str, str]:
    """Checks made before any data is read; the (threshold, relative) settings and how each
    fold's decision is made: ``fixed`` (both given), ``oof`` (``model.decide_on=oof``: each
    fold's model chooses its own) or ``other_folds``."""
    cv = cfg.crossval
    if isinstance(cv.folds, bool) or not isinstance(cv.folds, int) or cv.folds < 2:
        raise ConfigError(f"crossval.folds must be an int >= 2, got {cv.folds!r}")
    if not cv.splits:
        raise ConfigError("crossval.splits is empty: name the WCXB dev splits (train, validation)")
    if len(set(cv.splits)) != len(cv.splits):
        raise ConfigError(f"crossval.splits names a split twice: {list(cv.splits)}")
    decide_on = str(cfg.model.decide_on).strip()
    for name, splits in (("crossval.splits", list(cv.splits)), ("model.decide_on", [decide_on])):
        refuse_test_splits(name, splits, "cross-validate on WCXB dev (train, validation) only")
    check_max_fit_pages(cfg)
    check_input_variants(cfg.input_variants, "input_variants")
    threshold, relative = decision_settings(cfg)
    if isinstance(threshold, float) and isinstance(relative, float):
        mode = "fixed"
    else:
        mode = "oof" if decide_on == "oof" else "other_folds"
    return threshold, relative, mode


#: How each fold's decision was made, for the report.
_MODES = {
    "oof": "each fold's model chose its own decision out of fold",
    "fixed": "the decision given in model.threshold and model.relative",
    "other_folds": "each fold's decision chosen on the other folds",
}


def line_folds(frame: pd.DataFrame, page_table: pd.DataFrame, folds: int) -> tuple[Any, Any]:
    """(fold of each page of ``page_table``, fold of each line of ``frame``): folds of whole
    domains over the pages, so that a page with no labeled line is scored too (as in
    ``make train``); each line takes its page's fold."""
    duplicated = page_table["page_id"][page_table["page_id"].duplicated()]
    if len(duplicated):
        raise ConfigError(
            f"page ids {sorted(set(duplicated))[:5]} occur twice in crossval.splits: "
            "name each split once, or rebuild the dataset with `make data`"
        )
    page_fold = assign_folds(page_table["domain"], folds)
    fold = frame["page_id"].map(dict(zip(page_table["page_id"], page_fold, strict=True)))
    missing = frame["page_id"][fold.isna()]
    if len(missing):
        raise ConfigError(
            f"lines of pages {sorted(set(missing))[:5]} have no entry in the dataset's page "
            "table: rebuild the dataset with `make data`"
        )
    line_fold = fold.to_numpy(dtype=np.int64)
    empty = sorted(set(range(folds)) - set(line_fold.tolist()))
    if empty:
        raise ConfigError(
            f"fold(s) {empty} of {folds} hold no labeled line: use fewer crossval.folds"
        )
    return page_fold, line_fold


class _Scorer:
    """Scores keep/drop decisions of the cross-validated lines, overall and fold by fold, with
    the lines and pages converted for :func:`score_split` once (only the columns it reads)."""

    def __init__(self, frame: pd.DataFrame, pages: pd.DataFrame, fold: Any, page_fold: Any):
        lines = frame[["page_id", "text", "label"]]
        self.folds = [fold == k for k in range(int(fold.max()) + 1)]
        self._all = (lines.to_dict("list"), pages.to_dict("list"))
        self._by_fold = [
            (lines[test].to_dict("list"), pages[page_fold == k].to_dict("list"))
            for k, test in enumerate(self.folds)
        ]

    def overall(self, keep: np.ndarray) -> dict[str, float]:
        return score_split(*self._all, keep)

    def page_f1_by_fold(self, keep: np.ndarray) -> list[float]:
        return [
            score_split(lines, pages, keep[test])["page_f1"]
            for (lines, pages), test in zip(self._by_fold, self.folds, strict=True)
        ]


def cross_validate(
    cfg: CrossvalConfig, *, config_dict: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Fit and score the pipeline on each fold; log one MLflow run; the metrics and the
    out-of-fold predictions."""
    threshold, relative, mode = check_crossval_config(cfg)
    # Bad estimator settings fail here, before the dataset is read.
    _pipeline(cfg, threshold, relative, "held_out")
    lines, pages = load_dataset(Path(cfg.paths.dataset_dir))
    frame = _frame(lines, list(cfg.crossval.splits))
    if frame.empty:
        raise ConfigError(f"no labeled lines in {list(cfg.crossval.splits)}: run `make data`")
    page_table = pd.concat([pages[s].to_pandas() for s in cfg.crossval.splits], ignore_index=True)
    page_fold, fold = line_folds(frame, page_table, cfg.crossval.folds)
    name = f"cv-{run_name(cfg)}"
    uri = tracking.init_store(cfg.mlflow.tracking_uri or None)
    with tracking.start_run(cfg.crossval.experiment, name, uri, tags={"task": "crossval"}) as run:
        digest = _fingerprint(Path(cfg.paths.dataset_dir))
        log_run_setup(cfg, config_dict, frame, digest, "crossval", drop=_NOT_USED)
        tracking.log_params({"crossval.decision": mode})
        proba = np.full(len(frame), np.nan)
        # The held-out lines written another way (input_variants), scored with the same
        # decisions: how a setting reads text from other HTML-to-text tools.
        variants = {v: np.full(len(frame), np.nan) for v in cfg.input_variants}
        decisions: dict[int, tuple[float, float]] = {}
        # name -> fold -> (threshold, relative); a fixed decision leaves nothing to choose
        presets = {} if mode == "fixed" else check_presets(cfg.model.presets, "model.presets")
        preset_decisions: dict[str, dict[int, tuple[float, float]]] = {n: {} for n in presets}
        metrics: dict[str, float] = {"lines": float(len(frame)), "folds": float(cfg.crossval.folds)}
        for k in range(cfg.crossval.folds):
            test = fold == k
            fit_df = limit_pages(frame[~test].reset_index(drop=True), cfg.max_fit_pages, cfg.seed)
            pipe = _pipeline(cfg, threshold, relative, "oof" if mode == "oof" else "held_out")
            start = time.perf_counter()
            pipe.fit(
                fit_df[[*MODEL_INPUT, "domain"]],
                fit_df["label"].to_numpy(),
                model__groups=fit_df["domain"].to_numpy(),
                model__texts=fit_df["text"].tolist(),  # for model.decide_on=oof
            )
            metrics[f"fold{k}/fit_seconds"] = time.perf_counter() - start
            held_out = frame.loc[test, MODEL_INPUT]
            proba[test] = pipe.predict_proba(held_out)[:, 1]
            for variant, v_proba in variant_probabilities(pipe, held_out, list(variants)).items():
                variants[variant][test] = v_proba
            if mode == "oof":  # the fold's own out-of-fold choice, as `make train` would make it
                decisions[k] = (float(pipe[-1].threshold_), float(pipe[-1].relative_threshold_))
                for preset, pair in presets_of(pipe).items():
                    preset_decisions[preset][k] = pair
            log.info(
                "%s fold %d/%d: fitted on %d lines (%d pages) in %.1f s",
                name,
                k + 1,
                cfg.crossval.folds,
                len(fit_df),
                fit_df["page_id"].nunique(),
                metrics[f"fold{k}/fit_seconds"],
            )
        y, page = frame["label"].to_numpy(), frame["page_id"].to_numpy()
        # Tokens counted as the featurizer (and the training weights) count them.
        tokens = token_counts(frame["text"].tolist())
        # Later copies of content texts are dropped after the decision, as make train does, and
        # the decisions are chosen for that rule.
        texts = frame["text"].to_numpy(dtype=object) if cfg.model.drop_repeats else None
        grids = decision_grids(threshold, relative)
        power = cfg.model.relative_power

        def mask(p: np.ndarray, rows: Any, t: float, r: float) -> np.ndarray:
            repeats = None if texts is None else texts[rows]
            return content_mask(p[rows], page[rows], t, r, repeats, power)

        scorer = _Scorer(frame, page_table, fold, page_fold)

        def fold_mask(p: np.ndarray, by_fold: dict[int, tuple[float, float]]) -> np.ndarray:
            """Each fold's lines kept with that fold's (threshold, relative)."""
            out = np.zeros(len(frame), dtype=np.int8)
            for k, test in enumerate(scorer.folds):
                out[test] = mask(p, test, *by_fold[k])
            return out

        for k, test in enumerate(scorer.folds):
            if mode != "oof":  # chosen on the other folds (a number given is the only choice)
                other = ~test
                decisions[k], chosen = choose_decision_and_presets(
                    proba[other],
                    y[other],
                    page[other],
                    tokens[other],
                    presets,
                    texts=None if texts is None else texts[other],
                    relative_power=power,
                    **grids,
                )
                for preset, pair in chosen.items():
                    preset_decisions[preset][k] = pair
        named = {"": decisions, **{f"favor_{p}/": d for p, d in preset_decisions.items()}}
        for at, by_fold in named.items():  # each fold's decision and presets
            for k, (t, r) in by_fold.items():
                metrics[f"fold{k}/{at}threshold"] = t
                metrics[f"fold{k}/{at}relative_threshold"] = r
        keep = fold_mask(proba, decisions)
        fold_f1 = scorer.page_f1_by_fold(keep)
        metrics.update({f"fold{k}/page_f1": v for k, v in enumerate(fold_f1)})
        metrics.update({f"cv/{key}": v for key, v in scorer.overall(keep).items()})
        metrics["cv/page_f1_fold_std"] = float(np.std(fold_f1, ddof=1))
        for preset, by_fold in preset_decisions.items():
            scores = scorer.overall(fold_mask(proba, by_fold))
            metrics.update(
                {f"cv/favor_{preset}/{k}": scores[k] for k in DECISION_SCORES if k in scores}
            )
        t_best, r_best = choose_decision(
            proba, y, page, tokens, texts=texts, relative_power=power, **grids
        )
        best_keep = mask(proba, slice(None), t_best, r_best)
        best_f1 = scorer.page_f1_by_fold(best_keep)
        metrics.update({f"fold{k}/page_f1_best_decision": v for k, v in enumerate(best_f1)})
        metrics["cv/page_f1_best_decision"] = scorer.overall(best_keep)["page_f1"]
        metrics["best_decision/threshold"] = t_best
        metrics["best_decision/relative_threshold"] = r_best
        for variant, v_proba in variants.items():  # the decisions made on the pages as they come
            v_keep = fold_mask(v_proba, decisions)
            metrics[f"cv/{variant}/page_f1"] = scorer.overall(v_keep)["page_f1"]
            at_best = mask(v_proba, slice(None), t_best, r_best)
            metrics[f"cv/{variant}/page_f1_best_decision"] = scorer.overall(at_best)["page_f1"]
        tracking.log_metrics(metrics)
        report = _report(
            name, metrics, cfg.crossval.folds, _MODES[mode], list(variants), list(presets)
        )
        tracking.log_text_artifact(report, "crossval.md")
        if cfg.crossval.log_predictions:
            oof = frame[["page_id", "line_index", "domain", "label"]].assign(
                fold=fold, probability=proba, predicted=keep
            )
            _log_parquet(oof, "oof_predictions.parquet")
        print(report)
        return {"run_id": run.info.run_id, "metrics": metrics, "proba": proba, "fold": fold}


def _log_parquet(frame: pd.DataFrame, name: str) -> None:
    import tempfile

    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        frame.to_parquet(path, index=False)
        mlflow.log_artifact(str(path))


def _report(
    name: str,
    metrics: dict[str, float],
    folds: int,
    chosen: str,
    variants: list[str],
    presets: list[str],
) -> str:
    rows = [
        {
            "fold": str(k),
            "page_f1": metrics[f"fold{k}/page_f1"],
            "at_best_decision": metrics[f"fold{k}/page_f1_best_decision"],
            "threshold": metrics[f"fold{k}/threshold"],
            "relative": metrics[f"fold{k}/relative_threshold"],
            "fit_seconds": metrics[f"fold{k}/fit_seconds"],
        }
        for k in range(folds)
    ]
    types = sorted(
        key.removeprefix("cv/page_f1/") for key in metrics if key.startswith("cv/page_f1/")
    )
    lines = [
        f"# Cross-validation {name}: {folds} folds of WCXB dev grouped by domain",
        "",
        f"Mean page F1 {metrics['cv/page_f1']:.4f} ({chosen}; "
        f"std over folds {metrics['cv/page_f1_fold_std']:.4f}); "
        f"{metrics['cv/page_f1_best_decision']:.4f} at the best single decision "
        f"(threshold {metrics['best_decision/threshold']:.3f}, "
        f"relative {metrics['best_decision/relative_threshold']:.2f}). "
        f"Line F1 {metrics.get('cv/line_f1', math.nan):.4f}.",
        "",
        *(
            f"The same held-out lines with {INPUT_VARIANTS[v][0]}: page F1 "
            f"{metrics[f'cv/{v}/page_f1']:.4f} with the same decisions, "
            f"{metrics[f'cv/{v}/page_f1_best_decision']:.4f} at the same best single decision.\n"
            for v in variants
        ),
        markdown_table(
            rows, ["fold", "page_f1", "threshold", "relative", "at_best_decision", "fit_seconds"]
        ),
        "Page F1 per page type:",
        "",
        markdown_table(
            [{"page_type": t, "page_f1": metrics[f"cv/page_f1/{t}"]} for t in types],
            ["page_type", "page_f1"],
        ),
    ]
    if presets:
        decisions = [_decision_row(metrics, folds, "default (F1)", "")]
        decisions += [_decision_row(metrics, folds, f"favor={p}", f"favor_{p}/") for p in presets]
        columns = ["decision", "page_f1", "page_precision", "page_recall", _PER_FOLD]
        lines += ["", "The decision and its presets, each chosen as the decision was:", ""]
        lines.append(markdown_table(decisions, columns))
    return "\n".join(lines)


_PER_FOLD = "per fold (threshold, relative)"


def _decision_row(metrics: dict[str, float], folds: int, label: str, at: str) -> dict[str, Any]:
    """A row of the report's table of decisions: page F1, precision and recall over all folds
    and each fold's (threshold, relative), read from the metrics ``cv/<at><score>`` and
    ``fold<k>/<at>threshold`` (``at``: "" for the decision, ``favor_<name>/`` for a preset)."""
    row: dict[str, Any] = {"decision": label}
    row.update(
        {key: metrics[f"cv/{at}{key}"] for key in ("page_f1", "page_precision", "page_recall")}
    )
    pairs = [
        (metrics[f"fold{k}/{at}threshold"], metrics[f"fold{k}/{at}relative_threshold"])
        for k in range(folds)
    ]
    row[_PER_FOLD] = ", ".join(f"({t:.3f}, {r:.2f})" for t, r in pairs)
    return row


@hydra.main(version_base="1.3", config_path="../../conf", config_name="crossval")
@exit_on_error
def main(dcfg: DictConfig) -> float:
    cfg = to_config(dcfg, CrossvalConfig)
    config_dict = OmegaConf.to_container(dcfg, resolve=True)
    result = cross_validate(cfg, config_dict=config_dict)  # type: ignore[arg-type]
    metric = cfg.crossval.sweep_metric
    if metric not in result["metrics"]:
        raise ConfigError(f"crossval.sweep_metric={metric!r} is not among the run's metrics")
    return float(result["metrics"][metric])  # for sweepers: the metric to maximise


if __name__ == "__main__":
    main()
