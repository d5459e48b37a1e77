"""Where a build's text names its files: the evidence a rename must be proven safe against.

A runtime builds a URL from a file's name wherever that name is written: a JS string
(`r.p+"logo.png"`), Next.js's inline `self.__next_f.push(...)` data, a `.txt` route payload, a
webmanifest's icon list, an SVG's `<image href>`, an `<a href>`. A rename is safe only when
every such place is a reference assetpub rewrites, so every place must be found. One
Aho–Corasick pass per text file finds every candidate name at once, at I/O speed, instead of
one search per name.
"""

from __future__ import annotations

import bisect
import posixpath
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

import ahocorasick

# Files whose bytes cannot name another file in a way a browser follows. Everything else is read
# as text when it holds no NUL byte: an unknown extension is searched, not trusted.
BINARY_EXTENSIONS = frozenset(
    {
        ".png",
        ".jpg",
        ".jpeg",
        ".gif",
        ".webp",
        ".avif",
        ".ico",
        ".bmp",
        ".tif",
        ".tiff",
        ".heic",
        ".jxl",
        ".woff",
        ".woff2",
        ".ttf",
        ".otf",
        ".eot",
        ".mp4",
        ".webm",
        ".mov",
        ".m4v",
        ".mp3",
        ".m4a",
        ".ogg",
        ".oga",
        ".wav",
        ".flac",
        ".aac",
        ".pdf",
        ".zip",
        ".gz",
        ".br",
        ".zst",
        ".7z",
        ".tar",
        ".wasm",
        ".bin",
        ".dat",
    }
)
# Source maps name original sources for debuggers, not URLs a page loads; a map counts only
# through the sourceMappingURL comment that links it.
SOURCE_MAP_EXTENSION = ".map"
_BINARY_SNIFF = 8192
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_URL_SAFE = "/-._~!$&'()*+,;=:@"


def is_searchable(path: str, head: bytes) -> bool:
    """Whether the file at `path`, starting with `head`, is text that could name a file."""
    suffix = posixpath.splitext(path)[1].lower()
    if suffix in BINARY_EXTENSIONS or suffix == SOURCE_MAP_EXTENSION:
        return False
    return b"\0" not in head[:_BINARY_SNIFF]


def name_forms(basename: str) -> set[str]:
    """The ways a runtime may write `basename`: as is, percent-encoded (either hex case, space
    as %20 or +), and with non-ASCII characters as JS/JSON \\u escapes."""
    forms = {basename}
    encoded = quote(basename, safe=_URL_SAFE, errors="surrogateescape")
    forms |= {encoded, _lower_percent_hex(encoded)}
    if " " in basename:
        forms.add(basename.replace(" ", "+"))
    if any(ord(c) > 0x7E for c in basename):
        forms.add("".join(_js_escape(c) for c in basename))
    return forms


def _lower_percent_hex(encoded: str) -> str:
    pieces = encoded.split("%")
    return pieces[0] + "".join("%" + p[:2].lower() + p[2:] for p in pieces[1:])


def _js_escape(char: str) -> str:
    code = ord(char)
    if code <= 0x7E:
        return char
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # a surrogate pair, as JSON.stringify writes it
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


@dataclass(frozen=True)
class Span:
    """Where a reference's path is written in a file: [start, end) of its text."""

    start: int
    end: int


@dataclass(frozen=True)
class Mention:
    """A place that names a file outside every reference assetpub rewrites."""

    file: str
    line: int
    excerpt: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line} ({self.excerpt})"


class NameIndex:
    """The names of the files a publish may rename, ready to be found in any text at once."""

    def __init__(self, paths: Iterable[str]) -> None:
        by_form: dict[str, set[str]] = {}
        for path in paths:
            for form in name_forms(posixpath.basename(path)):
                by_form.setdefault(form, set()).add(path)
        self._automaton = ahocorasick.Automaton()
        for form, owners in by_form.items():
            self._automaton.add_word(form, (len(form), tuple(sorted(owners))))
        self._empty = not by_form
        if not self._empty:
            self._automaton.make_automaton()

    def find(self, text: str) -> Iterator[tuple[int, int, tuple[str, ...]]]:
        """(start, end, paths) of each name written in `text` as a whole name: 'logo.png'
        inside 'biglogo.png' or 'logo.pngx' is another name, inside 'my-logo.png' it counts."""
        if self._empty:
            return
        for last, (length, owners) in self._automaton.iter(text):
            start, end = last + 1 - length, last + 1
            if start > 0 and text[start - 1] in _ALNUM:
                continue
            if end < len(text) and text[end] in _ALNUM:
                continue
            yield start, end, owners


def unexplained_mentions(
    file: str,
    text: str,
    index: NameIndex,
    rewritten: Sequence[Span],
) -> Iterator[tuple[str, Mention]]:
    """(path, mention) for each name in `text` that lies outside every span in `rewritten`
    (the path parts of the references assetpub rewrites in this file)."""
    spans = sorted(rewritten, key=lambda s: s.start)
    starts = [s.start for s in spans]
    line_starts: list[int] | None = None
    for start, end, owners in index.find(text):
        i = bisect.bisect_right(starts, start) - 1
        if i >= 0 and spans[i].start <= start and end <= spans[i].end:
            continue
        if line_starts is None:
            line_starts = _line_starts(text)
        line = bisect.bisect_right(line_starts, start)
        mention = Mention(file, line, _excerpt(text, start, end))
        for path in owners:
            yield path, mention


def _line_starts(text: str) -> list[int]:
    starts = [0]
    pos = text.find("\n")
    while pos != -1:
        starts.append(pos + 1)
        pos = text.find("\n", pos + 1)
    return starts


def _excerpt(text: str, start: int, end: int, context: int = 30) -> str:
    before = text[max(0, start - context) : start]
    after = text[end : end + context]
    snippet = (before + text[start:end] + after).replace("\n", " ").replace("\r", " ")
    # A name that is not UTF-8 must still print.
    snippet = snippet.encode("utf-8", "replace").decode("utf-8")
    lead = "…" if start > context else ""
    return lead + snippet.strip() + ("…" if end + context < len(text) else "")


def first_mentions(found: Iterable[tuple[str, Mention]]) -> dict[str, Mention]:
    """The first mention of each path, in the order found."""
    first: dict[str, Mention] = {}
    for path, mention in found:
        first.setdefault(path, mention)
    return first


def merge_first(into: dict[str, Mention], more: Mapping[str, Mention]) -> None:
    for path, mention in more.items():
        into.setdefault(path, mention)
