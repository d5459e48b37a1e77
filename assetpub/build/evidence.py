"""Where a build's text names its files: the evidence a rename must be proven safe against.

A runtime builds a URL from a file's name wherever that name is written: a JS string
(`r.p+"logo.png"`), Next.js's inline `self.__next_f.push(...)` data, a `.txt` route payload, a
webmanifest's icon list, an SVG's `<image href>`, an `<a href>`. A rename is safe only when
every such place is a reference assetpub rewrites, so every place must be found. One
Aho–Corasick pass over each text file's bytes finds every candidate name at once, at I/O speed,
instead of one search per name.
"""

from __future__ import annotations

import bisect
import posixpath
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import quote

import ahocorasick_rs

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
# Text a browser or a framework runtime reads: always searched, whatever bytes it holds.
TEXT_EXTENSIONS = frozenset(
    {
        ".html",
        ".htm",
        ".xhtml",
        ".js",
        ".mjs",
        ".cjs",
        ".css",
        ".json",
        ".webmanifest",
        ".txt",
        ".xml",
        ".xsl",
        ".svg",
        ".rss",
        ".atom",
    }
)
# Source maps name original sources for debuggers, not URLs a page loads; a map counts only
# through the sourceMappingURL comment that links it.
SOURCE_MAP_EXTENSION = ".map"
SNIFF_BYTES = 8192
_ALNUM_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_URL_SAFE = "/-._~!$&'()*+,;=:@"


def is_searchable(path: str, head: bytes) -> bool:
    """Whether the file at `path`, starting with `head`, is text that could name a file."""
    suffix = posixpath.splitext(path)[1].lower()
    if suffix in TEXT_EXTENSIONS:
        return True
    if suffix in BINARY_EXTENSIONS or suffix == SOURCE_MAP_EXTENSION:
        return False
    return b"\0" not in head[:SNIFF_BYTES]


def name_forms(basename: str) -> set[str]:
    """The ways a runtime may write `basename`: as is, percent-encoded (either hex case, space
    as %20 or +), and with non-ASCII characters as JS/JSON \\u escapes (either hex case)."""
    forms = {basename}
    encoded = quote(basename, safe=_URL_SAFE, errors="surrogateescape")
    forms |= {encoded, _lower_percent_hex(encoded)}
    if " " in basename:
        forms.add(basename.replace(" ", "+"))
    if any(ord(c) > 0x7E for c in basename):
        escaped = "".join(_js_escape(c) for c in basename)
        forms |= {escaped, re.sub(r"\\u([0-9a-f]{4})", lambda m: "\\u" + m[1].upper(), escaped)}
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


@dataclass(frozen=True, slots=True)
class Span:
    """Where a reference's path is written in a file: [start, end) of its text."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Mention:
    """A place that names a file outside every reference assetpub rewrites."""

    file: str
    line: int
    excerpt: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line} ({self.excerpt})"


class NameIndex:
    """The names of the files a publish may rename, ready to be found in any text at once.

    Searches the bytes as stored (UTF-8, or the file's own bytes for a name that is not),
    so a file is never decoded just to be searched.
    """

    def __init__(self, paths: Iterable[str]) -> None:
        # Built on the first search: a run whose files the read cache all proves unchanged
        # searches nothing, and for 60,000 names the index costs about 12 MB.
        self._paths = paths
        self._lock = threading.Lock()
        self._built = False
        # Per pattern, the one path with that name form, or the sorted paths sharing it (a
        # tuple per form, or a set per form while building, cost 4 and 13 MB more).
        self._owners: list[str | tuple[str, ...]] = []
        self._automaton: ahocorasick_rs.BytesAhoCorasick | None = None

    def _build(self) -> None:
        with self._lock:
            if self._built:
                return
            by_form: dict[bytes, str | list[str]] = {}
            for path in self._paths:
                for form in name_forms(posixpath.basename(path)):
                    key = form.encode("utf-8", "surrogateescape")
                    owner = by_form.setdefault(key, path)
                    if owner is not path:
                        by_form[key] = [*owner, path] if isinstance(owner, list) else [owner, path]
            self._owners = [o if isinstance(o, str) else tuple(sorted(o)) for o in by_form.values()]
            if by_form:
                self._automaton = ahocorasick_rs.BytesAhoCorasick(list(by_form))
            self._paths = ()
            self._built = True

    def find(self, data: bytes) -> list[tuple[int, int, tuple[str, ...]]]:
        """(start, end, paths) of each name written in `data` as a whole name, by position:
        'logo.png' inside 'biglogo.png' or 'logo.pngx' is another name, inside 'my-logo.png'
        it counts."""
        if not self._built:
            self._build()
        if self._automaton is None:
            return []
        found = []
        for pattern, start, end in self._automaton.find_matches_as_indexes(data, overlapping=True):
            if start > 0 and data[start - 1] in _ALNUM_BYTES:
                continue
            if end < len(data) and data[end] in _ALNUM_BYTES:
                continue
            owner = self._owners[pattern]
            found.append((start, end, (owner,) if isinstance(owner, str) else owner))
        found.sort()
        return found


def byte_spans(text: str, spans: Sequence[Span]) -> list[Span]:
    """`spans` (offsets into `text`) as offsets into its UTF-8 bytes (surrogateescape), in one
    pass over the text whatever the number of spans."""
    if text.isascii():
        return list(spans)
    offsets = sorted({o for span in spans for o in (span.start, span.end)})
    converted: dict[int, int] = {}
    previous = size = 0
    for offset in offsets:
        size += len(text[previous:offset].encode("utf-8", "surrogateescape"))
        converted[offset] = size
        previous = offset
    return [Span(converted[s.start], converted[s.end]) for s in spans]


def unexplained_mentions(
    file: str,
    data: bytes,
    index: NameIndex,
    explained: Sequence[Span],
) -> Iterator[tuple[str, Mention]]:
    """(path, mention) for each name in `data` that lies outside every span in `explained`
    (byte offsets: the path parts of the references assetpub rewrites in this file)."""
    spans = sorted(explained, key=lambda s: s.start)
    starts = [s.start for s in spans]
    line_starts: list[int] | None = None
    for start, end, owners in index.find(data):
        i = bisect.bisect_right(starts, start) - 1
        if i >= 0 and spans[i].start <= start and end <= spans[i].end:
            continue
        if line_starts is None:
            line_starts = _line_starts(data)
        line = bisect.bisect_right(line_starts, start)
        mention = Mention(file, line, _excerpt(data, start, end))
        for path in owners:
            yield path, mention


def _line_starts(data: bytes) -> list[int]:
    starts = [0]
    pos = data.find(b"\n")
    while pos != -1:
        starts.append(pos + 1)
        pos = data.find(b"\n", pos + 1)
    return starts


def _excerpt(data: bytes, start: int, end: int, context: int = 30) -> str:
    raw = data[max(0, start - context) : end + context]
    # A name that is not UTF-8 must still print.
    snippet = raw.decode("utf-8", "replace").replace("\n", " ").replace("\r", " ")
    lead = "…" if start > context else ""
    return lead + snippet.strip() + ("…" if end + context < len(data) else "")
