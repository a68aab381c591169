"""The estimator registry and the stacked line classifier built on it.

A model is one sklearn ``Pipeline``: ``LineFeaturizer`` then ``StackedLineClassifier``. The stacked
classifier fits its base estimator in stages: each stage after the first also sees the content
probabilities of the neighbouring lines, out-of-fold from the previous stage (so it learns how far
to trust them), and the decision threshold is chosen on out-of-fold predictions.
"""

from __future__ import annotations

import logging
import numbers
import re
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from textclf.errors import ConfigError, InputError, ModelError
from textclf.features import (
    PAGE_COLUMN,
    LineFeaturizer,
    neighbour_values,
    page_summary,
    token_counts,
    window_mean,
)

__all__ = [
    "DECIDE_ON",
    "DEFAULT_PRESETS",
    "ESTIMATORS",
    "REPEAT_MIN_TOKENS",
    "WEIGHTINGS",
    "Decision",
    "StackedLineClassifier",
    "auto_or_fraction",
    "build_pipeline",
    "check_beta",
    "check_presets",
    "check_weighting",
    "choose_decision",
    "choose_decision_and_presets",
    "choose_decisions",
    "choose_threshold",
    "content_mask",
    "decision_grids",
    "decision_of",
    "drops_repeats",
    "earlier_copy_max",
    "later_copies",
    "line_weights",
    "make_estimator",
    "page_max",
    "positive_proba",
    "preset_keeps",
    "preset_params",
    "presets_of",
]

log = logging.getLogger(__name__)

#: The ways of weighting training lines (see :func:`line_weights`).
WEIGHTINGS = ("none", "page_tokens")
#: Where the stacker chooses the ``auto`` parts of its decision (see StackedLineClassifier).
DECIDE_ON = ("oof", "held_out")
#: Repeats of texts shorter than this many tokens stay content (see :func:`later_copies`).
REPEAT_MIN_TOKENS = 6
#: The shares of the page's best probability :func:`choose_decision` tries by default.
RELATIVE_GRID = np.array([0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
#: Decision presets chosen beside the default decision (name: the beta of the F-beta they
#: maximise, as :func:`choose_decision` takes it): ``favor="precision"`` in :mod:`textclf.predict`
#: keeps less and cleaner text, ``favor="recall"`` loses less of it.
DEFAULT_PRESETS = {"precision": 0.5, "recall": 2.0}


def _logreg(**params: Any) -> BaseEstimator:
    params = {"max_iter": 2000, "C": 1.0, "random_state": 0, **params}
    return make_pipeline(StandardScaler(), LogisticRegression(**params))


def _linear_svm(**params: Any) -> BaseEstimator:
    cv = params.pop("calibration_cv", 3)
    params = {"C": 0.5, "max_iter": 5000, "random_state": 0, **params}
    return make_pipeline(
        StandardScaler(), CalibratedClassifierCV(LinearSVC(**params), cv=cv, method="sigmoid")
    )


def _hgb(**params: Any) -> BaseEstimator:
    params = {
        "max_iter": 200,
        "learning_rate": 0.1,
        "max_leaf_nodes": 31,
        "early_stopping": False,
        "random_state": 0,
        **params,
    }
    return HistGradientBoostingClassifier(**params)


def _random_forest(**params: Any) -> BaseEstimator:
    params = {"n_estimators": 200, "min_samples_leaf": 3, "n_jobs": -1, "random_state": 0, **params}
    return RandomForestClassifier(**params)


ESTIMATORS: dict[str, Callable[..., BaseEstimator]] = {
    "logreg": _logreg,
    "linear_svm": _linear_svm,
    "hgb": _hgb,
    "random_forest": _random_forest,
}


def make_estimator(name: str, params: dict[str, Any] | None = None) -> BaseEstimator:
    """An unfitted estimator from the registry.

    >>> make_estimator("hgb", {"max_iter": 50}).max_iter
    50
    """
    if name not in ESTIMATORS:
        raise ConfigError(
            f"unknown estimator {name!r}; valid names: {', '.join(sorted(ESTIMATORS))}"
        )
    try:
        estimator = ESTIMATORS[name](**dict(params or {}))
    except TypeError as exc:
        raise ConfigError(f"bad parameters for estimator {name!r}: {exc}") from exc
    _validate_params(estimator, name)
    return estimator


def _validate_params(estimator: BaseEstimator, name: str) -> None:
    """Check parameter values now (scikit-learn checks them only when fitting), with the
    estimator's own checks, nested estimators included: a bad value fails before any data is
    read, not after minutes of featurizing."""
    from sklearn.utils._param_validation import InvalidParameterError

    nested = [v for v in estimator.get_params(deep=True).values() if isinstance(v, BaseEstimator)]
    for est in (estimator, *nested):
        validate = getattr(est, "_validate_params", None)  # scikit-learn >= 1.2
        if validate is None:
            continue
        try:
            validate()
        except InvalidParameterError as exc:
            raise ConfigError(f"bad parameters for estimator {name!r}: {exc}") from exc


def probability_context(
    proba: np.ndarray, page: np.ndarray, offsets: Sequence[int], windows: Sequence[int]
) -> np.ndarray:
    """Features from neighbouring lines' content probabilities, within each page."""
    n = len(proba)
    starts = np.flatnonzero(np.r_[True, page[1:] != page[:-1]]) if n else np.zeros(0, int)
    sizes = np.diff(np.r_[starts, n])
    page_idx = np.repeat(np.arange(len(starts)), sizes)
    cols = [neighbour_values(proba, off, page, fill=-1.0) for off in offsets]
    cols += [window_mean(proba, w, page_idx, starts, sizes) for w in windows]
    # The page's mean and best, and its probability mass before the line: where content starts.
    page_mean, page_max, before, _ = page_summary(proba, page_idx, starts, sizes)
    cols += [page_mean, page_max, before, proba]
    return np.column_stack(cols)


class StackedLineClassifier(ClassifierMixin, BaseEstimator):
    """Stacked classifier over the lines of pages.

    Parameters
    ----------
    estimator : estimator or None
        The base estimator of every stage (default: histogram gradient boosting).
    stages : int
        1 = plain classifier; 2+ = each later stage adds the previous stage's probabilities of the
        neighbouring lines as features.
    cv : int
        Folds (grouped by page, or by the ``groups`` given to ``fit``) for out-of-fold predictions.
    offsets, windows : sequences of int
        Which neighbours' probabilities, and which window means, later stages see.
    threshold : float or "auto"
        Decision threshold on the content probability; "auto" picks the one that maximises the mean
        per-page token F1 (with ``relative``, see :func:`choose_decision`).
    relative : float or "auto"
        A content line must also reach this share of its page's highest probability raised to
        ``relative_power`` (:func:`content_mask`); 0 turns it off.
    decide_on : "oof" or "held_out"
        Where the ``auto`` parts of the decision are chosen. ``oof``: on out-of-fold predictions of
        the training lines, at ``fit``. ``held_out``: ``fit`` skips those (with one stage it then
        fits a single model) and :meth:`choose_decision_on` chooses them on lines the model never
        saw; until then the decision is ``p >= 0.5``.
    drop_repeats : bool
        Whether a line that repeats the text of a content line earlier on its page is
        boilerplate (:func:`later_copies`). Features carry no text, so :meth:`predict` cannot
        apply it: the page API (:mod:`textclf.predict`) and the scoring of ``make train``,
        ``make cv`` and ``make eval`` do (:func:`drops_repeats`).
    relative_power : float
        The page's highest probability is raised to this power (>= 1) before ``relative``
        takes its share (:func:`content_mask`): with 12, a page whose best line the model is
        sure of (0.99) asks ``relative`` x 0.89 of its lines, a page whose best line is
        middling (0.85) ``relative`` x 0.14, so the threshold decides there. 1 is the plain
        share.
    presets : mapping of str to float, or None
        Decisions chosen beside the default one, each maximising an F-beta (name: beta) where
        and when the default is chosen; ``None``: :data:`DEFAULT_PRESETS`, ``{}``: none. The
        fitted ``presets_`` maps each name to its (threshold, relative), empty when the
        decision was not chosen (fixed numbers, or not yet chosen on held-out lines).
    """

    def __init__(
        self,
        estimator: BaseEstimator | None = None,
        stages: int = 2,
        cv: int = 4,
        offsets: Sequence[int] = (-3, -2, -1, 1, 2, 3),
        windows: Sequence[int] = (2, 5, 15),
        threshold: float | str = "auto",
        random_state: int = 0,
        weighting: str = "none",
        relative: float | str = 0.0,
        decide_on: str = "oof",
        drop_repeats: bool = False,
        relative_power: float = 1.0,
        presets: Mapping[str, float] | None = None,
    ) -> None:
        self.estimator = estimator
        self.stages = stages
        self.cv = cv
        self.offsets = offsets
        self.windows = windows
        self.threshold = threshold
        self.random_state = random_state
        self.weighting = weighting
        self.relative = relative
        self.decide_on = decide_on
        self.drop_repeats = drop_repeats
        self.relative_power = relative_power
        self.presets = presets

    def __setstate__(self, state: dict[str, Any]) -> None:
        # Models saved before drop_repeats (relative_power, presets) existed kept every copy
        # (took the plain share of the page's best probability; had no presets).
        defaults = {"drop_repeats": False, "relative_power": 1.0, "presets": {}, "presets_": {}}
        super().__setstate__({**defaults, **state})

    def _split(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        X = np.asarray(X)
        return X[:, PAGE_COLUMN].astype(np.int64), np.delete(X, PAGE_COLUMN, axis=1)

    def fit(
        self,
        X: np.ndarray,
        y: Sequence[int],
        groups: Sequence[Any] | None = None,
        texts: Sequence[str] | None = None,
    ) -> StackedLineClassifier:
        """Fit the stages on the featurizer's rows ``X`` and labels ``y`` (out-of-fold folds
        grouped by ``groups``, default the page). ``texts``, the lines' texts, serve only a
        decision chosen here out of fold with ``drop_repeats`` (see :meth:`choose_decision_on`).
        """
        if self.stages < 1:
            raise ConfigError(f"stages must be >= 1, got {self.stages}")
        labels = np.asarray(y).astype(np.int64)
        page, feats = self._split(X)
        folds = page if groups is None else np.asarray(groups)
        self.classes_ = np.array([0, 1])
        base = clone(self.estimator if self.estimator is not None else make_estimator("hgb"))
        # Every random_state of the estimator (and of its steps) follows ours: reproducible runs.
        base.set_params(
            **{
                key: self.random_state
                for key in base.get_params(deep=True)
                if key == "random_state" or key.endswith("__random_state")
            }
        )
        relative = auto_or_fraction(self.relative, "relative")
        check_relative_power(self.relative_power)
        check_presets(self.presets)
        if self.decide_on not in DECIDE_ON:
            raise ConfigError(f"decide_on must be one of {DECIDE_ON}, got {self.decide_on!r}")
        auto = self.threshold == "auto" or relative == "auto"
        decide_oof = auto and self.decide_on == "oof"
        need_oof = self.stages > 1 or decide_oof
        current = feats
        self.stages_ = []
        oof: np.ndarray | None = None
        tokens = np.expm1(feats[:, 1])  # log_tokens is the second base feature
        weight = line_weights(self.weighting, page, tokens)
        for stage in range(self.stages):
            est = clone(base)
            if need_oof and (stage < self.stages - 1 or decide_oof):
                oof = self._oof(est, current, labels, folds, weight)
            _fit(est, current, labels, weight)
            self.stages_.append(est)
            if stage < self.stages - 1:
                assert oof is not None  # need_oof holds with more than one stage
                current = np.hstack(
                    [feats, probability_context(oof, page, self.offsets, self.windows)]
                )
        if decide_oof:
            assert oof is not None
            self._decide(oof, labels, page, tokens, texts)
        else:  # fixed numbers, or "auto" left for choose_decision_on: 0.5 and no relative part
            self.threshold_ = 0.5 if self.threshold == "auto" else float(self.threshold)
            self.relative_threshold_ = 0.0 if relative == "auto" else float(relative)
            self.presets_: dict[str, tuple[float, float]] = {}
        self.decided_on_ = "oof" if decide_oof else ("pending" if auto else "fixed")
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def _decide(
        self,
        proba: np.ndarray,
        y: np.ndarray,
        page: np.ndarray,
        tokens: np.ndarray,
        texts: Sequence[str] | None,
    ) -> None:
        if texts is not None and len(texts) != len(proba):
            raise InputError(f"{len(proba)} rows but {len(texts)} texts")
        (self.threshold_, self.relative_threshold_), self.presets_ = choose_decision_and_presets(
            proba,
            y,
            page,
            tokens,
            check_presets(self.presets),
            texts=texts if self.drop_repeats else None,
            relative_power=self.relative_power,
            **decision_grids(self.threshold, auto_or_fraction(self.relative, "relative")),
        )

    def choose_decision_on(
        self, X: np.ndarray, y: Sequence[int], texts: Sequence[str] | None = None
    ) -> tuple[float, float]:
        """Choose the ``auto`` parts of the decision on held-out lines (``X``: the featurizer's
        rows for them, whole pages in order; ``y``: their labels). Returns (threshold, relative).

        Out-of-fold predictions of the training lines come from models that saw less data, and
        through features (the text model's, the corpus tables') that are themselves out-of-fold:
        on WCXB dev they led to lower thresholds than held-out pages support.

        With ``drop_repeats``, pass the lines' ``texts``: the decision is then chosen for the
        rule as the page API applies it, later copies of content texts dropped.
        """
        if not hasattr(self, "stages_"):
            raise ModelError("choose_decision_on needs a fitted model: call fit first")
        page, feats = self._split(X)
        proba = self.predict_proba(X)[:, 1]
        labels = np.asarray(y).astype(np.int64)
        if len(labels) != len(proba):
            raise InputError(f"{len(proba)} rows but {len(labels)} labels")
        self._decide(proba, labels, page, np.expm1(feats[:, 1]), texts)
        if self.decided_on_ != "fixed":
            self.decided_on_ = "held_out"
        return self.threshold_, self.relative_threshold_

    def set_decision(
        self,
        threshold: float,
        relative: float,
        chosen_on: str,
        presets: Mapping[str, tuple[float, float]] | None = None,
    ) -> None:
        """Use a decision chosen elsewhere (``make train``'s cross-validation: probabilities
        of other models on the lines they did not see), recorded as ``decided_on_``, with the
        presets chosen there (name -> (threshold, relative); default none)."""
        if not hasattr(self, "stages_"):
            raise ModelError("set_decision needs a fitted model: call fit first")
        pairs = [(threshold, relative), *(presets or {}).values()]
        for t, r in pairs:
            pair = (auto_or_fraction(t, "threshold"), auto_or_fraction(r, "relative"))
            if "auto" in pair:
                raise ConfigError(f"set_decision needs numbers, got {t!r} and {r!r}")
        self.threshold_, self.relative_threshold_ = float(threshold), float(relative)
        self.presets_ = {str(k): (float(t), float(r)) for k, (t, r) in (presets or {}).items()}
        self.decided_on_ = chosen_on

    def _oof(
        self,
        est: BaseEstimator,
        X: np.ndarray,
        y: np.ndarray,
        groups: np.ndarray,
        weight: np.ndarray | None = None,
    ) -> np.ndarray:
        oof = np.zeros(len(y))
        n_groups = len(np.unique(groups))
        folds = GroupKFold(n_splits=min(self.cv, n_groups))
        for train_idx, test_idx in folds.split(X, y, groups):
            w = None if weight is None else weight[train_idx]
            model = _fit(clone(est), X[train_idx], y[train_idx], w)
            oof[test_idx] = model.predict_proba(X[test_idx])[:, 1]
        return oof

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        page, feats = self._split(X)
        current = feats
        proba = np.zeros(len(feats))
        for stage, est in enumerate(self.stages_):
            if len(feats) == 0:
                break
            proba = positive_proba(est, current)
            if stage < len(self.stages_) - 1:
                current = np.hstack(
                    [feats, probability_context(proba, page, self.offsets, self.windows)]
                )
        return np.column_stack([1 - proba, proba])

    def predict(self, X: np.ndarray, threshold: float | None = None) -> np.ndarray:
        t = self.threshold_ if threshold is None else threshold
        page, _ = self._split(X)
        proba = self.predict_proba(X)[:, 1]
        relative = getattr(self, "relative_threshold_", 0.0)
        return content_mask(proba, page, t, relative, relative_power=self.relative_power).astype(
            np.int64
        )


# Whether each fitted gradient boosting model predicts the same through its bins (checked once).
_BINNED_OK: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()
# Rows compared with scikit-learn's own prediction before the binned path is trusted.
_BINNED_CHECK_ROWS = 512


def positive_proba(est: BaseEstimator, X: np.ndarray) -> np.ndarray:
    """``est.predict_proba(X)[:, 1]``, the same numbers, faster for gradient boosting.

    scikit-learn's ``HistGradientBoostingClassifier`` predicts from the raw float64 features:
    every tree reads the whole matrix (8 bytes a value). Mapped once to the model's own bins
    (the thresholds it split on, 1 byte a value) the trees read an eighth of that: a third less
    time per prediction on one thread. A value falls in the same bin as at training, so every
    tree takes the same branches and the sum is formed in the same order. The bins and trees
    are private attributes of scikit-learn: the first call for each model compares both ways on
    up to 512 rows and keeps scikit-learn's own prediction (with a warning) if they differ, or
    if the model uses categorical features or more than two classes.
    """
    if isinstance(est, HistGradientBoostingClassifier) and len(X):
        ok = _BINNED_OK.get(est)
        if ok is None:
            ok = _BINNED_OK[est] = _binned_matches(est, X[:_BINNED_CHECK_ROWS])
        if ok and np.shape(X)[1] == est.n_features_in_:
            return _binned_positive_proba(est, X)
    return np.asarray(est.predict_proba(X))[:, 1]


def _binned_matches(est: HistGradientBoostingClassifier, X: np.ndarray) -> bool:
    expected = np.asarray(est.predict_proba(X))[:, 1]  # raises on a bad X, as it should
    try:
        mapper = est._bin_mapper
        categorical = mapper.is_categorical_ is not None and bool(np.any(mapper.is_categorical_))
        if categorical or est.n_trees_per_iteration_ != 1:
            return False
        same = np.array_equal(_binned_positive_proba(est, X), expected)
    except (AttributeError, ImportError, TypeError, ValueError) as exc:
        log.warning("gradient boosting predicts without its bins (%s): slower", exc)
        return False
    if not same:
        log.warning("gradient boosting predicts without its bins (they disagree): slower")
    return same


def _binned_positive_proba(est: HistGradientBoostingClassifier, X: np.ndarray) -> np.ndarray:
    """What ``HistGradientBoostingClassifier.predict_proba(X)[:, 1]`` computes, on the bins."""
    from scipy.special import expit
    from sklearn.utils._openmp_helpers import _openmp_effective_n_threads

    mapper = est._bin_mapper
    # One contiguous row per feature: sorted searches over it are fast. A value goes to the
    # first bin whose upper threshold it does not exceed, as scikit-learn bins it.
    columns = np.ascontiguousarray(np.asarray(X).T, dtype=np.float64)
    binned = np.empty(columns.shape, dtype=np.uint8)
    for j, thresholds in enumerate(mapper.bin_thresholds_):
        binned[j] = np.searchsorted(thresholds, columns[j], side="left")
    missing = np.isnan(columns)
    if missing.any():
        binned[missing] = mapper.missing_values_bin_idx_
    rows = binned.T
    n_threads = _openmp_effective_n_threads()  # follows threadpoolctl limits, as sklearn's
    raw = np.zeros(len(rows), dtype=est._baseline_prediction.dtype)
    raw += est._baseline_prediction.ravel()[0]
    for (tree,) in est._predictors:
        raw += tree.predict_binned(rows, mapper.missing_values_bin_idx_, n_threads)
    return np.asarray(expit(raw))


def _fit(est: BaseEstimator, X: np.ndarray, y: np.ndarray, weight: np.ndarray | None) -> Any:
    """``est.fit`` with sample weights (given to a pipeline's final step) when there are any."""
    if weight is None:
        return est.fit(X, y)
    if isinstance(est, Pipeline):
        return est.fit(X, y, **{f"{est.steps[-1][0]}__sample_weight": weight})
    return est.fit(X, y, sample_weight=weight)


def line_weights(weighting: str, page: np.ndarray, tokens: np.ndarray) -> np.ndarray | None:
    """Training weights of the lines: ``none`` (every line alike) or ``page_tokens``.

    ``page_tokens`` gives each page the same total weight, shared among its lines by their
    tokens, which is how the mean per-page token F1 counts them; half of every weight stays
    uniform so that short lines (menus, bylines) still teach the model. Mean weight 1.
    """
    if check_weighting(weighting) == "none":
        return None
    _, inverse = np.unique(page, return_inverse=True)
    page_tok = np.bincount(inverse, weights=tokens)[inverse]
    share = np.where(page_tok > 0, tokens / np.maximum(page_tok, 1e-9), 0.0)
    w = 0.5 * share * len(tokens) / max(int(inverse.max()) + 1, 1) + 0.5
    return w / w.mean()


def check_weighting(weighting: str, name: str = "weighting") -> str:
    """``weighting`` when it is one of :data:`WEIGHTINGS`; else a ConfigError naming ``name``."""
    if weighting not in WEIGHTINGS:
        raise ConfigError(f"{name} must be one of {', '.join(WEIGHTINGS)}, got {weighting!r}")
    return weighting


def auto_or_fraction(value: float | str, name: str) -> float | str:
    """``"auto"``, or ``value`` as a number in [0, 1]; else a ConfigError naming ``name``."""
    if value == "auto":
        return "auto"
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be 'auto' or a number, got {value!r}") from None
    if not 0.0 <= number <= 1.0:
        raise ConfigError(f"{name} must be in [0, 1], got {number}")
    return number


def _final_step(model: Any) -> Any:
    """A pipeline's final step (the classifier), or ``model`` itself."""
    return model.steps[-1][1] if isinstance(model, Pipeline) else model


def check_relative_power(value: Any, name: str = "relative_power") -> float:
    """``relative_power`` checked: a finite number >= 1 (not a bool)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not 1 <= float(value) < float("inf")
    ):
        raise ConfigError(f"{name} must be a number >= 1, got {value!r}")
    return float(value)


def relative_power_of(model: Any) -> float:
    """The ``relative_power`` of a fitted pipeline (or of its final classifier); 1 for models
    that have no such setting. A value that is not a number >= 1 raises
    :class:`~textclf.errors.ModelError`."""
    final = _final_step(model)
    try:
        return check_relative_power(getattr(final, "relative_power", 1.0))
    except ConfigError as exc:
        raise ModelError(f"the model's {exc}") from None


class Decision(NamedTuple):
    """A content model's decision: the arguments :func:`content_mask` takes besides the lines.

    >>> story = ["The river rose overnight and flooded the town."] * 2
    >>> Decision(0.5, 0.0, True, 1.0).mask(np.full(2, 0.9), np.zeros(2), story)
    array([ True, False])
    """

    threshold: Any
    relative: Any
    drop_repeats: bool
    relative_power: float

    def mask(self, proba: np.ndarray, page: Any, texts: Sequence[str]) -> np.ndarray:
        """:func:`content_mask` of the lines with this decision; ``texts`` (the lines' texts)
        are read only when it drops repeats."""
        repeats = texts if self.drop_repeats else None
        return content_mask(
            proba, page, self.threshold, self.relative, repeats, self.relative_power
        )


def decision_of(model: Any) -> Decision:
    """The decision a fitted pipeline (or its final classifier) makes, as
    :func:`content_mask` takes it: ``(threshold_, relative_threshold_, drop_repeats,
    relative_power)``. The threshold is ``None`` when the model has none (not a fitted
    content model), the relative part 0 for models trained without one; the threshold and the
    relative part are returned as stored (:mod:`textclf.predict` checks their range).
    :func:`drops_repeats` and :func:`relative_power_of` raise
    :class:`~textclf.errors.ModelError` for bad values."""
    final = _final_step(model)
    return Decision(
        getattr(final, "threshold_", None),
        getattr(final, "relative_threshold_", 0.0),
        drops_repeats(final),
        relative_power_of(final),
    )


def page_max(proba: np.ndarray, page: np.ndarray) -> np.ndarray:
    """Each line's page's highest probability."""
    proba = np.asarray(proba, dtype=float)
    if len(proba) == 0:
        return proba
    _, inverse = np.unique(page, return_inverse=True)
    top = np.full(int(inverse.max()) + 1, -np.inf)
    np.maximum.at(top, inverse, proba)
    return top[inverse]


def content_mask(
    proba: np.ndarray,
    page: np.ndarray,
    threshold: float,
    relative: float = 0.0,
    texts: Sequence[str] | None = None,
    relative_power: float = 1.0,
) -> np.ndarray:
    """The decision: a line is content when its probability is >= ``threshold`` and >=
    ``relative`` times the highest probability on its page raised to ``relative_power``.

    The relative part drops the middling lines of a page whose main text the model is sure of
    (teasers under an article) and leaves pages where no line stands out alone. The power
    makes it follow how sure the model is of the page's best line: a news article (best line
    0.99) keeps only its confident lines, a listing whose best line is 0.85 is left to the
    threshold. With ``texts`` (the lines' texts), a line is not content either when a content
    line earlier on its page has the same text, of :data:`REPEAT_MIN_TOKENS` tokens or more
    (:func:`later_copies`): the page's content holds each sentence once.

    >>> content_mask(np.array([0.95, 0.35, 0.2, 0.35]), np.array([0, 0, 0, 1]), 0.3, 0.4)
    array([ True, False, False,  True])
    >>> page = np.array([0, 0, 1, 1])
    >>> content_mask(np.array([0.99, 0.5, 0.8, 0.3]), page, 0.2, 0.6, relative_power=12)
    array([ True, False,  True,  True])
    >>> story = "The river rose overnight and flooded the town."
    >>> texts = [story, "Yes", story, "Yes"]
    >>> content_mask(np.full(4, 0.9), np.zeros(4), 0.5, texts=texts)
    array([ True,  True, False,  True])
    """
    proba = np.asarray(proba, dtype=float)
    keep = proba >= threshold
    if relative > 0:
        keep &= proba >= relative * page_max(proba, page) ** relative_power
    if texts is not None:
        keep &= ~later_copies(keep, page, texts)
    return keep


def later_copies(
    keep: np.ndarray,
    page: np.ndarray,
    texts: Sequence[str],
    min_tokens: int = REPEAT_MIN_TOKENS,
) -> np.ndarray:
    """Which of the lines that ``keep`` marks repeat the text of a marked line earlier on the
    same page (``page``: each line's page), counting only texts of at least ``min_tokens``
    tokens.

    A sentence or a headline that is content once is not content again: a headline repeated in
    a teaser under the article, a block printed twice, a notice under every product. Short
    texts may repeat within content (a code line, a table cell, a price), so they are left
    alone. In 3-fold cross-validation on WCXB dev, dropping such copies raised page F1 at the
    best decision by 0.0018 (paired bootstrap over the pages +0.0009 to +0.0028; forum pages
    +0.011, product +0.006, documentation -0.002).
    """
    keep = np.asarray(keep, dtype=bool)
    out = np.zeros(len(keep), dtype=bool)
    rows = np.flatnonzero(keep)
    if len(rows):  # among the marked lines alone, any earlier copy is a marked one
        kept_texts = [texts[i] for i in rows.tolist()]
        earlier = earlier_copy_max(
            np.ones(len(rows)), np.asarray(page)[rows], kept_texts, min_tokens
        )
        out[rows] = earlier > -np.inf
    return out


def drops_repeats(model: Any) -> bool:
    """Whether a fitted pipeline (or its final classifier) drops later copies of content texts
    (``drop_repeats``; False for models that have no such setting). A value that is not a bool
    raises :class:`~textclf.errors.ModelError`."""
    final = _final_step(model)
    value = getattr(final, "drop_repeats", False)
    if not isinstance(value, bool | np.bool_):
        raise ModelError(f"the model's drop_repeats is {value!r}, not True or False")
    return bool(value)


def earlier_copy_max(
    proba: np.ndarray,
    page: np.ndarray,
    texts: Sequence[str],
    min_tokens: int = REPEAT_MIN_TOKENS,
) -> np.ndarray:
    """For each line, the highest probability of the earlier lines of its page with the same
    text, when that text has at least ``min_tokens`` tokens; ``-inf`` otherwise.

    A line that :func:`content_mask` keeps is a later copy (:func:`later_copies`) exactly when
    this value reaches the page's bar, ``max(threshold, relative * page best ** power)``: an
    earlier copy is kept when its probability reaches that bar. So a grid of decisions can drop
    repeats with array operations.

    >>> texts = ["A long enough line of text", "Menu", "A long enough line of text"]
    >>> earlier_copy_max(np.array([0.4, 0.9, 0.7]), np.zeros(3), texts).tolist()
    [-inf, -inf, 0.4]
    """
    proba = np.asarray(proba, dtype=float)
    out = np.full(len(proba), -np.inf)
    best: dict[tuple[Any, str], float] = {}
    for i, key in enumerate(zip(np.asarray(page).tolist(), texts, strict=True)):
        earlier = best.get(key)
        if earlier is None:
            best[key] = proba[i]
        else:
            out[i] = earlier
            if proba[i] > earlier:
                best[key] = proba[i]
    rows = np.flatnonzero(out > -np.inf)
    if min_tokens > 1 and len(rows):
        short = token_counts([texts[i] for i in rows.tolist()]) < min_tokens
        out[rows[short]] = -np.inf
    return out


def choose_decision(
    proba: np.ndarray,
    y: np.ndarray,
    page: np.ndarray,
    tokens: np.ndarray,
    grid: Sequence[float] | None = None,
    relative_grid: Sequence[float] | None = None,
    texts: Sequence[str] | None = None,
    relative_power: float = 1.0,
    beta: float = 1.0,
) -> tuple[float, float]:
    """The (threshold, relative) pair of :func:`content_mask` (with ``relative_power``)
    maximising the mean over pages of the token-weighted F-beta of the content lines (F1 by
    default; ``beta`` 0.5 counts precision twice as much as recall, 2 the reverse); with
    ``texts`` (the lines' texts), of the content lines left once later copies of content texts
    are dropped, as :func:`content_mask` drops them with ``texts``.

    >>> proba, y, tokens = np.array([0.9, 0.4, 0.3]), np.array([1, 0, 1]), np.full(3, 10)
    >>> [choose_decision(proba, y, np.zeros(3), tokens, relative_grid=[0], beta=b)[0]
    ...  for b in (1, 0.25)]
    [0.05, 0.425]
    """
    return choose_decisions(
        proba, y, page, tokens, {"": beta}, grid, relative_grid, texts, relative_power
    )[""]


def choose_decisions(
    proba: np.ndarray,
    y: np.ndarray,
    page: np.ndarray,
    tokens: np.ndarray,
    betas: Mapping[str, float],
    grid: Sequence[float] | None = None,
    relative_grid: Sequence[float] | None = None,
    texts: Sequence[str] | None = None,
    relative_power: float = 1.0,
) -> dict[str, tuple[float, float]]:
    """:func:`choose_decision` for each beta of ``betas`` (name: beta), in one pass over the
    grid: each (threshold, relative) is applied once and scored for every beta."""
    b2 = {name: check_beta(beta) ** 2 for name, beta in betas.items()}
    thresholds = np.round(np.arange(0.05, 0.96, 0.025), 4) if grid is None else np.asarray(grid)
    relatives = RELATIVE_GRID if relative_grid is None else np.asarray(relative_grid)
    pages, inverse = np.unique(page, return_inverse=True)
    gold_tok = np.bincount(inverse, weights=tokens * (y == 1), minlength=len(pages))
    top = page_max(proba, page) ** relative_power
    copy_of = None if texts is None else earlier_copy_max(proba, np.asarray(page), texts)
    best = dict.fromkeys(b2, -1.0)
    chosen = dict.fromkeys(b2, (0.5, 0.0))
    for r in relatives:
        above_relative = proba >= r * top
        for t in thresholds:
            keep = (proba >= t) & above_relative
            if copy_of is not None:
                keep &= copy_of < np.maximum(t, r * top)
            pred_tok = np.bincount(inverse, weights=tokens * keep, minlength=len(pages))
            tp = np.bincount(inverse, weights=tokens * keep * (y == 1), minlength=len(pages))
            for name, w in b2.items():
                with np.errstate(divide="ignore", invalid="ignore"):
                    f = np.where(
                        pred_tok + gold_tok > 0, (1 + w) * tp / (pred_tok + w * gold_tok), 1.0
                    )
                score = float(f.mean())
                if score > best[name] + 1e-12:
                    best[name], chosen[name] = score, (float(t), float(r))
    return chosen


def choose_decision_and_presets(
    proba: np.ndarray,
    y: np.ndarray,
    page: np.ndarray,
    tokens: np.ndarray,
    presets: Mapping[str, float],
    **decision: Any,
) -> tuple[tuple[float, float], dict[str, tuple[float, float]]]:
    """The F1 decision and each preset's (name: beta), chosen in one pass
    (:func:`choose_decisions`; ``decision``: its other arguments)."""
    chosen = choose_decisions(proba, y, page, tokens, {"": 1.0, **presets}, **decision)
    return chosen.pop(""), chosen  # "" is no preset's name


def decision_grids(threshold: float | str, relative: float | str) -> dict[str, Any]:
    """:func:`choose_decision`'s ``grid`` and ``relative_grid`` for the settings: ``"auto"``
    searches the default grid, a number is the only choice."""
    return {
        "grid": None if threshold == "auto" else [float(threshold)],
        "relative_grid": None if relative == "auto" else [float(relative)],
    }


def check_beta(beta: Any, name: str = "beta") -> float:
    """An F-beta's ``beta`` checked: a finite number > 0 (not a bool)."""
    if (
        isinstance(beta, bool)
        or not isinstance(beta, numbers.Real)
        or not 0 < float(beta) < float("inf")
    ):
        raise ConfigError(f"{name} must be a number > 0, got {beta!r}")
    return float(beta)


def check_presets(presets: Any, name: str = "presets") -> dict[str, float]:
    """Decision presets checked: a mapping of names (lower case, ``^[a-z][a-z0-9_]*$``) to the
    beta of the F-beta each maximises; a name mapped to ``None`` is left out (how a config
    turns a preset off). ``None``: :data:`DEFAULT_PRESETS`."""
    if presets is None:
        return dict(DEFAULT_PRESETS)
    if not isinstance(presets, Mapping):
        raise ConfigError(f"{name} must map preset names to betas, got {presets!r}")
    out = {}
    for key, beta in presets.items():
        if not isinstance(key, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", key):
            raise ConfigError(f"{name}: preset names are lower-case identifiers, got {key!r}")
        if beta is not None:
            out[key] = check_beta(beta, f"{name}.{key}")
    return out


def preset_params(presets: Mapping[str, tuple[float, float]], prefix: str = "") -> dict[str, float]:
    """The presets as flat run params: ``<prefix>favor_<name>.threshold`` and ``.relative``."""
    return {
        f"{prefix}favor_{name}.{part}": value
        for name, pair in presets.items()
        for part, value in zip(("threshold", "relative"), pair, strict=True)
    }


def presets_of(model: Any) -> dict[str, tuple[float, float]]:
    """The decision presets of a fitted pipeline (or of its final classifier): name ->
    (threshold, relative); empty for models trained without them. A value that is not a pair
    of numbers in [0, 1] raises :class:`~textclf.errors.ModelError`."""
    found = getattr(_final_step(model), "presets_", None) or {}
    out = {}
    for name, pair in dict(found).items():
        values = tuple(pair) if isinstance(pair, tuple | list) else ()
        if len(values) != 2 or not all(
            isinstance(v, numbers.Real) and not isinstance(v, bool) and 0 <= float(v) <= 1
            for v in values
        ):
            raise ModelError(f"the model's preset {name!r} is {pair!r}, not two numbers in [0, 1]")
        out[str(name)] = (float(values[0]), float(values[1]))
    return out


def preset_keeps(
    proba: np.ndarray,
    lines: Any,
    decision: Decision,
    presets: Mapping[str, tuple[float, float]],
) -> dict[str, np.ndarray]:
    """Each preset's content mask (``int8``) of ``lines`` (a table with ``page_id`` and
    ``text``, whole pages in order) from their probabilities: ``decision`` with the preset's
    threshold and relative part."""
    page, texts = np.asarray(lines["page_id"]), list(lines["text"])
    return {
        name: decision._replace(threshold=t, relative=r).mask(proba, page, texts).astype(np.int8)
        for name, (t, r) in presets.items()
    }


def choose_threshold(
    proba: np.ndarray,
    y: np.ndarray,
    page: np.ndarray,
    tokens: np.ndarray,
    grid: Sequence[float] | None = None,
) -> float:
    """The threshold maximising the mean over pages of token-weighted F1 of the content lines
    (no relative part)."""
    return choose_decision(proba, y, page, tokens, grid=grid, relative_grid=[0.0])[0]


def build_pipeline(
    estimator: str = "hgb",
    estimator_params: dict[str, Any] | None = None,
    features: dict[str, Any] | None = None,
    stack: dict[str, Any] | None = None,
) -> Pipeline:
    """The model: featurizer and stacked classifier in one sklearn Pipeline.

    Settings are checked here, before any data is read (``stages``, ``decide_on``, the
    featurizer's and the estimator's parameter values)."""
    stack = dict(stack or {})
    featurizer = LineFeaturizer(**dict(features or {}))
    try:
        featurizer.check_params()
    except InputError as exc:
        raise ConfigError(f"features.{exc}") from None
    if "stages" in stack and (
        isinstance(stack["stages"], bool)
        or not isinstance(stack["stages"], int)
        or stack["stages"] < 1
    ):
        raise ConfigError(f"model.stages must be an int >= 1, got {stack['stages']!r}")
    if "decide_on" in stack and stack["decide_on"] not in DECIDE_ON:
        raise ConfigError(f"decide_on must be one of {DECIDE_ON}, got {stack['decide_on']!r}")
    if "relative_power" in stack:
        check_relative_power(stack["relative_power"], "model.relative_power")
    if "presets" in stack:
        stack["presets"] = check_presets(stack["presets"], "model.presets")
    return Pipeline(
        [
            ("features", featurizer),
            (
                "model",
                StackedLineClassifier(make_estimator(estimator, estimator_params), **stack),
            ),
        ]
    )
