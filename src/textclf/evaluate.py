"""``make eval``: score a model (default: the registered champion) on every test split.

    python -m textclf.evaluate                                   # the champion
    python -m textclf.evaluate model_uri=models:/textclf-boilerplate/3

Baselines (keep every line; a C4-style line filter) are scored on the same lines in the same run,
and HTML extractors (trafilatura, readability, jusText) on the same pages' HTML (``extractors``; see
:mod:`textclf.extractors`). The model is also scored on the same lines written another way
(``input_variants``, :mod:`textclf.variants`): without blank lines, as many HTML-to-text tools
write pages, or with a blank line between every two lines; and with each of its decision
presets (``favor``, :attr:`textclf.predict.Classifier.presets`) on the same probabilities. The
summary table is printed and saved as a run artifact and under reports/.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import hydra
import numpy as np
from omegaconf import DictConfig, OmegaConf

from textclf import tracking
from textclf.baselines import get_baseline
from textclf.config import EvaluateConfig, exit_on_error, to_config
from textclf.corpora import SOURCES
from textclf.dataset import load_dataset, read_fingerprint
from textclf.errors import ConfigError, ModelNotFoundError
from textclf.extractors import check_extractors, extract_pages
from textclf.features import MODEL_INPUT
from textclf.models import decision_of, preset_keeps, preset_params, presets_of
from textclf.predict import Classifier
from textclf.reporting import markdown_table
from textclf.scoring import page_predictions, score_difference, score_pages, score_split
from textclf.variants import (
    INPUT_VARIANTS,
    RENDER_VARIANTS,
    check_input_variants,
    check_render_variants,
    variant_keeps,
)

__all__ = ["evaluate", "evaluate_boilerplate", "load_pipeline", "main"]

log = logging.getLogger(__name__)

SUMMARY_COLUMNS = [
    "system",
    "split",
    "line_f1",
    "page_f1",
    "page_f1_95ci",
    "page_precision",
    "page_recall",
    "shingle_f1",
    "shingle_f1_95ci",
    "snippet_with_rate",
    "snippet_without_rate",
]


def load_pipeline(model_uri: str, tracking_uri: str | None = None) -> Any:
    """Load a fitted pipeline from a skops file, a logged-model folder or an MLflow URI."""
    from textclf.serialization import load_model_file

    path = Path(model_uri)
    if path.is_file():
        return load_model_file(path)
    if path.is_dir():
        return load_model_file(path / "model.skops")
    from textclf.predict import URI_SCHEME

    if not URI_SCHEME.match(model_uri):  # a path, not a URI
        raise ModelNotFoundError(
            f"no model file at {model_uri}: pass a .skops file, a logged-model folder or an "
            "MLflow URI (models:/..., runs:/...)"
        )
    # The downloaded copy is only needed while loading: nothing is left behind in /tmp.
    with tempfile.TemporaryDirectory(prefix="textclf-model-") as tmp:
        try:
            folder = tracking.download_model_dir(model_uri, tmp, tracking_uri)
        except Exception as exc:
            raise ModelNotFoundError(
                f"could not load model {model_uri}: {exc}. Train one with `make train`."
            ) from exc
        return load_model_file(folder / "model.skops")


def evaluate_boilerplate(cfg: EvaluateConfig) -> dict[str, Any]:
    """Score the model and the baselines on ``cfg.splits``; log one MLflow run."""
    uri = tracking.init_store(cfg.mlflow.tracking_uri or None)
    model_uri = cfg.model_uri or f"models:/{cfg.mlflow.registered_model}@champion"
    # The model version, its logged model and its training run: the eval run names them, and
    # its test metrics are linked to the logged model too (shown on the model's page).
    identity = tracking.evaluated_model(model_uri, uri)
    version = identity.get("model_version")
    pipe = load_pipeline(model_uri, uri)
    lines, pages = load_dataset(Path(cfg.paths.dataset_dir))
    unknown = [s for s in cfg.splits if s not in lines]
    if unknown:  # before any run is started or any split scored
        raise ConfigError(f"unknown split(s) {unknown}; the dataset has {list(lines)}")
    extractors = check_extractors(cfg.extractors)  # before any run: a missing one fails now
    check_input_variants(cfg.input_variants, "input_variants")
    renderers = {
        name: RENDER_VARIANTS[name][1]
        for name in check_render_variants(cfg.render_variants, "render_variants")
    }
    # The extractors, and the renderers of the same pages' HTML written as text another way (for
    # the model), in one pass over the corpora before any run starts: pages missing from the
    # corpora fail here. The seeds have no HTML. (The registries' names are distinct.)
    functions = {name: f for name, (_, f) in extractors.items()} | renderers
    from_html = {
        split: _extract_split(functions, pages[split].to_dict(), cfg.paths.corpora_dir)
        for split in cfg.splits
    }
    extracted = {
        s: {n: t for n, t in out.items() if n in extractors} for s, out in from_html.items()
    }
    rendered = {s: {n: t for n, t in out.items() if n in renderers} for s, out in from_html.items()}
    # The page API, as users call it, reads the rendered variants (its decision is the model's).
    classifier = Classifier(pipe, source=model_uri) if renderers else None
    decision = decision_of(pipe)
    threshold, relative = float(decision.threshold), float(decision.relative)
    presets = presets_of(pipe)
    preset_systems = {name: f"textclf (favor {name})" for name in presets}
    rows: list[dict[str, Any]] = []
    metrics: dict[str, float] = {}
    wrong_seed_lines: list[str] = []
    versus: list[dict[str, Any]] = []
    run_name = (
        f"eval-{cfg.mlflow.registered_model}-v{version}"
        if version
        else "eval-" + Path(model_uri).name
    )
    tags = {"task": "boilerplate", "model_uri": model_uri, "model_version": "", **identity}
    with tracking.start_run(cfg.mlflow.experiment + "-eval", run_name, uri, tags=tags) as run:
        fingerprint = read_fingerprint(Path(cfg.paths.dataset_dir)) or "unknown"
        tracking.log_params(
            {
                "model_uri": model_uri,
                "model_version": version or "",
                "threshold": threshold,
                "relative_threshold": relative,
                "drop_repeats": decision.drop_repeats,
                **preset_params(presets),
                **{f"extractor/{name}": v for name, (v, _) in extractors.items()},
            }
        )
        for split in cfg.splits:
            df = lines[split].to_pandas()
            pg = pages[split].to_dict()
            if df.empty:
                log.warning("split %s is empty; skipped", split)
                continue
            tracking.log_dataset_input(
                df.head(1000)[[*MODEL_INPUT, "label"]],
                name=f"textclf-{split}",
                source=str(cfg.paths.dataset_dir),
                digest=fingerprint,
                context="evaluation",
            )
            start = time.perf_counter()
            proba = pipe.predict_proba(df[MODEL_INPUT])[:, 1]
            seconds = time.perf_counter() - start
            columns = df.to_dict("list")  # once per split: the model and every baseline use it
            texts = columns["text"]
            keep = decision.mask(proba, df["page_id"].to_numpy(), texts).astype(np.int8)
            scores = score_split(columns, pg, keep, intervals=True)
            scores["lines_per_second"] = len(df) / max(seconds, 1e-9)
            metrics.update({f"{split}/{k}": v for k, v in scores.items()})
            rows.append({"system": "textclf", "split": split, **scores, **_intervals(scores)})
            for preset, p_keep in preset_keeps(proba, df, decision, presets).items():
                p_scores = score_split(columns, pg, p_keep, intervals=True)
                metrics.update({f"{split}/favor_{preset}/{k}": v for k, v in p_scores.items()})
                system = preset_systems[preset]
                rows.append({"system": system, "split": split, **p_scores, **_intervals(p_scores)})
            variants = variant_keeps(pipe, df[MODEL_INPUT], cfg.input_variants, decision)
            for variant, v_keep in variants.items():
                v_scores = score_split(columns, pg, v_keep, intervals=True)
                metrics.update({f"{split}/{variant}/{k}": v for k, v in v_scores.items()})
                system = f"textclf ({INPUT_VARIANTS[variant][0]})"
                rows.append({"system": system, "split": split, **v_scores, **_intervals(v_scores)})
            for name, texts_by_page in rendered.get(split, {}).items():
                r_scores = score_pages(
                    pg, _model_contents(classifier, texts_by_page), intervals=True
                )
                metrics.update({f"{split}/{name}/{k}": v for k, v in r_scores.items()})
                system = f"textclf ({RENDER_VARIANTS[name][0]}, from HTML)"
                rows.append({"system": system, "split": split, **r_scores, **_intervals(r_scores)})
            for name in cfg.baselines:
                b_scores = score_split(columns, pg, get_baseline(name)(texts), intervals=True)
                metrics.update({f"{split}/{name}/{k}": v for k, v in b_scores.items()})
                rows.append({"system": name, "split": split, **b_scores, **_intervals(b_scores)})
            model_texts = page_predictions(columns["page_id"], texts, keep)
            for name, texts_by_page in extracted.get(split, {}).items():
                e_scores = score_pages(pg, texts_by_page, intervals=True)
                metrics.update({f"{split}/{name}/{k}": v for k, v in e_scores.items()})
                system = f"{name} {extractors[name][0]} (HTML)"
                rows.append({"system": system, "split": split, **e_scores, **_intervals(e_scores)})
                diff = score_difference(pg, model_texts, texts_by_page)
                metrics.update({f"{split}/textclf_vs_{name}/{k}": v for k, v in diff.items()})
                if diff:
                    versus.append({"split": split, "versus": system, **_differences(diff)})
            if split == "seeds":
                wrong_seed_lines = _wrong_lines(df, proba, keep)
        table = markdown_table(rows, SUMMARY_COLUMNS)
        per_type = _per_type_table(rows, ["textclf", *preset_systems.values()])
        summary = (
            f"# Evaluation of {model_uri} (version {version or '-'}, threshold {threshold:.3f}, "
            f"relative {relative:.2f}{', repeats dropped' if decision.drop_repeats else ''})\n\n"
            + table
            + "\n95ci: 95% bootstrap interval over the split's pages (how far the score could "
            "move on another sample of such pages). (HTML): an extractor run on the pages' "
            "HTML, for reference; textclf and the baselines see only the rendered text. "
            "textclf (...): the same lines given to the model written that way.\n"
            + _versus_section(versus)
            + "\n## textclf page F1 per page type (with its decision and each preset)\n\n"
            + per_type
            + "\n## Seed lines labeled wrong\n\n"
            + ("\n".join(wrong_seed_lines) if wrong_seed_lines else "none")
            + "\n"
        )
        tracking.log_metrics(metrics, model_id=identity.get("model_id"))
        tracking.publish_summary(summary, cfg.paths.reports_dir, "eval_boilerplate.md")
        return {
            "run_id": run.info.run_id,
            "metrics": metrics,
            "summary": summary,
            "version": version,
        }


def _extract_split(
    functions: dict[str, Callable[[str], str]], pages: dict[str, list[Any]], corpora_dir: str
) -> dict[str, dict[str, str]]:
    """Each function's text (``html -> text``: an extractor or a renderer) of every page of a
    split (``{name: {page id: text}}``); none for a split with pages that have no HTML (the
    seed pages are text)."""
    sources = dict(zip(pages["page_id"], pages["source"], strict=True))
    if not sources or any(s not in SOURCES for s in sources.values()):  # SOURCES: have HTML
        return {}
    return extract_pages(functions, corpora_dir, sources)


def _model_contents(clf: Classifier | None, texts_by_page: dict[str, str]) -> dict[str, str]:
    """The model's content of each page, given as its text (``{page id: text}``)."""
    assert clf is not None  # made whenever there is a render variant
    ids = list(texts_by_page)
    predicted = clf.pipe(texts_by_page[i] for i in ids)
    return {pid: page.content for pid, page in zip(ids, predicted, strict=True)}


def _differences(diff: dict[str, float]) -> dict[str, str]:
    """Paired differences as table cells ("+0.005 (-0.012 to +0.021)")."""
    return {
        name: f"{diff[f'{name}_diff']:+.3f} ({diff[f'{name}_diff_low']:+.3f} to "
        f"{diff[f'{name}_diff_high']:+.3f})"
        for name in ("page_f1", "shingle_f1")
    }


def _versus_section(versus: list[dict[str, Any]]) -> str:
    if not versus:
        return ""
    return (
        "\n## textclf minus each HTML extractor, on the same pages\n\n"
        + markdown_table(versus, ["split", "versus", "page_f1", "shingle_f1"])
        + "\nIn brackets: the 95% interval of a paired bootstrap over the pages (both systems "
        "scored on the same resamples): an interval that holds 0 is a difference this test set "
        "cannot tell from noise.\n"
    )


def _intervals(scores: dict[str, float]) -> dict[str, str]:
    """The bootstrap intervals of ``scores`` as table cells ("0.853-0.878")."""
    return {
        f"{name}_95ci": f"{scores[f'{name}_low']:.3f}-{scores[f'{name}_high']:.3f}"
        for name in ("page_f1", "shingle_f1")
        if f"{name}_low" in scores
    }


def _per_type_table(rows: list[dict[str, Any]], systems: Sequence[str]) -> str:
    """Page F1 per page type of the rows of ``systems`` (the model with its decision and with
    each preset)."""
    model_rows = [r for r in rows if r["system"] in systems]
    types = sorted({k.split("/", 1)[1] for r in model_rows for k in r if k.startswith("page_f1/")})
    out = [
        {"split": r["split"], "system": r["system"], **{t: r.get(f"page_f1/{t}") for t in types}}
        for r in model_rows
    ]
    return markdown_table(out, ["split", "system", *types])


def _wrong_lines(df: Any, proba: np.ndarray, keep: np.ndarray) -> list[str]:
    out = []
    for i, (label, k) in enumerate(zip(df["label"], keep, strict=True)):
        if label >= 0 and label != k:
            want = "content" if label == 1 else "boilerplate"
            out.append(
                f"- {df['page_id'][i]} line {df['line_index'][i] + 1}: labeled {want}, "
                f"p(content)={proba[i]:.2f}: {df['text'][i][:100]!r}"
            )
    return out


def evaluate(cfg: EvaluateConfig) -> dict[str, Any]:
    if not cfg.tasks:
        raise ConfigError("tasks is empty: name boilerplate, topics or both")
    unknown = sorted(set(cfg.tasks) - {"boilerplate", "topics"})
    if unknown:
        raise ConfigError(f"unknown task(s) {unknown}; valid: boilerplate, topics")
    results: dict[str, Any] = {}
    if "boilerplate" in cfg.tasks:
        results["boilerplate"] = evaluate_boilerplate(cfg)
    if "topics" in cfg.tasks:
        from textclf.topic_train import evaluate_topics

        results["topics"] = evaluate_topics(cfg)
    return results


@hydra.main(version_base="1.3", config_path="../../conf", config_name="evaluate")
@exit_on_error
def main(dcfg: DictConfig) -> None:
    cfg = to_config(dcfg, EvaluateConfig)
    log.debug("config:\n%s", OmegaConf.to_yaml(dcfg))
    evaluate(cfg)


if __name__ == "__main__":
    main()
