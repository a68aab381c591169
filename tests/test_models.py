import itertools

import numpy as np
import pytest

from corpus_fixtures import FOOTER, NAV, SENTENCES
from textclf.errors import ConfigError, InputError, ModelError
from textclf.features import lines_frame
from textclf.models import (
    _BINNED_OK,
    DEFAULT_PRESETS,
    ESTIMATORS,
    REPEAT_MIN_TOKENS,
    Decision,
    StackedLineClassifier,
    build_pipeline,
    check_presets,
    choose_decision,
    choose_decisions,
    choose_threshold,
    content_mask,
    decision_of,
    drops_repeats,
    earlier_copy_max,
    later_copies,
    line_weights,
    make_estimator,
    positive_proba,
    preset_keeps,
    presets_of,
    relative_power_of,
)


def _pages(n=24, seed=0):
    rng = np.random.default_rng(seed)
    pages, labels = [], []
    for _ in range(n):
        body = [
            " ".join(rng.choice(SENTENCES, 2, replace=False)) for _ in range(rng.integers(2, 5))
        ]
        lines = [*list(NAV), "A headline of the day", *body, *list(FOOTER)]
        pages.append(lines)
        labels += [0] * len(NAV) + [1] + [1] * len(body) + [0] * len(FOOTER)
    return lines_frame(pages), np.array(labels)


def test_registry_errors_list_valid_names():
    with pytest.raises(ConfigError, match="hgb"):
        make_estimator("xgboost")
    with pytest.raises(ConfigError, match="bad parameters"):
        make_estimator("hgb", {"no_such_param": 1})
    assert set(ESTIMATORS) >= {"logreg", "linear_svm", "hgb", "random_forest"}


@pytest.mark.parametrize("weighting", ["none", "page_tokens"])
@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_every_estimator_learns_the_toy_task(name, weighting):
    X, y = _pages()
    params = (
        {"max_iter": 30}
        if name == "hgb"
        else {"n_estimators": 20}
        if name == "random_forest"
        else {}
    )
    pipe = build_pipeline(name, params, stack={"stages": 2, "cv": 3, "weighting": weighting})
    pipe.fit(X, y)
    Xt, yt = _pages(6, seed=1)
    pred = pipe.predict(Xt)
    assert (pred == yt).mean() > 0.9
    proba = pipe.predict_proba(Xt)[:, 1]
    assert ((proba >= 0) & (proba <= 1)).all()
    assert 0 < pipe[-1].threshold_ < 1


def test_fixed_threshold_and_single_stage():
    X, y = _pages()
    pipe = build_pipeline("logreg", stack={"stages": 1, "threshold": 0.4})
    pipe.fit(X, y)
    assert pipe[-1].threshold_ == 0.4 and len(pipe[-1].stages_) == 1


def test_stages_must_be_positive():
    X, y = _pages(4)
    with pytest.raises(ConfigError, match="stages"):
        build_pipeline("logreg", stack={"stages": 0}).fit(X, y)
    assert StackedLineClassifier().get_params()["stages"] == 2


def test_choose_threshold_maximises_page_f1():
    # Two pages; content lines have p=0.6, boilerplate p=0.4 and 0.7 (a hard one).
    proba = np.array([0.6, 0.4, 0.7, 0.6, 0.4])
    y = np.array([1, 0, 0, 1, 0])
    page = np.array([0, 0, 0, 1, 1])
    tokens = np.array([10.0, 10, 1, 10, 10])
    t = choose_threshold(proba, y, page, tokens, grid=[0.3, 0.5, 0.65, 0.8])
    # 0.5 keeps the hard boilerplate line (1 token): F1 = (20/21 + 1)/2; 0.65 drops content.
    assert t == 0.5
    # The default grid holds round numbers: 0.3, not 0.30000000000000004.
    t = choose_threshold(proba, y, page, tokens)
    assert 0.4 < t <= 0.6 and t == round(t, 4)


def test_line_weights_give_pages_equal_weight_shared_by_tokens():
    page = np.array([0, 0, 1])
    tokens = np.array([3.0, 1.0, 4.0])
    # Token shares 0.75, 0.25, 1.0; times lines/pages (3/2): 1.125, 0.375, 1.5; half uniform:
    # 1.0625, 0.6875, 1.25 (mean 1 already).
    w = line_weights("page_tokens", page, tokens)
    np.testing.assert_allclose(w, [1.0625, 0.6875, 1.25])
    assert line_weights("none", page, tokens) is None
    with pytest.raises(ConfigError, match="weighting"):
        line_weights("by_length", page, tokens)


def test_weighting_changes_the_fit():
    X, y = _pages()
    plain = build_pipeline("logreg", stack={"stages": 1, "threshold": 0.5}).fit(X, y)
    weighted = build_pipeline(
        "logreg", stack={"stages": 1, "threshold": 0.5, "weighting": "page_tokens"}
    ).fit(X, y)
    a = plain.predict_proba(X)[:, 1]
    b = weighted.predict_proba(X)[:, 1]
    assert not np.allclose(a, b)


@pytest.mark.parametrize("name", ["hgb", "logreg", "random_forest"])
def test_training_is_reproducible(name):
    X, y = _pages()
    params = {"n_estimators": 10} if name == "random_forest" else {}
    stack = {"stages": 2, "cv": 3, "random_state": 7}
    runs = [build_pipeline(name, params, stack=stack).fit(X, y) for _ in range(2)]
    # Equal up to the order in which a forest's parallel workers add up their trees' votes.
    np.testing.assert_allclose(
        runs[0].predict_proba(X), runs[1].predict_proba(X), rtol=0, atol=1e-12
    )
    assert (
        runs[0][-1]
        .stages_[0]
        .get_params()["random_state" if name != "logreg" else "logisticregression__random_state"]
        == 7
    )


def test_content_mask_is_threshold_and_share_of_the_page_best():
    proba = np.array([0.95, 0.35, 0.2, 0.35])
    page = np.array([0, 0, 0, 1])
    # page 0: cut max(0.3, 0.4 * 0.95 = 0.38); page 1: cut max(0.3, 0.4 * 0.35 = 0.14)
    assert content_mask(proba, page, 0.3, 0.4).tolist() == [True, False, False, True]
    assert content_mask(proba, page, 0.3).tolist() == [True, True, False, True]


def test_content_mask_takes_the_share_of_the_page_best_to_the_relative_power():
    # Page 0 is sure of its best line (0.99 ** 12 = 0.886), page 1 is not (0.8 ** 12 = 0.069).
    proba = np.array([0.99, 0.5, 0.45, 0.8, 0.3, 0.1])
    page = np.array([0, 0, 0, 1, 1, 1])
    # cuts: page 0 max(0.2, 0.6 * 0.886 = 0.53); page 1 max(0.2, 0.6 * 0.069 = 0.04)
    keep = content_mask(proba, page, 0.2, 0.6, relative_power=12)
    assert keep.tolist() == [True, False, False, True, True, False]
    # the plain share asks 0.594 of page 0 and 0.48 of page 1
    assert content_mask(proba, page, 0.2, 0.6).tolist() == [True, False, False, True, False, False]
    assert content_mask(proba, page, 0.2, 0.6, relative_power=1).tolist() == (
        content_mask(proba, page, 0.2, 0.6).tolist()
    )
    # without a relative part the power changes nothing
    assert content_mask(proba, page, 0.2, 0.0, relative_power=12).tolist() == (
        content_mask(proba, page, 0.2).tolist()
    )


def test_relative_power_is_checked_and_old_models_take_the_plain_share():
    X, y = _pages()
    for bad in (0.5, 0, True, "12", float("inf"), float("nan")):
        with pytest.raises(ConfigError, match=r"model\.relative_power must be a number >= 1"):
            build_pipeline("logreg", stack={"stages": 1, "relative_power": bad})
        with pytest.raises(ConfigError, match="relative_power must be a number >= 1"):
            StackedLineClassifier(make_estimator("logreg"), relative_power=bad).fit(
                build_pipeline("logreg")[0].fit_transform(X, y), y
            )
    pipe = build_pipeline("logreg", stack={"stages": 1, "relative_power": 12})
    assert relative_power_of(pipe) == relative_power_of(pipe[-1]) == 12.0
    assert relative_power_of(build_pipeline("logreg")) == 1.0
    assert relative_power_of(object()) == 1.0
    # A classifier saved before the setting existed has no such attribute: the plain share.
    state = StackedLineClassifier().__getstate__()
    del state["relative_power"]
    old = StackedLineClassifier.__new__(StackedLineClassifier)
    old.__setstate__(state)
    assert old.relative_power == 1.0 and relative_power_of(old) == 1.0
    old.relative_power = "twelve"
    with pytest.raises(ModelError, match="relative_power must be a number >= 1"):
        relative_power_of(old)


def test_predict_and_the_chosen_decision_use_the_relative_power(monkeypatch):
    X, y = _pages()
    stack = {"stages": 1, "threshold": 0.05, "relative": 0.9, "relative_power": 4}
    pipe = build_pipeline("logreg", stack=stack).fit(X, y)
    model, rows = pipe[-1], pipe[0].transform(X)
    page, tokens = rows[:, 0].astype(int), np.expm1(rows[:, 2])
    # middling probabilities (the fixture's pages are too easy), so that the power matters
    u = np.random.default_rng(0).random(len(rows))
    proba = np.where(y == 1, 0.3 + 0.7 * u, 0.8 * u)
    monkeypatch.setattr(model, "predict_proba", lambda X: np.column_stack([1 - proba, proba]))
    want = content_mask(proba, page, 0.05, 0.9, relative_power=4)
    assert model.predict(rows).tolist() == want.astype(int).tolist()
    assert want.tolist() != content_mask(proba, page, 0.05, 0.9).tolist()
    model.set_params(threshold="auto", relative="auto")
    chosen = model.choose_decision_on(rows, y)
    assert chosen == choose_decision(proba, y, page, tokens, relative_power=4)
    assert chosen != choose_decision(proba, y, page, tokens)


def test_content_mask_drops_later_copies_of_content_texts():
    proba = np.array([0.2, 0.9, 0.8, 0.9, 0.7, 0.9, 0.9])
    page = np.array(["a", "a", "a", "a", "a", "b", "b"])
    title, body = "A title of six words here", "The body of the story, in one sentence."
    texts = [title, title, body, body, title, body, body]
    # Line 0 ("Title" at 0.2) is not content, so line 1 is the first content copy of its text;
    # page b has its own first copy.
    keep = content_mask(proba, page, 0.5, 0.0, texts)
    assert keep.tolist() == [False, True, True, False, False, True, False]
    assert content_mask(proba, page, 0.5).tolist() == [False, True, True, True, True, True, True]
    # The repeats rule comes after the threshold and the page-relative share.
    assert content_mask(proba, page, 0.1, 0.0, texts).tolist() == [
        True, False, True, False, False, True, False,
    ]  # fmt: skip
    later = later_copies(proba >= 0.5, page, texts)
    assert later.tolist() == [False, False, False, True, True, False, True]
    assert later_copies(np.zeros(0, bool), np.zeros(0), []).tolist() == []
    # Texts under REPEAT_MIN_TOKENS tokens may repeat (code lines, table cells, prices).
    short = ["Yes", "Yes", "return x", "return x"]
    assert not later_copies(np.ones(4, bool), np.zeros(4), short).any()
    assert later_copies(np.ones(4, bool), np.zeros(4), short, min_tokens=1).tolist() == [
        False, True, False, True,
    ]  # fmt: skip
    assert REPEAT_MIN_TOKENS == 6


def test_drops_repeats_reads_the_final_step_and_old_models_keep_every_copy():
    pipe = build_pipeline(estimator="logreg", stack={"drop_repeats": True})
    assert drops_repeats(pipe) and drops_repeats(pipe[-1])
    assert not drops_repeats(build_pipeline(estimator="logreg"))
    assert not drops_repeats(object())
    # A classifier saved before the setting existed has no such attribute: it is False.
    state = StackedLineClassifier().__getstate__()
    del state["drop_repeats"]
    old = StackedLineClassifier.__new__(StackedLineClassifier)
    old.__setstate__(state)
    assert old.drop_repeats is False and old.get_params()["drop_repeats"] is False


def test_choose_decision_uses_the_relative_part_when_it_helps():
    # Page 0: a sure article line and a middling teaser; page 1: only middling content.
    proba = np.array([0.95, 0.35, 0.35, 0.1])
    y = np.array([1, 0, 1, 0])
    page = np.array([0, 0, 1, 1])
    tokens = np.full(4, 10.0)
    # threshold 0.3 alone keeps the teaser (page F1 2/3 and 1); adding 0.4 x the page's best
    # drops it and keeps page 1's content (1 and 1). Threshold 0.5 loses page 1's content.
    pair = choose_decision(proba, y, page, tokens, grid=[0.3, 0.5], relative_grid=[0.0, 0.4])
    assert pair == (0.3, 0.4)
    assert choose_threshold(proba, y, page, tokens, grid=[0.3, 0.5]) == 0.3


def test_earlier_copy_max_gives_content_mask_repeats_for_any_decision():
    rng = np.random.default_rng(3)
    words = ["alpha", "beta", "gamma", "delta"]
    pool = [" ".join(rng.choice(words, int(rng.integers(1, 9)))) for _ in range(12)]
    texts = [str(rng.choice(pool)) for _ in range(400)]
    page = np.sort(rng.integers(0, 15, 400))
    proba = rng.random(400).round(2)  # ties with the thresholds included
    copy_of = earlier_copy_max(proba, page, texts)
    top = np.array([proba[page == p].max() for p in page])
    for t, r, power in itertools.product((0.0, 0.05, 0.3, 0.5, 0.91), (0.0, 0.3, 0.6), (1, 12)):
        plain = content_mask(proba, page, t, r, relative_power=power)
        vectorised = plain & (copy_of < np.maximum(t, r * top**power))
        assert vectorised.tolist() == content_mask(proba, page, t, r, texts, power).tolist()
    assert earlier_copy_max(np.zeros(0), np.zeros(0), []).tolist() == []
    assert earlier_copy_max(proba, page.tolist(), texts).tolist() == copy_of.tolist()  # a list


def test_choose_decision_with_texts_chooses_for_the_repeats_rule():
    # One page: its article line, a content line at 0.3 and three later copies of the article
    # line at 0.3 (the headline repeated in teasers). Kept, the copies cost threshold 0.3 more
    # than the content line gains; dropped as repeats, they cost nothing.
    a, b = "The article line has seven words here", "Another content line of seven words"
    texts = [a, b, a, a, a]
    proba = np.array([0.9, 0.3, 0.3, 0.3, 0.3])
    y = np.array([1, 1, 0, 0, 0])
    page, tokens = np.zeros(5), np.full(5, 7.0)
    grids = {"grid": [0.3, 0.5], "relative_grid": [0.0]}
    assert choose_decision(proba, y, page, tokens, **grids) == (0.5, 0.0)
    assert choose_decision(proba, y, page, tokens, texts=texts, **grids) == (0.3, 0.0)
    # The same, brute force over content_mask, on random pages (some sure of their best line,
    # some not, so that the relative part matters).
    grid, relative_grid = [0.2, 0.4, 0.6], [0.0, 0.5, 0.8]
    for seed in range(20):
        power = (1, 6)[seed % 2]  # the relative share of the page's best to a power, or not
        rng = np.random.default_rng(seed)
        pool = [" ".join(rng.choice(["w1", "w2", "w3"], int(rng.integers(1, 9)))) for _ in range(8)]
        texts = [str(rng.choice(pool)) for _ in range(200)]
        page = np.sort(rng.integers(0, 10, 200))
        proba = rng.random(200) * rng.choice([0.5, 1.0], 10)[page]
        y = (rng.random(200) < proba).astype(int)
        tokens = rng.integers(1, 30, 200).astype(float)
        best, best_pair = -1.0, None
        for r in relative_grid:
            for t in grid:
                keep = content_mask(proba, page, t, r, texts, power)
                f1 = []
                for p in np.unique(page):
                    on = page == p
                    gold, pred = (tokens * (y == 1))[on].sum(), (tokens * keep)[on].sum()
                    tp = (tokens * keep * (y == 1))[on].sum()
                    f1.append(2 * tp / (pred + gold) if pred + gold else 1.0)
                if np.mean(f1) > best + 1e-12:
                    best, best_pair = float(np.mean(f1)), (t, r)
        chosen = choose_decision(
            proba,
            y,
            page,
            tokens,
            grid=grid,
            relative_grid=relative_grid,
            texts=texts,
            relative_power=power,
        )
        assert chosen == best_pair, seed


def test_relative_auto_is_learned_and_a_number_is_kept():
    X, y = _pages()
    auto = build_pipeline("logreg", stack={"stages": 1, "relative": "auto"}).fit(X, y)
    assert 0.0 <= auto[-1].relative_threshold_ <= 1.0
    fixed = build_pipeline("logreg", stack={"stages": 1, "threshold": 0.4, "relative": 0.5})
    fixed.fit(X, y)
    assert (fixed[-1].threshold_, fixed[-1].relative_threshold_) == (0.4, 0.5)
    with pytest.raises(ConfigError, match="relative"):
        build_pipeline("logreg", stack={"stages": 1, "relative": 2}).fit(X, y)


def _pages_with_teasers(n, seed):
    """:func:`_pages`, each page ending with three copies of its first body line (boilerplate:
    the story repeated in teasers)."""
    X, y = _pages(n, seed)
    pages, labels = [], []
    for _, rows in X.groupby("page_id", sort=False):
        lines = rows["text"].tolist()
        pages.append([*lines, *[lines[len(NAV) + 1]] * 3])
        labels += [*y[rows.index].tolist(), 0, 0, 0]
    return lines_frame(pages), np.array(labels)


def test_decision_chosen_on_held_out_lines():
    X, y = _pages(24, seed=0)
    Xh, yh = _pages_with_teasers(12, seed=1)
    pipe = build_pipeline(
        "logreg", stack={"stages": 1, "relative": "auto", "decide_on": "held_out"}
    )
    pipe.fit(X, y)
    model = pipe[-1]
    # Nothing chosen yet: the plain 0.5 rule until choose_decision_on is called.
    assert (model.threshold_, model.relative_threshold_, model.decided_on_) == (0.5, 0.0, "pending")
    rows = pipe[0].transform(Xh)
    pair = model.choose_decision_on(rows, yh)
    page = rows[:, 0].astype(int)
    expected = choose_decision(model.predict_proba(rows)[:, 1], yh, page, np.expm1(rows[:, 2]))
    assert pair == expected == (model.threshold_, model.relative_threshold_)
    assert model.decided_on_ == "held_out"
    # With drop_repeats the texts take part in the choice; without, they are ignored.
    texts = Xh["text"].tolist()
    proba = model.predict_proba(rows)[:, 1]
    assert model.choose_decision_on(rows, yh, texts) == expected
    model.set_params(drop_repeats=True)
    with_repeats = choose_decision(proba, yh, page, np.expm1(rows[:, 2]), texts=texts)
    assert model.choose_decision_on(rows, yh, texts) == with_repeats != expected
    with pytest.raises(InputError, match="texts"):
        model.choose_decision_on(rows, yh, texts[:-1])


def test_a_decision_chosen_elsewhere_is_set_and_recorded():
    with pytest.raises(ModelError, match="fit first"):
        StackedLineClassifier().set_decision(0.3, 0.4, "crossval")
    X, y = _pages()
    model = build_pipeline("logreg", stack={"stages": 1, "decide_on": "held_out"}).fit(X, y)[-1]
    model.set_decision(0.3, 0.4, "crossval")
    assert (model.threshold_, model.relative_threshold_, model.decided_on_) == (
        0.3,
        0.4,
        "crossval",
    )
    with pytest.raises(ConfigError, match="numbers"):
        model.set_decision("auto", 0.4, "crossval")
    with pytest.raises(ConfigError, match=r"relative must be in \[0, 1\]"):
        model.set_decision(0.3, 1.5, "crossval")


def _page_f_beta(keep, y, page, tokens, beta):
    """The mean over pages of the token-weighted F-beta of ``keep``, computed plainly."""
    scores = []
    for p in np.unique(page):
        rows = page == p
        tp = tokens[rows & keep & (y == 1)].sum()
        pred, gold = tokens[rows & keep].sum(), tokens[rows & (y == 1)].sum()
        b2 = beta * beta
        scores.append(1.0 if pred + gold == 0 else (1 + b2) * tp / (pred + b2 * gold))
    return float(np.mean(scores))


def test_choose_decision_maximises_the_f_beta_it_is_given():
    rng = np.random.default_rng(3)
    page = np.repeat(np.arange(40), 15)
    y = (rng.random(len(page)) < 0.5).astype(int)
    proba = np.where(y == 1, rng.beta(4, 2, len(page)), rng.beta(2, 4, len(page)))
    tokens = rng.integers(1, 40, len(page)).astype(float)
    chosen = {}
    for beta in (0.5, 1.0, 2.0):
        t, r = choose_decision(proba, y, page, tokens, beta=beta, relative_power=4)
        keep = content_mask(proba, page, t, r, relative_power=4)
        chosen[beta] = tokens[keep].sum()
        best = _page_f_beta(keep, y, page, tokens, beta)
        for other_t in np.round(np.arange(0.05, 0.96, 0.025), 4):  # no threshold does better
            for other_r in (0.0, 0.5, 0.9):
                keep = content_mask(proba, page, other_t, other_r, relative_power=4)
                assert _page_f_beta(keep, y, page, tokens, beta) <= best + 1e-9
    # Precision keeps less text than F1, recall more.
    assert chosen[0.5] < chosen[1.0] < chosen[2.0]
    assert choose_decision(proba, y, page, tokens) == choose_decision(
        proba, y, page, tokens, beta=1.0
    )
    for bad in (0, -1, True, "2", float("inf"), float("nan")):
        with pytest.raises(ConfigError, match="beta must be a number > 0"):
            choose_decision(proba, y, page, tokens, beta=bad)


def test_presets_are_chosen_with_the_decision_and_kept_by_the_model():
    X, y = _pages_with_teasers(16, seed=2)
    pipe = build_pipeline(
        "logreg",
        features={"word_dropout": 0},  # training rows are then what transform(X) gives
        stack={"stages": 1, "relative": "auto", "cv": 2},
    ).fit(X, y)
    model = pipe[-1]
    assert model.presets is None and set(model.presets_) == set(DEFAULT_PRESETS)
    assert presets_of(pipe) == presets_of(model) == model.presets_
    # Chosen on the same out-of-fold probabilities as the default decision.
    rows = pipe[0].transform(X)
    proba = model._oof(
        model.stages_[0], np.delete(rows, 0, axis=1), y, rows[:, 0].astype(int), None
    )
    page, tokens = rows[:, 0].astype(int), np.expm1(rows[:, 2])
    assert model.presets_ == choose_decisions(proba, y, page, tokens, DEFAULT_PRESETS)
    for name, beta in DEFAULT_PRESETS.items():  # the same as one beta at a time
        assert model.presets_[name] == choose_decision(proba, y, page, tokens, beta=beta)
    for t, r in model.presets_.values():
        assert 0 <= t <= 1 and 0 <= r <= 1
    # Named presets, none, or a fixed decision (nothing chosen: no presets).
    own = build_pipeline("logreg", stack={"stages": 1, "cv": 2, "presets": {"strict": 0.25}})
    assert set(own.fit(X, y)[-1].presets_) == {"strict"}
    none = build_pipeline("logreg", stack={"stages": 1, "cv": 2, "presets": {}}).fit(X, y)
    assert none[-1].presets_ == {} and presets_of(none) == {}
    fixed = build_pipeline("logreg", stack={"stages": 1, "threshold": 0.4, "relative": 0.5})
    assert fixed.fit(X, y)[-1].presets_ == {}
    # Chosen on held-out lines with the decision, or set with a decision chosen elsewhere.
    held = build_pipeline("logreg", stack={"stages": 1, "decide_on": "held_out"}).fit(X, y)
    assert held[-1].presets_ == {}
    held[-1].choose_decision_on(rows, y)
    assert set(held[-1].presets_) == set(DEFAULT_PRESETS)
    held[-1].set_decision(0.3, 0.4, "crossval", {"precision": (0.5, 0.8)})
    assert presets_of(held) == {"precision": (0.5, 0.8)}
    with pytest.raises(ConfigError, match=r"relative must be in \[0, 1\]"):
        held[-1].set_decision(0.3, 0.4, "crossval", {"precision": (0.5, 1.8)})
    # Each preset's mask is the decision with the preset's numbers.
    decision = decision_of(held)
    masks = preset_keeps(proba, X, decision, presets_of(held))
    want = Decision(0.5, 0.8, decision.drop_repeats, decision.relative_power)
    assert (masks["precision"] == want.mask(proba, X["page_id"], X["text"].tolist())).all()


def test_bad_presets_are_named_and_old_models_have_none():
    assert check_presets(None) == DEFAULT_PRESETS
    assert check_presets({"precision": 0.5, "recall": None}) == {"precision": 0.5}  # left out
    for bad, error in (
        ({"Precision": 0.5}, "lower-case identifiers"),
        ({"precision": 0}, r"model\.presets\.precision must be a number > 0"),
        ({"precision": "high"}, r"model\.presets\.precision must be a number > 0"),
        (["precision"], "must map preset names to betas"),
    ):
        with pytest.raises(ConfigError, match=error):
            build_pipeline("logreg", stack={"stages": 1, "presets": bad})
    state = StackedLineClassifier().__getstate__()
    del state["presets"]
    old = StackedLineClassifier.__new__(StackedLineClassifier)
    old.__setstate__(state)
    assert old.presets == {} and presets_of(old) == {}
    old.presets_ = {"precision": (0.5, "high")}
    with pytest.raises(ModelError, match="preset 'precision'"):
        presets_of(old)


def test_held_out_decision_skips_the_out_of_fold_fits(monkeypatch):
    X, y = _pages()

    def no_oof(*args, **kwargs):
        raise AssertionError("out-of-fold predictions were computed")

    monkeypatch.setattr(StackedLineClassifier, "_oof", no_oof)
    build_pipeline("logreg", stack={"stages": 1, "decide_on": "held_out"}).fit(X, y)
    with pytest.raises(AssertionError, match="out-of-fold"):
        build_pipeline("logreg", stack={"stages": 1, "decide_on": "oof"}).fit(X, y)


def test_bad_decide_on_and_unfitted_model_are_named():
    X, y = _pages()
    with pytest.raises(ConfigError, match="decide_on"):
        build_pipeline("logreg", stack={"stages": 1, "decide_on": "test"}).fit(X, y)
    with pytest.raises(ModelError, match="fit first"):
        StackedLineClassifier().choose_decision_on(np.zeros((2, 5)), [0, 1])


def _boosted(X, y, **params):
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_iter=30, random_state=0, **params).fit(X, y)


@pytest.mark.parametrize("max_bins", [255, 127])  # scikit-learn's default; ours (conf/model/hgb)
def test_positive_proba_through_the_bins_is_exactly_predict_proba(max_bins):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 6)).astype(np.float32)
    X[:, 2] = rng.integers(0, 4, 600)  # few distinct values: one bin per value
    X[rng.random(600) < 0.05, 3] = np.nan  # missing values at training
    y = (X[:, 0] + X[:, 2] > 1).astype(int)
    model = _boosted(X, y, max_bins=max_bins)
    new = rng.normal(scale=3.0, size=(1500, 6)).astype(np.float32)  # beyond the training range
    new[:5, 1] = [np.nan, np.inf, -np.inf, 0.0, -0.0]
    new[5:20] = X[:15]  # exactly the training values, on the thresholds' sides
    for rows in (new, new.astype(np.float64), new[:1]):
        assert np.array_equal(positive_proba(model, rows), model.predict_proba(rows)[:, 1])
    assert _BINNED_OK[model] is True  # the bins were used, not sklearn's fallback


def test_positive_proba_keeps_sklearns_prediction_when_the_bins_do_not_apply(monkeypatch, caplog):
    import textclf.models as models

    rng = np.random.default_rng(1)
    X = rng.normal(size=(300, 3))
    y = (X[:, 0] > 0).astype(int)
    X[:, 2] = rng.integers(0, 3, 300)
    categorical = _boosted(X, y, categorical_features=[2])
    three = _boosted(X, rng.integers(0, 3, 300))
    used = []
    monkeypatch.setattr(models, "_binned_positive_proba", lambda *a: used.append(a) or None)
    for model in (categorical, three):
        assert np.array_equal(positive_proba(model, X), model.predict_proba(X)[:, 1])
    assert not used

    # The private parts changed and give other numbers: a warning, and sklearn's prediction.
    monkeypatch.setattr(models, "_binned_positive_proba", lambda est, rows: np.zeros(len(rows)))
    model = _boosted(X, y)
    assert np.array_equal(positive_proba(model, X), model.predict_proba(X)[:, 1])
    assert "without its bins (they disagree)" in caplog.text
    # A bad input still fails as scikit-learn fails it.
    with pytest.raises(ValueError, match="features"):
        positive_proba(_boosted(X, y), X[:, :2])
