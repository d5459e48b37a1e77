"""CSS: url(), @import and image-set() references, and the sourceMappingURL comment.

Read as tinycss2's tokenizer (CSS Syntax Level 3) reads CSS, at I/O speed: compiled regexes skip,
in C, the stretches that cannot hold a reference, and Python reads only url(, image-set(,
@import, /*# comments and the inside of the functions that hold URLs. These regexes are not a
search for "url(" over the text: they consume strings, comments, escapes and url tokens whole,
as the tokenizer does, so what sits inside a comment or a string is never taken for syntax.

The first reading, from tinycss2's token tree, is kept as the oracle
(`find_css_references_tinycss2`). tests/test_css_scanner.py requires both to return the same
references, offsets, URLs and kinds on every stylesheet of the project and on generated CSS aimed
at the corners of the tokenizer (escapes in names, bad strings and urls, unicode-range, '<!--',
CRLF, NUL, lone surrogates). That is what makes the fast scanner exact. It would hand a text to
the oracle only on a character none of its patterns accounts for, which no text has.
"""

from __future__ import annotations

import bisect
import re
import sys
from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

import tinycss2

from assetpub.build.rewrite.text import Decoded, Reference
from assetpub.build.rewrite.urls import is_local_url, split_url

_URL_FUNCTIONS = {"url"}
_IMAGE_SET_FUNCTIONS = {"image-set", "-webkit-image-set"}
_CSS_WHITESPACE = " \n\t"  # after tinycss2's newline normalisation
_CSS_HEX_ESCAPE = re.compile(r"([0-9A-Fa-f]{1,6})[ \n\t]?")
_CSS_SOURCEMAP = re.compile(r"[#@][ \t\n]*sourceMappingURL=([^ \t\n]*)[ \t\n]*\Z")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class _NormalisedCss:
    """CSS text as tinycss2 sees it, with the way back to offsets in the text as written.

    tinycss2 replaces NUL with U+FFFD and turns '\\r\\n', '\\r' and '\\f' into '\\n' before
    it reads anything, so both readers below work on that normalised text.
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
        self.has_crlf = bool(self._crlf)

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


class _CssSource(_NormalisedCss):
    """The normalised text tinycss2 tokenizes; its (line, column) positions are positions in it."""

    def __init__(self, css: str) -> None:
        super().__init__(css)
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", self.text)]

    def tokens(self) -> list[Any]:
        # Older tinycss2 releases raise UnicodeEncodeError lowercasing identifiers that hold
        # a lone surrogate; a same-length stand-in keeps every position unchanged.
        return list(tinycss2.parse_component_value_list(_LONE_SURROGATE.sub("\ufffd", self.text)))

    def offset(self, token: Any) -> int:
        """Offset of `token` in the normalised text."""
        return self._line_starts[int(token.source_line) - 1] + int(token.source_column) - 1


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


def find_css_references_tinycss2(text: str) -> list[Reference]:
    """What `find_css_references` returns, read from tinycss2's token tree: the oracle."""
    source = _CssSource(text)
    tokens = source.tokens()
    scan = _CssScan(source)
    scan.walk(tokens)
    scan.add_sourcemap(tokens)
    return sorted(scan.references, key=lambda ref: ref.start)


# --------------------------------------------------------------------------------------------
# The fast scanner. Compiled regexes skip, in C, everything that cannot hold a reference (most of
# a stylesheet); Python reads only what can: url(, image-set(, @import, /*# comments, and the
# inside of image-set() and url("...") functions, where brackets and strings matter.
#
# At the top level the skip stops only at quotes, '/', '\', '@' and a '(' after "url" or "set":
# strings, comments and escapes are read whole, so the scan never loses track of where it
# is, and a '(' whose name might be url or image-set is checked by reading its name backwards
# (`_name_token_start`). Inside the functions Python reads, every name run, bracket and string
# is a unit of its own (`_NESTED`). Both follow tinycss2's tokenizer (see the notes below);
# tests/test_css_scanner.py holds them to it, differentially, on real and generated CSS.


def _caseless(word: str) -> str:
    """A pattern for `word` in any ASCII case: tinycss2 lower-cases names ASCII-only."""
    return "".join(f"[{c}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)


_NAME = r"A-Za-z0-9_\-\x80-\U0010ffff"  # name code points (digits too); escapes aside
_HEX = "[0-9A-Fa-f]"
_ESCAPE = rf"\\(?:{_HEX}{{1,6}}[ \t\n]?|[^\n0-9A-Fa-f]|\Z)"  # valid: not backslash-newline
_RUN = rf"(?:[{_NAME}]++|{_ESCAPE})++"  # possessive: always the whole run
_CANDIDATE = "(?:{}|{}|{})\\(".format(*map(_caseless, ("url", "image-set", "-webkit-image-set")))
_UNICODE_RANGE_START = r"[uU]\+[0-9A-Fa-f?]"
_COMMENT = r"/\*(?![#@])(?:[^*]*+\*++(?:[^*/][^*]*+\*++)*+/|[\s\S]*+)"  # not /*# nor /*@


def _unicode_range() -> str:
    """U+ then up to six hex digits and '?', or hex-hex: tinycss2 stops at six, then a new token
    starts, even in the middle of letters (U+abcdefurl( is a url( function)."""
    partial = [rf"{_HEX}{{{n}}}(?:\?{{1,{6 - n}}}|(?:-{_HEX}{{1,6}})?)" for n in range(5, 0, -1)]
    return rf"[uU]\+(?>{_HEX}{{6}}(?:-{_HEX}{{1,6}})?|{'|'.join(partial)}|\?{{1,6}})"


def _string(quote: str) -> str:
    """A whole string token; a bad one stops before its newline, an unterminated one at EOF."""
    return rf"{quote}(?:[^{quote}\\\n]++|\\(?:{_HEX}{{1,6}}[ \t\n]?|[\s\S])?)*+{quote}?"


_READ_LAST = [
    r"(?P<at>@)",  # @import, or an at-keyword with escapes
    r"(?P<comment>/\*)",  # /*# or /*@: maybe the sourceMappingURL
    r"(?P<end>\Z)",
    "(?P<unknown>)",  # nothing above matches: the scanner cannot tell, the oracle must
]


def _top_level_scanner() -> re.Pattern[str]:
    """Skip units, then the first thing Python must read (a named group), or the end.

    Names, numbers, hashes, brackets and punctuation are all skipped in one character class:
    where a name run starts only matters at a '(' that may end url( or image-set(, and that
    '(' stops the skip. A backslash starts a unit that takes the rest of its run, so escapes
    are always read from their backslash and '\\(' or '\\"' never looks like syntax.
    """
    skip = [
        r"""[^"'/\\(@]++""",
        r"(?<![lLtT])\(|(?<![uU][rR][lL])(?<![sS][eE][tT])\(",  # no url( nor image-set(
        _string('"'),
        _string("'"),
        _COMMENT,
        rf"{_RUN}(?!\()",  # from a backslash to the end of its run
        r"@(?![iI\\])",  # an at-keyword that is not @import (its name is skipped as text)
        r"/(?!\*)",
        r"\\(?=\n)",  # not an escape: a delimiter
    ]
    read = [rf"(?P<escaped>{_RUN})?(?P<paren>\()", *_READ_LAST]  # url(, image-set(, u\72l(
    return re.compile(f"(?:{'|'.join(skip)})*+(?:{'|'.join(read)})")


def _nested_scanner() -> re.Pattern[str]:
    """Inside a function Python reads: every name run, bracket and string is a unit.

    A name run (name code points and escapes, taken whole) starts a token, or sits inside
    one that cannot be url( or image-set( (a number's unit, a hash, an at-keyword); the only
    tokens that end inside a run are unicode-range (U+abcdef) and '<!--', units of their own.
    """
    special = r"\\/\"'@#<(){}\[\]"
    skip = [
        rf"[^{_NAME}{special}]++",  # whitespace, punctuation
        rf"(?!{_CANDIDATE}|{_UNICODE_RANGE_START})[{_NAME}]++(?![\\(])",  # idents, numbers
        _unicode_range(),
        _COMMENT,
        rf"{_RUN}(?!\()",  # a run with escapes, or before a backslash-newline: no function
        rf"\#(?:{_RUN})?",  # a hash token takes the run after it whole
        rf"@(?![iI\\])(?:{_RUN})?",  # an at-keyword that is not @import
        "<!--|<",
        r"/(?!\*)",
        r"\\(?=\n)",
    ]
    read = [
        rf"(?P<function>{_RUN})\(",
        r"(?P<open>[(\[{])",
        r"(?P<close>[)\]}])",
        r"(?P<quote>[\"'])",
        *_READ_LAST,
    ]
    return re.compile(f"(?:{'|'.join(skip)})*+(?:{'|'.join(read)})")


_TOP_LEVEL = _top_level_scanner()
_NESTED = _nested_scanner()
_NAME_RUN = re.compile(_RUN)
_FUNCTION_NAME = re.compile(rf"({_RUN})\(")
_UNICODE_RANGE = re.compile(_unicode_range())
_WHITESPACE = re.compile(r"[ \t\n]*+")
_STRING_BODY = {
    quote: re.compile(rf"(?:[^{quote}\\\n]++|\\(?:{_HEX}{{1,6}}[ \t\n]?|[\s\S])?)*+")
    for quote in "\"'"
}
_STRING_ESCAPE = re.compile(rf"\\(?:({_HEX}{{1,6}})[ \t\n]?|\n|([\s\S]))?")
# After "url(": a quote (url("...") is a function), or an unquoted url token: its value, then
# ')' or EOF; anything else makes it a bad url.
_URL_TOKEN = re.compile(
    r"[ \t\n]*+(?:(?P<quote>[\"'])|(?P<value>(?:[^ \t\n)\\\"'(\x00-\x08\x0b\x0e-\x1f\x7f]++"
    rf"|\\(?:{_HEX}{{1,6}}[ \t\n]?|[^\n]|\Z)|\\(?=\n))*+)[ \t\n]*+(?P<close>\)|\Z)?)"
)
_BAD_URL_REMNANTS = re.compile(r"(?:[^)\\]++|\\\)?)*+\)?")
_CLOSERS = {"(": ")", "[": "]", "{": "}"}
_ASCII_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


# Reading a name backwards, from the '(' after it. The text before that '(' is outside strings,
# comments and url tokens (the top-level skip read those whole), so every backslash there pairs
# up from the left end of its run of backslashes, which nothing can escape.


def _starts_escape(css: str, at: int) -> bool:
    """Whether css[at] is a backslash that escapes the character after it."""
    if at < 0 or css[at] != "\\":
        return False
    first = at
    while first > 0 and css[first - 1] == "\\":
        first -= 1
    return (at - first) % 2 == 0


def _eaten_by_hex_escape(css: str, space_at: int) -> bool:
    """Whether the whitespace at `space_at` ends a hex escape (\\e9 ), inside the name run."""
    digits = space_at
    while digits > 0 and space_at - digits < 7 and css[digits - 1] in _HEX_DIGITS:
        digits -= 1
    return 0 < space_at - digits <= 6 and _starts_escape(css, digits - 1)


def _run_start(css: str, end: int) -> int:
    """Start of the run of name code points and escapes that ends at `end`."""
    pos = end
    while pos > 0:
        char = css[pos - 1]
        if char in _ASCII_NAME_CHARS or char >= "\x80" or char == "\\":
            pos -= 1  # a backslash next to the run escapes into it, or is escaped itself
        elif char != "\n" and css[pos - 2 : pos - 1] == "\\" and _starts_escape(css, pos - 2):
            pos -= 2  # an escaped character: '\:'
        elif char in " \t\n" and _eaten_by_hex_escape(css, pos - 1):
            pos -= 1
        else:
            break
    return pos


def _name_token_start(css: str, end: int) -> int | None:
    """Where tinycss2 starts the token that ends the name run ending at `end`; None when the
    run is the name of a hash or an at-keyword.

    A run starts a token, except after '<!--' (a token of its own, ending in "--") and after a
    unicode-range, which stops after six hex digits: U+abcdefurl( is a url( function. A number
    may also end inside a run, but a name that starts with a digit is never url or image-set.
    Runs joined by "U+" are read from the leftmost: each may hold the next one's start.
    """
    starts = [_run_start(css, end)]
    while _after_unicode_range_start(css, starts[-1]):
        starts.append(_run_start(css, starts[-1] - 1))
    start = starts.pop()
    if start >= 2 and css.startswith("<!--", start - 2) and not _starts_escape(css, start - 3):
        token: int | None = start + 2
    elif start >= 1 and css[start - 1] in "#@":
        token = None
    else:
        token = start
    for start in reversed(starts):
        # "U+" then hex digits from `start` on: a unicode-range if that U starts a token.
        token = _match(_UNICODE_RANGE, css, start - 2).end() if token == start - 2 else start
    return token


def _after_unicode_range_start(css: str, start: int) -> bool:
    """Whether the run at `start` follows "U+" and begins with a hex digit."""
    return start >= 2 and css[start - 1] == "+" and css[start - 2] in "uU" and _is_hex(css, start)


def _is_hex(css: str, at: int) -> bool:
    return at < len(css) and css[at] in _HEX_DIGITS


_NO_NAME_BEFORE = frozenset(" \t\n!$%&()*+,./:;<=>?[]^`{|}~'\"")  # ends no run, glues to none


def _plain_name_at(css: str, start: int, end: int, name: str) -> bool:
    """Whether css[start:end] is `name`, in any ASCII case, and a token of its own: what comes
    before it ends any run. Only for a name the top-level skip read itself, from a token start
    and without escapes: the character before it is then neither escaped nor whitespace that
    a hex escape swallowed."""
    return (start == 0 or css[start - 1] in _NO_NAME_BEFORE) and _is_name(css[start:end], (name,))


def _match(pattern: re.Pattern[str], text: str, pos: int) -> re.Match[str]:
    """`pattern` matches at `pos`: every pattern given here can match the empty string."""
    match = pattern.match(text, pos)
    assert match is not None
    return match


def _is_name(name: str, names: Iterable[str]) -> bool:
    # tinycss2 compares ASCII-lowered names; str.lower() would also map e.g. the Kelvin sign.
    return name.isascii() and name.lower() in names


def _decode_name(css: str, start: int, end: int) -> str:
    """The value of the name run css[start:end], escapes resolved."""
    chunks, pos = [], start
    while (backslash := css.find("\\", pos, end)) != -1:
        char, after = _css_escape(css, backslash)
        chunks += [css[pos:backslash], char]
        pos = after
    chunks.append(css[pos:end])
    return "".join(chunks)


def _string_escape(match: re.Match[str]) -> str:
    if match.group(1):
        codepoint = int(match.group(1), 16)
        return chr(codepoint) if 0 < codepoint <= sys.maxunicode else "\ufffd"
    return match.group(2) or ""  # an escaped newline, or a backslash at EOF, adds nothing


class _Frame(NamedTuple):
    """The top level, or a function or block the scanner is inside."""

    closer: str | None  # the bracket that ends it; None at the top level
    kind: str | None  # the kind of the references found in it; None: it holds none
    bare_strings: bool  # strings in it are URLs (an image-set)


class _FastScan:
    """One pass over the normalised text, collecting references in document order."""

    def __init__(self, source: _NormalisedCss) -> None:
        self.source = source
        self.text = source.text
        self.references: list[Reference] = []
        self.frames = [_Frame(None, "url()", False)]
        self.sourcemap_comments: list[tuple[int, int]] = []  # content spans of /*# and /*@

    def run(self) -> bool:
        """Scan the whole text; False when it met something only the oracle can read."""
        text, pos = self.text, 0
        while True:
            frame = self.frames[-1]
            match = (_NESTED if frame.closer else _TOP_LEVEL).match(text, pos)
            assert match is not None  # "unknown" matches anything
            group, pos = match.lastgroup, match.end()
            if group == "paren":
                # A name the skip itself read, without escapes, may be read the quick way.
                plain_from = pos - 1 if match.start("escaped") >= 0 else match.start()
                pos = self.top_level_function(pos - 1, plain_from)
            elif group == "function":
                pos = self.function(match.start(group), match.end(group), frame.kind)
            elif group == "at":
                pos = self.at_keyword(pos)
            elif group == "comment":
                pos = self.comment(pos - 2)
            elif group == "open":
                self.frames.append(_Frame(_CLOSERS[text[pos - 1]], frame.kind, False))
            elif group == "close":
                if text[pos - 1] == frame.closer:  # an unmatched one is a mere parse error
                    self.frames.pop()
            elif group == "quote":
                pos = self.string(pos - 1, frame.kind if frame.bare_strings else None)
            else:
                return group == "end"

    def top_level_function(self, paren: int, plain_from: int) -> int:
        """The '(' at `paren` may end url( or image-set(; where to go on from. The skip read
        text[plain_from:paren] from a token start, and found no escape there."""
        text, kind = self.text, self.frames[-1].kind
        names = ("url",) if text[paren - 1] in "lL" else ("image-set", "-webkit-image-set")
        for name in names:  # the common case: url( after, say, ':' or ' '
            name_start = paren - len(name)
            if name_start >= plain_from and _plain_name_at(text, name_start, paren, name):
                return self.call(name, name_start, paren, kind)
        start = _name_token_start(text, paren)
        if start is None or start >= paren:
            return paren + 1
        return self.function(start, paren, kind)

    def function(self, start: int, name_end: int, kind: str | None) -> int:
        """The function whose name is text[start:name_end]; where to go on from."""
        name = _decode_name(self.text, start, name_end)
        return self.call(name.lower() if name.isascii() else name, start, name_end, kind)

    def call(self, name: str, start: int, name_end: int, kind: str | None) -> int:
        """The function `name` (ASCII-lowered) at text[start:name_end]; where to go on from."""
        if name in _URL_FUNCTIONS:
            return self.url(start, name_end + 1, kind)
        frame = self.frames[-1]
        if name in _IMAGE_SET_FUNCTIONS:
            image_set_kind = None if frame.kind is None else "image-set()"
            self.frames.append(_Frame(")", image_set_kind, True))
        elif frame.closer:  # at the top level no bracket needs counting
            self.frames.append(_Frame(")", frame.kind, False))
        return name_end + 1

    def url(self, start: int, after: int, kind: str | None) -> int:
        """url(...) starting at `start`: a url token, or a function whose first value counts."""
        match = _URL_TOKEN.match(self.text, after)
        assert match is not None  # every part of it is optional
        if match.group("quote"):
            return self.url_function(match.start("quote"), kind)
        if match.group("close") is None:
            return _match(_BAD_URL_REMNANTS, self.text, match.end()).end()
        value_start, value_end = match.span("value")
        if kind is not None and value_start < value_end:
            if self.text.find("\\", value_start, value_end) == -1:
                self.add_verbatim(value_start, value_end, kind)
            else:
                self.add(Decoded.from_pieces(_css_url_pieces(self.text, start)), kind)
        return match.end()

    def url_function(self, quote_at: int, kind: str | None) -> int:
        """url("..."): a function, whose string is the URL; the rest of it holds none."""
        end = _match(_WHITESPACE, self.text, self.string(quote_at, kind)).end()
        if self.text.startswith(")", end):
            return end + 1
        self.frames.append(_Frame(")", None, False))
        return end

    def string(self, quote_at: int, kind: str | None) -> int:
        """The string token at `quote_at`, a reference of `kind` unless None; its end."""
        text = self.text
        body_end = _match(_STRING_BODY[text[quote_at]], text, quote_at + 1).end()
        if text.startswith("\n", body_end):  # a bad string: no token, the newline stays
            return body_end
        if kind is not None:
            body = text[quote_at + 1 : body_end]
            if "\\" not in body:
                self.add_verbatim(quote_at + 1, body_end, kind)
            elif is_local_url(_STRING_ESCAPE.sub(_string_escape, body)):  # skips data: URIs
                self.add(Decoded.from_pieces(_css_string_pieces(text, quote_at)), kind)
        return min(body_end + 1, len(text))

    def at_keyword(self, after_at: int) -> int:
        """The at-keyword whose '@' ends at `after_at`: only @import matters."""
        run = _NAME_RUN.match(self.text, after_at)
        if run is None:
            return after_at
        if _is_name(_decode_name(self.text, after_at, run.end()), {"import"}):
            return self.after_import(run.end())
        return run.end()

    def after_import(self, pos: int) -> int:
        """The first token after @import, whitespace and comments aside, if it is a URL."""
        text, kind = self.text, None if self.frames[-1].kind is None else "@import"
        while True:
            pos = _match(_WHITESPACE, text, pos).end()
            if not text.startswith("/*", pos):
                break
            pos = self.comment(pos)
        if text.startswith(("'", '"'), pos):
            return self.string(pos, kind)
        name = _FUNCTION_NAME.match(text, pos)  # (a unicode-range is never followed by '(')
        if name and _is_name(_decode_name(text, pos, name.end(1)), _URL_FUNCTIONS):
            return self.url(pos, name.end(), kind)
        return pos  # any other token: read as such

    def comment(self, start: int) -> int:
        """The comment at `start`, kept if it may be the sourceMappingURL; its end."""
        close = self.text.find("*/", start + 2)
        content_end = len(self.text) if close == -1 else close
        if self.text.startswith(("#", "@"), start + 2):
            self.sourcemap_comments.append((start + 2, content_end))
        return len(self.text) if close == -1 else close + 2

    def add_verbatim(self, start: int, end: int, kind: str) -> None:
        """text[start:end] as the URL: what `add` does with `Decoded.verbatim`, for less."""
        url = self.text[start:end]
        if not is_local_url(url):
            return
        path_end = start + len(split_url(url)[0])
        if self.source.has_crlf:
            start, path_end, end = map(self.source.original, (start, path_end, end))
        self.references.append(Reference(start, path_end, end, url, kind))

    def add(self, decoded: Decoded, kind: str) -> None:
        """The URL decoded from escapes, if it is local."""
        ref = self.source.reference(decoded, kind)
        if ref is not None:
            self.references.append(ref)

    def add_sourcemap(self) -> None:
        """The last comment that reads as a sourceMappingURL decides, local or not."""
        for start, end in reversed(self.sourcemap_comments):
            match = _CSS_SOURCEMAP.match(self.text, start, end)
            if match:
                self.add_verbatim(match.start(1), match.end(1), "sourceMappingURL")
                return


def find_css_references_fast(text: str) -> list[Reference] | None:
    """What `find_css_references` returns, from the fast scanner; None if it needs the oracle."""
    scan = _FastScan(_NormalisedCss(text))
    if not scan.run():
        return None
    scan.add_sourcemap()
    return sorted(scan.references, key=lambda ref: ref.start)


def find_css_references(text: str) -> list[Reference]:
    """url(), @import and image-set() references in a stylesheet, plus its sourceMappingURL."""
    found = find_css_references_fast(text)
    return find_css_references_tinycss2(text) if found is None else found
