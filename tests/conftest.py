"""Shared test fixtures.

Prediction tests: a tiny content/boilerplate model trained on the hand-written pages of
``tests/fixtures/predict`` (no corpus text), once per session.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
# Tests never read or write the project's own MLflow store (its champions would leak into them,
# e.g. `load(path)` attaching the project's topic champion): an empty store of the session's own,
# unless a test sets another. The process's environment is the test session's only.
_SESSION_STORE = Path(tempfile.mkdtemp(prefix="textclf-tests-mlflow-")) / "mlflow.db"
os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{_SESSION_STORE}"
atexit.register(shutil.rmtree, _SESSION_STORE.parent, ignore_errors=True)
os.environ.pop("TEXTCLF_MODEL_URI", None)

PREDICT_FIXTURES = Path(__file__).parent / "fixtures" / "predict"


@contextlib.contextmanager
def unpinned_mlflow() -> Iterator[None]:
    """Training pins MLflow's process-wide tracking and registry URIs (and may set their
    environment variables): undo that on exit, so that later tests find their own stores."""
    import mlflow

    saved = {k: os.environ.get(k) for k in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    try:
        yield
    finally:
        mlflow.set_tracking_uri(None)
        mlflow.set_registry_uri(None)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def read_labeled_page(path: Path) -> tuple[str, list[int]]:
    """A ``*.labeled.txt`` fixture as (plain page text, one label per non-empty line)."""
    texts, labels = [], []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if not raw.strip():
            texts.append("")
            continue
        mark, _, text = raw.partition(" ")
        texts.append(text)
        labels.append(1 if mark == "+" else 0)
    return "\n".join(texts), labels


@pytest.fixture(scope="session")
def labeled_pages() -> dict[str, tuple[str, list[int]]]:
    """name -> (text, labels) for every hand-written fixture page."""
    return {
        p.name.removesuffix(".labeled.txt"): read_labeled_page(p)
        for p in sorted(PREDICT_FIXTURES.glob("*.labeled.txt"))
    }


@pytest.fixture(scope="session")
def tiny_pipeline(labeled_pages: dict[str, tuple[str, list[int]]]) -> Any:
    """A fitted two-stage logistic-regression pipeline (trains in well under a second)."""
    import numpy as np

    from textclf.features import lines_frame
    from textclf.models import build_pipeline
    from textclf.pages import lines_from_text

    pages, blanks, y = [], [], []
    for text, labels in labeled_pages.values():
        lines = lines_from_text(text)
        assert len(lines) == len(labels)
        pages.append([line.text for line in lines])
        blanks.append([(line.blank_before, line.blank_after) for line in lines])
        y += labels
    frame = lines_frame(pages, blanks=blanks, page_ids=list(labeled_pages))
    pipe = build_pipeline(estimator="logreg", stack={"stages": 2, "cv": 2})
    return pipe.fit(frame, np.asarray(y))


@pytest.fixture(scope="session")
def tiny_model_path(tiny_pipeline: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny pipeline saved as a skops file."""
    from textclf.serialization import dump_model

    return dump_model(tiny_pipeline, tmp_path_factory.mktemp("model") / "model.skops")


@pytest.fixture(scope="session")
def tiny_classifier(tiny_pipeline: Any) -> Any:
    from textclf.predict import Classifier

    return Classifier(tiny_pipeline, source="tiny test model")


@pytest.fixture(scope="session")
def tiny_topics() -> Any:
    """A topic model fitted on four lines: "space" (rocket, orbit) and "food" (bake)."""
    import numpy as np
    import pandas as pd

    from textclf.topic_model import TopicClassifier

    texts = ["The rocket reached orbit.", "Bake the bread in the oven.", "Home", "Contact"]
    frame = pd.DataFrame({"page_id": ["a", "a", "b", "b"], "text": texts})
    taxonomy = {"space": {"keywords": ["rocket", "orbit"]}, "food": {"keywords": ["bake"]}}
    return TopicClassifier(
        ["space", "food"], taxonomy=taxonomy, n_word_features=2**8, n_char_features=2**8
    ).fit(frame, np.array([[1, 0], [0, 1], [0, 0], [0, 0]]))
