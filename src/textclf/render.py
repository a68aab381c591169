"""HTML to the visible page text, one block per line, the way scrapers hold it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["RenderOptions", "decode_html", "decode_text", "html_to_text", "html_to_text_nodes"]

_FIGURE_TAG = re.compile(r"<(/?)fig(?:ure|caption)\b", re.IGNORECASE)


@dataclass
class RenderOptions:
    """How to render HTML. The defaults reproduce the seed page's format (see README)."""

    alt_texts: bool = False
    links: bool = False
    form_fields: bool = False
    noscript: bool = False
    list_bullets: bool = False
    # Some pages (forums built on Discourse, mostly) put their whole text in <noscript> and show
    # only "Loading..." without it: with fewer than noscript_retry_words words, retry with
    # <noscript> and keep whichever rendering has more words.
    noscript_retry: bool = True
    noscript_retry_words: int = 50


def decode_html(data: bytes) -> str:
    """Decode HTML bytes: as UTF-8 when they are UTF-8 or mostly so (see :func:`decode_text`),
    else in the encoding the page declares (``<meta charset>``) unless that is UTF-8, else in
    the detected one.

    Bytes in a legacy encoding are almost never valid UTF-8, but the detector alone misreads
    valid UTF-8: it took 84 of the corpora's 2,050 pages, every one of them valid UTF-8, for
    cp1252 and the like (an English page with a single "It’s" is enough), which turned their
    quotes and accents into mojibake ("Itâ€™s") that matched neither the gold text nor a word.
    """
    return _decode(data, html=True)


def decode_text(data: bytes) -> str:
    """Decode the bytes of a plain-text page: as UTF-8 when they are UTF-8, or mostly (at
    least as many valid multi-byte characters as invalid sequences, which become U+FFFD), else
    in the detected encoding (or cp1252), where bytes that fit no encoding tried become U+FFFD:
    none is dropped unseen.

    A file saved as cp1252, Latin-1, cp1251 or Shift-JIS is not valid UTF-8, and read as UTF-8
    it would lose every accented letter or every word; its bytes seldom form a valid multi-byte
    UTF-8 character. A UTF-8 file with a few broken bytes (a page cut inside a character) keeps
    its valid characters.

    >>> decode_text("Caf\u00e9".encode("cp1252")), decode_text("Caf\u00e9".encode() + b"\\xff")
    ('Café', 'Café\ufffd')
    """
    return _decode(data, html=False)


def _decode(data: bytes, *, html: bool) -> str:
    """:func:`decode_html` (``html``: the charset the page declares comes before detection)
    and :func:`decode_text`."""
    text = _as_utf8(data)
    if text is not None:
        return text
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding

    encoding = detect_encoding(data, from_html_meta=True) if html else None
    if encoding in (None, "utf-8"):  # none declared, or UTF-8 declared but the bytes are not
        encoding = detect_encoding(data) or ("utf-8" if html else "cp1252")
    return bytes_to_str(data, encoding, errors="replace")


def _as_utf8(data: bytes) -> str | None:
    """``data`` decoded as UTF-8 without a byte order mark, when it is UTF-8 or mostly so (its
    invalid sequences as U+FFFD); None when it is not."""
    try:
        return data.decode("utf-8-sig")  # the mark dropped, as bytes_to_str drops it
    except UnicodeDecodeError:
        pass
    text = data.decode("utf-8", "replace")
    non_ascii = len(text) - len(text.encode("ascii", "ignore"))
    replaced = text.count("\ufffd") - data.count("\ufffd".encode())
    # Mostly valid multi-byte characters (a byte order mark among them): UTF-8 with a few
    # broken bytes. A legacy encoding's bytes form one only by chance, among many invalid ones.
    if non_ascii - replaced >= replaced:
        return text.removeprefix("\ufeff")
    return None


def html_to_text(html: str | bytes, options: RenderOptions | None = None) -> str:
    """Render a page's whole visible text, navigation and footers included.

    Inline runs are glued as a browser shows them ("HomeRussia & FSU"); blocks are separated by
    blank lines.

    >>> html_to_text("<p>Hello <b>world</b></p><div>Menu</div>").split()
    ['Hello', 'world', 'Menu']
    """
    from resiliparse.extract.html2text import extract_plain_text

    opts = options or RenderOptions()
    if isinstance(html, bytes):
        html = decode_html(html)
    if not opts.alt_texts:
        # With alt texts off, resiliparse drops every <figure> and <figcaption> whole: captions,
        # pull quotes and code along with the images (on WCXB dev, 219 pages lost 28,000 words,
        # 10,000 of them gold text). As <div>s they keep their text; images still give none.
        html = _FIGURE_TAG.sub(r"<\1div", html)
    kwargs: dict[str, Any] = dict(
        main_content=False,
        alt_texts=opts.alt_texts,
        links=opts.links,
        form_fields=opts.form_fields,
        list_bullets=opts.list_bullets,
    )
    text = extract_plain_text(html, noscript=opts.noscript, **kwargs)
    if opts.noscript_retry and not opts.noscript:
        words = len(text.split())
        if words < opts.noscript_retry_words:
            retry = extract_plain_text(html, noscript=True, **kwargs)
            if len(retry.split()) > words:
                text = retry
    return text


# Elements whose text no reader sees; a naive scraper drops them too.
_NO_TEXT_TAGS = frozenset({"script", "style", "noscript", "template", "svg"})


def html_to_text_nodes(html: str | bytes) -> str:
    """A page's text the way a plain DOM walk writes it: every text node on its own line, with
    its white space collapsed, and no blank lines (what BeautifulSoup's
    ``get_text("\\n", strip=True)`` gives). Links, bold words and other inline elements thus
    split a paragraph into several lines. ``make eval`` gives the model pages written this way
    (``render_variants``) to measure how it reads another scraper's output.

    >>> html_to_text_nodes("<p>Read <a href='#'>the story</a> now.</p><script>x()</script>")
    'Read\\nthe story\\nnow.'
    """
    from resiliparse.parse.html import HTMLTree, NodeType, traverse_dom

    if isinstance(html, bytes):
        html = decode_html(html)
    tree = HTMLTree.parse(html)
    lines: list[str] = []
    skipping: list[int] = []  # the depth of the element whose text is skipped, while inside it

    def visit(context: Any) -> None:  # pre-order, in document order (C-speed traversal)
        node, depth = context.node, context.depth
        if skipping:
            if depth > skipping[0]:
                return
            skipping.clear()
        if node.type == NodeType.ELEMENT:
            if node.tag in _NO_TEXT_TAGS:
                skipping.append(depth)
        elif node.type == NodeType.TEXT:
            text = " ".join(node.text.split())
            if text:
                lines.append(text)

    if tree.document is not None:
        traverse_dom(tree.document, visit)
    return "\n".join(lines)
