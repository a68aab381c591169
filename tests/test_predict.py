"""Tests for textclf.predict: the inference API, its input rules and model loading."""

from __future__ import annotations

import dataclasses
import doctest
import json
import multiprocessing
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

import textclf
from textclf.errors import InputError, ModelError, ModelNotFoundError, UntrustedModelError
from textclf.pages import lines_from_text
from textclf.predict import (
    CHAMPION_URI,
    MODEL_ENV,
    Classifier,
    PagePrediction,
    load,
)

PREDICT_FIXTURES = Path(__file__).parent / "fixtures" / "predict"
MB = 1024 * 1024


def texts(page: PagePrediction) -> list[str]:
    return [line.text for line in page.lines]


# ---------------------------------------------------------------------- import cost
def test_importing_the_api_does_not_import_heavy_libraries() -> None:
    code = (
        "import sys, textclf, textclf.predict\n"
        "assert textclf.load is textclf.predict.load\n"
        "heavy = {'mlflow', 'hydra', 'omegaconf', 'sklearn', 'pandas', 'skops'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


def test_package_exports_the_api_lazily() -> None:
    assert {"load", "Classifier", "PagePrediction", "LinePrediction"} <= set(dir(textclf))
    assert textclf.Classifier is Classifier
    with pytest.raises(AttributeError, match="no attribute"):
        _ = textclf.no_such_name  # type: ignore[attr-defined]


def test_docstring_examples_run(tiny_classifier: Classifier) -> None:
    import textclf.predict

    result = doctest.testmod(
        textclf.predict, extraglobs={"clf": tiny_classifier}, optionflags=doctest.ELLIPSIS
    )
    assert result.attempted > 10
    assert result.failed == 0


# ---------------------------------------------------------------------- predictions
def test_predict_page_gives_one_prediction_per_non_empty_line_in_order(
    tiny_classifier: Classifier, labeled_pages: dict[str, tuple[str, list[int]]]
) -> None:
    text, labels = labeled_pages["river"]
    page = tiny_classifier.predict_page(text)
    assert texts(page) == [line.text for line in lines_from_text(text)]
    assert len(page) == len(labels)
    t = tiny_classifier.threshold
    for line in page:
        assert 0.0 <= line.probability <= 1.0
        assert line.label == ("content" if line.probability >= t else "boilerplate")
        assert line.is_content == (line.label == "content")
        assert line.topics is None
    assert page.content == "\n".join(x.text for x in page.lines if x.label == "content")
    assert page.threshold == t
    # The tiny model learned its training page well enough.
    predicted = [int(x.is_content) for x in page]
    assert sum(p == y for p, y in zip(predicted, labels, strict=True)) >= 0.8 * len(labels)


def test_extract_returns_the_content(tiny_classifier: Classifier) -> None:
    text = (PREDICT_FIXTURES / "garden.labeled.txt").read_text(encoding="utf-8")
    assert tiny_classifier.extract(text) == tiny_classifier.predict_page(text).content


def test_threshold_is_the_trained_one_and_overridable(tiny_classifier: Classifier) -> None:
    assert tiny_classifier.threshold == tiny_classifier.pipeline[-1].threshold_
    text = "Home | News\n\nThe river rose overnight and flooded the lower town."
    everything = tiny_classifier.predict_page(text, threshold=0.0)
    assert [x.label for x in everything] == ["content", "content"]
    assert everything.threshold == 0.0
    nothing = tiny_classifier.extract(text, threshold=1.0 - 1e-12)
    assert nothing in ("", text.splitlines()[-1])  # only a saturated probability passes


@pytest.mark.parametrize("bad", [-0.01, 1.01, float("nan"), "0.5", True, None])
def test_invalid_thresholds_are_refused(tiny_classifier: Classifier, bad: Any) -> None:
    if bad is None:  # None means "the trained threshold"
        tiny_classifier.predict_page("x", threshold=bad)
        return
    with pytest.raises(InputError, match="threshold"):
        tiny_classifier.predict_page("x", threshold=bad)
    with pytest.raises(InputError, match="threshold"):
        tiny_classifier.pipe(["x"], threshold=bad)


@pytest.mark.parametrize("empty", ["", "   ", "\n\n \r\n\t", b"", "\x00\x00"])
def test_empty_page_gives_an_empty_prediction(tiny_classifier: Classifier, empty: Any) -> None:
    page = tiny_classifier.predict_page(empty)
    assert page.lines == ()
    assert page.content == ""
    assert tiny_classifier.extract(empty) == ""


def test_bytes_are_decoded_as_utf8_with_replacement(tiny_classifier: Classifier) -> None:
    page = tiny_classifier.predict_page("Caf\u00e9 cr\u00e8me\n".encode() + b"bad \xff\xfe byte")
    assert texts(page) == ["Caf\u00e9 cr\u00e8me", "bad \ufffd\ufffd byte"]


def test_bytes_in_a_legacy_encoding_are_decoded_in_it(tiny_classifier: Classifier) -> None:
    page = "Caf\u00e9 cr\u00e8me\nIt\u2019s d\u00e9j\u00e0 r\u00e9gl\u00e9."
    assert texts(tiny_classifier.predict_page(page.encode("cp1252"))) == page.split("\n")
    assert [p.content for p in tiny_classifier.pipe([page.encode("cp1252")], threshold=0)] == [page]


def test_nul_characters_are_removed(tiny_classifier: Classifier) -> None:
    page = tiny_classifier.predict_page("Ti\x00tle\n\x00\nBody text.\x00")
    assert texts(page) == ["Title", "Body text."]


def test_binary_data_is_classified_without_crashing(tiny_classifier: Classifier) -> None:
    data = random.Random(7).randbytes(200_000)
    page = tiny_classifier.predict_page(data)
    assert len(page) > 0
    assert all(0.0 <= x.probability <= 1.0 for x in page)


def test_wrong_input_types_are_refused(tiny_classifier: Classifier) -> None:
    with pytest.raises(InputError, match="str or bytes"):
        tiny_classifier.predict_page(["a list"])  # type: ignore[arg-type]
    with pytest.raises(InputError, match="str or bytes"):
        tiny_classifier.predict_page(None)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="str or bytes"):
        tiny_classifier.predict_html(3)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="str or bytes"):
        list(tiny_classifier.pipe(["ok", 3]))  # type: ignore[list-item]


def test_predict_lines(tiny_classifier: Classifier) -> None:
    page = tiny_classifier.predict_lines(["Menu", "", "  The story goes on. ", "a\nb"])
    assert texts(page) == ["Menu", "The story goes on.", "a b"]
    assert page == tiny_classifier.predict_page("Menu\n\nThe story goes on.\na b")
    assert tiny_classifier.predict_lines(iter(["One."])).lines[0].text == "One."


@pytest.mark.parametrize("bare", ["Menu\nStory", b"Menu\nStory"])
def test_predict_lines_refuses_a_bare_string(tiny_classifier: Classifier, bare: Any) -> None:
    with pytest.raises(InputError, match="list of lines"):
        tiny_classifier.predict_lines(bare)


def test_predict_lines_refuses_non_string_lines(tiny_classifier: Classifier) -> None:
    with pytest.raises(InputError, match="line 1"):
        tiny_classifier.predict_lines(["ok", 42])  # type: ignore[list-item]


def test_predict_html_renders_then_predicts(tiny_classifier: Classifier) -> None:
    html = (PREDICT_FIXTURES / "article.html").read_text(encoding="utf-8")
    page = tiny_classifier.predict_html(html)
    assert texts(page)[:2] == ["Home | News | Contact", "The old lighthouse gets a new lamp"]
    assert "lighthouse" in page.content
    assert "Copyright" not in page.content


def test_predict_html_bytes_use_the_declared_encoding(tiny_classifier: Classifier) -> None:
    page = tiny_classifier.predict_html((PREDICT_FIXTURES / "latin1.html").read_bytes())
    assert texts(page)[0] == "Caf\u00e9 news"


# ---------------------------------------------------------------------- pipe
def test_pipe_matches_predict_page_in_input_order(
    tiny_classifier: Classifier, labeled_pages: dict[str, tuple[str, list[int]]]
) -> None:
    pages = [text for text, _ in labeled_pages.values()]
    pages = [*pages, "", "Just one line.", *reversed(pages)]
    one_by_one = [tiny_classifier.predict_page(p) for p in pages]
    for batch_size in (1, 3, 64):
        batched = list(tiny_classifier.pipe(iter(pages), batch_size=batch_size))
        assert len(batched) == len(pages)
        for got, want in zip(batched, one_by_one, strict=True):
            assert texts(got) == texts(want)
            assert [x.label for x in got] == [x.label for x in want]
            assert [x.probability for x in got] == pytest.approx(
                [x.probability for x in want], abs=1e-6
            )


def numbered_pages(
    n: int, consumed: list[int] | None = None, then: Exception | None = None
) -> Iterator[str]:
    """Pages "Page 0." to "Page {n-1}.", noting in ``consumed`` each one read, then ``then``
    raised (an input that fails) if given."""
    for i in range(n):
        if consumed is not None:
            consumed.append(i)
        yield f"Page {i}."
    if then is not None:
        raise then


def test_pipe_is_lazy_and_validates_eagerly(tiny_classifier: Classifier) -> None:
    consumed: list[int] = []
    it = tiny_classifier.pipe(numbered_pages(5, consumed), batch_size=2)
    assert consumed == []
    assert texts(next(it)) == ["Page 0."]
    assert consumed == [0, 1]
    with pytest.raises(InputError, match="single str"):
        tiny_classifier.pipe("one page")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="batch_size"):
        tiny_classifier.pipe(["x"], batch_size=0)


def test_pipe_html(tiny_classifier: Classifier) -> None:
    html = (PREDICT_FIXTURES / "article.html").read_bytes()
    [page] = tiny_classifier.pipe([html], html=True)
    assert page == tiny_classifier.predict_html(html)


def test_pipe_bounds_batches_by_lines(tiny_classifier: Classifier, monkeypatch: Any) -> None:
    import textclf.predict as predict

    sizes: list[int] = []
    original = Classifier._predict_batch

    def spy(self: Classifier, pages: list, *decision: Any) -> list:
        sizes.append(sum(len(p) for p in pages))
        return original(self, pages, *decision)

    monkeypatch.setattr(predict, "_BATCH_MAX_LINES", 10)
    monkeypatch.setattr(Classifier, "_predict_batch", spy)
    page = "\n".join(f"Line {i}." for i in range(6))
    assert len(list(tiny_classifier.pipe([page] * 5, batch_size=64))) == 5
    assert sizes == [12, 12, 6]


# ---------------------------------------------------------------------- results
def test_results_are_frozen_and_serializable(tiny_classifier: Classifier) -> None:
    page = tiny_classifier.predict_page("Menu\n\nThe story.")
    with pytest.raises(dataclasses.FrozenInstanceError):
        page.lines[0].label = "content"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        page.threshold = 0.1  # type: ignore[misc]
    data = json.loads(json.dumps(page.to_dict()))
    assert set(data) == {
        "lines", "content", "threshold", "relative_threshold", "drop_repeats", "relative_power",
    }  # fmt: skip
    assert data["lines"][1] == {
        "text": "The story.",
        "label": page.lines[1].label,
        "probability": page.lines[1].probability,
        "topics": None,
        "line_index": 2,
    }
    assert hash(page) == hash(tiny_classifier.predict_page("Menu\n\nThe story."))


# ---------------------------------------------------------------------- limits
def test_a_10_mb_line_is_truncated_for_features_only(tiny_classifier: Classifier) -> None:
    long_line = "word " * (2 * MB) + "end."
    start = time.perf_counter()
    page = tiny_classifier.predict_page(f"Menu\n\n{long_line}\n\nFooter")
    assert time.perf_counter() - start < 10
    assert texts(page) == ["Menu", long_line.strip(), "Footer"]
    assert 0.0 <= page.lines[1].probability <= 1.0


def test_a_50_mb_page_is_classified_or_refused_clearly(tiny_classifier: Classifier) -> None:
    # 50 MB in 500 lines of 100 KB: accepted (lines truncated for features).
    big = "\n".join(f"{i} " + "lorem ipsum " * 8_500 for i in range(500))
    assert 50_000_000 < len(big) < 64 * MB
    page = tiny_classifier.predict_page(big)
    assert len(page) == 500
    assert page.lines[0].text.startswith("0 lorem ipsum")
    # The same bytes as 50 MB of short lines: more lines than max_page_lines.
    with pytest.raises(InputError, match="max_page_lines"):
        tiny_classifier.predict_page(big.replace(" ipsum ", "\n"))


def test_pages_over_max_page_bytes_are_refused(tiny_pipeline: Any) -> None:
    clf = Classifier(tiny_pipeline, max_page_bytes=1000)
    clf.predict_page("x" * 1000)
    for page in ("x" * 1001, b"x" * 1001, "\u00e9" * 501):  # é is 2 bytes in UTF-8
        with pytest.raises(InputError, match="max_page_bytes=1,000"):
            clf.predict_page(page)
    with pytest.raises(InputError, match="max_page_bytes"):
        clf.predict_html("<p>" + "x" * 1000 + "</p>")
    with pytest.raises(InputError, match="max_page_bytes"):
        clf.predict_lines(["x" * 600, "y" * 600])


def test_default_max_page_bytes_refuses_a_65_mb_page(tiny_classifier: Classifier) -> None:
    start = time.perf_counter()
    with pytest.raises(InputError, match="page too large"):
        tiny_classifier.predict_page(b" " * (65 * MB))
    assert time.perf_counter() - start < 2


def test_invalid_limits_are_refused(tiny_pipeline: Any) -> None:
    with pytest.raises(InputError, match="max_line_chars"):
        Classifier(tiny_pipeline, max_line_chars=0)
    with pytest.raises(InputError, match="n_threads"):
        Classifier(tiny_pipeline, n_threads=0)
    all_cores = Classifier(tiny_pipeline, n_threads=None)
    assert all_cores.n_threads is None
    assert all_cores.predict_page("Menu\n\nStory.") == Classifier(tiny_pipeline).predict_page(
        "Menu\n\nStory."
    )


# ---------------------------------------------------------------------- threads
def test_concurrent_use_gives_identical_results(
    tiny_classifier: Classifier, labeled_pages: dict[str, tuple[str, list[int]]]
) -> None:
    pages = [text for text, _ in labeled_pages.values()] * 4

    def work(i: int) -> list[PagePrediction]:
        if i % 2:
            return [tiny_classifier.predict_page(p) for p in pages]
        return list(tiny_classifier.pipe(pages, batch_size=1 + i % 5))

    expected = [work(i) for i in range(8)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(work, [*range(8), *range(8)]))
    assert results == expected + expected


def test_classifier_has_no_mutable_per_call_state(tiny_classifier: Classifier) -> None:
    assert not hasattr(tiny_classifier, "__dict__")
    with pytest.raises(AttributeError):
        tiny_classifier.threshold = 0.3  # type: ignore[misc]


# ---------------------------------------------------------------------- topic model hook
class FakeTopics:
    def __init__(self, rows: int | None = None) -> None:
        self.rows = rows

    def predict_topics(self, lines: Any) -> list[list[str]]:
        n = len(lines) if self.rows is None else self.rows
        return [["weather"] if "river" in t.lower() else [] for t in list(lines["text"])[:n]]


def test_a_topic_model_fills_line_topics(tiny_pipeline: Any) -> None:
    clf = Classifier(tiny_pipeline, topic_model=FakeTopics())
    page = clf.predict_page("Menu\n\nThe river rose.")
    assert [x.topics for x in page] == [(), ("weather",)]
    assert page.to_dict()["lines"][1]["topics"] == ["weather"]
    assert "topics" in repr(clf)


def test_a_bad_topic_model_is_refused(tiny_pipeline: Any) -> None:
    with pytest.raises(ModelError, match="predict_topics"):
        Classifier(tiny_pipeline, topic_model=object())  # type: ignore[arg-type]
    with pytest.raises(ModelError, match="topic model"):
        Classifier(tiny_pipeline, topic_model=FakeTopics(rows=1))


# ---------------------------------------------------------------------- the model
def test_a_model_of_the_wrong_task_is_refused(tiny_pipeline: Any, tmp_path: Path) -> None:
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from textclf.serialization import dump_model

    plain = LogisticRegression().fit(np.eye(4), [0, 1, 0, 1])
    for wrong in (plain, make_pipeline(StandardScaler(), plain), "not a model", None):
        with pytest.raises(ModelError, match="wrong task"):
            Classifier(wrong)
    path = dump_model(plain, tmp_path / "plain.skops")
    with pytest.raises(ModelError, match="wrong task"):
        load(path)


def test_an_unfitted_model_is_refused(tiny_pipeline: Any) -> None:
    from sklearn.base import clone

    unfitted = clone(tiny_pipeline)
    unfitted[-1].threshold_ = 0.5
    with pytest.raises(ModelError, match="cannot predict a sample page"):
        Classifier(unfitted)


class Evil:
    """Not a trusted type: loading a file holding one must not run its code."""

    ran = False

    def __setstate__(self, state: dict) -> None:
        Evil.ran = True
        self.__dict__.update(state)


def test_a_model_file_with_untrusted_types_is_refused(tmp_path: Path) -> None:
    from collections import Counter

    from textclf.serialization import dump_model

    path = dump_model({"payload": Evil(), "counts": Counter("ab")}, tmp_path / "evil.skops")
    with pytest.raises(UntrustedModelError) as info:
        load(path)
    assert "test_predict.Evil" in str(info.value)
    assert "collections.Counter" in str(info.value)
    assert not Evil.ran


def test_a_corrupted_model_file_is_refused(tmp_path: Path, tiny_model_path: Path) -> None:
    garbage = tmp_path / "garbage.skops"
    garbage.write_bytes(random.Random(3).randbytes(4096))
    with pytest.raises(ModelError, match="not a readable skops model file"):
        load(garbage)
    truncated = tmp_path / "truncated.skops"
    truncated.write_bytes(tiny_model_path.read_bytes()[:2000])
    with pytest.raises(ModelError):
        load(truncated)
    empty = tmp_path / "empty.skops"
    empty.write_bytes(b"")
    with pytest.raises(ModelError):
        load(empty)


def test_a_missing_model_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="make train"):
        load(tmp_path / "nope.skops")
    with pytest.raises(ModelNotFoundError, match=r"without boilerplate\.skops or model\.skops"):
        load(tmp_path)
    with pytest.raises(TypeError):
        load(42)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- load() resolution
@pytest.fixture
def no_model_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (MODEL_ENV, "MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    return monkeypatch


def test_load_an_explicit_skops_file(no_model_env: Any, tiny_model_path: Path) -> None:
    for spec in (tiny_model_path, str(tiny_model_path), tiny_model_path.as_uri()):
        clf = load(spec)
        assert clf.source == str(tiny_model_path)
        assert clf.extract("Menu\n\nThe story.", threshold=0.0) == "Menu\nThe story."


def test_load_a_model_folder(no_model_env: Any, tiny_model_path: Path) -> None:
    assert tiny_model_path.name == "model.skops"
    assert load(tiny_model_path.parent).source == str(tiny_model_path)


def test_load_uses_the_environment_variable(
    no_model_env: pytest.MonkeyPatch, tiny_model_path: Path
) -> None:
    no_model_env.setenv(MODEL_ENV, str(tiny_model_path))
    assert load().source == str(tiny_model_path)


def test_load_without_any_model_says_how_to_train_one(
    no_model_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    no_model_env.setenv("TEXTCLF_ROOT", str(tmp_path))
    with pytest.raises(ModelNotFoundError, match="make train") as info:
        load()
    assert CHAMPION_URI in str(info.value)
    assert not (tmp_path / "mlflow.db").exists()  # finding nothing creates no store


@pytest.fixture(scope="module")
def mlflow_store(tiny_pipeline: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A temporary SQLite MLflow store with the tiny model registered as the champion."""
    import mlflow
    import mlflow.sklearn
    from mlflow import MlflowClient

    from textclf.serialization import trusted_types

    tmp = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{tmp}/mlflow.db"
    # Through the environment, not mlflow.set_tracking_uri: that would pin the URI (and the
    # environment variable) for the rest of the session.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", uri)
        exp = mlflow.create_experiment("predict-tests", artifact_location=str(tmp / "artifacts"))
        with mlflow.start_run(experiment_id=exp) as run:
            info = mlflow.sklearn.log_model(
                sk_model=tiny_pipeline,
                name="model",
                serialization_format="skops",
                skops_trusted_types=trusted_types(),
                pip_requirements=["scikit-learn"],
                registered_model_name="textclf-boilerplate",
            )
        MlflowClient(uri).set_registered_model_alias(
            "textclf-boilerplate", "champion", info.registered_model_version
        )
    return {"uri": uri, "run_id": run.info.run_id, "dir": str(tmp)}


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")
def test_load_from_the_mlflow_registry(
    no_model_env: pytest.MonkeyPatch,
    mlflow_store: dict[str, str],
    tiny_classifier: Classifier,
    tmp_path: Path,
) -> None:
    no_model_env.setenv("MLFLOW_TRACKING_URI", mlflow_store["uri"])
    no_model_env.setattr(tempfile, "tempdir", str(tmp_path))
    text = "Menu\n\nThe river rose overnight and flooded the town."
    want = tiny_classifier.predict_page(text)
    for spec in (CHAMPION_URI, "models:/textclf-boilerplate/1", None):
        clf = load(spec)
        assert clf.source == (CHAMPION_URI if spec is None else spec)
        assert clf.threshold == tiny_classifier.threshold
        assert clf.predict_page(text) == want
    runs_uri = f"runs:/{mlflow_store['run_id']}/model"
    assert load(runs_uri).predict_page(text) == want
    no_model_env.setenv(MODEL_ENV, CHAMPION_URI)
    assert load().source == CHAMPION_URI
    # Nothing is left behind in the temporary folder.
    assert list(tmp_path.iterdir()) == []


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")
def test_load_finds_the_champion_in_the_project_store(
    no_model_env: pytest.MonkeyPatch, mlflow_store: dict[str, str], tmp_path: Path
) -> None:
    no_model_env.setenv("TEXTCLF_ROOT", mlflow_store["dir"])  # holds mlflow.db
    no_model_env.chdir(tmp_path)
    assert load().source == CHAMPION_URI
    assert list(tmp_path.iterdir()) == []  # MLflow's default ./mlflow.db was not created


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")
def test_load_reports_missing_registry_models(
    no_model_env: pytest.MonkeyPatch, mlflow_store: dict[str, str], tmp_path: Path
) -> None:
    no_model_env.setenv("MLFLOW_TRACKING_URI", mlflow_store["uri"])
    with pytest.raises(ModelNotFoundError, match="no model at models:/textclf-nope@champion"):
        load("models:/textclf-nope@champion")
    # An empty store: the champion is not registered there.
    no_model_env.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/empty.db")
    with pytest.raises(ModelNotFoundError, match="make train"):
        load()


def test_relative_threshold_keeps_only_lines_near_the_pages_best(tiny_pipeline: Any) -> None:
    import copy

    pipeline = copy.deepcopy(tiny_pipeline)
    pipeline[-1].relative_threshold_ = 1.0  # only the page's most probable line(s) can be content
    strict = Classifier(pipeline, source="strict copy")
    assert strict.relative_threshold == 1.0
    text = (
        "Home | News | Sport\n\nThe river rose overnight and flooded the lower town.\n\n"
        "Rescue teams worked through the night to reach the families on the hill."
    )
    page = strict.predict_page(text, threshold=0.0)
    best = max(x.probability for x in page)
    assert [x.is_content for x in page] == [x.probability >= best for x in page]
    assert sum(x.is_content for x in page) < len(page)  # threshold 0 alone would keep them all
    assert page.relative_threshold == 1.0 and page.to_dict()["relative_threshold"] == 1.0


def test_the_relative_share_follows_the_models_relative_power(tiny_pipeline: Any) -> None:
    import copy

    import numpy as np

    from textclf.models import content_mask

    text = (
        "Home | News | Sport\n\nThe river rose overnight and flooded the lower town.\n\n"
        "Rescue teams worked through the night to reach the families on the hill."
    )
    plain = Classifier(tiny_pipeline, source="plain")
    assert plain.relative_power == 1.0
    pipeline = copy.deepcopy(tiny_pipeline)
    pipeline[-1].relative_power = 30.0
    sharp = Classifier(pipeline, source="sharp copy")
    assert sharp.relative_power == 30.0 and "relative_power=30" in repr(sharp)
    page = sharp.predict_page(text, threshold=0.0, relative=0.9)
    proba = np.array([x.probability for x in page])
    want = content_mask(proba, np.zeros(len(proba)), 0.0, 0.9, relative_power=30.0)
    assert [x.is_content for x in page] == want.tolist()
    assert page.relative_power == 30.0 and page.to_dict()["relative_power"] == 30.0
    same = plain.predict_page(text, threshold=0.0, relative=0.9)
    assert [x.probability for x in same] == proba.tolist()
    assert [x.is_content for x in same] == content_mask(
        proba, np.zeros(len(proba)), 0.0, 0.9
    ).tolist()
    assert same.relative_power == 1.0
    pipeline[-1].relative_power = 0.5
    with pytest.raises(ModelError, match="relative_power must be a number >= 1"):
        Classifier(pipeline, source="bad copy")


@pytest.mark.parametrize("bad", [1.5, -0.1, "0.4", True])
def test_a_model_with_a_bad_relative_threshold_is_refused(tiny_pipeline: Any, bad: Any) -> None:
    import copy

    pipeline = copy.deepcopy(tiny_pipeline)
    pipeline[-1].relative_threshold_ = bad
    with pytest.raises(ModelError, match="relative_threshold_"):
        Classifier(pipeline, source="bad copy")


def test_the_garbage_collector_is_paused_only_inside_a_batch(tiny_classifier: Classifier) -> None:
    import gc

    from textclf.predict import _gc_paused

    seen: list[bool] = []
    original = tiny_classifier._pipeline.predict_proba

    def spy(frame: Any) -> Any:
        seen.append(gc.isenabled())
        return original(frame)

    tiny_classifier._pipeline.predict_proba = spy  # type: ignore[method-assign]
    try:
        assert gc.isenabled()
        pages = tiny_classifier.pipe(["Home\n\nA sentence about the weather today."] * 3)
        for _ in pages:
            assert gc.isenabled()  # the caller's code runs with the collector on
        assert seen == [False]
        # Nested pauses and errors restore it; a collector the caller turned off stays off.
        with pytest.raises(RuntimeError), _gc_paused():
            with _gc_paused():
                assert not gc.isenabled()
            raise RuntimeError("boom")
        assert gc.isenabled()
        gc.disable()
        try:
            tiny_classifier.predict_page("A sentence.")
            assert not gc.isenabled()
        finally:
            gc.enable()
    finally:
        del tiny_classifier._pipeline.predict_proba


# ---------------------------------------------------------------------- review, session 6
def test_lone_surrogates_become_replacement_characters(tiny_classifier: Classifier) -> None:
    # Text decoded with surrogateescape, or from broken JSON escapes, has lone surrogates.
    assert texts(tiny_classifier.predict_page("abc \ud800 def\nok")) == ["abc \ufffd def", "ok"]
    assert texts(tiny_classifier.predict_lines(["x \udcff", "y"])) == ["x \ufffd", "y"]
    assert texts(tiny_classifier.predict_html("<p>abc \ud800</p>")) == ["abc \ufffd"]
    assert texts(next(tiny_classifier.pipe(["\udc80"]))) == ["\ufffd"]


def test_the_relative_rule_is_overridable_per_call(tiny_pipeline: Any) -> None:
    import copy

    pipe = copy.deepcopy(tiny_pipeline)
    pipe[-1].relative_threshold_ = 0.9
    clf = Classifier(pipe)
    text = "Home | News\n\nThe river rose overnight and flooded the lower town."
    everything = clf.predict_page(text, threshold=0, relative=0)
    assert [x.label for x in everything] == ["content", "content"]
    assert everything.relative_threshold == 0.0
    assert clf.predict_page(text).relative_threshold == 0.9
    assert (
        clf.extract(text, threshold=0, relative=0)
        == clf.predict_lines(text.split("\n"), threshold=0, relative=0).content
    )
    [page] = clf.pipe([text], threshold=0, relative=0)
    assert page == everything
    for bad in (-0.1, 1.5, float("nan"), "0", True):
        with pytest.raises(InputError, match="relative must be a number"):
            clf.predict_page(text, relative=bad)
    assert "relative=0.9" in repr(clf)


def test_pipe_names_a_bad_page_after_yielding_the_pages_before_it(
    tiny_classifier: Classifier,
) -> None:
    it = tiny_classifier.pipe(["First page.", "Second page.", None, "Never."], batch_size=8)
    assert texts(next(it)) == ["First page."]
    assert texts(next(it)) == ["Second page."]
    with pytest.raises(InputError, match=r"^page 2 of the input: expected a page as str"):
        next(it)
    small = Classifier(tiny_classifier.pipeline, max_page_bytes=100)
    got = []
    with pytest.raises(InputError, match=r"^page 1 of the input: page too large"):
        for page in small.pipe(["ok line", "x" * 200, "other"]):
            got.append(texts(page))
    assert got == [["ok line"]]
    with pytest.raises(InputError, match="iterable of pages"):
        tiny_classifier.pipe(None)  # type: ignore[arg-type]


# ---------------------------------------------------------------------- pipe(n_process=...)
needs_fork = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="no fork on this platform"
)


@needs_fork
def test_pipe_in_worker_processes_gives_the_same_pages(
    tiny_pipeline: Any, labeled_pages: dict[str, tuple[str, list[int]]]
) -> None:
    clf = Classifier(tiny_pipeline, topic_model=FakeTopics())
    pages = [text for text, _ in labeled_pages.values()]
    pages = [*pages, "", "The river rose.", *reversed(pages), b"Menu\n\nThe river rose."] * 3
    one = list(clf.pipe(pages, batch_size=2))
    for n_process in (2, 3):
        got = list(clf.pipe(iter(pages), batch_size=2, n_process=n_process))
        assert got == one  # labels, probabilities, topics, line indices, decision: all equal
    kept = list(clf.pipe(pages, batch_size=4, n_process=2, threshold=0, relative=0))
    assert all(p.content_lines == p.lines for p in kept)
    assert [p.threshold for p in kept] == [0.0] * len(pages)


@needs_fork
def test_pipe_in_worker_processes_names_a_bad_page_after_the_pages_before_it(
    tiny_classifier: Classifier,
) -> None:
    pages = [f"Page {i}." for i in range(7)]
    got: list[list[str]] = []
    with pytest.raises(InputError, match=r"^page 5 of the input: expected a page as str"):
        for page in tiny_classifier.pipe([*pages[:5], None, *pages[5:]], batch_size=2, n_process=2):
            got.append(texts(page))
    assert got == [[p] for p in pages[:5]]
    small = Classifier(tiny_classifier.pipeline, max_page_bytes=100)
    with pytest.raises(InputError, match=r"^page 3 of the input: page too large"):
        list(small.pipe(["a", "b", "c", "x" * 200], batch_size=1, n_process=2))


@needs_fork
def test_pipe_in_worker_processes_reads_its_input_as_it_goes(tiny_classifier: Classifier) -> None:
    consumed: list[int] = []
    it = tiny_classifier.pipe(numbered_pages(100, consumed), batch_size=3, n_process=2)
    assert consumed == []  # nothing read (and no worker started) before the first result
    assert texts(next(it)) == ["Page 0."]
    assert len(consumed) == 12  # the first batches of both workers, two each
    it.close()  # the workers stop with the iteration


@pytest.mark.parametrize("n_process", [1, pytest.param(2, marks=needs_fork)])
def test_pipe_yields_the_pages_read_before_its_input_fails(
    tiny_classifier: Classifier, n_process: int
) -> None:
    pages = numbered_pages(5, then=OSError("the disk went away"))
    got: list[list[str]] = []
    with pytest.raises(OSError, match="the disk went away"):
        for page in tiny_classifier.pipe(pages, batch_size=2, n_process=n_process):
            got.append(texts(page))
    assert got == [[f"Page {i}."] for i in range(5)]


def test_n_process_is_checked(tiny_classifier: Classifier) -> None:
    for bad in (0, -2, 1.5, "2", True, None):
        with pytest.raises(InputError, match="n_process must be a positive int or -1"):
            tiny_classifier.pipe(["x"], n_process=bad)  # type: ignore[arg-type]
    assert texts(next(tiny_classifier.pipe(["Alone."], n_process=1))) == ["Alone."]


def test_predictions_survive_pickling(tiny_pipeline: Any) -> None:
    import pickle

    page = Classifier(tiny_pipeline, topic_model=FakeTopics()).predict_page("Menu\n\nThe river.")
    page = PagePrediction(page.lines, 0.25, ("weather",), 0.4, True)
    assert pickle.loads(pickle.dumps(page)) == page


def test_an_empty_page_has_the_same_topics_whatever_its_batch(tiny_pipeline: Any) -> None:
    clf = Classifier(tiny_pipeline, topic_model=FakeTopics())
    alone = clf.predict_page("")
    [in_empty_batch] = clf.pipe([""])
    with_others, _ = clf.pipe(["", "The river rose."])
    assert alone.topics == in_empty_batch.topics == with_others.topics == ()
    assert "topics" in alone.to_dict()
    assert Classifier(tiny_pipeline).predict_page("").topics is None


def test_predict_lines_has_the_same_limits_as_predict_page(tiny_pipeline: Any) -> None:
    clf = Classifier(tiny_pipeline, max_page_lines=100, max_page_bytes=1000)
    with pytest.raises(InputError, match="max_page_lines"):
        clf.predict_lines([""] * 200 + ["a"])
    with pytest.raises(InputError, match="max_page_lines"):
        clf.predict_page("\n" * 200 + "a")
    # 300 emoji are 300 characters but 1,200 UTF-8 bytes.
    with pytest.raises(InputError, match="max_page_bytes"):
        clf.predict_lines(["\U0001f389" * 300])
    with pytest.raises(InputError, match="max_page_bytes"):
        clf.predict_page("\U0001f389" * 300)
    assert texts(clf.predict_lines(["\U0001f389" * 200])) == ["\U0001f389" * 200]
    # Summed over entries, in bytes: 9 entries of 400 bytes are 3,600 bytes.
    with pytest.raises(InputError, match="max_page_bytes"):
        clf.predict_lines(["\U0001f389" * 100] * 9)


def test_model_fetch_failures_are_model_errors(
    no_model_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import mlflow.artifacts

    no_model_env.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/store.db")

    def needs_boto(**kwargs: Any) -> Any:
        raise ModuleNotFoundError("No module named 'botocore'", name="botocore")

    def bad_url(**kwargs: Any) -> Any:
        raise ValueError("not enough values to unpack")

    no_model_env.setattr(mlflow.artifacts, "download_artifacts", needs_boto)
    with pytest.raises(ModelError, match="needs the package botocore"):
        load("s3://bucket/model")
    no_model_env.setattr(mlflow.artifacts, "download_artifacts", bad_url)
    with pytest.raises(ModelError, match=r"could not fetch http://127\.0\.0\.1:1/m: ValueError"):
        load("http://127.0.0.1:1/m")


def test_a_saved_folder_loads_back_as_the_same_classifier(
    no_model_env: pytest.MonkeyPatch, tiny_pipeline: Any, tiny_topics: Any, tmp_path: Path
) -> None:
    import os
    import stat

    from textclf.files import current_umask

    no_model_env.delenv("TEXTCLF_TOPIC_MODEL_URI", raising=False)
    no_model_env.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path}/empty.db")  # no champions
    page = "Home | Space\n\nThe rocket reached orbit after a long night of waiting.\nContact"
    clf = Classifier(tiny_pipeline, topic_model=tiny_topics, source="tiny")
    folder = tmp_path / "saved"
    written = clf.save(folder)
    assert written == [folder / "boilerplate.skops", folder / "topics.skops"]
    for path in written:  # readable as a plain open() would have made it, not private
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~current_umask()
    for spec in (folder, str(folder), folder / "boilerplate.skops"):
        back = load(spec)
        assert back.source == str(folder / "boilerplate.skops")
        assert back.topic_model is not None
        assert (back.threshold, back.relative_threshold, back.presets) == (
            clf.threshold,
            clf.relative_threshold,
            clf.presets,
        )
        assert back.predict_page(page).to_dict() == clf.predict_page(page).to_dict()
    assert load(folder, topic_model=False).topic_model is None
    # Saved again without a topic model: the folder's old topics.skops goes, so that loading the
    # folder does not pair this model with the other save's topic model.
    assert Classifier(tiny_pipeline).save(folder) == [folder / "boilerplate.skops"]
    assert not (folder / "topics.skops").exists()
    assert load(folder).topic_model is None  # nothing registered in the empty store either
    # A save that fails on the topic model leaves the new content model alone, not paired with
    # the topic model of an earlier save.
    clf.save(folder)
    import textclf.serialization

    real_dump = textclf.serialization.dump_model

    def fail_on_topics(model: Any, path: Path) -> Path:
        if path.name == "topics.skops":
            raise OSError(28, "No space left on device")
        return real_dump(model, path)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(textclf.serialization, "dump_model", fail_on_topics)
        with pytest.raises(OSError, match="No space left"):
            clf.save(folder)
    assert sorted(p.name for p in folder.iterdir()) == ["boilerplate.skops"]
    # A file where the folder should be is refused.
    (tmp_path / "file").write_text("x")
    with pytest.raises(InputError, match="not a folder"):
        clf.save(tmp_path / "file")


def test_a_bad_topic_model_path_is_named_as_the_topic_model(
    no_model_env: pytest.MonkeyPatch, tiny_model_path: Path, tmp_path: Path
) -> None:
    with pytest.raises(ModelNotFoundError, match=r"^topic model \(topic_model\): no model file"):
        load(tiny_model_path, topic_model=tmp_path / "nope.skops")
    no_model_env.setenv("TEXTCLF_TOPIC_MODEL_URI", str(tmp_path / "nope.skops"))
    with pytest.raises(ModelNotFoundError, match=r"topic model \(\$TEXTCLF_TOPIC_MODEL_URI\)"):
        load(tiny_model_path)
    # The content model is checked as such: a content model is not a topic model.
    with pytest.raises(ModelError, match="wrong task"):
        load(tiny_model_path, topic_model=tiny_model_path)


def test_the_package_exports_its_errors() -> None:
    import textclf
    from textclf import errors

    assert textclf.InputError is errors.InputError
    assert textclf.ModelNotFoundError is errors.ModelNotFoundError
    assert issubclass(textclf.ModelError, textclf.TextclfError)


def test_line_index_maps_predictions_back_to_the_input(tiny_classifier: Classifier) -> None:
    text = "\n  Menu \r\n\r\nStory one.\rStory two.\n\n"
    raw = re.split(r"\r\n|\r|\n", text)
    page = tiny_classifier.predict_page(text)
    assert [x.line_index for x in page] == [1, 3, 4]
    assert [raw[x.line_index].strip() for x in page] == [x.text for x in page]
    entries = ["", "Menu", "", "Story."]
    assert [x.line_index for x in tiny_classifier.predict_lines(entries)] == [1, 3]
    [piped] = tiny_classifier.pipe([text])
    assert [x.line_index for x in piped] == [1, 3, 4]


@pytest.fixture(scope="module")
def dedup_classifier(tiny_pipeline: Any) -> Classifier:
    """The tiny model, trained to drop later copies of content texts."""
    import copy

    pipe = copy.deepcopy(tiny_pipeline)
    pipe[-1].drop_repeats = True
    return Classifier(pipe, source="tiny test model, drop_repeats")


def test_drop_repeats_follows_the_model_and_can_be_overridden(
    tiny_classifier: Classifier, dedup_classifier: Classifier
) -> None:
    story = "The river rose overnight and flooded the lower town."
    text = f"Home | News\n\n{story}\n\nRelated\n\n{story}\n\n{story.upper()}"
    assert tiny_classifier.drop_repeats is False
    assert dedup_classifier.drop_repeats is True
    assert "drop_repeats=True" in repr(dedup_classifier)
    # threshold 0: every line passes, so only the repeats rule decides.
    page = dedup_classifier.predict_page(text, threshold=0.0, relative=0.0)
    assert [x.label for x in page] == ["content"] * 3 + ["boilerplate", "content"]
    assert page.drop_repeats is True and page.to_dict()["drop_repeats"] is True
    kept = dedup_classifier.predict_page(text, threshold=0.0, relative=0.0, drop_repeats=False)
    assert [x.label for x in kept] == ["content"] * 5 and kept.drop_repeats is False
    forced = tiny_classifier.predict_page(text, threshold=0.0, relative=0.0, drop_repeats=True)
    assert [x.label for x in forced] == [x.label for x in page]
    # Every entry point takes it, and pipe() decides each page on its own.
    assert dedup_classifier.extract(text, threshold=0.0, relative=0.0).count(story) == 1
    lines = dedup_classifier.predict_lines(text.split("\n"), threshold=0.0, relative=0.0)
    assert [x.label for x in lines] == [x.label for x in page]
    piped = list(dedup_classifier.pipe([text, text], threshold=0.0, relative=0.0))
    assert [[x.label for x in p] for p in piped] == [[x.label for x in page]] * 2


@pytest.mark.parametrize("bad", [1, "yes", 0.0])
def test_invalid_drop_repeats_is_refused(dedup_classifier: Classifier, bad: Any) -> None:
    with pytest.raises(InputError, match="drop_repeats"):
        dedup_classifier.predict_page("x", drop_repeats=bad)
    with pytest.raises(InputError, match="drop_repeats"):
        dedup_classifier.pipe(["x"], drop_repeats=bad)


def test_a_model_with_a_bad_drop_repeats_is_refused(tiny_pipeline: Any) -> None:
    import copy

    from textclf.errors import ModelError

    pipe = copy.deepcopy(tiny_pipeline)
    pipe[-1].drop_repeats = "False"  # truthy: must not be read as True
    with pytest.raises(ModelError, match="drop_repeats is 'False'"):
        Classifier(pipe, source="bad model")


# ---------------------------------------------------------------------- decision presets
def test_a_preset_is_the_decision_for_a_call(tiny_pipeline: Any) -> None:
    import copy

    pipe = copy.deepcopy(tiny_pipeline)
    pipe[-1].presets_ = {"precision": (0.9, 0.8), "recall": (0.05, 0.0)}
    clf = Classifier(pipe)
    assert clf.presets == {"precision": (0.9, 0.8), "recall": (0.05, 0.0)}
    clf.presets["precision"] = (0.0, 0.0)  # a copy: the model's presets stay
    assert clf.presets["precision"] == (0.9, 0.8)
    text = (PREDICT_FIXTURES / "garden.labeled.txt").read_text(encoding="utf-8")
    for name, (t, r) in clf.presets.items():
        page = clf.predict_page(text, favor=name)
        assert (page.threshold, page.relative_threshold) == (t, r)
        assert page == clf.predict_page(text, threshold=t, relative=r)
        assert clf.extract(text, favor=name) == page.content
        assert clf.predict_lines(text.split("\n"), favor=name) == page
        assert list(clf.pipe([text, text], favor=name)) == [page, page]
        html = clf.predict_html("<p>The river rose overnight.</p>", favor=name)
        assert html.threshold == t
    precise, everything = clf.predict_page(text, favor="precision"), clf.predict_page(text)
    assert len(precise.content_lines) <= len(everything.content_lines)


def test_a_preset_can_be_the_classifiers_own_decision(tiny_pipeline: Any) -> None:
    import copy

    pipe = copy.deepcopy(tiny_pipeline)
    pipe[-1].presets_ = {"precision": (0.9, 0.8), "recall": (0.05, 0.0)}
    trained = Classifier(pipe)
    assert trained.favor is None
    precise = Classifier(pipe, favor="precision")
    assert precise.favor == "precision" and "favor='precision'" in repr(precise)
    assert (precise.threshold, precise.relative_threshold) == (0.9, 0.8)
    text = (PREDICT_FIXTURES / "garden.labeled.txt").read_text(encoding="utf-8")
    page = precise.predict_page(text)
    assert page == trained.predict_page(text, favor="precision")
    assert page != trained.predict_page(text)  # the fixture's page tells the two apart
    assert precise.extract(text) == page.content
    assert list(precise.pipe([text, text], n_process=2)) == [page, page]
    # A call's own decision still wins: another preset, or numbers (the other part stays the
    # classifier's).
    assert precise.predict_page(text, favor="recall") == trained.predict_page(text, favor="recall")
    assert precise.predict_page(text, threshold=0.3) == trained.predict_page(
        text, threshold=0.3, relative=0.8
    )
    with pytest.raises(InputError, match=r"favor='strict': no such preset"):
        Classifier(pipe, favor="strict")
    pipe[-1].presets_ = {}
    with pytest.raises(InputError, match="has no decision presets"):
        Classifier(pipe, favor="precision")


def test_load_takes_a_preset(tiny_classifier: Classifier, tiny_model_path: Any) -> None:
    from textclf.predict import load

    clf = load(str(tiny_model_path), topic_model=False, favor="recall")
    assert clf.favor == "recall"
    assert (clf.threshold, clf.relative_threshold) == tiny_classifier.presets["recall"]
    text = (PREDICT_FIXTURES / "garden.labeled.txt").read_text(encoding="utf-8")
    assert clf.predict_page(text) == tiny_classifier.predict_page(text, favor="recall")


def test_bad_presets_are_refused_before_any_page(tiny_pipeline: Any) -> None:
    import copy

    pipe = copy.deepcopy(tiny_pipeline)
    pipe[-1].presets_ = {"precision": (0.9, 0.8)}
    clf = Classifier(pipe)
    with pytest.raises(InputError, match=r"favor='recall': no such preset; .*\['precision'\]"):
        clf.predict_page("x", favor="recall")
    with pytest.raises(InputError, match="not both"):
        clf.pipe(["x"], favor="precision", threshold=0.5)
    with pytest.raises(InputError, match="not both"):
        clf.extract("x", favor="precision", relative=0)
    with pytest.raises(InputError, match="favor must be a preset name or None"):
        clf.predict_page("x", favor=1)  # type: ignore[arg-type]
    pipe[-1].presets_ = {}  # a model trained before presets, or without them
    with pytest.raises(InputError, match=r"has no decision presets.*make train"):
        Classifier(pipe).predict_page("x", favor="precision")
    pipe[-1].presets_ = {"precision": (0.9, 1.5)}
    with pytest.raises(ModelError, match="preset 'precision'"):
        Classifier(pipe)


def test_presets_travel_with_the_saved_model(tiny_classifier: Classifier, tiny_model_path) -> None:
    from textclf.predict import load

    assert set(tiny_classifier.presets) == {"precision", "recall"}
    assert load(str(tiny_model_path), topic_model=False).presets == tiny_classifier.presets
