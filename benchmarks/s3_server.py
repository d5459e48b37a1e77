"""moto's S3 server in its own process, counting every request it answers, as the server sees it.

The server side (`python -m benchmarks.s3_server --port N`) is moto's WSGI app, as
`python -m moto.server` runs it (werkzeug, one thread per request), behind a small middleware
that classifies each request before moto reads it. `GET /_bench/stats` answers the totals so
far and the server's own CPU seconds; bucket names cannot start with "_", so no S3 request
collides with it. The client side (`counting_server`, `ServerStats`) starts that process,
waits for it, and takes snapshots whose differences are what one tool run cost the server.

Kinds: LIST (ListObjects/ListObjectsV2), GET, HEAD, PUT (PutObject and UploadPart), COPY
(CopyObject, UploadPartCopy), MULTIPART (create, complete, abort), DELETE (DeleteObject),
DELETE_BATCH (DeleteObjects), OTHER (bucket configuration and creation).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qs

STATS_PATH = "/_bench/stats"
REPO = Path(__file__).resolve().parent.parent
_LIST_PARAMETERS = frozenset(
    {
        "list-type",
        "prefix",
        "delimiter",
        "continuation-token",
        "start-after",
        "max-keys",
        "encoding-type",
        "marker",
        "fetch-owner",
    }
)

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def request_kind(method: str, has_key: bool, query: str, copy_source: bool) -> str:
    """What an S3 request is, from its method, whether it names a key, its query string and
    whether it carries x-amz-copy-source."""
    params = parse_qs(query, keep_blank_values=True).keys()
    if method == "GET" and has_key:
        return "GET"
    if method == "GET":
        return "LIST" if params <= _LIST_PARAMETERS else "OTHER"
    if method == "HEAD":
        return "HEAD"
    if method == "PUT" and has_key:
        return "COPY" if copy_source else "PUT"
    if method == "POST" and "delete" in params:
        return "DELETE_BATCH"
    if method == "POST" and ("uploads" in params or "uploadId" in params):
        return "MULTIPART"
    if method == "DELETE" and has_key:
        return "MULTIPART" if "uploadId" in params else "DELETE"
    return "OTHER"


def names_key(environ: dict[str, Any]) -> bool:
    """Whether the request addresses an object (path style `/bucket/key`, or virtual-host
    style `bucket.host/key`) rather than a bucket."""
    path = str(environ.get("PATH_INFO", "/")).lstrip("/")
    host = str(environ.get("HTTP_HOST", "")).rsplit(":", 1)[0]
    if _virtual_host(host):
        return path != ""
    bucket, _, key = path.partition("/")
    return bool(bucket) and key != ""


def _virtual_host(host: str) -> bool:
    if host in ("", "localhost"):
        return False
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return "." in host
    return False


class CountingMiddleware:
    """Counts requests by kind, by method and by status, and the bytes they carried."""

    def __init__(self, app: WsgiApp) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.kinds: Counter[str] = Counter()
        self.methods: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        self.bytes_in = 0

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == STATS_PATH:
            return self._stats(start_response)
        method = environ["REQUEST_METHOD"]
        kind = request_kind(
            method,
            names_key(environ),
            environ.get("QUERY_STRING", ""),
            "HTTP_X_AMZ_COPY_SOURCE" in environ,
        )
        size = environ.get("HTTP_X_AMZ_DECODED_CONTENT_LENGTH") or environ.get("CONTENT_LENGTH")
        with self.lock:
            self.kinds[kind] += 1
            self.methods[method] += 1
            self.bytes_in += int(size or 0)

        def counting_start(status: str, headers: Any, *rest: Any) -> Any:
            with self.lock:
                self.statuses[status.split(" ", 1)[0]] += 1
            return start_response(status, headers, *rest)

        return self.app(environ, counting_start)

    def _stats(self, start_response: StartResponse) -> list[bytes]:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        with self.lock:
            body = {
                "kinds": dict(self.kinds),
                "methods": dict(self.methods),
                "statuses": dict(self.statuses),
                "bytes_in": self.bytes_in,
                "cpu": usage.ru_utime + usage.ru_stime,
            }
        data = json.dumps(body).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [data]


def serve(port: int) -> None:
    """Run moto's S3 app behind the counter on 127.0.0.1:port until killed."""
    import logging

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import run_simple

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log to format
    app = CountingMiddleware(DomainDispatcherApplication(create_backend_app))
    run_simple("127.0.0.1", port, app, threaded=True)


@dataclass(frozen=True)
class ServerStats:
    """One snapshot of the server's counters, or (after `-`) what happened between two."""

    kinds: Counter[str] = field(default_factory=Counter)
    methods: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    bytes_in: int = 0
    cpu: float = 0.0

    @property
    def requests(self) -> int:
        return sum(self.kinds.values())

    def __sub__(self, before: ServerStats) -> ServerStats:
        return ServerStats(
            self.kinds - before.kinds,
            self.methods - before.methods,
            self.statuses - before.statuses,
            self.bytes_in - before.bytes_in,
            self.cpu - before.cpu,
        )


@dataclass(frozen=True)
class CountingServer:
    """The client's handle on a running server."""

    endpoint: str

    def stats(self) -> ServerStats:
        with urllib.request.urlopen(self.endpoint + STATS_PATH, timeout=10) as response:
            body = json.load(response)
        return ServerStats(
            Counter(body["kinds"]),
            Counter(body["methods"]),
            Counter(body["statuses"]),
            int(body["bytes_in"]),
            float(body["cpu"]),
        )


@contextmanager
def counting_server(port: int) -> Iterator[CountingServer]:
    """Start the server in its own process on 127.0.0.1:port; stop it on exit."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), _pythonpath()])))
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.s3_server", "--port", str(port)],
            cwd=REPO,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        server = CountingServer(f"http://127.0.0.1:{port}")
        try:
            _wait_until_up(server, proc, log)
            yield server
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def _pythonpath() -> str:
    return os.environ.get("PYTHONPATH", "")


def _wait_until_up(server: CountingServer, proc: subprocess.Popen[bytes], log: IO[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            server.stats()
            return
        except (urllib.error.URLError, ConnectionError):
            if proc.poll() is not None:
                log.seek(0)
                tail = log.read().decode(errors="replace")[-2000:]
                raise RuntimeError(
                    f"the S3 server exited with {proc.returncode}:\n{tail}"
                ) from None
            if time.monotonic() > deadline:
                raise RuntimeError("the S3 server did not start in 60 s") from None
            time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True)
    serve(parser.parse_args().port)


if __name__ == "__main__":
    main()
