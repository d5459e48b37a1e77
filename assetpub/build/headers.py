"""Content-Type and Cache-Control for each published file.

A fixed table rather than the host's /etc/mime.types: the same build must get the same headers
from a laptop and from CI.
"""

from __future__ import annotations

import fnmatch
import posixpath
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


@dataclass(frozen=True)
class HeaderRule:
    """A user override: files matching `pattern` (glob on the published path) get these headers."""

    pattern: str
    content_type: str | None = None
    cache_control: str | None = None

    def matches(self, path: str) -> bool:
        return fnmatch.fnmatchcase(path, self.pattern)


def content_type_for(path: str) -> str:
    _, ext = posixpath.splitext(path.lower())
    return CONTENT_TYPES.get(ext, DEFAULT_CONTENT_TYPE)


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
