"""Figures and tables for runs: confusion matrix, precision-recall curve, F1 per page type."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["confusion_figure", "markdown_table", "page_type_figure", "pr_curve_figure"]


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def confusion_figure(y_true: ArrayLike, y_pred: ArrayLike, title: str) -> Any:
    from sklearn.metrics import confusion_matrix

    plt = _plt()
    cm = confusion_matrix(y_true, y_pred, labels=[0, 1])
    fig, ax = plt.subplots(figsize=(4, 3.5))
    ax.imshow(cm, cmap="Blues")
    for (i, j), v in np.ndenumerate(cm):
        ax.text(j, i, f"{v:,}", ha="center", va="center", color="black")
    ax.set_xticks([0, 1], ["boilerplate", "content"])
    ax.set_yticks([0, 1], ["boilerplate", "content"])
    ax.set_xlabel("predicted")
    ax.set_ylabel("label")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def pr_curve_figure(y_true: ArrayLike, proba: ArrayLike, threshold: float, title: str) -> Any:
    from sklearn.metrics import precision_recall_curve

    plt = _plt()
    precision, recall, thresholds = precision_recall_curve(y_true, proba)
    fig, ax = plt.subplots(figsize=(4.5, 3.5))
    ax.plot(recall, precision)
    idx = int(np.searchsorted(thresholds, threshold)) if len(thresholds) else 0
    idx = min(idx, len(precision) - 1)
    ax.scatter([recall[idx]], [precision[idx]], color="red", label=f"threshold {threshold:.2f}")
    ax.set_xlabel("recall (content)")
    ax.set_ylabel("precision (content)")
    ax.set_title(title)
    ax.legend(loc="lower left")
    fig.tight_layout()
    return fig


def page_type_figure(scores: Mapping[str, float], prefix: str, title: str) -> Any:
    plt = _plt()
    items = sorted((k[len(prefix) :], v) for k, v in scores.items() if k.startswith(prefix))
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.barh([k for k, _ in items], [v for _, v in items])
    for i, (_, v) in enumerate(items):
        ax.text(v, i, f" {v:.3f}", va="center")
    ax.set_xlim(0, 1.1)
    ax.set_xlabel("page F1")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def markdown_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> str:
    """A Markdown table; floats with three decimals."""

    def fmt(v: Any) -> str:
        if v is None:
            return "–"
        return f"{v:.3f}" if isinstance(v, float) else str(v)

    out = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    out += ["| " + " | ".join(fmt(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(out) + "\n"
