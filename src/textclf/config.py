"""Typed configuration: the dataclass schemas Hydra's YAML is checked against.

Hydra stops at the entry points: each ``main(cfg)`` calls :func:`to_config` once and passes typed
dataclasses to plain functions, which never see a ``DictConfig``.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, ParamSpec, TypeVar

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from textclf.errors import ConfigError, TextclfError
from textclf.labels import AlignConfig
from textclf.render import RenderOptions
from textclf.topics import TopicsConfig

__all__ = [
    "DataConfig",
    "EvaluateConfig",
    "FeaturesConfig",
    "MlflowConfig",
    "ModelConfig",
    "PathsConfig",
    "PrepareConfig",
    "SplitConfig",
    "TopicModelConfig",
    "TrainConfig",
    "project_root",
    "register_resolvers",
    "to_config",
]

T = TypeVar("T")
P = ParamSpec("P")
R = TypeVar("R")


def project_root() -> Path:
    """The project folder: ``$TEXTCLF_ROOT``, else the checkout this package runs from, else cwd."""
    env = os.environ.get("TEXTCLF_ROOT")
    if env:
        return Path(env).resolve()
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "conf").is_dir() and (checkout / "pyproject.toml").is_file():
        return checkout
    for folder in (Path.cwd(), *Path.cwd().parents):
        if (folder / "conf").is_dir() and (folder / "pyproject.toml").is_file():
            return folder
    return Path.cwd().resolve()


def register_resolvers() -> None:
    """Register ``${textclf_root:}`` (absolute project folder) and ``${abspath:p}``."""
    if not OmegaConf.has_resolver("textclf_root"):
        OmegaConf.register_new_resolver("textclf_root", lambda: str(project_root()))
    if not OmegaConf.has_resolver("abspath"):
        OmegaConf.register_new_resolver(
            "abspath", lambda p: str((project_root() / os.path.expanduser(p)).resolve())
        )


register_resolvers()


@dataclass
class PathsConfig:
    """Where things live. Every path is absolute once resolved."""

    root: str = "${textclf_root:}"
    seeds_dir: str = "${paths.root}/seeds"
    train_pages_dir: str = "${paths.seeds_dir}/train"
    data_dir: str = "${paths.root}/data"
    raw_dir: str = "${paths.data_dir}/raw"
    interim_dir: str = "${paths.data_dir}/interim"
    processed_dir: str = "${paths.data_dir}/processed"
    corpora_dir: str = "${abspath:${oc.env:TEXTCLF_CORPORA_DIR,${paths.raw_dir}/corpora}}"
    dataset_dir: str = "${paths.processed_dir}/dataset"
    reports_dir: str = "${paths.root}/reports"
    output_dir: str = "${paths.root}/outputs"


@dataclass
class SplitConfig:
    """WCXB dev is split into train and validation by domain: no domain is in both."""

    validation_fraction: float = 0.2
    seed: int = 13


@dataclass
class DownloadConfig:
    """Where ``make data`` fetches the corpora from when the corpora folder is missing."""

    enabled: bool = True
    base_url: str = "https://github.com"
    timeout: float = 60.0


@dataclass
class DataConfig:
    """What goes into the line-level datasets and how lines are labeled."""

    sources: list[str] = field(default_factory=lambda: ["seeds", "wcxb", "scrapinghub"])
    render: RenderOptions = field(default_factory=RenderOptions)
    align: AlignConfig = field(default_factory=AlignConfig)
    split: SplitConfig = field(default_factory=SplitConfig)
    download: DownloadConfig = field(default_factory=DownloadConfig)
    # At most this many pages per corpus (0: all). For quick debug builds.
    limit: int = 0
    n_jobs: int = 2
    force: bool = False


@dataclass
class PrepareConfig:
    """``make data``: build the datasets."""

    paths: PathsConfig = field(default_factory=PathsConfig)
    data: DataConfig = field(default_factory=DataConfig)
    topics: TopicsConfig = field(default_factory=TopicsConfig)


@dataclass
class FeaturesConfig:
    """``LineFeaturizer`` settings (see textclf.features)."""

    neighbours: bool = True
    blocks: bool = True
    context: bool = True
    corpus_frequency: bool = True
    min_pages: int = 2
    text_model: bool = True
    text_features: int = 262144
    sections: bool = True
    neighbour_scores: bool = True
    score_context: bool = True
    context_text: bool = False
    blank_dropout: float = 0.3
    word_dropout: float = 0.15


@dataclass
class ModelConfig:
    """The estimator (by registry name) and the stacking around it."""

    name: str = "hgb"
    params: dict[str, Any] = field(default_factory=dict)
    stages: int = 1
    cv: int = 3
    # "auto": chosen where decide_on says; or a number in [0, 1].
    threshold: str = "auto"
    # Training weights of the lines: "page_tokens" (pages weigh alike, lines by their tokens, as
    # the page F1 counts them) or "none".
    weighting: str = "page_tokens"
    # Page-relative decision: a line must also reach this share of its page's highest content
    # probability. "auto": chosen with the threshold; 0 turns it off.
    relative: str = "auto"
    # Where the "auto" threshold and relative are chosen: a held-out split of the dataset (not one
    # of fit_splits); "crossval" for the held-out predictions of a cross-validation (folds of
    # whole domains) over the pages the registered model is fitted on; or "oof" for out-of-fold
    # predictions of the training split. conf/model/*.yaml set "crossval".
    decide_on: str = "validation"
    # Folds of that cross-validation (decide_on=crossval).
    decision_folds: int = 3
    # A line that repeats the text of a content line earlier on its page is boilerplate.
    drop_repeats: bool = True
    # The page's highest probability is raised to this power before `relative` takes its share:
    # 1 is the plain share; higher asks more of the pages whose best line the model is sure of.
    relative_power: float = 1.0
    # Decisions chosen beside the default one, where and when it is chosen, each maximising an
    # F-beta (name: beta); `favor="<name>"` in textclf.predict uses one. A preset set to null
    # is not chosen (`model.presets.recall=null`); `+model.presets.strict=0.25` adds one.
    presets: dict[str, Optional[float]] = field(  # noqa: UP045 (OmegaConf reads Optional)
        default_factory=lambda: {"precision": 0.5, "recall": 2.0}
    )


@dataclass
class MlflowConfig:
    """Where runs go. An empty tracking_uri means $MLFLOW_TRACKING_URI or <project>/mlflow.db."""

    tracking_uri: str = ""
    experiment: str = "textclf-boilerplate"
    registered_model: str = "textclf-boilerplate"
    register: bool = True
    # The metric that decides whether a new model becomes the champion (higher is better).
    champion_metric: str = "validation/page_f1"
    # When the champion's run scored other validation lines (pages, texts or labels), the
    # scores are not comparable: "keep" leaves the alias where it is (with a warning),
    # "replace" moves it to the new model, "compare" compares the logged scores anyway.
    champion_on_new_dataset: str = "keep"
    wrong_lines_sample: int = 300


@dataclass
class TopicModelConfig:
    """The topic model (``conf/topic_model/default.yaml``): taxonomy, recipe, gold set, MLflow.

    ``params`` are :class:`textclf.topic_model.TopicClassifier` hyper-parameters; the other
    fields say how its training targets are built from the weak (rule) labels (see
    :mod:`textclf.topic_train`).
    """

    topics: TopicsConfig = field(default_factory=TopicsConfig)
    params: dict[str, Any] = field(default_factory=dict)
    # Label smoothing: a content line of >= smooth_min_words words gets topic t when >=
    # smooth_min_lines and >= smooth_min_share of its page's content lines have t by the rules.
    # These defaults serve a config built in code (the tests); conf/topic_model/default.yaml
    # sets the build's recipe.
    smooth_min_share: float = 0.3
    smooth_min_lines: int = 2
    smooth_min_words: int = 8
    # Share of rule-positive lines added again with their rule matches masked out.
    keyword_masking: float = 0.5
    # Add every keyword of the taxonomy as a one-line example of its topic.
    keyword_lines: bool = True
    # Thresholds are chosen on validation, then on the WCXB part of the gold set for the topics
    # with at least this many positives there.
    gold_min_positives: int = 10
    # The gold lines' F1 of each threshold is averaged over this many grid steps on each side
    # before the best is taken (0: the raw F1): a few dozen positives make a jagged curve.
    gold_threshold_smoothing: int = 2
    gold_path: str = "${paths.root}/annotations/topics_gold.tsv"
    # Evaluate: a path or MLflow URI; empty means models:/<registered_model>@champion.
    model_uri: str = ""
    experiment: str = "textclf-topics"
    registered_model: str = "textclf-topics"
    register: bool = True
    # The champion alias moves only when this metric (higher is better) improves.
    champion_metric: str = "gold_wcxb/macro_f1"
    max_disagreements: int = 400


@dataclass
class TrainConfig:
    """``make train``: fit on ``fit_splits``, score on ``eval_splits``, log everything to MLflow."""

    paths: PathsConfig = field(default_factory=PathsConfig)
    features: FeaturesConfig = field(default_factory=FeaturesConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    mlflow: MlflowConfig = field(default_factory=MlflowConfig)
    tasks: list[str] = field(default_factory=lambda: ["boilerplate"])
    fit_splits: list[str] = field(default_factory=lambda: ["train"])
    eval_splits: list[str] = field(default_factory=lambda: ["validation"])
    # Boilerplate model: after scoring eval_splits, fit it again on these splits with the same
    # settings and decision, and register that one. Empty (or equal to fit_splits): no refit.
    # conf/train.yaml sets [train, validation]; a TrainConfig built in code does not refit.
    refit_splits: list[str] = field(default_factory=list)
    # Fit on at most this many pages (a seeded sample of each fitting set; 0: all of them).
    max_fit_pages: int = 0
    # Boilerplate model: eval_splits (and `make cv`'s held-out folds) scored again written
    # another way (textclf.variants), with the same decision.
    input_variants: list[str] = field(default_factory=lambda: ["no_blank_lines", "unknown_words"])
    run_name: str = ""
    seed: int = 0
    topic_model: TopicModelConfig = field(default_factory=TopicModelConfig)


@dataclass
class EvaluateConfig:
    """``make eval``: score a model (default: the champion) on every test split, with baselines."""

    paths: PathsConfig = field(default_factory=PathsConfig)
    mlflow: MlflowConfig = field(default_factory=MlflowConfig)
    tasks: list[str] = field(default_factory=lambda: ["boilerplate"])
    # A path or MLflow URI; empty means models:/<registered_model>@champion.
    model_uri: str = ""
    splits: list[str] = field(default_factory=lambda: ["wcxb_test", "scrapinghub", "seeds"])
    baselines: list[str] = field(default_factory=lambda: ["keep_all", "line_rules"])
    # HTML extractors scored on the same corpus pages, from their HTML (textclf.extractors).
    extractors: list[str] = field(default_factory=lambda: ["trafilatura", "readability", "justext"])
    # The model scored again on the same lines written another way (textclf.evaluate).
    input_variants: list[str] = field(
        default_factory=lambda: ["no_blank_lines", "blank_lines_everywhere", "unknown_words"]
    )
    # The model scored on the corpus pages' HTML written as text another way (textclf.render).
    render_variants: list[str] = field(default_factory=lambda: ["text_nodes"])
    topic_model: TopicModelConfig = field(default_factory=TopicModelConfig)


def exit_on_error(func: Callable[P, R]) -> Callable[P, R]:
    """Turn a :class:`TextclfError` into a one-line message and exit status 1, not a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except TextclfError as exc:
            print(f"error: {exc}", file=sys.stderr)
            raise SystemExit(1) from None

    return wrapper


def to_config(cfg: DictConfig | dict[str, Any], schema: type[T]) -> T:
    """Validate a composed config against ``schema`` and return the typed object.

    Unknown keys and wrong types raise :class:`ConfigError` naming the key.
    """
    try:
        merged = OmegaConf.merge(OmegaConf.structured(schema), cfg)
        merged_obj = OmegaConf.to_object(merged)
    except OmegaConfBaseException as exc:
        raise ConfigError(f"invalid configuration: {exc}") from exc
    assert isinstance(merged_obj, schema)
    return merged_obj
