"""Train and evaluate the topic model, tracked in MLflow (``make train`` / ``make eval``).

Training (:func:`train_topics`, when ``topics`` is in ``cfg.tasks``):

1. The weak labels: the rule topics of every line of ``cfg.fit_splits`` (content and
   boilerplate alike), as ``make data`` stored them. The topic names come from the dataset, so
   a topic added to ``conf/topics/default.yaml`` reaches the model after ``make data train``.
2. Label smoothing by page context (:func:`textclf.topic_model.smooth_targets`): the long
   content lines of a page whose content is largely about t get t too.
3. Keyword masking: a share of the rule-positive lines is added again with every rule match cut
   out, so the model must also learn the words around the keywords. Every keyword of the
   taxonomy is added as a one-line example of its topic.
4. Fit :class:`~textclf.topic_model.TopicClassifier`; choose each topic's threshold on
   validation (smoothed weak labels), then, for topics with enough positives there, on the WCXB
   part of the hand-annotated gold set (``annotations/topics_gold.tsv``). The Scrapinghub and
   seed parts of the gold set are never used for tuning.
5. Score the model and the rules alone on the gold set (per topic, micro and macro F1, per
   source), list the lines where they disagree, log everything, register the model as
   ``textclf-topics`` and move its ``champion`` alias when ``champion_metric`` (default
   ``gold_wcxb/macro_f1``) beats the champion's, re-scored on the current gold set. The WCXB
   part is where thresholds are tuned, so that score is in-sample for the thresholds (it
   compares models tuned the same way); the Scrapinghub and seed parts are the held-out ones.
   ``<split>/*`` metrics (validation) are those of the final model, on smoothed weak labels.

Evaluation (:func:`evaluate_topics`) scores the champion (or ``topic_model.model_uri``) the same
way on the gold set and writes ``reports/eval_topics.md``.
"""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from textclf import tracking
from textclf.errors import ConfigError
from textclf.features import MODEL_INPUT

__all__ = [
    "build_training_set",
    "dataset_topic_names",
    "evaluate_topics",
    "gold_evaluation",
    "load_gold",
    "taxonomy_data",
    "train_topics",
]

log = logging.getLogger(__name__)

GOLD_SOURCES = ("wcxb", "scrapinghub", "seeds")


def taxonomy_data(topics_cfg: Any) -> dict[str, dict[str, list[str]]]:
    """The taxonomy's rules as plain data (what a :class:`TopicClassifier` stores)."""
    from textclf.topics import topics_config

    config = topics_config(topics_cfg)
    return {
        name: {"keywords": list(t.keywords), "cased": list(t.cased), "patterns": list(t.patterns)}
        for name, t in config.taxonomy.items()
    }


def dataset_topic_names(dataset_dir: Path) -> list[str]:
    """The topic names the dataset was labeled with (from its card)."""
    card = Path(dataset_dir) / "card.json"
    try:
        return list(json.loads(card.read_text())["topics"])
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(f"cannot read the topics of the dataset from {card}: {exc}") from exc


def _check_names(dataset_names: list[str], config_names: list[str], dataset_dir: Path) -> None:
    if dataset_names != config_names:
        raise ConfigError(
            f"the dataset at {dataset_dir} was labeled with topics {dataset_names}, but the "
            f"topics config has {config_names}: rebuild the dataset with `make data`"
        )


def _lines(lines: Any, splits: list[str]) -> pd.DataFrame:
    missing = [s for s in splits if s not in lines]
    if missing:
        raise ConfigError(f"unknown split(s) {missing}; the dataset has {list(lines)}")
    return pd.concat([lines[s].to_pandas() for s in splits], ignore_index=True)


def _smoothed(frame: pd.DataFrame, names: list[str], tm: Any) -> tuple[np.ndarray, np.ndarray]:
    """(rule labels, smoothed targets) of the lines of ``frame``."""
    from textclf.topic_model import indicator, smooth_targets

    y = indicator(frame["topics"].tolist(), names)
    ys = smooth_targets(
        frame["page_id"].tolist(),
        frame["text"].tolist(),
        frame["label"].to_numpy() == 1,
        y,
        min_share=tm.smooth_min_share,
        min_lines=tm.smooth_min_lines,
        min_words=tm.smooth_min_words,
    )
    return y, ys


def build_training_set(
    frame: pd.DataFrame, names: list[str], taxonomy: dict[str, Any], tm: Any, seed: int = 0
) -> tuple[pd.DataFrame, np.ndarray, dict[str, float]]:
    """The training lines and 0/1 targets: smoothed weak labels, masked copies, keyword lines.

    ``frame`` holds dataset lines (``page_id``, ``text``, ``label``, ``topics``, pages
    contiguous). Added lines get page ids of their own, so they never count as page context.
    """
    from textclf.topic_model import mask_keywords

    y, ys = _smoothed(frame, names, tm)
    parts = [frame[["page_id", "text"]].reset_index(drop=True)]
    targets = [ys]
    stats = {
        "train_lines": float(len(frame)),
        "rule_positives": float(y.sum()),
        "smoothed_positives": float(ys.sum()),
    }
    positives = np.flatnonzero(y.any(axis=1))
    if tm.keyword_masking > 0 and len(positives):
        rng = np.random.default_rng(seed)
        n = min(len(positives), round(len(positives) * tm.keyword_masking))
        chosen = np.sort(rng.choice(positives, n, replace=False))
        masked = mask_keywords(frame["text"].to_numpy()[chosen].tolist(), taxonomy)
        keep = [i for i, t in enumerate(masked) if t]
        parts.append(
            pd.DataFrame(
                {"page_id": [f"masked:{i}" for i in keep], "text": [masked[i] for i in keep]}
            )
        )
        targets.append(ys[chosen[keep]])
        stats["masked_lines"] = float(len(keep))
    if tm.keyword_lines:
        texts, rows = [], []
        for j, name in enumerate(names):
            for term in [*taxonomy[name]["keywords"], *taxonomy[name]["cased"]]:
                texts.append(term)
                row = np.zeros(len(names), dtype=np.int8)
                row[j] = 1
                rows.append(row)
        if texts:
            parts.append(
                pd.DataFrame(
                    {"page_id": [f"keyword:{i}" for i in range(len(texts))], "text": texts}
                )
            )
            targets.append(np.vstack(rows))
        stats["keyword_lines"] = float(len(texts))
    return pd.concat(parts, ignore_index=True), np.vstack(targets), stats


# --- the gold set -----------------------------------------------------------------------


def load_gold(path: str | Path, lines: Any, names: list[str]) -> pd.DataFrame:
    """The resolved gold set: every line of the gold pages, ``gold_topics`` on gold lines.

    Entries whose page is not in the dataset (a debug build with ``data.limit``) are left out
    with a warning. When some annotated lines no longer match their page, the corpus or its
    rendering changed: that is an error (re-annotate them). When *none* of a source's annotated
    lines on the dataset's pages match, the dataset holds another corpus that merely reuses page
    ids (a test fixture): that source's entries are left out with a warning.
    """
    from textclf.errors import AnnotationError
    from textclf.topic_gold import read_gold, resolve_gold

    entries = read_gold(path, names)
    gold = resolve_gold(entries, lines, missing_pages="skip", changed_lines="skip")
    changed = gold.attrs.get("changed", [])
    matched = gold[gold["gold_topics"].notna()]
    for source in sorted({e.source for e in entries}):
        bad = [c for c in changed if c.startswith(f"topic gold {source}/")]
        if not bad:
            continue
        if (matched["source"] == source).any():
            raise AnnotationError(
                f"{len(bad)} annotated {source} line(s) of {path} no longer match the dataset; "
                f"the first: {bad[0]}"
            )
        log.warning(
            "topic gold: none of the %d annotated %s lines on this dataset's pages matches "
            "(another corpus that reuses page ids?): they are not used",
            len(bad),
            source,
        )
        gold = gold[gold["source"] != source]
    found = int(gold["gold_topics"].notna().sum())
    if found < len(entries):
        log.warning(
            "topic gold: %d of %d annotated lines are not on this dataset's pages; "
            "scoring on the %d others",
            len(entries) - found,
            len(entries),
            found,
        )
    return gold.reset_index(drop=True)


def gold_evaluation(
    model: Any, gold_pages: pd.DataFrame, names: list[str], taxonomy: dict[str, Any]
) -> dict[str, Any]:
    """Score ``model`` and the rules alone on the gold lines (the model sees whole pages).

    Returns ``metrics`` (``gold/f1/<topic>``, ``gold/macro_f1``, ``gold/rules_macro_f1``, ...,
    and the same per source as ``gold_<source>/...``), ``rows`` (a per-topic table) and
    ``disagreements`` (a DataFrame of the gold lines where model and rules differ).
    """
    from textclf.topic_model import compiled_rules, f1_scores, indicator

    mask = gold_pages["gold_topics"].notna().to_numpy()
    if not mask.any():
        return {"metrics": {"gold/lines": 0.0}, "rows": [], "disagreements": pd.DataFrame()}
    predicted = model.predict(gold_pages[["page_id", "text"]])
    gold = gold_pages[mask].reset_index(drop=True)
    y = indicator(gold["gold_topics"].tolist(), names)
    pred = predicted[mask][:, [list(model.topics_).index(t) for t in names]]
    rules = indicator(compiled_rules(taxonomy).label_lines(gold["text"].tolist()), names)
    metrics: dict[str, float] = {"gold/lines": float(len(gold))}
    parts = {"gold": np.ones(len(gold), dtype=bool)}
    for source in GOLD_SOURCES:
        if (gold["source"] == source).any():
            parts[f"gold_{source}"] = (gold["source"] == source).to_numpy()
    for prefix, sel in parts.items():
        ours, theirs = f1_scores(y[sel], pred[sel], names), f1_scores(y[sel], rules[sel], names)
        metrics.update({f"{prefix}/{k}": v for k, v in ours.items() if not k.startswith("supp")})
        metrics.update({f"{prefix}/rules_{k}": v for k, v in theirs.items() if "/" not in k})
        metrics.update({f"{prefix}/rules_f1/{t}": theirs[f"f1/{t}"] for t in names})
        metrics[f"{prefix}/lines"] = float(sel.sum())
        rule = getattr(model, "page_rule_", None)
        metrics.update(_page_scores(gold[sel], y[sel], pred[sel], rules[sel], names, rule, prefix))
    overall, baseline = f1_scores(y, pred, names), f1_scores(y, rules, names)
    rows = []
    for t in names:
        rows.append(
            {
                "topic": t,
                "gold_lines": int(overall[f"support/{t}"]),
                "model_p": overall[f"precision/{t}"],
                "model_r": overall[f"recall/{t}"],
                "model_f1": overall[f"f1/{t}"],
                "rules_p": baseline[f"precision/{t}"],
                "rules_r": baseline[f"recall/{t}"],
                "rules_f1": baseline[f"f1/{t}"],
                "model_f1_wcxb": metrics.get(f"gold_wcxb/f1/{t}", math.nan),
                "rules_f1_wcxb": metrics.get(f"gold_wcxb/rules_f1/{t}", math.nan),
            }
        )
    rows.append(
        {
            "topic": "micro",
            "model_f1": overall["micro_f1"],
            "rules_f1": baseline["micro_f1"],
            "model_f1_wcxb": metrics.get("gold_wcxb/micro_f1", math.nan),
            "rules_f1_wcxb": metrics.get("gold_wcxb/rules_micro_f1", math.nan),
        }
    )
    rows.append(
        {
            "topic": "macro",
            "model_f1": overall["macro_f1"],
            "rules_f1": baseline["macro_f1"],
            "model_f1_wcxb": metrics.get("gold_wcxb/macro_f1", math.nan),
            "rules_f1_wcxb": metrics.get("gold_wcxb/rules_macro_f1", math.nan),
        }
    )
    differ = np.flatnonzero((pred != rules).any(axis=1))
    disagreements = pd.DataFrame(
        {
            "source": gold["source"].to_numpy()[differ],
            "page_id": gold["page_id"].to_numpy()[differ],
            "line": gold["line_index"].to_numpy()[differ],
            "gold": [",".join(gold["gold_topics"][i]) for i in differ],
            "model": [
                ",".join(t for t, v in zip(names, pred[i], strict=True) if v) for i in differ
            ],
            "rules": [
                ",".join(t for t, v in zip(names, rules[i], strict=True) if v) for i in differ
            ],
            "model_right": [int((pred[i] == y[i]).all()) for i in differ],
            "rules_right": [int((rules[i] == y[i]).all()) for i in differ],
            "text": [gold["text"][i] for i in differ],
        }
    )
    return {"metrics": metrics, "rows": rows, "disagreements": disagreements}


#: Pages with at least this many annotated content lines get page topics scored.
PAGE_MIN_LINES = 5


def _page_scores(
    gold: pd.DataFrame,
    y: np.ndarray,
    pred: np.ndarray,
    rules: np.ndarray,
    names: list[str],
    rule: Any,
    prefix: str,
) -> dict[str, float]:
    """Page topics rolled up (the model's page rule) from the annotated content lines, scored
    against the same roll-up of their gold topics: micro F1 over (page, topic) pairs, for the
    model and for the rules, on pages with at least ``PAGE_MIN_LINES`` such lines."""
    from textclf.topics import PageRule, page_topics

    rule = rule or PageRule()
    content = gold["label"].to_numpy() == 1
    # Pages are (source, page id): the ids of different corpora could coincide.
    pages = (gold["source"].astype(str) + "/" + gold["page_id"].astype(str)).to_numpy()
    counts = {"model": [0, 0, 0], "rules": [0, 0, 0]}  # overlap, predicted, gold pairs
    n_pages = 0
    for page in dict.fromkeys(pages[content]):
        rows = np.flatnonzero(content & (pages == page))
        if len(rows) < PAGE_MIN_LINES:
            continue
        n_pages += 1

        def roll(matrix: np.ndarray, rows: np.ndarray = rows) -> set[str]:
            tags = [[t for t, v in zip(names, matrix[i], strict=True) if v] for i in rows]
            return set(page_topics(tags, [True] * len(rows), rule))

        want = roll(y)
        for name, matrix in (("model", pred), ("rules", rules)):
            got = roll(matrix)
            counts[name][0] += len(got & want)
            counts[name][1] += len(got)
            counts[name][2] += len(want)
    if not n_pages:
        return {}
    out = {f"{prefix}/pages": float(n_pages)}
    for name, (overlap, predicted, wanted) in counts.items():
        key = "page_f1" if name == "model" else "rules_page_f1"
        # No topic on any page, in the gold set or the prediction: nothing to score.
        out[f"{prefix}/{key}"] = (
            2 * overlap / (predicted + wanted) if predicted + wanted else math.nan
        )
    return out


def _seed_checks(model: Any, lines: Any, names: list[str]) -> dict[str, float]:
    """Share of the seed pages' content lines tagged with each topic, and the share of seed
    pages whose page topics include it (1 or 0 with one seed page)."""
    from textclf.topics import page_topics

    if "seeds" not in lines or len(lines["seeds"]) == 0:
        return {}
    seeds = lines["seeds"].to_pandas()
    topics = model.predict_topics(seeds[["page_id", "text"]])
    content = (seeds["label"] == 1).to_numpy()
    out: dict[str, float] = {}
    for t in names:
        hits = [t in topics[i] for i in np.flatnonzero(content)]
        out[f"seeds/content_share/{t}"] = float(np.mean(hits)) if hits else math.nan
    tagged = dict.fromkeys(names, 0)
    groups = seeds.groupby("page_id", sort=False)
    for page_id, rows in groups:
        idx = rows.index.to_numpy()
        tags = page_topics([topics[i] for i in idx], content[idx].tolist(), model.page_rule_)
        for t in tags:
            if t in tagged:
                tagged[t] += 1
        log.info("seed page %s: page topics %s", page_id, tags)
    out.update({f"seeds/page_topic/{t}": n / groups.ngroups for t, n in tagged.items()})
    return out


def _f1_figure(rows: list[dict[str, Any]], title: str) -> Any:
    from textclf.reporting import _plt

    plt = _plt()
    topics = [r for r in rows if r["topic"] not in ("micro", "macro")]
    x = np.arange(len(topics))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.7 * len(topics) + 2), 4))
    ax.bar(x - 0.2, [r["rules_f1"] for r in topics], 0.4, label="rules", color="#bbbbbb")
    ax.bar(x + 0.2, [r["model_f1"] for r in topics], 0.4, label="model", color="#1f77b4")
    ax.set_xticks(x, [r["topic"] for r in topics], rotation=40, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("F1 on the gold set")
    ax.set_title(title)
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def _log_gold_artifacts(evaluation: dict[str, Any], title: str) -> None:
    """The per-topic F1 chart and the disagreements table, when there is a gold set."""
    import matplotlib.pyplot as plt

    if not evaluation["rows"]:
        return
    fig = _f1_figure(evaluation["rows"], title)
    tracking.log_figure(fig, "figures/gold_f1_per_topic.png")
    plt.close(fig)
    tracking.log_text_artifact(
        evaluation["disagreements"].to_csv(index=False), "gold_disagreements.csv"
    )


def _report(title: str, evaluation: dict[str, Any], extra: dict[str, float], n_rows: int) -> str:
    from textclf.reporting import markdown_table

    m = evaluation["metrics"]
    lines = [f"# {title}", ""]
    if not m.get("gold/lines"):
        lines.append("No gold line is on a page of this dataset: nothing to score.")
        lines += [f"- {k}: {v:.2f}" for k, v in sorted(extra.items())]
        return "\n".join(lines) + "\n"
    lines.append(
        f"Gold set: {int(m['gold/lines'])} lines. Macro F1 model {m['gold/macro_f1']:.3f} vs "
        f"rules {m['gold/rules_macro_f1']:.3f}; micro F1 model {m['gold/micro_f1']:.3f} vs "
        f"rules {m['gold/rules_micro_f1']:.3f}."
    )
    lines += ["", "## Per topic (all gold lines)", ""]
    columns = ["topic", "gold_lines", "model_p", "model_r", "model_f1", "rules_p", "rules_r"]
    columns += ["rules_f1", "model_f1_wcxb", "rules_f1_wcxb"]
    lines.append(markdown_table(evaluation["rows"], columns))
    lines += ["", "## Per source", ""]
    parts = []
    for prefix in ("gold", *(f"gold_{s}" for s in GOLD_SOURCES)):
        if f"{prefix}/lines" in m:
            parts.append(
                {
                    "part": prefix,
                    "lines": int(m[f"{prefix}/lines"]),
                    "model_macro_f1": m[f"{prefix}/macro_f1"],
                    "rules_macro_f1": m[f"{prefix}/rules_macro_f1"],
                    "model_micro_f1": m[f"{prefix}/micro_f1"],
                    "rules_micro_f1": m[f"{prefix}/rules_micro_f1"],
                    "pages": int(m.get(f"{prefix}/pages", 0)),
                    "model_page_f1": m.get(f"{prefix}/page_f1", math.nan),
                    "rules_page_f1": m.get(f"{prefix}/rules_page_f1", math.nan),
                }
            )
    lines.append(markdown_table(parts, list(parts[0]) if parts else ["part"]))
    if extra:
        lines += ["", "## Seed page", ""]
        lines += [f"- {k}: {v:.2f}" for k, v in sorted(extra.items())]
    dis = evaluation["disagreements"]
    lines += ["", f"## Lines where the model and the rules disagree ({len(dis)})", ""]
    for row in dis.head(n_rows).itertuples(index=False):
        verdict = (
            "model right"
            if row.model_right
            else ("rules right" if row.rules_right else "both wrong")
        )
        text = " ".join(str(row.text).split())[:160]
        lines.append(
            f"- {row.source}/{str(row.page_id)[:12]} line {row.line} ({verdict}): gold "
            f"[{row.gold}] model [{row.model}] rules [{row.rules}]: {text!r}"
        )
    return "\n".join(lines) + "\n"


# --- training ---------------------------------------------------------------------------


def train_topics(cfg: Any, *, config_dict: dict[str, Any] | None = None) -> dict[str, Any]:
    """Train the topic model on ``cfg.fit_splits`` (a :class:`~textclf.config.TrainConfig`),
    evaluate it on validation and the gold set, log one MLflow run and register the model."""

    from textclf.dataset import load_dataset, read_fingerprint
    from textclf.serialization import trusted_types
    from textclf.topic_model import TopicClassifier, check_smoothing, f1_scores
    from textclf.train import check_train_config, limit_pages

    check_train_config(cfg)  # held-out splits: thresholds are tuned on eval_splits
    tm = cfg.topic_model
    check_smoothing(
        tm.gold_threshold_smoothing, "topic_model.gold_threshold_smoothing", ConfigError
    )
    dataset_dir = Path(cfg.paths.dataset_dir)
    lines, _ = load_dataset(dataset_dir)
    taxonomy = taxonomy_data(tm.topics)
    names = dataset_topic_names(dataset_dir)
    _check_names(names, list(taxonomy), dataset_dir)
    train_df = limit_pages(_lines(lines, cfg.fit_splits), cfg.max_fit_pages, cfg.seed)
    frame, targets, stats = build_training_set(train_df, names, taxonomy, tm, cfg.seed)
    params = {"random_state": cfg.seed, **dict(tm.params)}
    model = TopicClassifier(
        names,
        taxonomy=taxonomy,
        page_rule={
            "min_lines": tm.topics.page_rule.min_lines,
            "min_share": tm.topics.page_rule.min_share,
        },
        **params,
    )
    # run_name (e.g. from an experiment overlay) names what the boilerplate run trained.
    name = f"topics-{cfg.run_name}" if cfg.run_name else "topics-linear"
    uri = tracking.init_store(cfg.mlflow.tracking_uri or None)
    with tracking.start_run(tm.experiment, name, uri, tags={"task": "topics"}) as run:
        flat = tracking.flatten(config_dict or asdict(cfg))
        # The boilerplate model's settings belong to its own runs; the taxonomy is an artifact.
        flat = {
            k: v
            for k, v in flat.items()
            if not k.startswith(("topic_model.topics.taxonomy", "model.", "features.", "mlflow."))
            and k != "refit_splits"
        }
        flat.pop("paths.root", None)
        flat["topic_model.topic_names"] = json.dumps(names)
        tracking.log_params(flat)
        tracking.log_dict_artifact(config_dict or asdict(cfg), "config.yaml")
        tracking.log_dict_artifact(taxonomy, "taxonomy.json")
        tracking.log_dataset_input(
            train_df.head(1000)[[*MODEL_INPUT, "topics"]].assign(
                topics=lambda d: d["topics"].map(",".join)
            ),
            name="textclf-lines",
            source=str(dataset_dir),
            digest=read_fingerprint(dataset_dir) or "unknown",
            context="training",
        )
        start = time.perf_counter()
        model.fit(frame, targets)
        metrics: dict[str, float] = {**stats, "fit_seconds": time.perf_counter() - start}
        log.info("topics: fitted on %d lines in %.1f s", len(frame), metrics["fit_seconds"])
        held_out = {}
        for split in cfg.eval_splits:
            df = _lines(lines, [split])
            _, ys = _smoothed(df, names, tm)
            model.tune_thresholds(df[["page_id", "text"]], ys)
            held_out[split] = (df[["page_id", "text"]], ys)
        gold_pages = load_gold(tm.gold_path, lines, names)
        wcxb = gold_pages[gold_pages["source"] == "wcxb"]
        if wcxb["gold_topics"].notna().any():
            from textclf.topic_model import indicator

            keep = wcxb["gold_topics"].notna().to_numpy()
            y_wcxb = np.zeros((len(wcxb), len(names)), dtype=np.int8)
            y_wcxb[keep] = indicator(wcxb["gold_topics"][keep].tolist(), names)
            counts = y_wcxb[keep].sum(axis=0)
            tuned = [t for t, c in zip(names, counts, strict=True) if c >= tm.gold_min_positives]
            # Whole pages go in (page context); only the gold lines count.
            model.tune_thresholds(
                wcxb[["page_id", "text"]],
                y_wcxb,
                topics=tuned,
                mask=keep,
                smooth=tm.gold_threshold_smoothing,
            )
            metrics["thresholds_from_gold_wcxb"] = float(len(tuned))
        metrics.update(
            {f"threshold/{t}": float(v) for t, v in zip(names, model.thresholds_, strict=True)}
        )
        # Scored with the final thresholds: those of the model that is logged and registered.
        for split, (df, ys) in held_out.items():
            scores = f1_scores(ys, model.predict(df), names)
            metrics.update(
                {f"{split}/{k}": v for k, v in scores.items() if k.startswith(("f1/", "m"))}
            )
        evaluation = gold_evaluation(model, gold_pages, names, taxonomy)
        metrics.update(evaluation["metrics"])
        seeds = _seed_checks(model, lines, names)
        metrics.update(seeds)
        tracking.log_metrics(metrics)
        _log_gold_artifacts(evaluation, "topics: F1 per topic on the gold set")
        report = _report(f"Topic model {name}", evaluation, seeds, tm.max_disagreements)
        tracking.log_text_artifact(report, "gold_report.md")
        if metrics.get("gold/lines"):
            log.info(
                "topics gold: macro F1 model %.3f rules %.3f; micro F1 model %.3f rules %.3f",
                metrics["gold/macro_f1"],
                metrics["gold/rules_macro_f1"],
                metrics["gold/micro_f1"],
                metrics["gold/rules_micro_f1"],
            )
        example = _input_example(lines, cfg.fit_splits)
        info = tracking.log_sklearn_model(
            model,
            input_example=example,
            registered_name=tm.registered_model if tm.register else None,
            trusted_types=trusted_types(),
        )
        champion_now = None
        if tm.register:
            champion_now = _champion_on_gold(tm, uri, gold_pages, names, taxonomy)
            if champion_now is not None:
                tracking.log_metrics({"champion_now/" + tm.champion_metric: champion_now})
        version, promoted = tracking.register_and_promote(
            info, tm.registered_model, tm.champion_metric, metrics, uri, champion_now
        )
        return {
            "run_id": run.info.run_id,
            "version": version,
            "promoted": promoted,
            "metrics": metrics,
            "model": model,
            "report": report,
        }


def _champion_on_gold(
    tm: Any, uri: str, gold_pages: pd.DataFrame, names: list[str], taxonomy: dict[str, Any]
) -> float | None:
    """The registered champion's ``champion_metric`` on this gold set, or ``None`` (no
    champion, another taxonomy, or a metric the gold set does not give).

    The gold set grows as lines are annotated: the value the champion's training run logged
    was measured on the gold set of its day, and comparing with it would compare two sets.
    """
    from textclf.evaluate import load_pipeline

    model_uri = f"models:/{tm.registered_model}@champion"
    if tracking.model_version_of(model_uri, uri) is None:
        return None
    try:
        champion = load_pipeline(model_uri, uri)
    except Exception as exc:  # a champion that no longer loads must not fail this run
        log.warning(
            "topics: cannot load the champion %s (%s); its logged score is used", model_uri, exc
        )
        return None
    if list(getattr(champion, "topics_", [])) != names:
        log.info("topics: the champion has other topics; its logged %s is kept", tm.champion_metric)
        return None
    value = gold_evaluation(champion, gold_pages, names, taxonomy)["metrics"].get(
        tm.champion_metric
    )
    if value is None or not math.isfinite(value):
        return None
    log.info("topics: the champion scores %s %.4f on this gold set", tm.champion_metric, value)
    return float(value)


def _input_example(lines: Any, splits: list[str]) -> pd.DataFrame:
    split = "seeds" if "seeds" in lines and len(lines["seeds"]) else splits[0]
    return lines[split].to_pandas()[MODEL_INPUT].head(20).reset_index(drop=True)


# --- evaluation -------------------------------------------------------------------------


def evaluate_topics(cfg: Any) -> dict[str, Any]:
    """Score the topic model (``topic_model.model_uri`` or the registered champion) and the
    rules on the gold set; log one MLflow run; write ``reports/eval_topics.md``."""
    from textclf.dataset import load_dataset, read_fingerprint
    from textclf.evaluate import load_pipeline

    tm = cfg.topic_model
    uri = tracking.init_store(cfg.mlflow.tracking_uri or None)
    model_uri = tm.model_uri or f"models:/{tm.registered_model}@champion"
    identity = tracking.evaluated_model(model_uri, uri)  # version, logged model, training run
    version = identity.get("model_version")
    if not tm.model_uri and version is None:
        message = (
            f"no topic model is registered as {model_uri} in {uri}: topics not evaluated. "
            "Train one with `make train` (tasks=[topics]) or pass topic_model.model_uri=..."
        )
        log.warning("%s", message)
        # An earlier report must not look like this evaluation's.
        report = Path(cfg.paths.reports_dir) / "eval_topics.md"
        if report.exists():
            report.write_text(f"# Topic evaluation\n\nNot evaluated: {message}\n")
        return {"run_id": None, "metrics": {}, "summary": "", "version": None}
    model = load_pipeline(model_uri, uri)
    if not hasattr(model, "predict_topics"):
        raise ConfigError(f"{model_uri} is not a topic model (no predict_topics)")
    dataset_dir = Path(cfg.paths.dataset_dir)
    lines, _ = load_dataset(dataset_dir)
    names = list(model.topics_)
    taxonomy = model.taxonomy or taxonomy_data(tm.topics)
    gold_pages = load_gold(tm.gold_path, lines, names)
    run_name = (
        f"eval-{tm.registered_model}-v{version}" if version else "eval-" + Path(model_uri).name
    )
    tags = {"task": "topics", "model_uri": model_uri, "model_version": "", **identity}
    with tracking.start_run(tm.experiment + "-eval", run_name, uri, tags=tags) as run:
        tracking.log_params({"model_uri": model_uri, "model_version": version or ""})
        tracking.log_dataset_input(
            gold_pages.head(1000)[["page_id", "text"]],
            name="textclf-lines",
            source=str(dataset_dir),
            digest=read_fingerprint(dataset_dir) or "unknown",
            context="evaluation",
        )
        evaluation = gold_evaluation(model, gold_pages, names, taxonomy)
        metrics = dict(evaluation["metrics"])
        seeds = _seed_checks(model, lines, names)
        metrics.update(seeds)
        tracking.log_metrics(metrics, model_id=identity.get("model_id"))
        _log_gold_artifacts(evaluation, f"{model_uri}: F1 per topic on the gold set")
        summary = _report(
            f"Evaluation of {model_uri} (version {version or '-'})",
            evaluation,
            seeds,
            tm.max_disagreements,
        )
        tracking.publish_summary(summary, cfg.paths.reports_dir, "eval_topics.md")
        return {
            "run_id": run.info.run_id,
            "metrics": metrics,
            "summary": summary,
            "version": version,
        }
