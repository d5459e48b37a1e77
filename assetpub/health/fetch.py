"""Fetch a URL as a visitor's browser would, over the standard library's urllib: redirects
followed, no credentials, no cache-busting, a bounded time per request and a bounded body."""

from __future__ import annotations

import http.client
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from typing import Protocol

from assetpub import __version__

USER_AGENT = f"assetpub-check/{__version__}"
# Pages and stylesheets are read to find what they load; nothing a browser should have to
# parse is bigger than this.
MAX_BODY = 16 * 1024 * 1024


@dataclass(frozen=True)
class Answer:
    url: str
    status: int  # 0: no HTTP answer at all (`error` says why)
    content_type: str | None = None
    body: bytes | None = None  # only when asked for, at most MAX_BODY + 1 bytes
    error: str | None = None


class Fetcher(Protocol):
    def fetch(self, url: str, *, read_body: bool, timeout: float) -> Answer: ...


class HttpFetcher:
    """urllib with a timeout per request (connect and each read); safe across threads."""

    def fetch(self, url: str, *, read_body: bool, timeout: float) -> Answer:
        # Accept-Encoding as a browser sends it: a compressed publish (docs/compression.md)
        # stores gzip bytes, which a check must read as a visitor's browser does.
        request = urllib.request.Request(
            url, headers={"User-Agent": USER_AGENT, "Accept": "*/*", "Accept-Encoding": "gzip"}
        )
        try:
            # http(s) only: settings checks the scheme of every check URL.
            with urllib.request.urlopen(request, timeout=timeout) as response:
                body = response.read(MAX_BODY + 1) if read_body else None
                if body is not None and response.headers.get("Content-Encoding") == "gzip":
                    body = _gunzip(body)
                return Answer(url, response.status, response.headers.get("Content-Type"), body)
        except urllib.error.HTTPError as exc:
            with exc:
                return Answer(url, exc.code, exc.headers.get("Content-Type"))
        except urllib.error.URLError as exc:
            return Answer(url, 0, error=_reason(exc.reason))
        except (OSError, http.client.HTTPException) as exc:  # timeouts, resets, bad answers
            return Answer(url, 0, error=_reason(exc))


def _gunzip(data: bytes) -> bytes:
    """At most MAX_BODY + 1 decoded bytes, like a plain body (b"" if it does not decode)."""
    try:
        return zlib.decompressobj(wbits=31).decompress(data, MAX_BODY + 1)
    except zlib.error:
        return b""


def _reason(reason: object) -> str:
    if isinstance(reason, TimeoutError) or "timed out" in str(reason):
        return "no answer in time"
    return str(reason) or type(reason).__name__
