import doctest
from pathlib import Path

import pytest

import textclf.render
from textclf.errors import InputError
from textclf.pages import lines_from_text, lines_from_texts, read_seed_pages, read_text_file
from textclf.render import (
    RenderOptions,
    decode_html,
    decode_text,
    html_to_text,
    html_to_text_nodes,
)

ROOT = Path(__file__).resolve().parents[1]


def test_lines_keep_blank_neighbours():
    lines = lines_from_text("  Menu \n\nTitle\nBody text.\n\n\nFooter")
    assert [(x.text, x.blank_before, x.blank_after) for x in lines] == [
        ("Menu", False, True),
        ("Title", True, False),
        ("Body text.", False, True),
        ("Footer", True, False),
    ]


def test_crlf_and_invisible_characters():
    lines = lines_from_text("\ufeffA\r\n\u200b\r\nB\rC")
    assert [x.text for x in lines] == ["A", "B", "C"]
    assert lines[0].blank_after and lines[1].blank_before


def test_empty_page_has_no_lines():
    assert lines_from_text("") == []
    assert lines_from_text("\n \n\t\n") == []


def test_lines_from_texts_refuses_a_bare_string():
    with pytest.raises(InputError, match="list of lines"):
        lines_from_texts("Menu\nTitle")
    assert [x.text for x in lines_from_texts(["a", "", "b"])] == ["a", "b"]


def test_read_text_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"caf\xe9")
    with pytest.raises(InputError, match=r"bad\.txt: not valid UTF-8"):
        read_text_file(bad)
    nul = tmp_path / "nul.txt"
    nul.write_bytes(b"a\x00b")
    with pytest.raises(InputError, match="NUL"):
        read_text_file(nul)


def test_seed_page_is_read_with_its_annotation():
    pages = read_seed_pages(ROOT / "seeds")
    seed = next(p for p in pages if p.page_id == "000_2af67d93a0b182bd")
    assert len(seed.lines) == 46
    assert seed.labels is not None and len(seed.labels) == 46
    assert seed.lines[3].text == "HomeRussia & FSU"


def test_render_glues_inline_runs_and_separates_blocks():
    html = "<div><a>Home</a><a>Russia &amp; FSU</a></div><h1>Title</h1><p>One <b>two</b>.</p>"
    text = html_to_text(html)
    assert [x.text for x in lines_from_text(text)] == ["HomeRussia & FSU", "Title", "One two."]


def test_text_nodes_put_every_text_node_on_its_own_line():
    html = (
        "<html><head><title>Page</title><style>p {}</style></head><body>"
        "<nav><a href='/'>Home</a> | <a href='/news'>News</a></nav>"
        "<p>Read <b>the  story</b>\n now.</p><script>var x = '<p>no</p>';</script>"
        "<svg><text>chart</text></svg><template><p>later</p></template>"
        "<noscript>Enable JavaScript</noscript><div>  </div><p>Last &amp; least</p>"
        "</body></html>"
    )
    lines = html_to_text_nodes(html).split("\n")
    # Inline elements split lines; invisible elements give none; white space is collapsed.
    assert lines == ["Page", "Home", "|", "News", "Read", "the story", "now.", "Last & least"]
    assert html_to_text_nodes(html.encode("utf-8")) == "\n".join(lines)
    assert html_to_text_nodes("") == ""
    # Text after a skipped element, deeper or shallower, is read again.
    deep = "<div><div><script>x</script>after</div></div><p>next</p>"
    assert html_to_text_nodes(deep).split("\n") == ["after", "next"]


def test_render_retries_noscript_when_empty():
    html = "<html><body><noscript><p>Only here</p></noscript></body></html>"
    assert "Only here" in html_to_text(html)


# A forum as Discourse serves it: a loading notice, and the posts for readers without JavaScript.
_POSTS = "".join(f"<p>Post {i}: the fan curve fixed it for me.</p>" for i in range(12))
_SHELL = f"<body><div>Loading</div><div>Return to the site</div><noscript>{_POSTS}</noscript>"


def test_render_reads_noscript_when_the_page_is_a_script_shell():
    lines = html_to_text(_SHELL).split("\n")
    assert lines[:2] == ["Loading", "Return to the site"]
    assert "Post 11: the fan curve fixed it for me." in lines
    # below the word count only: a page with text of its own keeps its rendering
    assert "Post" not in html_to_text(_SHELL, RenderOptions(noscript_retry_words=3))
    assert "Post" not in html_to_text(_SHELL, RenderOptions(noscript_retry=False))
    # and a retry that finds fewer words is not taken
    assert html_to_text("<p>Three words here</p><noscript></noscript>") == "Three words here"


# A long English page with one non-ASCII word: the encoding detector alone reads such UTF-8 as a
# legacy code page (cp1258 for "It’s", cp1250 for "café") and turns the word into mojibake.
_ENGLISH = "<p>" + "The quick brown fox jumps over the lazy dog. " * 200 + "</p>"


@pytest.mark.parametrize("word", ["It’s", "café"])
def test_decode_html_reads_valid_utf8_as_utf8(word):
    data = f'<html><head><meta charset="utf-8"></head><body>{_ENGLISH}<p>{word}</p>'.encode()
    assert decode_html(data).endswith(f"<p>{word}</p>")
    assert html_to_text(data).split("\n")[-1] == word


def test_decode_html_follows_the_declared_legacy_encoding():
    page = '<html><head><meta charset="windows-1251"></head><body><p>Привет, мир!</p></body>'
    assert decode_html(page.encode("cp1251")) == page


def test_decode_html_detects_when_the_declared_utf8_is_wrong():
    head = '<html><head><meta charset="utf-8"></head><body>'
    page = f"{head}{_ENGLISH}<p>Un café crème à Noël, déjà réglé.</p>"
    assert decode_html(page.encode("cp1252")) == page
    assert decode_html("\ufeff<p>BOM</p>".encode()) == "<p>BOM</p>"


def test_decode_html_keeps_utf8_with_a_broken_byte_as_utf8():
    # A UTF-8 page cut inside a character, or with one stray byte, whatever it declares: the
    # detector would read all of it in a legacy code page.
    page = "Un café crème à Noël, déjà réglé."
    for charset in ("utf-8", "iso-8859-1"):
        head = f'<html><head><meta charset="{charset}"></head><body>{_ENGLISH}'
        data = f"{head}<p>{page}</p>".encode() + b"<p>\xe2\x80</p>"
        assert decode_html(data) == f"{head}<p>{page}</p><p>\ufffd</p>"
    # a page in the legacy encoding it declares is still read in it
    head = '<html><head><meta charset="iso-8859-1"></head><body>'
    assert decode_html(f"{head}<p>{page}</p>".encode("latin-1")) == f"{head}<p>{page}</p>"


def test_bytes_that_no_encoding_reads_become_u_fffd_not_nothing():
    # 0x81 and 0x8d are invalid in UTF-8 and undefined in cp1252: once the detector has
    # nothing better, such bytes are marked, never silently dropped.
    assert decode_text(b"plain text \x81\x8d here") == "plain text \ufffd\ufffd here"
    assert decode_html(b"<p>Caf\x8f ok</p>") == "<p>Caf\ufffd ok</p>"


def test_the_render_modules_examples_hold():
    result = doctest.testmod(textclf.render)
    assert result.attempted >= 3
    assert result.failed == 0


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Un café crème à Noël, déjà réglé.", "cp1252"),
        ("Grüße aus München", "latin-1"),
        ("It’s the “quoted” words – again.", "cp1252"),
        ("Привет, как дела? Это страница на русском языке.", "cp1251"),
        ("日本語のテキストです。これはテストのページです。", "shift_jis"),
    ],
)
def test_decode_text_reads_a_legacy_encoding_in_that_encoding(text, encoding):
    data = text.encode(encoding)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert decode_text(data) == text


def test_decode_text_keeps_utf8_with_a_few_broken_bytes_as_utf8():
    assert decode_text("Café ok\n".encode() + b"cut \xe2\x80") == "Café ok\ncut \ufffd"
    assert decode_text(b"\xef\xbb\xbfBOM \xff") == "BOM \ufffd"  # a byte order mark says UTF-8
    assert decode_text("\ufeffBOM é".encode()) == "BOM é"
    # a U+FFFD in the page is a valid character, not one of the broken bytes
    assert decode_text("\ufffd".encode() + b" \xff") == "\ufffd \ufffd"
    assert decode_text(b"") == ""


def test_render_keeps_figure_text_but_not_alt_texts():
    html = (
        "<p>Before</p><figure><img src='a.png' alt='A photo'><blockquote>Quoted words</blockquote>"
        "<figcaption>The caption</figcaption></figure><p>After <img src='b.png' alt='icon'> it</p>"
    )
    lines = ["Before", "", "Quoted words", "The caption", "", "After it"]
    assert html_to_text(html).split("\n") == lines
    with_alt = html_to_text(html, RenderOptions(alt_texts=True))
    assert "A photo" in with_alt and "The caption" in with_alt
