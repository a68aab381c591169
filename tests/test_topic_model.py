"""The topic model estimator: features, smoothing, masking, thresholds, skops and predict."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from corpus_fixtures import TOPIC_RECIPE
from textclf.errors import InputError, ModelError
from textclf.topic_model import (
    TRUSTED_TYPES,
    TopicClassifier,
    f1_scores,
    indicator,
    mask_keywords,
    smooth_targets,
)

TAXONOMY = {
    "space": {"keywords": ["rocket", "astronaut", "orbit"], "cased": ["NASA"], "patterns": []},
    "food": {"keywords": ["recipe", "bake", "flour"], "cased": [], "patterns": [r"\boven\b"]},
}
NAMES = list(TAXONOMY)
SMALL = {
    "n_word_features": 2**12,
    "n_char_features": 2**12,
    "max_iter": 30,
    "alpha": 1e-5,
    "positive_weight": 1.0,
}

SPACE = [
    "The rocket left the launch pad at dawn after a short delay.",
    "An astronaut checked the capsule before the countdown began.",
    "Engineers said the orbit was stable and the crew was safe.",
    "NASA said the mission would dock with the station tomorrow.",
    "The crew trained for months before the flight to the station.",
    "Mission control confirmed that the capsule reached the station.",
]
FOOD = [
    "Mix the flour with water and let the dough rest for an hour.",
    "Bake the loaf until the crust turns golden and sounds hollow.",
    "This recipe needs butter, sugar and two fresh eggs.",
    "Heat the oven before you put the tray on the middle shelf.",
    "Let the bread cool on a rack before you slice it.",
    "Serve the warm slices with butter and a pinch of salt.",
]
OTHER = [
    "The council met on Tuesday to discuss the new parking rules.",
    "Residents asked for more benches in the park near the river.",
    "The library will open later on Sundays during the summer.",
    "Volunteers cleaned the beach and collected six bags of litter.",
    "The school choir sang at the town hall on Friday evening.",
    "A new bus line will connect the station with the hospital.",
]
BOILERPLATE = ["Home", "About us", "Subscribe to our newsletter", "Privacy policy"]


def _pages(n: int = 12) -> pd.DataFrame:
    rows = []
    for i in range(n):
        body = (SPACE, FOOD, OTHER)[i % 3]
        lines = [*BOILERPLATE[:2], *body, *BOILERPLATE[2:]]
        for j, text in enumerate(lines):
            rows.append(
                {
                    "page_id": f"p{i}",
                    "text": text,
                    "label": int(j >= 2 and j < 2 + len(body)),
                    "line_index": j,
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return _pages()


RECIPE = TOPIC_RECIPE


def _weak(frame: pd.DataFrame) -> pd.DataFrame:
    from textclf.topic_model import compiled_rules

    return frame.assign(topics=compiled_rules(TAXONOMY).label_lines(frame["text"].tolist()))


def _fit_data(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The real recipe's training lines and targets: smoothed weak labels, masked copies,
    keyword lines."""
    from textclf.topic_train import build_training_set

    lines, targets, _ = build_training_set(_weak(frame), NAMES, TAXONOMY, RECIPE)
    return lines, targets


@pytest.fixture(scope="module")
def fitted(frame: pd.DataFrame) -> TopicClassifier:
    """Trained with the real recipe (:func:`_fit_data`)."""
    return TopicClassifier(NAMES, taxonomy=TAXONOMY, **SMALL).fit(*_fit_data(frame))


def test_indicator_ignores_unknown_names() -> None:
    got = indicator([["food"], [], ["space", "nope"]], NAMES)
    assert got.tolist() == [[0, 1], [0, 0], [1, 0]]
    assert got.dtype == np.int8


def test_smoothing_adds_the_page_topic_to_long_content_lines(frame: pd.DataFrame) -> None:
    from textclf.topic_model import compiled_rules

    weak = indicator(compiled_rules(TAXONOMY).label_lines(frame["text"].tolist()), NAMES)
    smooth = smooth_targets(
        frame["page_id"].tolist(),
        frame["text"].tolist(),
        frame["label"].to_numpy() == 1,
        weak,
        min_share=0.3,
        min_lines=2,
        min_words=4,
    )
    crew = frame["text"].str.startswith("The crew trained").to_numpy()
    assert not weak[crew, 0].any()  # no keyword ...
    assert smooth[crew, 0].all()  # ... but its page is about space
    assert (smooth >= weak).all()  # only positives are added
    menu = (frame["label"] == 0).to_numpy()
    assert (smooth[menu] == weak[menu]).all()  # boilerplate lines are left alone
    strict = smooth_targets(
        frame["page_id"].tolist(),
        frame["text"].tolist(),
        frame["label"].to_numpy() == 1,
        weak,
        min_share=0.9,
        min_lines=2,
        min_words=4,
    )
    assert (strict == weak).all()


def test_mask_keywords_cuts_every_rule_match() -> None:
    masked = mask_keywords(
        ["NASA said the rocket will fly", "Heat the oven", "Nothing here"], TAXONOMY
    )
    assert masked == ["said the will fly", "Heat the", "Nothing here"]


def test_fit_predict_shapes_and_names(fitted: TopicClassifier, frame: pd.DataFrame) -> None:
    proba = fitted.predict_proba(frame)
    assert proba.shape == (len(frame), 2)
    assert ((proba >= 0) & (proba <= 1)).all()
    assert fitted.topics_ == NAMES
    assert fitted.coef_.dtype == np.float32
    topics = fitted.predict_topics(frame)
    assert len(topics) == len(frame)
    assert all(set(t) <= set(NAMES) for t in topics)
    assert fitted.predict(frame.iloc[:0]).shape == (0, 2)


def test_the_model_learns_the_words_around_the_keywords(fitted: TopicClassifier) -> None:
    page = pd.DataFrame(
        {
            "page_id": ["a", "a", "b"],
            "text": [
                "The capsule reached the station and the crew was safe.",  # no keyword
                "Home",
                "Let the dough rest before you slice the warm bread.",  # no keyword
            ],
        }
    )
    assert fitted.predict_topics(page) == [["space"], [], ["food"]]


def test_page_context_features_see_other_lines_only(fitted: TopicClassifier) -> None:
    texts = ["The rocket flew.", "A line about nothing in particular at all here."]
    alone = pd.DataFrame({"page_id": ["x", "y"], "text": texts})
    together = pd.DataFrame({"page_id": ["x", "x"], "text": texts})
    r = fitted._rule_matrix(texts)
    a, b = fitted._context(alone, texts, r), fitted._context(together, texts, r)
    assert np.allclose(a[0], b[0]) is False or np.allclose(a[1], b[1]) is False
    # the second line's neighbour share of "space" comes from the first line
    assert b[1].sum() > a[1].sum()


def test_context_blocks_are_options_and_saved_models_keep_theirs(
    fitted: TopicClassifier, frame: pd.DataFrame
) -> None:
    # By default the page context holds, after the line's two length columns, the long lines'
    # shares, the neighbours' shares and the line's own rules, per topic.
    import pickle

    from sklearn.base import clone

    texts = frame["text"].tolist()
    r = fitted._rule_matrix(texts)
    k = len(NAMES)
    default = fitted._context(frame, texts, r)
    assert default.shape == (len(frame), 2 + 3 * k)
    full = clone(fitted).set_params(page_counts=True, long_shares=True)
    context = full._context(frame, texts, r)
    assert context.shape == (len(frame), 2 + 5 * k)
    # the blocks in the order models saved before the options hold them: shares, shares of
    # long lines, neighbours, counts, rules
    np.testing.assert_array_equal(context[:, : 2 + k], default[:, : 2 + k])
    long_line = default[:, 0] > 0
    np.testing.assert_array_equal(
        context[:, 2 + k : 2 + 2 * k], default[:, 2 : 2 + k] * long_line[:, None]
    )
    np.testing.assert_array_equal(context[:, 2 + 2 * k : 2 + 3 * k], default[:, 2 + k : 2 + 2 * k])
    np.testing.assert_array_equal(context[:, 2 + 4 * k :], default[:, 2 + 2 * k :])
    # the count block: the page's other lines with the topic, log-scaled (a "space" page holds
    # four rule matches of space: each line sees the others)
    first_space = int(np.flatnonzero(r[:, 0])[0])
    count = context[first_space, 2 + 3 * k] / np.float32(full.context_weight)
    assert count == pytest.approx(np.log1p(3) / np.log(21.0), rel=1e-5)
    # A model saved before the options existed was fitted with both blocks, and keeps them.
    old = full.fit(*_fit_data(frame))
    state = dict(old.__getstate__())  # a copy: __getstate__ may return the __dict__ itself
    del state["page_counts"], state["long_shares"]
    legacy = TopicClassifier.__new__(TopicClassifier)
    legacy.__setstate__(state)
    assert legacy.page_counts is True and legacy.long_shares is True
    assert legacy.get_params()["page_counts"] is True
    np.testing.assert_array_equal(legacy.predict_proba(frame), old.predict_proba(frame))
    new = pickle.loads(pickle.dumps(fitted))
    assert new.page_counts is False and new.long_shares is False


def test_rule_floor_keeps_rule_topics(frame: pd.DataFrame, fitted: TopicClassifier) -> None:
    from sklearn.base import clone

    strict = (
        clone(fitted)
        .set_params(rule_floor=True)
        .fit(frame[["page_id", "text"]], np.zeros((len(frame), 2)))
    )
    page = pd.DataFrame({"page_id": ["a"], "text": ["Bake it in the oven."]})
    assert strict.predict_topics(page) == [["food"]]  # no positive example, but the rules fire
    strict.set_params(rule_floor=False)
    assert strict.predict_topics(page) == [[]]


def test_tune_thresholds_maximises_f1(fitted: TopicClassifier, frame: pd.DataFrame) -> None:
    from sklearn.base import clone

    model = clone(fitted).fit(frame[["page_id", "text"]], indicator([[]] * len(frame), NAMES) + 0)
    y = indicator([["space"] if "rocket" in t else [] for t in frame["text"]], NAMES)
    model.set_params(rule_floor=False).tune_thresholds(frame, y, topics=["space"])
    assert model.thresholds_[1] == 0.5  # not tuned
    mask = np.zeros(len(frame), dtype=bool)
    model.tune_thresholds(frame, y, mask=mask)  # nothing counts: nothing changes
    assert model.thresholds_[1] == 0.5


def test_tune_thresholds_takes_the_highest_of_the_best(
    fitted: TopicClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sklearn.base import clone

    model = clone(fitted).set_params(rule_floor=False)
    model.topics_, model.thresholds_ = fitted.topics_, list(fitted.thresholds_)
    proba = np.array([[0.9, 0.9], [0.8, 0.1], [0.3, 0.1], [0.2, 0.1]])
    monkeypatch.setattr(model, "_scores", lambda frame: (proba, np.zeros((4, 2), np.int8)))
    y = np.array([[1, 0], [1, 0], [0, 0], [0, 0]])
    model.tune_thresholds(None, y, grid=[0.1, 0.25, 0.5, 0.7, 0.85, 0.95], min_positives=1)
    # F1 of topic 0: 0.8 at 0.25, 1.0 at 0.5 and 0.7, 0.67 at 0.85: the best, and of those the
    # highest. Topic 1 has no positive: not tuned.
    assert model.thresholds_[0] == 0.7
    assert model.thresholds_[1] == fitted.thresholds_[1]


def test_tune_thresholds_can_smooth_a_jagged_f1_curve(
    fitted: TopicClassifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sklearn.base import clone

    model = clone(fitted).set_params(rule_floor=False)
    model.topics_, model.thresholds_ = fitted.topics_, list(fitted.thresholds_)
    # Five positives and six negatives: F1 0.62, 0.53, 0.5, 0.6, 0.67, 0.29, 0, 0, 0 at the
    # grid's thresholds, a lone peak at 0.5 that two lines make.
    levels = [0.15, 0.25, 0.55, 0.55, 0.65, 0.25, 0.25, 0.35, 0.35, 0.45, 0.75]
    y = np.zeros((11, 2), np.int8)
    y[:5, 0] = 1
    proba = np.column_stack([levels, np.zeros(11)])
    monkeypatch.setattr(model, "_scores", lambda frame: (proba, np.zeros((11, 2), np.int8)))
    grid = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
    model.tune_thresholds(None, y, grid=grid, min_positives=1)
    assert model.thresholds_[0] == 0.5
    # Averaged with one step on each side: 0.59 at 0.1, 0.59 at 0.4, 0.52 at 0.5.
    model.tune_thresholds(None, y, grid=grid, min_positives=1, smooth=1)
    assert model.thresholds_[0] == 0.1
    for bad in (-1, 1.5, True):
        with pytest.raises(InputError, match="smooth must be an int >= 0"):
            model.tune_thresholds(None, y, grid=grid, smooth=bad)


def test_errors_are_clear(frame: pd.DataFrame) -> None:
    with pytest.raises(ModelError, match="not fitted"):
        TopicClassifier(NAMES).predict(frame)
    with pytest.raises(InputError, match="page_id and text"):
        TopicClassifier(NAMES, **SMALL).fit(frame[["text"]], np.zeros((len(frame), 2)))
    with pytest.raises(InputError, match="Y must be"):
        TopicClassifier(NAMES, **SMALL).fit(frame, np.zeros((3, 2)))
    with pytest.raises(InputError, match="topics="):
        TopicClassifier(**SMALL).fit(frame, np.zeros((len(frame), 2)))


def test_y_as_dataframe_gives_the_topic_names(frame: pd.DataFrame) -> None:
    y = pd.DataFrame(np.zeros((len(frame), 2), dtype=int), columns=["a", "b"])
    y.loc[0, "a"] = 1
    model = TopicClassifier(**SMALL).fit(frame, y)
    assert model.topics_ == ["a", "b"]


def test_f1_scores() -> None:
    y = np.array([[1, 0], [1, 0], [0, 0]])
    pred = np.array([[1, 0], [0, 0], [1, 0]])
    scores = f1_scores(y, pred, ["a", "b"])
    assert scores["f1/a"] == pytest.approx(0.5)
    assert np.isnan(scores["f1/b"])  # no positive, no prediction: left out of the macro
    assert scores["macro_f1"] == pytest.approx(0.5)
    assert scores["micro_f1"] == pytest.approx(0.5)


def test_skops_round_trip_trusts_only_our_type(
    fitted: TopicClassifier, frame: pd.DataFrame, tmp_path: Path
) -> None:
    import skops.io as sio

    from textclf.serialization import dump_model, load_model_file, trusted_types

    assert sorted(sio.get_untrusted_types(data=sio.dumps(fitted))) == sorted(TRUSTED_TYPES)
    assert set(TRUSTED_TYPES) <= set(trusted_types())
    loaded = load_model_file(dump_model(fitted, tmp_path / "topics.skops"))
    assert loaded.predict_topics(frame) == fitted.predict_topics(frame)
    assert loaded.page_rule_ == fitted.page_rule_


def test_a_classifier_with_the_topic_model_gives_line_and_page_topics(
    fitted: TopicClassifier, tiny_pipeline: Any
) -> None:
    from textclf.predict import Classifier

    clf = Classifier(tiny_pipeline, topic_model=fitted)
    text = "Home\n\n" + "\n".join(SPACE[:4]) + "\n\nPrivacy policy"
    page = clf.predict_page(text, threshold=0.0)  # every line is content
    assert all(line.topics is not None for line in page)
    assert "space" in page.lines[1].topics
    assert page.topics == ("space",)
    assert page.to_dict()["topics"] == ["space"]
    nothing = clf.predict_page(text, threshold=1.0)  # no content line: no page topic
    assert nothing.topics == ()


@pytest.mark.parametrize("word_ngrams", [(1, 2), (1, 1)])
def test_design_matrix_is_the_one_of_scikit_learns_vectorizers(
    fitted: TopicClassifier, word_ngrams: tuple[int, int]
) -> None:
    # The words' and characters' blocks are built once per distinct text, from each distinct
    # word's hashed n-grams: they must be what HashingVectorizer gives line by line.
    from sklearn.base import clone
    from sklearn.feature_extraction.text import HashingVectorizer

    model = clone(fitted).set_params(word_ngrams=word_ngrams)
    texts = [*SPACE, "Read more", "ΟΔΟΣ naïve 😀", "", *SPACE[:2], "Read more", "x " * 600]
    frame = pd.DataFrame({"page_id": ["a"] * (len(SPACE) + 3) + ["b"] * 4, "text": texts})
    model.topics_ = NAMES
    X, rules = model._design(frame)
    capped = [t[: model.max_chars] for t in texts]
    settings = {"alternate_sign": False, "norm": "l2", "dtype": np.float32}
    word = HashingVectorizer(
        n_features=model.n_word_features, ngram_range=word_ngrams, **settings
    ).transform(capped)
    char = HashingVectorizer(
        n_features=model.n_char_features, analyzer="char_wb", ngram_range=(3, 5), **settings
    ).transform(capped)
    n_word, n_char = model.n_word_features, model.n_char_features
    assert (X[:, :n_word] != word).nnz == 0
    assert (X[:, n_word : n_word + n_char] != char * np.float32(model.char_weight)).nnz == 0
    expected = model._rule_matrix(capped)  # each line labelled on its own
    np.testing.assert_array_equal(rules, expected)
    assert rules[:, 0].sum() >= 4  # "space" lines, repeated ones included
