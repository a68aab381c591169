import pandas as pd
import pytest

from textclf.errors import ConfigError
from textclf.variants import INPUT_VARIANTS, check_input_variants


def _lines(texts: list[str]) -> pd.DataFrame:
    """Three lines on two pages (a, a, b) with the given texts."""
    return pd.DataFrame(
        {
            "page_id": ["a", "a", "b"],
            "text": texts,
            "blank_before": [False, True, False],
            "blank_after": [True, False, False],
        }
    )


def test_input_variants_rewrite_only_the_blank_lines():
    lines = _lines(["Menu", "Body text.", "Other"])
    none = INPUT_VARIANTS["no_blank_lines"][1](lines)
    every = INPUT_VARIANTS["blank_lines_everywhere"][1](lines)
    assert not none[["blank_before", "blank_after"]].to_numpy().any()
    assert every[["blank_before", "blank_after"]].to_numpy().all()
    for out in (none, every):
        pd.testing.assert_frame_equal(out[["page_id", "text"]], lines[["page_id", "text"]])
    assert lines["blank_before"].tolist() == [False, True, False]  # the input is not modified


def test_unknown_variants_are_named_with_their_setting():
    assert check_input_variants(["no_blank_lines"], "x") == ["no_blank_lines"]
    assert check_input_variants([], "x") == []
    message = r"input_variants: unknown .*'blanks'.*no_blank_lines"
    with pytest.raises(ConfigError, match=message):
        check_input_variants(["no_blank_lines", "blanks"], "input_variants")


def test_the_unknown_words_variant_disguises_each_page_with_its_own_cipher():
    lines = _lines(["Share this story"] * 3)
    out = INPUT_VARIANTS["unknown_words"][1](lines)
    texts = out["text"].tolist()
    assert texts[0] == texts[1] != texts[2]  # a repeat on a page stays one; pages differ
    assert all(t.split()[1] == "this" and t != "Share this story" for t in texts)
    cols = ["page_id", "blank_before", "blank_after"]
    pd.testing.assert_frame_equal(out[cols], lines[cols])
    assert lines["text"].tolist() == ["Share this story"] * 3  # the input is not modified
