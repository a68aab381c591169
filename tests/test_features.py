import re

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from textclf import features, hashing
from textclf.errors import InputError
from textclf.features import PAGE_COLUMN, LineFeaturizer, lines_frame


def _frame():
    pages = [
        [
            "Home",
            "News",
            "A headline about the talks",
            "The ministers met on Monday to discuss trade and security in the region.",
            "Read more",
            "Home",
        ],
        [
            "Menu",
            "Another story",
            "It was a long day for everyone involved in the rescue operation at sea.",
            "Read more",
        ],
    ]
    return lines_frame(pages, page_ids=["p1", "p2"])


def test_one_row_per_line_and_named_columns():
    X = _frame()
    feats = LineFeaturizer().fit(X, np.array([0, 0, 1, 1, 0, 0, 0, 1, 1, 0]))
    out = feats.transform(X)
    names = feats.get_feature_names_out()
    assert out.shape == (len(X), len(names))
    assert out.dtype == np.float32
    assert np.isfinite(out).all()
    assert list(out[:, PAGE_COLUMN]) == [0] * 6 + [1] * 4


def test_repeat_features_mark_first_copy():
    X = _frame()
    f = LineFeaturizer(corpus_frequency=False, text_model=False, sections=False).fit(X)
    out = f.transform(X)
    names = list(f.get_feature_names_out())
    first = out[:, names.index("is_first_copy")]
    repeats = out[:, names.index("page_repeats")]
    assert first[0] == 1 and first[5] == 0  # "Home" twice on page 1
    assert repeats[0] > 0 and repeats[1] == 0


def test_neighbour_features_do_not_cross_pages():
    X = _frame()
    f = LineFeaturizer(corpus_frequency=False, text_model=False, sections=False).fit(X)
    out = f.transform(X)
    names = list(f.get_feature_names_out())
    assert out[6, names.index("n-1_missing")] == 1  # first line of page 2
    assert out[5, names.index("n+1_missing")] == 1  # last line of page 1
    assert out[7, names.index("n-1_missing")] == 0


def test_corpus_frequency_is_leave_one_site_out_while_training():
    X = _frame()
    y = np.array([0, 0, 1, 1, 0, 0, 0, 1, 1, 0])
    f = LineFeaturizer(word_dropout=0)  # the tables of the words as given
    train_out = f.fit_transform(X, y)
    names = list(f.get_feature_names_out())
    col = names.index("log_corpus_pages")
    # "Read more" is on both pages: at training time each copy sees only the other page.
    assert train_out[4, col] == pytest.approx(np.log1p(1))
    # At prediction time the text counts both training pages.
    assert f.transform(X)[4, col] == pytest.approx(np.log1p(2))


def test_features_are_the_same_whatever_the_batch():
    X = _frame()
    f = LineFeaturizer().fit(X, np.zeros(len(X)))
    together = f.transform(X)
    alone = f.transform(X[X.page_id == "p2"].reset_index(drop=True))
    # The page column differs (index within the batch); every feature is equal.
    np.testing.assert_allclose(together[6:, 1:], alone[:, 1:], rtol=1e-6)


def test_bad_inputs_are_named():
    with pytest.raises(InputError, match="DataFrame"):
        LineFeaturizer().fit_transform([["a"]])
    with pytest.raises(InputError, match="lacks column"):
        LineFeaturizer().fit(pd.DataFrame({"text": ["a"]}))
    X = _frame()
    scrambled = pd.concat([X.iloc[:2], X.iloc[6:], X.iloc[2:6]], ignore_index=True)
    with pytest.raises(InputError, match="contiguous"):
        LineFeaturizer(corpus_frequency=False, text_model=False, sections=False).fit(
            scrambled
        ).transform(scrambled)


def test_empty_table():
    f = LineFeaturizer(corpus_frequency=False, text_model=False, sections=False).fit(_frame())
    out = f.transform(lines_frame([]))
    assert out.shape == (0, len(f.get_feature_names_out()))


def test_text_model_scores_are_out_of_fold_while_training():
    pages = [
        [f"Menu item {i}", f"Unique paragraph number {i} about the weather."] for i in range(6)
    ]
    X = lines_frame(pages, page_ids=[f"p{i}" for i in range(6)])
    y = np.array([0, 1] * 6)
    f = LineFeaturizer(corpus_frequency=False)
    train_out = f.fit_transform(X, y)
    col = list(f.get_feature_names_out()).index("text_score")
    assert ((train_out[:, col] >= 0) & (train_out[:, col] <= 1)).all()
    # Scored by a model that saw the line itself, training lines would look more certain.
    full = f.transform(X)[:, col]
    assert np.abs(full - 0.5).mean() >= np.abs(train_out[:, col] - 0.5).mean()
    with pytest.raises(InputError, match="needs labels"):
        LineFeaturizer().fit(X)


def test_window_means_are_exact_per_page():
    from textclf.features import window_mean

    values = np.array([1.0, 2, 3, 10, 20], dtype=np.float64)
    page = np.array([0, 0, 0, 1, 1])
    starts, sizes = np.array([0, 3]), np.array([3, 2])
    got = window_mean(values, 1, page, starts, sizes)
    np.testing.assert_allclose(got, [1.5, 2, 2.5, 15, 15])


def _distances_reference(long_line, index, page_size):
    """The plain loops the vectorised distances must reproduce exactly."""
    n = len(long_line)
    prev, nxt = np.full(n, 50.0), np.full(n, 50.0)
    last = -(10**9)
    for i in range(n):
        last = -(10**9) if index[i] == 0 else last
        prev[i] = min(i - last, 50)
        last = i if long_line[i] else last
    following = 10**9
    for i in range(n - 1, -1, -1):
        following = 10**9 if index[i] == page_size[i] - 1 else following
        nxt[i] = min(following - i, 50)
        following = i if long_line[i] else following
    return prev, nxt


def test_distances_to_flagged_lines_match_the_reference_loops():
    from textclf.features import _distances_to_flagged

    rng = np.random.default_rng(0)
    for _ in range(200):
        sizes = rng.integers(1, 80, rng.integers(1, 6))
        starts = np.r_[0, np.cumsum(sizes)[:-1]]
        page = np.repeat(np.arange(len(sizes)), sizes)
        index = np.arange(sizes.sum()) - starts[page]
        long_line = rng.random(sizes.sum()) < rng.random()
        want = _distances_reference(long_line, index, sizes[page])
        got = _distances_to_flagged(long_line, starts, sizes, page)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])


def _section_pages(n_sites: int):
    pages, labels = [], []
    for i in range(n_sites):
        pages.append(
            [
                "Menu",
                "The story",
                f"The first paragraph of story {i} tells the reader what happened and why.",
                f"The second paragraph of story {i} adds the details that the first one left out.",
                "Related stories",
                f"Teaser {i} a",
                f"Teaser {i} b",
            ]
        )
        labels += [0, 0, 1, 1, 0, 0, 0]
    frame = lines_frame(pages, page_ids=[f"site{i}" for i in range(n_sites)])
    return frame, np.array(labels)


def test_section_markers_are_learned_and_leave_one_site_out_while_training():
    X, y = _section_pages(3)
    f = LineFeaturizer(corpus_frequency=False, text_model=False, min_pages=3, word_dropout=0)
    train_out = f.fit_transform(X, y)
    names = list(f.get_feature_names_out())
    rate, known = names.index("section_rate"), names.index("section_known")
    out = f.transform(X)
    # Three sites hold "Related stories"; while training, a line sees only the other two.
    assert out[4, known] == 1 and train_out[4, known] == 0
    # Nothing but boilerplate follows it; content follows "The story".
    assert out[4, rate] < f.sec_prior_ < out[1, rate]
    # Long lines are never markers.
    assert out[2, known] == 0


def test_section_marker_distances():
    X, y = _section_pages(3)
    f = LineFeaturizer(corpus_frequency=False, text_model=False, word_dropout=0).fit(X, y)
    names = list(f.get_feature_names_out())
    out = f.transform(X)
    prev_end, next_end = names.index("dist_prev_end_marker"), names.index("dist_next_end_marker")
    # "Related stories" is an end marker, and so is the first teaser (boilerplate follows it).
    assert out[4, names.index("section_rate")] < 0.5 * f.sec_prior_
    np.testing.assert_allclose(out[5:7, prev_end], np.log1p([1, 1]))
    np.testing.assert_allclose(out[2:4, next_end], np.log1p([2, 1]))
    # No end marker before the story, and none crosses into the next page.
    np.testing.assert_allclose(out[:5, prev_end], np.log1p(50))
    np.testing.assert_allclose(out[7, prev_end], np.log1p(50))
    # The nearest marker of any kind and its rate.
    prev_rate, prev_dist = names.index("prev_marker_rate"), names.index("dist_prev_marker")
    assert out[5, prev_rate] == pytest.approx(out[4, names.index("section_rate")])
    assert out[5, prev_dist] == pytest.approx(np.log1p(1))


def test_section_markers_need_labels():
    X, _ = _section_pages(2)
    with pytest.raises(InputError, match="sections=True needs labels"):
        LineFeaturizer(text_model=False).fit(X)


def test_neighbour_scores_are_the_text_scores_of_the_lines_around_within_the_page():
    X = _frame()
    y = np.array([0, 0, 1, 1, 0, 0, 0, 1, 1, 0])
    f = LineFeaturizer().fit(X, y)
    out = f.transform(X)
    names = list(f.get_feature_names_out())
    score = out[:, names.index("text_score")]
    for off in (-2, -1, 1, 2):
        col = out[:, names.index(f"n{off:+d}_text_score")]
        for page_rows in (range(0, 6), range(6, 10)):
            for i in page_rows:
                j = i + off
                expected = score[j] if j in page_rows else -1.0
                assert col[i] == pytest.approx(expected), (off, i)
    # The training rows (out-of-fold scores) are shifted the same way.
    train_out = LineFeaturizer().fit_transform(X, y)
    train_score = train_out[:, names.index("text_score")]
    np.testing.assert_allclose(train_out[1:6, names.index("n-1_text_score")], train_score[0:5])
    np.testing.assert_allclose(train_out[6:9, names.index("n+1_text_score")], train_score[7:10])
    assert train_out[6, names.index("n-1_text_score")] == -1.0
    # Without the text model there are no scores to shift.
    names_off = LineFeaturizer(text_model=False).get_feature_names_out()
    assert not any(n.endswith("_text_score") for n in names_off)
    assert "n+1_text_score" not in LineFeaturizer(neighbour_scores=False).get_feature_names_out()


def test_score_context_is_the_text_scores_around_the_line_and_over_its_page():
    X = _frame()
    y = np.array([0, 0, 1, 1, 0, 0, 0, 1, 1, 0])
    f = LineFeaturizer().fit(X, y)
    names = list(f.get_feature_names_out())
    tokens = features.token_counts(X["text"].tolist())
    for out in (f.transform(X), LineFeaturizer().fit_transform(X, y)):  # out of fold too
        score = out[:, names.index("text_score")].astype(float)
        for rows in (np.arange(0, 6), np.arange(6, 10)):  # nothing crosses a page's edge
            s, t = score[rows], tokens[rows]
            mass = s * t
            for k, i in enumerate(rows):

                def mean_within(w, k=k, s=s):
                    return s[max(k - w, 0) : k + w + 1].mean()

                expected = [
                    mean_within(5),
                    mean_within(15),
                    s.mean(),
                    s.max(),
                    s[k] - s.mean(),
                    mass[:k].sum() / mass.sum(),
                    mass[k + 1 :].sum() / mass.sum(),
                ]
                got = out[i, names.index("win5_text_score") : names.index("win5_text_score") + 7]
                np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert "win5_text_score" not in LineFeaturizer(score_context=False).get_feature_names_out()
    assert "win5_text_score" not in LineFeaturizer(text_model=False).get_feature_names_out()


def _pages_where_the_line_above_decides(n_pages: int, seed: int = 0):
    """Pages whose lines carry the same random words, content or not: only the line above
    tells them apart (a "Related" line above a line makes it boilerplate)."""
    rng = np.random.default_rng(seed)
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
    pages, labels = [], []
    for _ in range(n_pages):
        page, page_labels, after_related = [], [], False
        for _ in range(12):
            if rng.random() < 0.3:
                page.append("Related")
                page_labels.append(0)
                after_related = True
                continue
            page.append(" ".join(rng.choice(words, size=4)))
            page_labels.append(0 if after_related else 1)
            after_related = False
        pages.append(page)
        labels += page_labels
    return pages, np.array(labels)


def test_the_context_text_model_reads_the_words_of_the_line_above():
    pages, y = _pages_where_the_line_above_decides(60)
    X = lines_frame(pages, page_ids=[f"p{i}" for i in range(len(pages))])
    f = LineFeaturizer(corpus_frequency=False, sections=False, context_text=True).fit(X, y)
    test_pages, y_test = _pages_where_the_line_above_decides(20, seed=1)
    out = f.transform(lines_frame(test_pages))
    names = list(f.get_feature_names_out())
    context = out[:, names.index("context_text_score")]
    own = out[:, names.index("text_score")]
    words = np.array([t != "Related" for page in test_pages for t in page])
    after = words & (y_test == 0)
    # The line's own words cannot tell a line after "Related" from one that is not; the words
    # around it can.
    assert context[after].max() < 0.5 < context[words & (y_test == 1)].min()
    assert abs(own[after].mean() - own[words & (y_test == 1)].mean()) < 0.1
    # The training rows get out-of-fold scores that learned the same.
    train = LineFeaturizer(corpus_frequency=False, sections=False, context_text=True)
    train = train.fit_transform(X, y)
    train_context = train[:, names.index("context_text_score")]
    words_train = X["text"].to_numpy() != "Related"
    assert train_context[words_train & (y == 0)].mean() < 0.3
    assert train_context[words_train & (y == 1)].mean() > 0.7


def test_context_text_scores_are_the_models_probabilities_within_each_page():
    """Predicting scores each distinct text once and adds its neighbours' parts: the same as
    the model's predict_proba on the side-by-side matrix, where no page sees another's lines."""
    pages, y = _pages_where_the_line_above_decides(30)
    X = lines_frame(pages, page_ids=[f"p{i}" for i in range(len(pages))])
    f = LineFeaturizer(corpus_frequency=False, sections=False, context_text=True).fit(X, y)
    batch = lines_frame([["alpha bravo", "Related", "alpha bravo"], ["alpha bravo"], ["Related"]])
    scores = f.transform(batch)[:, list(f.get_feature_names_out()).index("context_text_score")]
    page = pd.factorize(batch["page_id"])[0]
    design = features._with_neighbours(f._hash(batch["text"].tolist()), page)
    np.testing.assert_allclose(scores, f.context_clf_.predict_proba(design)[:, 1], rtol=1e-6)
    assert design[3, design.shape[1] // 3 :].nnz == 0  # page 2 has no neighbours
    # The same text scores differently after "Related" than at the top of a page.
    assert scores[2] < 0.5 < scores[0]
    assert scores[3] == pytest.approx(scores[0], abs=0.2)
    assert "context_text_score" not in LineFeaturizer().get_feature_names_out()  # off by default
    off = LineFeaturizer(text_model=False, context_text=True).get_feature_names_out()
    assert "context_text_score" not in off


@pytest.mark.parametrize(
    "parameter", ["sections", "neighbour_scores", "score_context", "context_text"]
)
def test_a_featurizer_saved_before_a_feature_group_existed_still_transforms(parameter):
    X, y = _section_pages(3)
    fitted = LineFeaturizer(**{parameter: False}).fit(X, y)
    expected = fitted.transform(X)
    state = fitted.__getstate__()
    del state[parameter]  # what a model file written before the parameter existed holds
    f = LineFeaturizer.__new__(LineFeaturizer)
    f.__setstate__(state)
    assert f.get_params()[parameter] is False
    # repr names the parameter where it differs from the default (context_text is off anyway)
    assert (parameter in repr(f)) is LineFeaturizer().get_params()[parameter]
    clone(f)
    np.testing.assert_array_equal(f.transform(X), expected)
    assert len(f.get_feature_names_out()) == expected.shape[1]


def test_token_counts_are_the_featurizers():
    import numpy as np

    from textclf.features import _BASE, _base_matrix, token_counts

    texts = ["Hello, world! It is 2024.", "", "one", "Über  die   Brücke"]
    blank = np.zeros(len(texts), dtype=bool)
    want = np.expm1(_base_matrix(texts, blank, blank)[:, _BASE.index("log_tokens")])
    np.testing.assert_allclose(token_counts(texts), want, atol=1e-6)
    assert token_counts(texts)[1] == 0 and token_counts(texts)[2] == 1
    assert len(token_counts([])) == 0


_TRICKY = [
    "Home",
    "Posted 12/03/2024 at 9:30 by the editor",
    "Updated: 𝟏𝟐:𝟑𝟎 (mathematical digits, outside the BMP)",
    "Δ-ΟΔΟΣ ß İstanbul naïve café 😀 emoji-led line",
    "",
    "x",
    "Read more | Share / Tweet » Next",
    "Home",
    "Visit www.example.com on Jan 5 or 5 March",
]


def test_base_features_of_repeated_texts_are_computed_once_and_the_same():
    # Each distinct text is computed once and copied: the rows must equal those computed line by
    # line, blank-line flags (which differ between copies of a text) included.
    texts = _TRICKY * 3
    rng = np.random.default_rng(0)
    bb, ba = rng.random(len(texts)) > 0.5, rng.random(len(texts)) > 0.5
    batch = features._base_matrix(texts, bb, ba)
    one_by_one = np.vstack(
        [features._base_rows([t], bb[i : i + 1], ba[i : i + 1]) for i, t in enumerate(texts)]
    )
    np.testing.assert_array_equal(batch, one_by_one)
    names = list(features._BASE)
    assert batch[1, names.index("has_date")] and batch[1, names.index("has_time")]
    assert batch[2, names.index("has_time")]  # digits outside the BMP are searched too
    assert not batch[0, names.index("has_time")] and not batch[0, names.index("has_date")]


def test_word_patterns_are_scikit_learns():
    import re

    texts = [*_TRICKY, "a b cd e_f 3d 10 über-größe x1 __ ab\u0301cd", "ｆｕｌｌ ｗｉｄｔｈ 東京"]
    for text in texts:
        low = text.lower()
        assert hashing._TOKEN.findall(low) == re.findall(r"(?u)\b\w\w+\b", low)
        # the body-overlap feature's words: the text model's, three letters or more
        longer = [w for w in hashing._TOKEN.findall(low) if len(w) > 2]
        assert longer == re.findall(r"\w{3,}", low)


def test_text_scores_of_repeated_lines_are_scored_once_and_the_same():
    X = lines_frame([_TRICKY, _TRICKY[::-1]], page_ids=["a", "b"])
    y = np.array([i % 2 for i in range(len(X))])
    f = LineFeaturizer(corpus_frequency=False, sections=False, text_features=2**12)
    f.set_params(context_text=True).fit(X, y)
    hashed = f._hash(X["text"].tolist())
    expected = f.text_clf_.predict_proba(hashed)[:, 1]
    page = pd.factorize(X["page_id"])[0]
    scores, context = f._text_scores(X, page, None)
    np.testing.assert_array_equal(scores, expected)
    design = features._with_neighbours(hashed, page)
    np.testing.assert_allclose(context, f.context_clf_.predict_proba(design)[:, 1], rtol=1e-9)


def test_a_batch_of_texts_has_its_words_found_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # the words shared with the page's prose and the text model's hashed words come from one
    # line_words call over the batch's distinct texts
    X = lines_frame([_TRICKY, _TRICKY[::-1]], page_ids=["a", "b"])
    y = np.array([i % 2 for i in range(len(X))])
    f = LineFeaturizer(corpus_frequency=False, sections=False, text_features=2**12).fit(X, y)
    expected = f.transform(X)
    calls: list[list[str]] = []
    real = hashing.line_words

    def counting(texts):
        calls.append(list(texts))
        return real(texts)

    monkeypatch.setattr(hashing, "_LAST", None)
    monkeypatch.setattr(hashing, "line_words", counting)
    monkeypatch.setattr(features, "line_words", counting)
    np.testing.assert_array_equal(f.transform(X), expected)
    assert calls == [list(dict.fromkeys(X["text"]))]


def test_boilerplate_phrases_match_as_the_hand_written_pattern_did():
    import re

    # The pattern as it was written by hand before it was generated from the phrase list.
    hand_written = re.compile(
        r"\b(cookie|cookies|privacy|terms of (use|service)|subscribe|newsletter|sign (in|up)|"
        r"log ?in|log ?out|register|share|tweet|follow us|read more|more stories|related|"
        r"advertisement|sponsored|copyright|all rights reserved|menu|skip to|search|comments?|"
        r"reply|posted by|written by|photo|image|getty|reuters|shutterstock|click here|"
        r"learn more|see more|view all|load more|next|previous|back to top|download|app|podcast)\b"
    )
    text = "\n".join(
        [
            "sign in or sign up | log in, login, logout, log out",
            "comments (3) · comment · commentary · cookies and cookie policy · apps app",
            "read more stories · more stories · related posts · terms of use; terms of service",
            "next previous nextdoor · share shares sharepoint · photo photos image images",
            *(p.upper() if i % 3 == 0 else p for i, p in enumerate(features._BOILER_PHRASES)),
        ]
    ).lower()
    spans = [m.span() for m in features._BOILER.finditer(text)]
    assert spans == [m.span() for m in hand_written.finditer(text)]
    assert len(spans) > len(features._BOILER_PHRASES)


def test_hashed_words_are_scikit_learns_hashing_vectorizer():
    from sklearn.feature_extraction.text import HashingVectorizer

    texts = [*_TRICKY, "Read more: the the the cat", "naïve café naïve"]
    reference = HashingVectorizer(
        n_features=2**10, analyzer=hashing.words_and_pairs, alternate_sign=False, norm="l2"
    ).transform(texts)
    ours = LineFeaturizer(text_features=2**10)._hash(texts)
    assert (ours != reference).nnz == 0
    np.testing.assert_array_equal(ours.indices, reference.indices)
    np.testing.assert_array_equal(ours.data, reference.data)


@pytest.mark.parametrize(
    "lines",
    [
        ["Home", "", "Home"],  # an empty text first seen after every other
        ["a", ""],
        [""],
        ["", "a", ""],
        ["𝐀 the", "𝐀 the", "a𝐀b"],  # word characters outside the BMP
        ["a\x00b", "a\x00c", "a"],  # texts that differ only after a NUL
    ],
)
def test_edge_batches_give_the_features_of_their_lines_one_by_one(lines):
    blank = np.zeros(len(lines), dtype=bool)
    batch = features._base_matrix(lines, blank, blank)
    for i, text in enumerate(lines):
        alone = features._base_rows([text], blank[:1], blank[:1])[0]
        np.testing.assert_array_equal(batch[i], alone)
    names = list(features._BASE)
    if lines[0] == "𝐀 the":  # "the" is a stopword in each of the first two lines
        assert list(batch[:, names.index("stopword_share")]) == [1.0, 1.0, 0.0]
    f = LineFeaturizer(text_features=2**10).fit(_frame(), np.array([0, 0, 1, 1, 0, 0, 0, 1, 1, 0]))
    X = lines_frame([lines])
    together = f.transform(X)
    keys = features.text_keys(lines)
    assert len(set(keys)) == len({features.normalize_for_lookup(t) for t in lines})
    scores = together[:, list(f.get_feature_names_out()).index("text_score")]
    expected = f.text_clf_.predict_proba(f._hash(lines))[:, 1]
    np.testing.assert_array_equal(scores, expected.astype(np.float32))


def _blank_pages(n_pages: int):
    """Pages of three blocks (menu, story, footer) separated by blank lines, with labels."""
    pages = [
        ["Menu", f"Story {i} begins here with a long line of text.", "Footer"]
        for i in range(n_pages)
    ]
    blanks = [[(False, True), (True, True), (True, False)]] * n_pages
    X = lines_frame(pages, blanks=blanks, page_ids=[f"page-{i}" for i in range(n_pages)])
    return X, np.tile([0, 1, 0], n_pages)


def test_blank_dropout_fits_a_share_of_whole_pages_without_their_blank_lines():
    X, _ = _blank_pages(200)
    assert X["blank_before"].any() and X["blank_after"].any()
    seen = features._without_blank_lines(X, 0.3)
    changed = (
        seen.groupby("page_id", sort=False)["blank_after"].any()
        != X.groupby("page_id", sort=False)["blank_after"].any()
    )
    # about 30% of the pages, chosen by their id: the same pages every time
    assert 40 <= changed.sum() <= 80
    pd.testing.assert_frame_equal(features._without_blank_lines(X, 0.3), seen)
    dropped = X["page_id"].isin(changed[changed].index).to_numpy()
    assert not seen.loc[dropped, ["blank_before", "blank_after"]].to_numpy().any()
    pd.testing.assert_frame_equal(seen[~dropped], X[~dropped])  # other pages untouched
    pd.testing.assert_frame_equal(seen[["page_id", "text"]], X[["page_id", "text"]])
    assert X["blank_after"].any()  # the caller's table is not modified
    pd.testing.assert_frame_equal(features._without_blank_lines(X, 0.0), X)
    assert not features._without_blank_lines(X, 1.0)[["blank_before", "blank_after"]].any().any()


def test_blank_dropout_changes_the_training_rows_only():
    X, y = _blank_pages(60)
    names = list(LineFeaturizer().get_feature_names_out())
    blank = [names.index("blank_before"), names.index("blank_after")]
    seen = features._without_blank_lines(X, 0.5)
    dropped = (seen["blank_after"] != X["blank_after"]).groupby(X["page_id"]).transform("any")
    dropped = dropped.to_numpy()
    assert 0 < dropped.sum() < len(X)
    f = LineFeaturizer(blank_dropout=0.5)
    train = f.fit_transform(X, y)
    assert not train[dropped][:, blank].any()
    np.testing.assert_array_equal(
        train[~dropped][:, blank], X[~dropped][["blank_before", "blank_after"]]
    )
    # prediction reads the blank lines as given
    np.testing.assert_array_equal(f.transform(X)[:, blank], X[["blank_before", "blank_after"]])
    # without labels the featurizer is a plain transformer: nothing dropped
    plain = LineFeaturizer(
        corpus_frequency=False, text_model=False, sections=False, blank_dropout=0.5
    )
    np.testing.assert_array_equal(
        plain.fit_transform(X)[:, blank], X[["blank_before", "blank_after"]]
    )
    # off: the training rows are the rows of the table
    off = LineFeaturizer(blank_dropout=0).fit_transform(X, y)
    np.testing.assert_array_equal(off[:, blank], X[["blank_before", "blank_after"]])


@pytest.mark.parametrize("param", ["blank_dropout", "word_dropout"])
@pytest.mark.parametrize("value", [-0.1, 1.5, "0.3", True, None])
def test_a_bad_dropout_is_named(param, value):
    X, y = _blank_pages(3)
    with pytest.raises(InputError, match=param):
        LineFeaturizer(**{param: value}).fit(X, y)
    with pytest.raises(InputError, match=param):
        LineFeaturizer(**{param: value}).fit_transform(X, y)


@pytest.mark.parametrize("value", [0, 1, 0.5, np.float32(0.25), np.int64(0)])
def test_any_real_number_from_0_to_1_is_a_blank_dropout(value):
    X, y = _blank_pages(3)
    LineFeaturizer(blank_dropout=value).fit(X, y)
    assert features.check_share("blank_dropout", value) == float(value)


@pytest.mark.parametrize("param", ["blank_dropout", "word_dropout"])
def test_a_featurizer_saved_before_a_dropout_existed_loads_with_it_off(param):
    X, y = _blank_pages(5)
    fitted = LineFeaturizer(**{param: 0}).fit(X, y)
    state = fitted.__getstate__()
    del state[param]
    f = LineFeaturizer.__new__(LineFeaturizer)
    f.__setstate__(state)
    assert f.get_params()[param] == 0.0
    clone(f)
    np.testing.assert_array_equal(f.transform(X), fitted.transform(X))


def test_stopwords_are_counted_per_word_each_lowered_on_its_own():
    lines = [
        "The cat and THE dog",  # case-folded: the, and, the
        "İT IS",  # "İ" lowers to "i" and a combining dot: the line lowered whole reads "i", "t"
        "the_end of-the line",  # "the_end" is one word
        "",
        "𝐀 the 😀 of",
        "ΚΑΙ και",
    ]
    expected = [sum(w.lower() in features._STOPWORDS for w in re.findall(r"\w+", t)) for t in lines]
    counts = features._stopwords_per_line(lines)
    assert counts.dtype == np.float64
    assert counts.tolist() == expected
    assert expected[:3] == [3, 1, 2]


def _base(lines: list[str], name: str) -> list[float]:
    blank = np.zeros(len(lines), dtype=bool)
    matrix = features._base_matrix(lines, blank, blank)
    return [round(float(v), 4) for v in matrix[:, features._BASE.index(name)]]


def test_chinese_and_japanese_characters_count_as_half_a_token_each():
    lines = [
        "政府は経済対策を決定した",  # 12 characters, no space: 6 tokens, not 1
        "iPhone用の新機能",  # one spaced word and 5 characters: 1 + 2.5, rounded
        "首页 新闻 体育",  # 6 characters
        "Plain English words here",
    ]
    assert features.token_counts(lines).tolist() == [6.0, 4.0, 3.0, 4.0]
    # mean word length and line length weigh a character as 2.5 letters: about an English word
    assert _base(lines[:1], "mean_word_len") == [5.0]
    assert _base(lines[:1], "log_chars") == [round(float(np.log1p(12 * 2.5)), 4)]


def test_a_japanese_or_chinese_sentence_has_stopwords_and_a_menu_has_none():
    sentence_ja = "政府は二十七日、物価高への対応を柱とする新たな経済対策を決定した。"
    sentence_zh = "外交部发言人在记者会上表示，双方将继续保持沟通。"
    shares = _base([sentence_ja, sentence_zh, "ホーム", "首页 新闻 体育"], "stopword_share")
    assert 0.25 <= shares[0] <= 0.5 and 0.15 <= shares[1] <= 0.5
    assert shares[2:] == [0.0, 0.0]


def test_a_cjk_full_stop_inside_a_line_is_a_sentence_break():
    lines = ["第一文です。第二文です。第三文です。", "One. Two. Three.", "一文だけ。"]
    assert _base(lines, "n_sentences") == [2.0, 2.0, 0.0]


def test_lines_without_chinese_or_japanese_are_unchanged_by_a_cjk_line_in_the_batch():
    lines = ["The talks resumed in Geneva on Monday.", "Home | News | Sport", "Главная"]
    blank = np.zeros(4, dtype=bool)
    alone = features._base_matrix(lines, blank[:3], blank[:3])
    mixed = features._base_matrix([*lines, "政府は経済対策を決定した"], blank, blank)
    np.testing.assert_array_equal(alone, mixed[:3])


def test_russian_and_other_languages_have_stopwords_but_english_possessives_do_not():
    shares = _base(
        ["Правительство утвердило новый пакет мер во вторник, сообщили в министерстве."],
        "stopword_share",
    )
    assert shares[0] > 0.1
    # single letters and English words are left out of the other languages' lists
    for word in ["s", "w", "man", "till", "pro", "dan"]:
        assert word not in features._STOPWORDS


def test_disguised_words_keep_stopwords_shape_and_repeats_within_a_page():
    lines = ["Home | News", "The talks resumed in Geneva on Monday, 7 December.", "Home | News"]
    out = features.disguise_words(lines, ["p1", "p1", "p1"])
    assert out == features.disguise_words(lines, ["p1", "p1", "p1"])  # the same every time
    assert out[0] == out[2] != lines[0]  # a repeat on the page stays a repeat
    for before, after in zip(lines, out, strict=True):
        assert len(after) == len(before)
        assert [c.isupper() for c in after] == [c.isupper() for c in before]
        assert [c for c in after if not c.isalpha()] == [c for c in before if not c.isalpha()]
    words = re.findall(r"\w+", out[1])
    assert words[0] == "The" and words[3] == "in" and words[5] == "on"  # stopwords kept
    assert "talks" not in words and "Geneva" not in words
    other = features.disguise_words(["Home | News"], ["p2"])
    assert other[0] != out[0]  # no two pages share a vocabulary (nearly always)
    assert features.disguise_words(["Zürich 2024 — ok?"], ["p1"])[0][1] == "ü"  # non-ASCII kept


def test_word_dropout_fits_a_share_of_whole_pages_with_their_words_disguised():
    X, _ = _blank_pages(200)
    seen = features._with_words_disguised(X, 0.3)
    changed = (seen["text"] != X["text"]).groupby(X["page_id"], sort=False).any()
    assert 40 <= changed.sum() <= 80  # about 30% of the pages
    pd.testing.assert_frame_equal(features._with_words_disguised(X, 0.3), seen)
    disguised = X["page_id"].isin(changed[changed].index).to_numpy()
    pd.testing.assert_frame_equal(seen[~disguised], X[~disguised])  # other pages untouched
    cols = ["page_id", "blank_before", "blank_after"]
    pd.testing.assert_frame_equal(seen[cols], X[cols])
    pd.testing.assert_frame_equal(features._with_words_disguised(X, 0.0), X)
    # chosen apart from the pages fitted without blank lines
    blank = (
        (features._without_blank_lines(X, 0.3)["blank_after"] != X["blank_after"])
        .groupby(X["page_id"], sort=False)
        .any()
    )
    assert (blank & changed).sum() < min(blank.sum(), changed.sum())


def test_word_dropout_changes_the_training_rows_only():
    X, y = _blank_pages(60)
    on = LineFeaturizer(word_dropout=0.5)
    off = LineFeaturizer(word_dropout=0.0)
    assert not np.array_equal(on.fit_transform(X, y), off.fit_transform(X, y))
    # prediction reads the words as given: the rows of the table, disguised or not, differ
    plain = LineFeaturizer(word_dropout=0.5).fit(X, y)
    disguised = X.assign(text=features.disguise_words(X["text"].tolist(), X["page_id"].tolist()))
    assert not np.array_equal(plain.transform(X), plain.transform(disguised))
