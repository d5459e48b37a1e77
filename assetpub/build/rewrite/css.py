"""CSS: url(), @import and image-set() references, and the sourceMappingURL comment.

Read with tinycss2's tokenizer, never with regexes over the whole text.
"""

from __future__ import annotations

import bisect
import re
import sys
from collections.abc import Iterable, Iterator
from typing import Any

import tinycss2

from assetpub.build.rewrite.text import Decoded, Reference
from assetpub.build.rewrite.urls import is_local_url

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

    def reference(self, decoded: Decoded, kind: str) -> Reference | None:
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

    def add(self, decoded: Decoded, kind: str) -> None:
        ref = self.source.reference(decoded, kind)
        if ref is not None:
            self.references.append(ref)

    def add_string(self, token: Any, kind: str) -> None:
        if is_local_url(str(token.value)):  # skips scanning data: URIs character by character
            pieces = _css_string_pieces(self.source.text, self.source.offset(token))
            self.add(Decoded.from_pieces(pieces), kind)

    def add_url(self, token: Any, kind: str) -> None:
        """An unquoted url(...) token, or a url("...") function holding a string."""
        if token.type == "url":
            if is_local_url(str(token.value)):
                pieces = _css_url_pieces(self.source.text, self.source.offset(token))
                self.add(Decoded.from_pieces(pieces), kind)
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
                decoded = Decoded.verbatim(
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
