"""Content-Type and Cache-Control for each published file.

A fixed table rather than the host's /etc/mime.types: the same build must get the same headers
from a laptop and from CI.
"""

from __future__ import annotations

import fnmatch
import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass

IMMUTABLE = "public, max-age=31536000, immutable"
# Entry files are fetched without a hash in their name: revalidate every time.
NO_CACHE = "no-cache"
# Names we keep but cannot content-hash: cached briefly, never "immutable", because the next
# release may put different bytes under the same name.
SHORT_CACHE = "public, max-age=60, must-revalidate"
# assetpub's own records: never cached by a CDN or shown to a visitor's browser cache.
PRIVATE = "private, no-store"

CONTENT_TYPES: dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".cjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".map": "application/json; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".webmanifest": "application/manifest+json; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".wasm": "application/wasm",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".bmp": "image/bmp",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
    ".eot": "application/vnd.ms-fontobject",
    ".mp4": "video/mp4",
    ".webm": "video/webm",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".wav": "audio/wav",
    ".vtt": "text/vtt; charset=utf-8",
    ".pdf": "application/pdf",
    ".zip": "application/zip",
    ".csv": "text/csv; charset=utf-8",
}
DEFAULT_CONTENT_TYPE = "application/octet-stream"
# A build's own precompressed copies (compression-webpack-plugin's app.js.gz beside app.js):
# served as what they hold, encoded, so a client that asks for them gets JavaScript, not a
# download. Only over a known inner type: site.tar.gz is an archive, not encoded JavaScript.
ENCODING_SUFFIXES = {".gz": "gzip", ".br": "br"}

# Header values S3 stores and sends back as they are: visible ASCII and spaces. CR or LF would
# split the request's headers; other bytes are refused by S3 or mangled by proxies.
_HEADER_VALUE = re.compile(r"[\x20-\x7e]+")
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+(\s*;.*)?")


def header_value_problem(value: object, *, content_type: bool = False) -> str | None:
    """Why `value` cannot be sent as a Content-Type (or another header) value, or None."""
    if not isinstance(value, str):
        return "must be a string"
    if not _HEADER_VALUE.fullmatch(value) or value != value.strip():
        return "must be printable ASCII on one line, without leading or trailing spaces"
    if content_type and not _MEDIA_TYPE.fullmatch(value):
        return "must be a media type such as text/css; charset=utf-8"
    return None


@dataclass(frozen=True)
class HeaderRule:
    """A user override: files matching `pattern` (glob on the published path) get these headers."""

    pattern: str
    content_type: str | None = None
    cache_control: str | None = None

    def matches(self, path: str) -> bool:
        return fnmatch.fnmatchcase(path, self.pattern)


def content_type_for(path: str) -> str:
    inner, ext = posixpath.splitext(path.lower())
    if ext in ENCODING_SUFFIXES and content_encoding_for(path) is not None:
        ext = posixpath.splitext(inner)[1]
    return CONTENT_TYPES.get(ext, DEFAULT_CONTENT_TYPE)


def content_encoding_for(path: str) -> str | None:
    """The Content-Encoding of a build's own precompressed file (app.js.gz: gzip), or None."""
    inner, ext = posixpath.splitext(path.lower())
    encoding = ENCODING_SUFFIXES.get(ext)
    if encoding is None or posixpath.splitext(inner)[1] not in CONTENT_TYPES:
        return None
    return encoding


def resolve_headers(
    path: str, default_cache_control: str, rules: Sequence[HeaderRule]
) -> tuple[str, str]:
    """(content_type, cache_control) for a published path; the last matching rule wins."""
    content_type, cache_control = content_type_for(path), default_cache_control
    for rule in rules:
        if rule.matches(path):
            content_type = rule.content_type or content_type
            cache_control = rule.cache_control or cache_control
    return content_type, cache_control
