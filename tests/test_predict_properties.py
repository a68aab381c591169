"""Property tests for textclf.predict: for any text, the predictions keep the page's shape."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from textclf.pages import lines_from_text
from textclf.predict import Classifier
from textclf.render import decode_text

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Words, white space of every kind, line breaks of every kind, NULs and odd characters.
_pieces = st.one_of(
    st.sampled_from(
        ["Menu", "Home | News", "The river rose overnight.", "Share", "©", "\u200b", "\ufeff"]
    ),
    st.sampled_from(["\n", "\r\n", "\r", "\n\n", " ", "\t", "\x00", "\u2028", "\x85", "\x0c"]),
    st.text(max_size=30),
)
page_texts = st.lists(_pieces, max_size=40).map("".join)
thresholds = st.floats(min_value=0.0, max_value=1.0)


@SETTINGS
@given(text=page_texts)
def test_one_prediction_per_non_empty_line_in_order(tiny_classifier: Classifier, text: str) -> None:
    page = tiny_classifier.predict_page(text)
    expected = [line.text for line in lines_from_text(text.replace("\x00", ""))]
    assert [line.text for line in page.lines] == expected
    for line in page.lines:
        assert 0.0 <= line.probability <= 1.0
        assert line.label == ("content" if line.probability >= page.threshold else "boilerplate")
        assert line.text and line.text == line.text.strip()


@SETTINGS
@given(text=page_texts, threshold=thresholds)
def test_extract_is_made_only_of_input_lines(
    tiny_classifier: Classifier, text: str, threshold: float
) -> None:
    out = tiny_classifier.extract(text, threshold=threshold)
    page_lines = [line.text for line in lines_from_text(text.replace("\x00", ""))]
    if not out:
        return
    # The output lines are input lines, in input order (a subsequence).
    remaining = iter(page_lines)
    for line in out.split("\n"):
        assert line in text.replace("\x00", "")
        assert any(line == candidate for candidate in remaining)


@SETTINGS
@given(text=page_texts, low=thresholds, high=thresholds)
def test_a_higher_threshold_keeps_fewer_lines(
    tiny_classifier: Classifier, text: str, low: float, high: float
) -> None:
    low, high = min(low, high), max(low, high)
    page_low = tiny_classifier.predict_page(text, threshold=low)
    page_high = tiny_classifier.predict_page(text, threshold=high)
    for a, b in zip(page_low.lines, page_high.lines, strict=True):
        assert a.probability == b.probability
        assert a.is_content or not b.is_content


@SETTINGS
@given(pages=st.lists(page_texts, max_size=6), batch_size=st.integers(1, 4))
def test_pipe_yields_one_result_per_page_in_order(
    tiny_classifier: Classifier, pages: list[str], batch_size: int
) -> None:
    results = list(tiny_classifier.pipe(pages, batch_size=batch_size))
    assert len(results) == len(pages)
    for text, result in zip(pages, results, strict=True):
        assert [x.text for x in result.lines] == [
            x.text for x in lines_from_text(text.replace("\x00", ""))
        ]


@SETTINGS
@given(data=st.binary(max_size=300))
def test_any_bytes_are_classified(tiny_classifier: Classifier, data: bytes) -> None:
    page = tiny_classifier.predict_page(data)
    text = decode_text(data)
    if _mostly_utf8(data):
        assert text == data.decode("utf-8", "replace").removeprefix("\ufeff")
    text = text.replace("\x00", "")
    assert [x.text for x in page.lines] == [x.text for x in lines_from_text(text)]


def _mostly_utf8(data: bytes) -> bool:
    """At least as many valid multi-byte UTF-8 characters as invalid sequences."""
    chars = data.decode("utf-8", "replace")
    invalid = chars.count("\ufffd") - data.count("\ufffd".encode())
    return sum(ch > "\x7f" for ch in chars) - invalid >= invalid


@SETTINGS
@given(lines=st.lists(st.text(max_size=20), max_size=15))
def test_predict_lines_keeps_every_non_empty_line(
    tiny_classifier: Classifier, lines: list[str]
) -> None:
    page: Any = tiny_classifier.predict_lines(lines)
    # NULs are dropped and line breaks inside an entry become spaces, as in predict_page.
    entries = [x.replace("\x00", "") for x in lines]
    joined = "\n".join(
        x.replace("\r\n", " ").replace("\n", " ").replace("\r", " ") for x in entries
    )
    assert [x.text for x in page.lines] == [x.text for x in lines_from_text(joined)]
