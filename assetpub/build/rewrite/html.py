"""HTML: the URLs a page loads, read from its start tags as written.

CSS in `<style>` elements and `style=""` attributes goes through the CSS finder.
"""

from __future__ import annotations

import html
import re
import string
from collections.abc import Iterator
from html.entities import html5 as _HTML5_ENTITIES
from html.parser import HTMLParser

from assetpub.build.rewrite.css import find_css_references
from assetpub.build.rewrite.text import Decoded, Reference

_HTML_WHITESPACE = " \t\n\r\f"
_ASCII_ALPHANUMERIC = frozenset(string.ascii_letters + string.digits)

# (element, attribute) whose value is one URL of a subresource: something the page loads to
# render. Navigable URLs are missing on purpose (<a href>, <iframe src>, <form action>):
# people and programs go to those by name, so they are never renamed.
_URL_ATTRIBUTES = frozenset(
    {
        ("img", "src"),
        ("script", "src"),
        ("source", "src"),
        ("video", "src"),
        ("audio", "src"),
        ("track", "src"),
        ("embed", "src"),
        ("input", "src"),
        ("link", "href"),
        ("video", "poster"),
        ("object", "data"),
    }
)
# <link href> is a subresource only for these rel tokens. Feeds (alternate), canonical, next,
# prev, search, manifest, ... name URLs that readers, crawlers and browsers keep.
SUBRESOURCE_LINK_RELS = frozenset(
    {
        "stylesheet",
        "icon",
        "apple-touch-icon",
        "apple-touch-icon-precomposed",
        "mask-icon",
        "preload",
        "modulepreload",
        "prefetch",
    }
)
# (element, attribute) holding a list of image candidates: "a.png 1x, b.png 2x".
_SRCSET_ATTRIBUTES = frozenset({("img", "srcset"), ("source", "srcset"), ("link", "imagesrcset")})
# Browsers read the content of these as text, never as tags, whatever html.parser thinks.
_TEXT_ONLY_ELEMENTS = frozenset({"textarea", "title", "xmp", "iframe", "noembed", "noframes"})

_NUMERIC_CHARACTER_REFERENCE = re.compile(r"&#(?:[xX][0-9A-Fa-f]+|[0-9]+);?")
_NAMED_CHARACTER_REFERENCE = re.compile(r"[A-Za-z0-9]+;?")
_LONGEST_ENTITY_NAME = max(map(len, _HTML5_ENTITIES))
_BASE_TAG = re.compile("<base", re.IGNORECASE)


def _character_reference(text: str, amp: int, end: int) -> tuple[str, int]:
    """(decoded, end) of the character reference at text[amp] inside an attribute value."""
    numeric = _NUMERIC_CHARACTER_REFERENCE.match(text, amp, end)
    if numeric:
        return html.unescape(numeric.group()), numeric.end()
    named = _NAMED_CHARACTER_REFERENCE.match(text, amp + 1, end)
    if named:
        candidate = named.group()[:_LONGEST_ENTITY_NAME]
        for length in range(len(candidate), 0, -1):  # the longest known name wins
            name = candidate[:length]
            if name in _HTML5_ENTITIES:
                after = amp + 1 + length
                # In attributes "&copy=2" stays literal when the name lacks its ';' (HTML
                # spec), so query strings such as "?a=1&copy=2" survive.
                if (
                    not name.endswith(";")
                    and after < end
                    and (text[after] == "=" or text[after] in _ASCII_ALPHANUMERIC)
                ):
                    break
                return _HTML5_ENTITIES[name], after
    return "&", amp + 1


def _attribute_pieces(text: str, start: int, end: int) -> Iterator[tuple[str, int, int]]:
    pos = start
    while pos < end:
        amp = text.find("&", pos, end)
        literal_end = end if amp < 0 else amp
        yield from ((text[i], i, i + 1) for i in range(pos, literal_end))
        if amp < 0:
            return
        decoded, pos = _character_reference(text, amp, end)
        yield decoded, amp, pos


def _decode_attribute(text: str, start: int, end: int) -> Decoded:
    if "&" not in text[start:end]:
        return Decoded.verbatim(text, start, end)
    return Decoded.from_pieces(_attribute_pieces(text, start, end))


def _attribute_values(tag_text: str, offset: int) -> Iterator[tuple[str, int, int]]:
    """(lowercased name, value start, value end) of each attribute with a value, in order.

    Follows the HTML tokenizer's attribute states on the raw start tag, so offsets point at
    the value as written (inside its quotes, if any). `offset` is where the tag starts.
    """
    n = len(tag_text)
    pos = 1
    while pos < n and tag_text[pos] not in _HTML_WHITESPACE + "/>":  # the tag name
        pos += 1
    while True:
        while pos < n and tag_text[pos] in _HTML_WHITESPACE + "/":
            pos += 1
        if pos >= n or tag_text[pos] == ">":
            return
        name_start = pos
        pos += 1  # a name may start with '=' (a parse error browsers tolerate)
        while pos < n and tag_text[pos] not in _HTML_WHITESPACE + "/>=":
            pos += 1
        name = tag_text[name_start:pos].lower()
        while pos < n and tag_text[pos] in _HTML_WHITESPACE:
            pos += 1
        if pos >= n or tag_text[pos] != "=":
            continue  # an attribute without a value
        pos += 1
        while pos < n and tag_text[pos] in _HTML_WHITESPACE:
            pos += 1
        if pos < n and tag_text[pos] in "\"'":
            close = tag_text.find(tag_text[pos], pos + 1)
            if close < 0:
                # Unclosed: a browser reads the value on to the end of the file, and a tag
                # cut by the end of the file is dropped (html.parser ends it at a '>').
                return
            yield name, offset + pos + 1, offset + close
            pos = close + 1
        else:
            value_start = pos
            while pos < n and tag_text[pos] not in _HTML_WHITESPACE + ">":
                pos += 1
            yield name, offset + value_start, offset + pos


def _srcset_candidates(value: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each candidate's URL in a srcset value, split as the HTML spec says.

    A URL runs to the next whitespace, so "data:image/png;base64,AAAA 1x" keeps its comma;
    descriptors run to the next comma outside parentheses.
    """
    pos, n = 0, len(value)
    while True:
        while pos < n and value[pos] in _HTML_WHITESPACE + ",":
            pos += 1
        if pos >= n:
            return
        start = pos
        while pos < n and value[pos] not in _HTML_WHITESPACE:
            pos += 1
        if value[pos - 1] == ",":  # "a.png,b.png 2x": trailing commas end a candidate
            yield start, len(value[start:pos].rstrip(",")) + start
            continue
        yield start, pos
        in_parentheses = False
        while pos < n and (in_parentheses or value[pos] != ","):
            if value[pos] in "()":
                in_parentheses = value[pos] == "("
            pos += 1


def _strip_html_whitespace(text: str) -> tuple[int, int]:
    """(first, stop) of `text` without its leading and trailing ASCII whitespace."""
    first = len(text) - len(text.lstrip(_HTML_WHITESPACE))
    return first, max(first, len(text.rstrip(_HTML_WHITESPACE)))


def _attribute_references(
    text: str, tag: str, attribute: str, start: int, end: int
) -> list[Reference]:
    """References in the value text[start:end] of `attribute` on a `tag` element."""
    is_url = (tag, attribute) in _URL_ATTRIBUTES
    is_srcset = (tag, attribute) in _SRCSET_ATTRIBUTES
    if start == end or not (is_url or is_srcset or attribute == "style"):
        return []
    value = _decode_attribute(text, start, end)
    if attribute == "style":
        return [value.remap(ref, "style ") for ref in find_css_references(value.text)]
    if is_srcset:
        spans = list(_srcset_candidates(value.text))
        kind = "srcset"
    else:
        spans = [_strip_html_whitespace(value.text)]
        kind = f"<{tag} {attribute}>"
    found = (value.reference(first, stop, kind) for first, stop in spans)
    return [ref for ref in found if ref is not None]


def _style_element_references(text: str, start: int, end: int) -> list[Reference]:
    # <style> content is raw text: no character references, only an offset to add.
    content = Decoded.verbatim(text, start, end)
    return [content.remap(ref) for ref in find_css_references(content.text)]


class _HtmlScan(HTMLParser):
    """html.parser decides what is a tag, a comment or script text; we read the raw tags."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.text = text
        self.references: list[Reference] = []
        # html.parser counts lines by '\n' only and columns in characters.
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self._text_only: str | None = None  # inside <textarea> and friends
        self._style_start: int | None = None  # where the open <style>'s content begins
        self.base_href: str | None = None  # the first <base href>, decoded
        self._unclosed_comment_from: int | None = None  # see parse_comment

    def _position(self) -> int:
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start_tag(tag, self_closing=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start_tag(tag, self_closing=True)

    def _start_tag(self, tag: str, self_closing: bool) -> None:
        tag_text = self.get_starttag_text()
        if self._text_only is not None or tag_text is None:
            return
        start = self._position()
        attributes: dict[str, tuple[int, int]] = {}
        for attribute, value_start, value_end in _attribute_values(tag_text, start):
            # browsers keep the first of duplicate attributes
            attributes.setdefault(attribute, (value_start, value_end))
        if tag == "base" and "href" in attributes and self.base_href is None:
            # Browsers take the first <base> with an href, wherever it is.
            self.base_href = _decode_attribute(self.text, *attributes["href"]).text.strip(
                _HTML_WHITESPACE
            )
        if tag == "link" and not self._is_subresource_link(attributes):
            attributes = {a: span for a, span in attributes.items() if a == "style"}
        for attribute, (value_start, value_end) in attributes.items():
            self.references += _attribute_references(
                self.text, tag, attribute, value_start, value_end
            )
        if self_closing:
            return
        if tag in _TEXT_ONLY_ELEMENTS:
            self._text_only = tag
        elif tag == "style":
            self._style_start = start + len(tag_text)

    def _is_subresource_link(self, attributes: dict[str, tuple[int, int]]) -> bool:
        if "rel" not in attributes:
            return False
        rel = _decode_attribute(self.text, *attributes["rel"]).text.lower()
        return not SUBRESOURCE_LINK_RELS.isdisjoint(rel.split())

    def handle_endtag(self, tag: str) -> None:
        if tag == self._text_only:
            self._text_only = None
        elif tag == "style" and self._style_start is not None:
            self._close_style(self._position())

    def close(self) -> None:
        # At the end of the text html.parser reads an unfinished construct as text up to the
        # next '<' and parses again from there, each try scanning to the end: "<a<a<a..." or
        # "<!--<!--..." took seconds per 100 KB, growing with the square of the size (CPython
        # gh-135462). Only a finished start tag holds a reference, and nothing after the last
        # '>' can finish one, so the parser is spared that tail. (An open <style>'s content
        # is read from self.text below.)
        self.rawdata = self.rawdata[: self.rawdata.rfind(">") + 1]
        self._unclosed_comment_from = None  # offsets into the new rawdata start afresh
        super().close()
        if self._style_start is not None:  # an unclosed <style> runs to the end
            self._close_style(len(self.text))

    def _close_style(self, end: int) -> None:
        assert self._style_start is not None
        self.references.extend(_style_element_references(self.text, self._style_start, end))
        self._style_start = None

    def parse_comment(self, i: int, report: bool = True) -> int:
        # A comment that does not close after i closes after no later start either: the
        # end-of-text retries above would otherwise search the rest again from every "<!--".
        if self._unclosed_comment_from is not None and i >= self._unclosed_comment_from:
            return -1
        end = super().parse_comment(i, report)
        if end < 0:
            self._unclosed_comment_from = i
        return end

    def parse_marked_section(self, i: int, report: bool = True) -> int:
        # Browsers read "<![if !IE]>" or "<![foo[" in HTML as a bogus comment ending at the
        # first '>'; the stdlib raises AssertionError on keywords it does not know.
        end = self.rawdata.find(">", i + 3)
        return -1 if end < 0 else end + 1


def _scan(text: str) -> _HtmlScan:
    scan = _HtmlScan(text)
    scan.feed(text)
    scan.close()
    return scan


def find_html_references(text: str) -> list[Reference]:
    """URLs a page loads: src, <link href>, srcset, poster, <object data>, and CSS url()s."""
    return sorted(_scan(text).references, key=lambda ref: ref.start)


def find_base_href(text: str) -> str | None:
    """The page's <base href> (which every relative URL in it resolves from), or None."""
    if not _BASE_TAG.search(text):  # most pages: no second parse
        return None
    return _scan(text).base_href
