"""Unit tests of textclf.metrics, against small cases worked out by hand in the comments."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from textclf.metrics import (
    PageScore,
    bootstrap_intervals,
    line_scores,
    page_text,
    shingle_page_counts,
    shingle_scores,
    shingles,
    snippet_rates,
    wcxb_page_scores,
    wcxb_scores,
    wcxb_tokens,
)

# --------------------------------------------------------------------------- page_text


def test_page_text_joins_kept_lines_with_newlines() -> None:
    assert page_text(["a", "b", "c"], [1, 0, True]) == "a\nc"
    assert page_text(["a", "b", "c"], np.array([False, True, True])) == "b\nc"
    assert page_text(["a", "b"], [0, 0]) == ""
    assert page_text([], []) == ""


def test_page_text_rejects_mismatched_lengths() -> None:
    with pytest.raises(ValueError, match=r"3.*2"):
        page_text(["a", "b", "c"], [1, 0])


def test_page_text_rejects_non_str_lines() -> None:
    with pytest.raises(TypeError):
        page_text(["a", 3], [1, 1])  # type: ignore[list-item]


# --------------------------------------------------------------------------- WCXB page F1


def test_wcxb_tokens_lowercase_word_runs() -> None:
    assert wcxb_tokens("Hello, World! it's 3pm") == ["hello", "world", "it", "s", "3pm"]
    assert wcxb_tokens(" ... ") == []


def test_wcxb_page_scores_worked_example() -> None:
    # pred tokens {a, b, c}, gold tokens {a, b, d, d}: overlap = 2.
    # P = 2/3, R = 2/4, F1 = 2 * (2/3) * (1/2) / (2/3 + 1/2) = (2/3) / (7/6) = 4/7.
    score = wcxb_page_scores("a b c", "a b d d")
    assert isinstance(score, PageScore)
    assert score.precision == pytest.approx(2 / 3)
    assert score.recall == pytest.approx(1 / 2)
    assert score.f1 == pytest.approx(4 / 7)


def test_wcxb_page_scores_multiset_overlap_and_lowercasing() -> None:
    # pred: the x3, cat x1 (4 tokens); gold: the, cat (lowercased).
    # overlap = min(3, 1) + min(1, 1) = 2; P = 2/4, R = 2/2, F1 = 2 * 0.5 * 1 / 1.5 = 2/3.
    score = wcxb_page_scores("the the the cat", "The CAT")
    assert score.precision == pytest.approx(0.5)
    assert score.recall == pytest.approx(1.0)
    assert score.f1 == pytest.approx(2 / 3)


def test_wcxb_page_scores_empty_cases() -> None:
    # Empty gold: 1 if the prediction is empty too (no tokens counts as empty), else 0.
    assert wcxb_page_scores("", "") == PageScore(1.0, 1.0, 1.0)
    assert wcxb_page_scores("!!!", "...") == PageScore(1.0, 1.0, 1.0)
    assert wcxb_page_scores("x", "") == PageScore(0.0, 0.0, 0.0)
    # Non-empty gold, empty prediction: 0.
    assert wcxb_page_scores("", "a") == PageScore(0.0, 0.0, 0.0)
    # No overlap at all: 0.
    assert wcxb_page_scores("a", "b") == PageScore(0.0, 0.0, 0.0)


def test_page_score_is_frozen() -> None:
    score = wcxb_page_scores("a", "a")
    with pytest.raises(AttributeError):
        score.f1 = 0.0  # type: ignore[misc]


def test_wcxb_scores_means_and_page_types() -> None:
    # page 1 (article): P 2/3, R 1/2, F1 4/7 (worked example above)
    # page 2 (article): identical text -> 1, 1, 1
    # page 3 (forum):   empty prediction, gold "q" -> 0, 0, 0
    # all:     P = (2/3 + 1 + 0)/3 = 5/9, R = (1/2 + 1 + 0)/3 = 1/2, F1 = (4/7 + 1 + 0)/3 = 11/21
    # article: P = (2/3 + 1)/2 = 5/6,     R = (1/2 + 1)/2 = 3/4,     F1 = (4/7 + 1)/2 = 11/14
    preds = ["a b c", "x y", ""]
    golds = ["a b d d", "x y", "q"]
    types = ["article", "article", "forum"]
    result = wcxb_scores(preds, golds, page_types=types)
    assert result["precision"] == pytest.approx(5 / 9)
    assert result["recall"] == pytest.approx(1 / 2)
    assert result["f1"] == pytest.approx(11 / 21)
    assert result["n_pages"] == 3
    assert result["precision/article"] == pytest.approx(5 / 6)
    assert result["recall/article"] == pytest.approx(3 / 4)
    assert result["f1/article"] == pytest.approx(11 / 14)
    assert result["n_pages/article"] == 2
    assert result["precision/forum"] == 0.0
    assert result["recall/forum"] == 0.0
    assert result["f1/forum"] == 0.0
    assert result["n_pages/forum"] == 1


def test_wcxb_scores_without_page_types_has_only_overall_keys() -> None:
    result = wcxb_scores(["a b c"], ["a b d d"])
    assert set(result) == {"precision", "recall", "f1", "n_pages"}
    assert result["f1"] == pytest.approx(4 / 7)


def test_wcxb_scores_no_pages() -> None:
    assert wcxb_scores([], []) == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "n_pages": 0}


def test_wcxb_scores_validation() -> None:
    with pytest.raises(ValueError, match=r"1.*2"):
        wcxb_scores(["a"], ["a", "b"])
    with pytest.raises(ValueError, match=r"2.*1"):
        wcxb_scores(["a", "b"], ["a", "b"], page_types=["x"])
    with pytest.raises(TypeError):
        wcxb_scores(["a", None], ["a", "b"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        wcxb_scores("ab", "ab")  # a single str is not a list of pages
    with pytest.raises(TypeError):
        wcxb_page_scores(None, "a")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- Scrapinghub shingles


def test_shingles_of_five_tokens() -> None:
    # tokens A b c d e -> (A b c d), (b c d e); case is kept.
    assert shingles("A b, c. d\ne") == Counter({("A", "b", "c", "d"): 1, ("b", "c", "d", "e"): 1})


def test_shingles_multiset_counts_repeats() -> None:
    # 5 x "a" -> two shingles, both (a a a a).
    assert shingles("a a a a a") == Counter({("a", "a", "a", "a"): 2})


def test_shingles_short_and_empty_texts() -> None:
    assert shingles("Hello, world") == Counter({("Hello", "world"): 1})
    assert shingles("one") == Counter({("one",): 1})
    assert shingles("a b c d") == Counter({("a", "b", "c", "d"): 1})
    assert shingles("") == Counter()
    assert shingles(" ... !") == Counter()


def test_shingle_page_counts_worked_example() -> None:
    # pred a b c d e f   -> abcd bcde cdef            (3 shingles)
    # gold a b c d e x y -> abcd bcde cdex dexy       (4 shingles)
    # tp = 2 (abcd, bcde), fp = 3 - 2 = 1, fn = 4 - 2 = 2
    assert shingle_page_counts("a b c d e f", "a b c d e x y") == (2, 1, 2)
    # Multiset intersection: pred has (a a a a) twice, gold once -> tp 1, fp 1, fn 0.
    assert shingle_page_counts("a a a a a", "a a a a") == (1, 1, 0)


def test_shingle_scores_are_case_sensitive() -> None:
    result = shingle_scores(["The cat sat down"], ["the cat sat down"])
    assert result == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "n_pages": 1}


def test_shingle_scores_perfect_page() -> None:
    # fp = fn = 0 -> P = R = 1.
    result = shingle_scores(["u v w x y"], ["u v w x y"])
    assert result == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "n_pages": 1}
    # Short texts are one shingle each: "a b" vs "a b c" share nothing.
    assert shingle_scores(["a b"], ["a b c"])["f1"] == 0.0


def test_shingle_scores_average_p_over_nonempty_preds_and_r_over_nonempty_golds() -> None:
    # 1. pred a b c d e f, gold a b c d e x y: P = 2/3, R = 2/4 (worked example above)
    # 2. pred empty, gold p q r s:             P undefined, R = 0/1 = 0
    # 3. pred m n, gold empty:                 P = 0/1 = 0, R undefined
    # 4. both empty:                           neither defined
    # 5. identical:                            P = R = 1
    # P = (2/3 + 0 + 1) / 3 = 5/9 (pages 1, 3, 5); R = (1/2 + 0 + 1) / 3 = 1/2 (pages 1, 2, 5)
    # F1 = 2 * (5/9) * (1/2) / (5/9 + 1/2) = (5/9) / (19/18) = 10/19
    preds = ["a b c d e f", "", "m n", "", "u v w x y"]
    golds = ["a b c d e x y", "p q r s", "", "", "u v w x y"]
    result = shingle_scores(preds, golds)
    assert result["precision"] == pytest.approx(5 / 9)
    assert result["recall"] == pytest.approx(1 / 2)
    assert result["f1"] == pytest.approx(10 / 19)
    assert result["n_pages"] == 5


def test_shingle_scores_no_defined_pages() -> None:
    assert shingle_scores(["", ""], ["", "..."]) == {
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "n_pages": 2,
    }


def test_shingle_scores_validation() -> None:
    with pytest.raises(ValueError, match=r"2.*1"):
        shingle_scores(["a", "b"], ["a"])
    with pytest.raises(TypeError):
        shingle_scores([b"a"], ["a"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        shingles(None)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- WCXB snippets


def test_snippet_rates_pooled_with_line_breaks_and_whitespace() -> None:
    # Page 1 text is "Hello\nWorld of cats" -> normalised "hello world of cats".
    #   with "hello world" (across the line break): found; "  CATS ": found.
    #   without "menu": not found.
    # Page 2 text "nothing here".
    #   with "missing": not found; without "Nothing   here": found.
    # with_rate = 2/3 (pooled; a per-page mean would be 1/2), without_rate = 1/2.
    preds = [page_text(["Hello", "Footer", "World of cats"], [1, 0, 1]), "nothing here"]
    withs = [["hello world", "  CATS "], ["missing"]]
    withouts = [["menu"], ["Nothing   here"]]
    result = snippet_rates(preds, withs, withouts)
    assert result == {
        "with_rate": pytest.approx(2 / 3),
        "without_rate": pytest.approx(1 / 2),
        "n_with": 3,
        "n_without": 2,
    }


def test_snippet_rates_omit_rates_without_snippets() -> None:
    result = snippet_rates(["abc", "def"], [["b"], []], [[], []])
    assert result == {"with_rate": 1.0, "n_with": 1, "n_without": 0}
    # Snippets that are empty after normalisation are ignored.
    result = snippet_rates(["abc"], [["", "  \n"]], [["zz"]])
    assert result == {"without_rate": 0.0, "n_with": 0, "n_without": 1}


def test_snippet_rates_validation() -> None:
    with pytest.raises(ValueError, match=r"1.*2"):
        snippet_rates(["a"], [[], []], [[]])
    with pytest.raises(ValueError, match=r"1.*0"):
        snippet_rates(["a"], [[]], [])
    with pytest.raises(TypeError):
        snippet_rates(["a"], ["a"], [[]])  # a str instead of a list of snippets
    with pytest.raises(TypeError):
        snippet_rates(["a"], [[1]], [[]])  # type: ignore[list-item]


# --------------------------------------------------------------------------- line level


def test_line_scores_worked_example() -> None:
    # true 1 1 0 0 1, pred 1 0 1 1 1: tp = 2 (lines 0 and 4), predicted positives 4, support 3.
    # P = 2/4, R = 2/3, F1 = 2 * (1/2) * (2/3) / (7/6) = 4/7; equal at lines 0 and 4 -> acc 2/5.
    result = line_scores([1, 1, 0, 0, 1], [1, 0, 1, 1, 1])
    assert result["precision"] == pytest.approx(1 / 2)
    assert result["recall"] == pytest.approx(2 / 3)
    assert result["f1"] == pytest.approx(4 / 7)
    assert result["accuracy"] == pytest.approx(2 / 5)
    assert result["support"] == 3
    assert result["n_lines"] == 5


def test_line_scores_accepts_bools_and_arrays() -> None:
    expected = line_scores([1, 1, 0, 0, 1], [1, 0, 1, 1, 1])
    assert line_scores(
        np.array([True, True, False, False, True]), [True, False, True, True, True]
    ) == pytest.approx(expected)


def test_line_scores_zero_division() -> None:
    # No true and no predicted content lines: P, R, F1 are 0, accuracy 1.
    assert line_scores([0, 0], [0, 0]) == {
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "accuracy": 1.0,
        "support": 0,
        "n_lines": 2,
    }
    assert line_scores([], []) == {
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "accuracy": 0.0,
        "support": 0,
        "n_lines": 0,
    }


def test_line_scores_validation() -> None:
    with pytest.raises(ValueError, match=r"3.*2"):
        line_scores([1, 0, 1], [1, 0])
    with pytest.raises(TypeError):
        line_scores(["1", "0"], ["1", "0"])  # type: ignore[list-item]


# --------------------------------------------------------------------------- properties

_texts = st.text(alphabet="ab cD\n.", max_size=40)


@given(pred=_texts, gold=_texts)
def test_wcxb_page_scores_are_bounded_and_f1_is_harmonic(pred: str, gold: str) -> None:
    score = wcxb_page_scores(pred, gold)
    for value in (score.precision, score.recall, score.f1):
        assert 0.0 <= value <= 1.0
    if score.precision + score.recall > 0:
        expected = 2 * score.precision * score.recall / (score.precision + score.recall)
        assert score.f1 == pytest.approx(expected)
    assert wcxb_page_scores(gold, gold).f1 == 1.0


@given(pred=_texts, gold=_texts)
def test_shingle_page_counts_add_up(pred: str, gold: str) -> None:
    tp, fp, fn = shingle_page_counts(pred, gold)
    assert min(tp, fp, fn) >= 0
    assert tp + fp == shingles(pred).total()
    assert tp + fn == shingles(gold).total()


def test_bootstrap_intervals_collapse_when_every_page_scores_the_same():
    golds = ["the cat sat on the warm mat today", "a dog ran in the park all day long"]
    out = bootstrap_intervals(golds, golds, resamples=200, min_pages=2)
    assert out == {
        "page_f1_low": 1.0,
        "page_f1_high": 1.0,
        "shingle_f1_low": 1.0,
        "shingle_f1_high": 1.0,
    }


def test_bootstrap_intervals_span_the_resampled_scores():
    # One perfect page and one empty prediction: resampled means are 0, 0.5 or 1 (with
    # probabilities 1/4, 1/2, 1/4), so the 95% interval runs from 0 to 1.
    golds = ["the cat sat on the warm mat today", "a dog ran in the park all day long"]
    preds = [golds[0], ""]
    out = bootstrap_intervals(preds, golds, resamples=2000, min_pages=2)
    assert out["page_f1_low"] == 0.0 and out["page_f1_high"] == 1.0
    # Shingle precision is only defined on pages with a predicted shingle: recomputed per sample.
    assert 0.0 <= out["shingle_f1_low"] < shingle_scores(preds, golds)["f1"] <= 1.0
    assert out["shingle_f1_high"] == 1.0
    assert bootstrap_intervals(preds, golds, resamples=2000, min_pages=2) == out  # seeded
    assert bootstrap_intervals(preds, golds) == {}  # too few pages to say anything


def test_bootstrap_interval_holds_the_score_and_narrows_with_more_pages():
    rng = np.random.default_rng(1)
    words = [f"w{i}" for i in range(50)]
    golds = [" ".join(rng.choice(words, 30)) for _ in range(400)]
    preds = [" ".join(g.split()[: rng.integers(5, 30)]) for g in golds]
    small = bootstrap_intervals(preds[:40], golds[:40])
    large = bootstrap_intervals(preds, golds)
    score = wcxb_scores(preds, golds)["f1"]
    assert large["page_f1_low"] < score < large["page_f1_high"]
    width = large["page_f1_high"] - large["page_f1_low"]
    assert width < small["page_f1_high"] - small["page_f1_low"]
    assert bootstrap_intervals([], []) == {}
    with pytest.raises(ValueError, match="level"):
        bootstrap_intervals(preds, golds, level=95)


def _systems(n: int = 60) -> tuple[list[str], list[str], list[str]]:
    """Gold pages, a good system and a slightly worse one that fail on the same hard pages."""
    rng = np.random.default_rng(2)
    words = [f"w{i}" for i in range(80)]
    golds = [" ".join(rng.choice(words, 40)) for _ in range(n)]
    good, worse = [], []
    for i, gold in enumerate(golds):
        tokens = gold.split()
        keep = 40 if i % 3 else 10  # every third page is hard for both
        good.append(" ".join(tokens[:keep]))
        worse.append(" ".join(tokens[: keep - 4]))
    return golds, good, worse


def test_bootstrap_difference_is_the_difference_of_the_scores_with_a_paired_interval():
    golds, good, worse = _systems()
    diff = bootstrap_intervals(good, golds, versus=worse)
    expected = wcxb_scores(good, golds)["f1"] - wcxb_scores(worse, golds)["f1"]
    assert diff["page_f1_diff"] == pytest.approx(expected)
    shingle = shingle_scores(good, golds)["f1"] - shingle_scores(worse, golds)["f1"]
    assert diff["shingle_f1_diff"] == pytest.approx(shingle)
    assert 0 < diff["page_f1_diff_low"] < diff["page_f1_diff"] < diff["page_f1_diff_high"]
    # Paired: the hard pages count against both, so the difference is measured more tightly
    # than either system's own score.
    own = bootstrap_intervals(good, golds)
    assert (diff["page_f1_diff_high"] - diff["page_f1_diff_low"]) < (
        own["page_f1_high"] - own["page_f1_low"]
    ) / 2
    same = bootstrap_intervals(good, golds, versus=good)
    assert same["page_f1_diff"] == same["page_f1_diff_low"] == same["page_f1_diff_high"] == 0
    assert bootstrap_intervals(good[:5], golds[:5], versus=worse[:5]) == {}
    with pytest.raises(ValueError, match="versus"):
        bootstrap_intervals(good, golds, versus=worse[:-1])


def test_bootstrap_intervals_are_the_percentiles_of_the_scores_of_resampled_pages():
    # Brute force: replay the same resamples and score each with the benchmark functions.
    rng = np.random.default_rng(3)
    words = [f"w{i}" for i in range(30)]
    golds = [" ".join(rng.choice(words, int(rng.integers(0, 25)))) for _ in range(40)]
    preds = []
    for i, gold in enumerate(golds):
        tokens = gold.split()
        # empty predictions, empty golds, partial and padded ones
        preds.append("" if i % 7 == 0 else " ".join(tokens[: i % 20] + ["extra"] * (i % 4)))
    level, resamples, seed = 0.8, 300, 5
    out = bootstrap_intervals(preds, golds, level=level, resamples=resamples, seed=seed)
    sample = np.random.default_rng(seed).integers(0, len(preds), size=(resamples, len(preds)))
    page = [wcxb_scores([preds[i] for i in s], [golds[i] for i in s])["f1"] for s in sample]
    shingle = [shingle_scores([preds[i] for i in s], [golds[i] for i in s])["f1"] for s in sample]
    assert out["page_f1_low"] == pytest.approx(np.percentile(page, 10))
    assert out["page_f1_high"] == pytest.approx(np.percentile(page, 90))
    assert out["shingle_f1_low"] == pytest.approx(np.percentile(shingle, 10))
    assert out["shingle_f1_high"] == pytest.approx(np.percentile(shingle, 90))


def test_score_split_gives_intervals_and_eval_shows_them():
    from textclf.evaluate import _differences, _intervals
    from textclf.scoring import score_difference, score_split

    golds, good, worse = _systems(12)
    lines = {
        "page_id": [f"p{i}" for i in range(12)],
        "text": good,
        "label": [1] * 12,
    }
    pages = {
        "page_id": [f"p{i}" for i in range(12)],
        "page_type": ["article"] * 12,
        "gold_text": golds,
        "has_gold": [True] * 12,
        "snippets_with": [[]] * 12,
        "snippets_without": [[]] * 12,
    }
    scores = score_split(lines, pages, [1] * 12, intervals=True)
    assert scores["page_f1_low"] <= scores["page_f1"] <= scores["page_f1_high"]
    assert "page_f1_low" not in score_split(lines, pages, [1] * 12)
    cells = _intervals(scores)
    assert cells["page_f1_95ci"] == f"{scores['page_f1_low']:.3f}-{scores['page_f1_high']:.3f}"
    ids = pages["page_id"]
    diff = score_difference(
        pages, dict(zip(ids, good, strict=True)), dict(zip(ids, worse, strict=True))
    )
    assert diff["page_f1_diff"] > 0
    assert _differences(diff)["page_f1"].startswith(f"{diff['page_f1_diff']:+.3f} (")
