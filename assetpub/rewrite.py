"""Find and replace asset references in HTML, CSS and sourceMappingURL comments.

Pure functions over `str`, no I/O. Every offset points into the text exactly as given, so a
rewrite changes the bytes of the references it replaces and nothing else: no document is ever
re-serialised.

The finders return *local* references only (see `is_local_url`): a `https:` or `data:` URL is
never something assetpub can rename.
"""

from __future__ import annotations

import bisect
import html
import posixpath
import re
import string
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from html.entities import html5 as _HTML5_ENTITIES
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote

import tinycss2

__all__ = [
    "Reference",
    "find_css_references",
    "find_html_references",
    "find_references",
    "find_sourcemap_reference",
    "is_local_url",
    "replace_references",
    "resolve_reference",
    "split_url",
]


@dataclass(frozen=True)
class Reference:
    """One URL found in a file, located in the text as written."""

    start: int  # offset in `text` where the URL as written begins
    path_end: int  # offset where its path part ends (before '?' or '#'); == end if none
    end: int  # offset where the URL as written ends (exclusive)
    url: str  # decoded for its context (character references, CSS escapes), query included
    kind: str  # where it was found, for messages: "<img src>", "srcset", "url()", ...


# --------------------------------------------------------------------------------------------
# URLs


_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_C0_CONTROL_OR_SPACE = "".join(map(chr, range(0x21)))
_TAB_OR_NEWLINE = str.maketrans("", "", "\t\n\r")
_DOT_SEGMENTS = {".", "%2e"}
_DOUBLE_DOT_SEGMENTS = {"..", ".%2e", "%2e.", "%2e%2e"}


def _clean_url(url: str) -> str:
    # What the URL standard does before parsing; browsers fetch " a.png" as "a.png".
    return url.strip(_C0_CONTROL_OR_SPACE).translate(_TAB_OR_NEWLINE)


def split_url(url: str) -> tuple[str, str]:
    """Split `url` into its path and the rest ('?query#fragment', as given, possibly '')."""
    match = re.search(r"[?#]", url)
    if match is None:
        return url, ""
    return url[: match.start()], url[match.start() :]


def is_local_url(url: str) -> bool:
    """True when `url` names a file of the same site by a relative or root-relative path."""
    url = _clean_url(url)
    if _SCHEME.match(url):  # http:, data:, mailto:, javascript:, ... and any other scheme
        return False
    # Browsers read a backslash as a slash in http(s) URLs, so "\\host" is protocol-relative.
    if url[:2].replace("\\", "/") == "//":
        return False
    path, _ = split_url(url)
    return path != ""  # '', '#top' and '?page=2' all point back at the document itself


def resolve_reference(referrer: str, url: str) -> str | None:
    """The build-relative path of the file `url` names, as seen from the file `referrer`.

    `referrer` is a build-relative, '/'-separated path such as "css/site.css". The result is
    percent-decoded and normalised. None when `url` is not local, names a folder, or climbs
    out of the build root ("../../etc/passwd").
    """
    if not is_local_url(url):
        return None
    path, _ = split_url(_clean_url(url))
    raw_segments = path.replace("\\", "/").split("/")
    if raw_segments[-1].lower() in {"", *_DOT_SEGMENTS, *_DOUBLE_DOT_SEGMENTS}:
        return None  # "img/", "." and ".." name folders, never a file we publish
    segments = [] if path.startswith(("/", "\\")) else _folder_segments(referrer)
    for raw in raw_segments:
        lowered = raw.lower()
        if raw == "" or lowered in _DOT_SEGMENTS:
            continue
        if lowered in _DOUBLE_DOT_SEGMENTS:
            if not segments:
                return None
            segments.pop()
            continue
        # surrogateescape mirrors how the build walk decodes file names that are not UTF-8.
        name = unquote(raw, errors="surrogateescape")
        if "/" in name:  # an encoded "%2F" cannot name one file of a folder tree
            return None
        segments.append(name)
    return "/".join(segments)


def _folder_segments(referrer: str) -> list[str]:
    folder = posixpath.dirname(referrer.strip("/"))
    return [segment for segment in folder.split("/") if segment not in {"", "."}]


# --------------------------------------------------------------------------------------------
# Decoded text that remembers where each character was written


@dataclass(frozen=True)
class _Decoded:
    """Text decoded from a stretch of source; character i came from source[starts[i]:ends[i]]."""

    text: str
    starts: Sequence[int]
    ends: Sequence[int]

    @classmethod
    def verbatim(cls, source: str, start: int, end: int) -> _Decoded:
        """source[start:end] taken as it is (no escapes to resolve)."""
        return cls(source[start:end], range(start, end), range(start + 1, end + 1))

    @classmethod
    def from_pieces(cls, pieces: Iterable[tuple[str, int, int]]) -> _Decoded:
        """Join (decoded characters, source start, source end) pieces."""
        chars: list[str] = []
        starts: list[int] = []
        ends: list[int] = []
        for decoded, start, end in pieces:
            chars.append(decoded)
            starts.extend([start] * len(decoded))
            ends.extend([end] * len(decoded))
        return cls("".join(chars), starts, ends)

    def reference(self, first: int, stop: int, kind: str) -> Reference | None:
        """The Reference for decoded characters [first, stop), or None if it is not local."""
        url = self.text[first:stop]
        if not is_local_url(url):  # also when empty
            return None
        end = self.ends[stop - 1]
        split = first + len(split_url(url)[0])
        path_end = self.starts[split] if split < stop else end
        return Reference(self.starts[first], path_end, end, url, kind)

    def remap(self, ref: Reference, kind_prefix: str = "") -> Reference:
        """Move `ref`, found in self.text, to the source this text was decoded from."""
        end = self.ends[ref.end - 1]
        path_end = self.starts[ref.path_end] if ref.path_end < ref.end else end
        return Reference(self.starts[ref.start], path_end, end, ref.url, kind_prefix + ref.kind)


# --------------------------------------------------------------------------------------------
# CSS


_URL_FUNCTIONS = {"url"}
_IMAGE_SET_FUNCTIONS = {"image-set", "-webkit-image-set"}
_CSS_WHITESPACE = " \n\t"  # after tinycss2's newline normalisation
_CSS_HEX_ESCAPE = re.compile(r"([0-9A-Fa-f]{1,6})[ \n\t]?")
_CSS_SOURCEMAP = re.compile(r"[#@][ \t\n]*sourceMappingURL=([^ \t\n]*)[ \t\n]*\Z")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class _CssSource:
    """CSS text as tinycss2 sees it, with the way back to offsets in the text as written.

    tinycss2 replaces NUL with U+FFFD and turns '\\r\\n', '\\r' and '\\f' into '\\n' before
    counting lines, so its (line, column) positions are positions in that normalised text.
    Only '\\r\\n' changes the length; `_crlf` lists where those pairs were collapsed.
    """

    def __init__(self, css: str) -> None:
        self.text = (
            css.replace("\0", "\ufffd")
            .replace("\r\n", "\n")
            .replace("\r", "\n")
            .replace("\f", "\n")
        )
        self._crlf = [m.start() - i for i, m in enumerate(re.finditer("\r\n", css))]
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", self.text)]

    def tokens(self) -> list[Any]:
        # Older tinycss2 releases raise UnicodeEncodeError lowercasing identifiers that hold
        # a lone surrogate; a same-length stand-in keeps every position unchanged.
        return list(tinycss2.parse_component_value_list(_LONE_SURROGATE.sub("\ufffd", self.text)))

    def offset(self, token: Any) -> int:
        """Offset of `token` in the normalised text."""
        return self._line_starts[int(token.source_line) - 1] + int(token.source_column) - 1

    def original(self, offset: int) -> int:
        """The offset in the text as written of an offset in the normalised text."""
        return offset + bisect.bisect_left(self._crlf, offset)

    def reference(self, decoded: _Decoded, kind: str) -> Reference | None:
        """The Reference for all of `decoded` (normalised offsets), in offsets as written."""
        ref = decoded.reference(0, len(decoded.text), kind)
        if ref is None:
            return None
        return Reference(
            self.original(ref.start),
            self.original(ref.path_end),
            self.original(ref.end),
            ref.url,
            ref.kind,
        )


def _css_escape(css: str, backslash: int) -> tuple[str, int]:
    """(character, end) of the escape whose backslash is at `backslash`, read as tinycss2 does."""
    match = _CSS_HEX_ESCAPE.match(css, backslash + 1)
    if match:
        codepoint = int(match.group(1), 16)
        return (chr(codepoint) if 0 < codepoint <= sys.maxunicode else "\ufffd"), match.end()
    if backslash + 1 < len(css):
        return css[backslash + 1], backslash + 2
    return "\ufffd", backslash + 1


def _css_string_pieces(css: str, quote_at: int) -> Iterator[tuple[str, int, int]]:
    """Decoded pieces of the string token whose opening quote is at `quote_at`."""
    quote, pos = css[quote_at], quote_at + 1
    while pos < len(css) and css[pos] not in (quote, "\n"):
        if css[pos] != "\\":
            yield css[pos], pos, pos + 1
            pos += 1
        elif css.startswith("\\\n", pos):  # an escaped newline continues the string, adds nothing
            pos += 2
        elif pos + 1 == len(css):  # a backslash at the very end adds nothing either
            return
        else:
            char, end = _css_escape(css, pos)
            yield char, pos, end
            pos = end


def _css_url_pieces(css: str, token_at: int) -> Iterator[tuple[str, int, int]]:
    """Decoded pieces of the unquoted url(...) token that starts at `token_at`."""
    pos = css.index("(", token_at) + 1  # the name may be written with escapes: u\72l(
    while pos < len(css) and css[pos] in _CSS_WHITESPACE:
        pos += 1
    while pos < len(css) and css[pos] not in _CSS_WHITESPACE + ")":
        if css[pos] == "\\" and not css.startswith("\\\n", pos):
            char, end = _css_escape(css, pos)
            yield char, pos, end
            pos = end
        else:
            yield css[pos], pos, pos + 1
            pos += 1


class _CssScan:
    """One pass over the token tree of a CSS text, collecting references in document order."""

    def __init__(self, source: _CssSource) -> None:
        self.source = source
        self.references: list[Reference] = []

    def add(self, decoded: _Decoded, kind: str) -> None:
        ref = self.source.reference(decoded, kind)
        if ref is not None:
            self.references.append(ref)

    def add_string(self, token: Any, kind: str) -> None:
        if is_local_url(str(token.value)):  # skips scanning data: URIs character by character
            pieces = _css_string_pieces(self.source.text, self.source.offset(token))
            self.add(_Decoded.from_pieces(pieces), kind)

    def add_url(self, token: Any, kind: str) -> None:
        """An unquoted url(...) token, or a url("...") function holding a string."""
        if token.type == "url":
            if is_local_url(str(token.value)):
                pieces = _css_url_pieces(self.source.text, self.source.offset(token))
                self.add(_Decoded.from_pieces(pieces), kind)
            return
        arguments = _significant(token.arguments)
        if arguments and arguments[0].type == "string":
            self.add_string(arguments[0], kind)

    def walk(self, tokens: Iterable[Any], kind: str = "url()", bare_strings: bool = False) -> None:
        """Collect url()s anywhere in `tokens`; strings too when `bare_strings` (image-set)."""
        after_import = False
        for token in tokens:
            if token.type in ("whitespace", "comment"):
                continue
            # "@import 'x.css'" and "@import url(x.css)": the first thing after the keyword.
            token_kind = "@import" if after_import else kind
            strings_are_urls = bare_strings or after_import
            after_import = token.type == "at-keyword" and token.lower_value == "import"
            if token.type == "url" or (
                token.type == "function" and token.lower_name in _URL_FUNCTIONS
            ):
                self.add_url(token, token_kind)
            elif token.type == "string" and strings_are_urls:
                self.add_string(token, token_kind)
            elif token.type == "function" and token.lower_name in _IMAGE_SET_FUNCTIONS:
                self.walk(token.arguments, "image-set()", bare_strings=True)
            elif token.type == "function":
                self.walk(token.arguments, kind)
            elif token.type in ("() block", "[] block", "{} block"):
                self.walk(token.content, kind)

    def add_sourcemap(self, tokens: list[Any]) -> None:
        """The last /*# sourceMappingURL=... */ comment, wherever it is."""
        found: Reference | None = None
        for comment in _comments(tokens):
            content_at = self.source.offset(comment) + 2
            content = self.source.text[content_at : content_at + len(comment.value)]
            match = _CSS_SOURCEMAP.match(content)
            if match:
                decoded = _Decoded.verbatim(
                    self.source.text, content_at + match.start(1), content_at + match.end(1)
                )
                found = self.source.reference(decoded, "sourceMappingURL")
        if found is not None:
            self.references.append(found)


def _significant(tokens: Iterable[Any]) -> list[Any]:
    return [token for token in tokens if token.type not in ("whitespace", "comment")]


def _comments(tokens: Iterable[Any]) -> Iterator[Any]:
    for token in tokens:
        if token.type == "comment":
            yield token
        elif token.type == "function":
            yield from _comments(token.arguments)
        elif token.type in ("() block", "[] block", "{} block"):
            yield from _comments(token.content)


def find_css_references(text: str) -> list[Reference]:
    """url(), @import and image-set() references in a stylesheet, plus its sourceMappingURL."""
    source = _CssSource(text)
    tokens = source.tokens()
    scan = _CssScan(source)
    scan.walk(tokens)
    scan.add_sourcemap(tokens)
    return sorted(scan.references, key=lambda ref: ref.start)


# --------------------------------------------------------------------------------------------
# sourceMappingURL in JavaScript


_NEWLINES = "\n\r\u2028\u2029"
_LINE_START = r"(?<![^\n\r\u2028\u2029])[ \t]*"  # at the start of the text or after a newline
_LINE_END = r"[ \t]*(?![^\n\r\u2028\u2029])"  # at the end of the text or before a newline
_SOURCEMAP_COMMENT = re.compile(
    _LINE_START
    + r"(?://[#@][ \t]*sourceMappingURL=(?P<line>\S*)"
    + r"|/\*[#@][ \t]*sourceMappingURL=(?P<block>\S*?)[ \t]*\*/)"
    + _LINE_END
)


def find_sourcemap_reference(text: str) -> Reference | None:
    """The last `//# sourceMappingURL=` (or legacy `//@`) or `/*# ... */` comment line.

    Comments are recognised by a line-based pattern, not a JavaScript parser: a line inside
    a template literal that looks exactly like the comment would count. The last one wins,
    as in browsers; None if it is not local (an inline `data:` map).
    """
    # Bundles run to megabytes: look only at the lines that contain the marker, from the end.
    end = len(text)
    while (found := text.rfind("sourceMappingURL=", 0, end)) != -1:
        line_start = max(text.rfind(c, 0, found) for c in _NEWLINES) + 1
        line_end = min(
            (i for c in _NEWLINES if (i := text.find(c, found)) != -1), default=len(text)
        )
        match = _SOURCEMAP_COMMENT.match(text, line_start, line_end)
        if match:
            group = "line" if match.group("line") is not None else "block"
            decoded = _Decoded.verbatim(text, match.start(group), match.end(group))
            return decoded.reference(0, len(decoded.text), "sourceMappingURL")
        end = line_start
    return None


# --------------------------------------------------------------------------------------------
# HTML


_HTML_WHITESPACE = " \t\n\r\f"
_ASCII_ALPHANUMERIC = frozenset(string.ascii_letters + string.digits)

# (element, attribute) whose value is one URL. <a href> is missing on purpose: linked pages
# keep their URLs; only what a page loads gets a hashed name.
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
        ("iframe", "src"),
        ("link", "href"),
        ("video", "poster"),
        ("object", "data"),
    }
)
# (element, attribute) holding a list of image candidates: "a.png 1x, b.png 2x".
_SRCSET_ATTRIBUTES = frozenset({("img", "srcset"), ("source", "srcset"), ("link", "imagesrcset")})
# Browsers read the content of these as text, never as tags, whatever html.parser thinks.
_TEXT_ONLY_ELEMENTS = frozenset({"textarea", "title", "xmp", "iframe", "noembed", "noframes"})

_NUMERIC_CHARACTER_REFERENCE = re.compile(r"&#(?:[xX][0-9A-Fa-f]+|[0-9]+);?")
_NAMED_CHARACTER_REFERENCE = re.compile(r"[A-Za-z0-9]+;?")
_LONGEST_ENTITY_NAME = max(map(len, _HTML5_ENTITIES))


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


def _decode_attribute(text: str, start: int, end: int) -> _Decoded:
    if "&" not in text[start:end]:
        return _Decoded.verbatim(text, start, end)
    return _Decoded.from_pieces(_attribute_pieces(text, start, end))


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
            close = n if close < 0 else close
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
    content = _Decoded.verbatim(text, start, end)
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
        seen: set[str] = set()
        for attribute, value_start, value_end in _attribute_values(tag_text, start):
            if attribute not in seen:  # browsers keep the first of duplicate attributes
                seen.add(attribute)
                self.references += _attribute_references(
                    self.text, tag, attribute, value_start, value_end
                )
        if self_closing:
            return
        if tag in _TEXT_ONLY_ELEMENTS:
            self._text_only = tag
        elif tag == "style":
            self._style_start = start + len(tag_text)

    def handle_endtag(self, tag: str) -> None:
        if tag == self._text_only:
            self._text_only = None
        elif tag == "style" and self._style_start is not None:
            self._close_style(self._position())

    def close(self) -> None:
        super().close()
        if self._style_start is not None:  # an unclosed <style> runs to the end
            self._close_style(len(self.text))

    def _close_style(self, end: int) -> None:
        assert self._style_start is not None
        self.references.extend(_style_element_references(self.text, self._style_start, end))
        self._style_start = None

    def parse_marked_section(self, i: int, report: bool = True) -> int:
        # Browsers read "<![if !IE]>" or "<![foo[" in HTML as a bogus comment ending at the
        # first '>'; the stdlib raises AssertionError on keywords it does not know.
        end = self.rawdata.find(">", i + 3)
        return -1 if end < 0 else end + 1


def find_html_references(text: str) -> list[Reference]:
    """URLs a page loads: src, <link href>, srcset, poster, <object data>, and CSS url()s."""
    scan = _HtmlScan(text)
    scan.feed(text)
    scan.close()
    return sorted(scan.references, key=lambda ref: ref.start)


# --------------------------------------------------------------------------------------------
# Entry points


_HTML_SUFFIXES = {".html", ".htm"}
_JS_SUFFIXES = {".js", ".mjs", ".cjs"}


def find_references(name: str, text: str) -> list[Reference]:
    """Local references in the file `name` (chosen by extension), sorted by start."""
    suffix = posixpath.splitext(name)[1].lower()
    if suffix in _HTML_SUFFIXES:
        return find_html_references(text)
    if suffix == ".css":
        return find_css_references(text)
    if suffix in _JS_SUFFIXES:
        ref = find_sourcemap_reference(text)
        return [] if ref is None else [ref]
    return []


def replace_references(text: str, replacements: Sequence[tuple[Reference, str]]) -> str:
    """Put each new path in place of its reference's path; query and fragment stay as written.

    The new path is inserted as given: it must already suit the reference's context
    (hashed names made of letters, digits, '-', '_', '.' and '/' always do).
    """
    pieces: list[str] = []
    pos = previous_end = 0
    for ref, new_path in sorted(replacements, key=lambda pair: pair[0].start):
        if not 0 <= ref.start <= ref.path_end <= ref.end <= len(text):
            raise ValueError(f"reference {ref.url!r} at {ref.start}-{ref.end} is outside the text")
        if ref.start < previous_end:
            raise ValueError(f"reference {ref.url!r} at {ref.start} overlaps the one before it")
        pieces += [text[pos : ref.start], new_path]
        pos, previous_end = ref.path_end, ref.end
    pieces.append(text[pos:])
    return "".join(pieces)
