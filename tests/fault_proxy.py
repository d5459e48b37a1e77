"""A fault-injecting reverse proxy for S3 on loopback: assetpub's client talks to it as its
endpoint, it forwards each request to the moto server and, where a rule says so, answers 500,
503 or SlowDown itself, resets the connection mid-request or mid-response, delays, hangs, or
drops the answer after the server applied the request.

Rules name a kind of request (`kind_of`: an asset PUT, the state CAS, the index.html PUT, a
DeleteObjects, a CopyObject, the record PUT...) and which occurrences of it they hit, counted
from when the rule was armed. `stale_copy_etags` imitates s3rver, whose CopyObject onto an
existing key keeps that key's old ETag: listings, HEADs, GETs and the copy's own answer then
report the ETag the key had before the copy, until a plain PUT replaces it.
"""

from __future__ import annotations

import contextlib
import http.client
import re
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

# What a rule can do to a request.
ERRORS = {
    "500": (500, "InternalError", "We encountered an internal error. Please try again."),
    "503": (503, "ServiceUnavailable", "Please reduce your request rate."),
    "slowdown": (503, "SlowDown", "Please reduce your request rate."),
}
FAULTS = (
    *ERRORS,
    "reset_request",  # read half the body, then RST: the server never sees the request
    "reset_response",  # forward, send the status line, headers and half the body, then RST
    "drop_after_apply",  # forward (the server applies it), then close without answering
    "delay",  # wait `seconds`, then forward
    "hang",  # accept the request and never answer (until `seconds` pass or the proxy closes)
)
_HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "expect",
    "content-length",
}
_STATE = "_assetpub/state.json"
_CONTENTS = re.compile(rb"<Contents>.*?</Contents>", re.DOTALL)
_KEY = re.compile(rb"<Key>(.*?)</Key>", re.DOTALL)
_ETAG = re.compile(rb"<ETag>.*?</ETag>", re.DOTALL)


def kind_of(method: str, path: str, headers: dict[str, str]) -> str:
    """What a request is, in the words rules use. Paths are path-style, /bucket/prefix/key,
    with a one-segment origin prefix (tests/backends.py uses site/)."""
    parts = urlsplit(path)
    query = parse_qs(parts.query, keep_blank_values=True)
    segments = unquote(parts.path).lstrip("/").split("/", 2)
    key = segments[2] if len(segments) == 3 else ""
    if method == "POST" and "delete" in query:
        return "delete"
    if method == "GET":
        return "list" if "list-type" in query or not key else "get"
    if method == "HEAD":
        return "head"
    if method != "PUT":
        return method.lower()
    if "x-amz-copy-source" in headers:
        return "copy"
    if "uploadId" in query:
        return "part"
    if key == _STATE:
        conditional = "if-match" in headers or "if-none-match" in headers
        return "state_cas" if conditional else "state_put"
    if key.startswith("_assetpub/releases/"):
        return "record_put"
    if key.startswith("_assetpub/blobs/"):
        return "asset_put"
    if key.startswith("_assetpub/"):
        return "history_put"  # probe, lock object
    if key == "index.html":
        return "index_put"
    if key == "asset-manifest.json":
        return "manifest_put"
    return "asset_put"


@dataclass
class Rule:
    kind: str
    fault: str
    nth: int = 1  # the first occurrence of `kind` it hits, counted from when it was armed
    times: int | None = 1  # occurrences in a row it hits; None: every one from the nth on
    seconds: float = 0.3  # for delay and hang
    seen: int = 0

    def __post_init__(self) -> None:
        assert self.fault in FAULTS, self.fault

    def hits(self) -> bool:
        self.seen += 1
        last = None if self.times is None else self.nth + self.times - 1
        return self.seen >= self.nth and (last is None or self.seen <= last)


@dataclass
class FaultProxy:
    upstream: str  # http://127.0.0.1:PORT of the S3 server
    rules: list[Rule] = field(default_factory=list)
    stale_copy_etags: bool = False
    log: list[tuple[str, str]] = field(default_factory=list)  # (kind, fault or "ok")
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _closing: threading.Event = field(default_factory=threading.Event)
    _sticky: dict[str, str] = field(default_factory=dict)  # path -> ETag s3rver would keep
    _server: ThreadingHTTPServer | None = None
    _local: threading.local = field(default_factory=threading.local)

    def start(self) -> FaultProxy:
        proxy = self

        class Handler(_Handler):
            owner = proxy

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._closing.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.rules.clear()
            self.log.clear()
            self._sticky.clear()
            self.stale_copy_etags = False

    def arm(self, *rules: Rule) -> None:
        with self._lock:
            self.rules.extend(rules)

    @contextmanager
    def faults(self, *rules: Rule) -> Iterator[FaultProxy]:
        """Rules armed for the block; the log starts again with them."""
        with self._lock:
            self.log.clear()
        self.arm(*rules)
        try:
            yield self
        finally:
            with self._lock:
                self.rules.clear()

    def applied(self, fault: str | None = None) -> list[str]:
        """The kinds of request a fault (this one, or any) was applied to."""
        with self._lock:
            return [k for k, f in self.log if f != "ok" and (fault is None or f == fault)]

    def _choose(self, kind: str) -> Rule | None:
        with self._lock:
            chosen = None
            for rule in self.rules:
                if rule.kind == kind and rule.hits() and chosen is None:
                    chosen = rule
            self.log.append((kind, chosen.fault if chosen else "ok"))
            return chosen

    def forward(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        old_etag = None
        if self.stale_copy_etags and "x-amz-copy-source" in headers:
            _, head_headers, _ = self._send("HEAD", path, headers_for_head(headers), b"")
            old_etag = dict((k.lower(), v) for k, v in head_headers).get("etag")
        status, answer_headers, payload = self._send(method, path, headers, body)
        if self.stale_copy_etags:
            answer_headers, payload = self._stale(
                method, path, headers, status, answer_headers, payload, old_etag
            )
        return status, answer_headers, payload

    def _send(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        sent = {k: v for k, v in headers.items() if k.lower() not in _HOP_BY_HOP}
        sent["Content-Length"] = str(len(body))
        # One kept-alive connection per proxy thread; a fresh one if the server closed it.
        for fresh in (False, True):
            connection = self._connection(fresh)
            try:
                connection.request(method, path, body=body, headers=sent)
                response = connection.getresponse()
                payload = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionError):
                if fresh:
                    raise
        kept = [(k, v) for k, v in response.getheaders() if k.lower() not in _HOP_BY_HOP]
        if method == "HEAD":
            kept.append(("Content-Length", response.getheader("Content-Length") or "0"))
        return response.status, kept, payload

    def _connection(self, fresh: bool) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None or fresh:
            if connection is not None:
                connection.close()
            upstream = urlsplit(self.upstream)
            connection = http.client.HTTPConnection(
                upstream.hostname or "127.0.0.1", upstream.port, timeout=30
            )
            self._local.connection = connection
        return connection

    def _stale(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        status: int,
        answer: list[tuple[str, str]],
        payload: bytes,
        old_etag: str | None,
    ) -> tuple[list[tuple[str, str]], bytes]:
        """s3rver's ETags: a copy onto an existing key keeps the key's old ETag."""
        bare = unquote(urlsplit(path).path)
        with self._lock:
            if method == "PUT" and status == 200:
                if "x-amz-copy-source" in headers and old_etag:
                    self._sticky[bare] = old_etag
                    payload = _ETAG.sub(b"<ETag>" + old_etag.encode() + b"</ETag>", payload)
                elif "x-amz-copy-source" not in headers:
                    self._sticky.pop(bare, None)
            if method in ("GET", "HEAD") and bare in self._sticky:
                answer = [(k, self._sticky[bare] if k.lower() == "etag" else v) for k, v in answer]
            if method == "GET" and b"<ListBucketResult" in payload[:300]:
                bucket = "/" + bare.strip("/").split("/")[0]
                payload = _CONTENTS.sub(lambda m: self._stale_entry(bucket, m.group(0)), payload)
        return answer, payload

    def _stale_entry(self, bucket: str, entry: bytes) -> bytes:
        key = _KEY.search(entry)
        sticky = self._sticky.get(f"{bucket}/{key.group(1).decode()}") if key else None
        if sticky is None:
            return entry
        return _ETAG.sub(b"<ETag>" + sticky.encode() + b"</ETag>", entry)


def headers_for_head(headers: dict[str, str]) -> dict[str, str]:
    """The client's headers minus the copy's own, for the proxy's HEAD of the destination
    (moto does not check signatures)."""
    return {k: v for k, v in headers.items() if not k.lower().startswith("x-amz-copy")}


def _error_body(code: str, message: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        "<RequestId>fault-proxy</RequestId></Error>"
    ).encode()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
    owner: FaultProxy

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._proxy()

    do_PUT = do_POST = do_DELETE = do_HEAD = do_GET

    def _proxy(self) -> None:
        proxy = self.owner
        headers = {k.lower(): v for k, v in self.headers.items()}
        assert "chunked" not in headers.get("transfer-encoding", ""), "chunked bodies unsupported"
        length = int(headers.get("content-length") or 0)
        rule = proxy._choose(kind_of(self.command, self.path, headers))
        fault = rule.fault if rule else None
        if fault == "reset_request":
            self.rfile.read(length // 2)
            self._reset()
            return
        body = self.rfile.read(length)
        if fault in ERRORS:
            status, code, message = ERRORS[fault]
            self._answer(status, [("Content-Type", "application/xml")], _error_body(code, message))
            return
        if fault == "hang":
            assert rule is not None
            proxy._closing.wait(rule.seconds)
            self._reset()
            return
        if fault == "delay":
            assert rule is not None
            time.sleep(rule.seconds)
        status, answer, payload = proxy.forward(self.command, self.path, dict(self.headers), body)
        if fault == "drop_after_apply":
            self._reset()
            return
        if fault == "reset_response":
            self.send_response(status)
            for name, value in answer:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload[: len(payload) // 2])
            self.wfile.flush()
            self._reset()
            return
        self._answer(status, answer, payload)

    def _answer(self, status: int, headers: list[tuple[str, str]], payload: bytes) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if self.command != "HEAD":
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _reset(self) -> None:
        """Close with a TCP RST (SO_LINGER 0), as a crashed server or a middlebox would."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass

    def finish(self) -> None:
        with contextlib.suppress(OSError, ValueError):  # the socket was reset on purpose
            super().finish()
