"""Helpers for the end-to-end browser tests: the external tools, real webpack builds of
sample_site, a CDN-like HTTP server in front of an S3 prefix, and headless Chromium (the
fixtures that use them, `webpack_build`, `browser` and the rest, are in conftest.py).

Everything stays on loopback except `npm ci`, which only runs when sample_site/node_modules is
missing or out of date (CI installs it once before the tests).
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import unquote, urlsplit

import pytest
from fixture_types import S3Client

REPO_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_SITE = REPO_ROOT / "sample_site"
REQUIRE_E2E_ENV = "ASSETPUB_REQUIRE_E2E"
CHROMIUM_ENV = "ASSETPUB_CHROMIUM"
# Read by sample_site/webpack.config.js: the release label its sources carry (default A).
RELEASE_ENV = "SAMPLE_SITE_RELEASE"

# What sample_site's src/index.js reports in <pre id="report"> once loaded; each must be true.
PAGE_CHECKS = frozenset(
    {"js", "css", "cssImage", "themeCss", "font", "image", "bgImage", "lazy", "lazyCss"}
)

# What sample_site leaves out of a copy: installed packages and build output.
_NOT_COPIED = frozenset({"node_modules", "dist", "assetpub-origin"})

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",  # we run as root in CI
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium tries to reach Google's services; the network here is loopback only.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def unavailable(reason: str) -> NoReturn:
    """Skip for a missing tool, or fail when CI demands that e2e tests really run."""
    if os.environ.get(REQUIRE_E2E_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_E2E_ENV}=1, so this is a failure, not a skip)")
    pytest.skip(reason)


@dataclass(frozen=True)
class Tools:
    node: str
    npm: str
    npx: str
    chromium: str


def find_chromium() -> str | None:
    configured = os.environ.get(CHROMIUM_ENV)
    if configured:
        return shutil.which(configured)
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


def require_tools() -> Tools:
    node, npm, npx = shutil.which("node"), shutil.which("npm"), shutil.which("npx")
    if not (node and npm and npx):
        unavailable("Node.js and npm are needed to build sample_site with webpack (not on PATH)")
    chromium = find_chromium()
    if not chromium:
        where = (
            f"{CHROMIUM_ENV}={os.environ[CHROMIUM_ENV]} is not an executable"
            if os.environ.get(CHROMIUM_ENV)
            else f"not on PATH; `apt-get install chromium` or set {CHROMIUM_ENV}"
        )
        unavailable(f"Chromium is needed to load the published site ({where})")
    return Tools(node=node, npm=npm, npx=npx, chromium=chromium)


def run(
    args: list[str], cwd: Path, timeout: float, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NPM_CONFIG_UPDATE_NOTIFIER": "false", "NO_COLOR": "1", **(env or {})}
    result = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        pytest.fail(
            f"{' '.join(args)} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}"
        )
    return result


def is_node_modules_current(site: Path) -> bool:
    """Whether site/node_modules holds exactly what package-lock.json pins.

    npm records what it installed in node_modules/.package-lock.json; `npm ci` would install the
    same tree when that matches the lockfile and the lockfile matches package.json.
    """
    try:
        lock = json.loads((site / "package-lock.json").read_text(encoding="utf-8"))
        installed = json.loads(
            (site / "node_modules" / ".package-lock.json").read_text(encoding="utf-8")
        )
        manifest = json.loads((site / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    wanted = dict(lock.get("packages", {}))
    root = wanted.pop("", {})
    return bool(
        root.get("devDependencies") == manifest.get("devDependencies")
        and root.get("dependencies") == manifest.get("dependencies")
        and installed.get("packages") == wanted
    )


def _link_or_copy(src: str, dst: str) -> None:
    # Hard links make reusing a 50 MB node_modules nearly free; nothing writes into it.
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def copy_sample_site(dest: Path) -> None:
    def ignore(folder: str, names: list[str]) -> set[str]:
        return set(names) & _NOT_COPIED if Path(folder) == SAMPLE_SITE else set()

    shutil.copytree(SAMPLE_SITE, dest, ignore=ignore)


def install_node_modules(site: Path, tools: Tools) -> str:
    """Give the copy at `site` its node_modules; returns how ("reused" or "npm ci").

    A real copy, not a symlink: webpack hashes loader paths relative to the project, so a
    node_modules elsewhere would change the bundle's content hashes.
    """
    if is_node_modules_current(SAMPLE_SITE):
        shutil.copytree(
            SAMPLE_SITE / "node_modules",
            site / "node_modules",
            symlinks=True,
            copy_function=_link_or_copy,
        )
        return "reused"
    run([tools.npm, "ci", "--no-audit", "--no-fund"], cwd=site, timeout=600)
    return "npm ci"


@dataclass(frozen=True)
class WebpackBuild:
    path: Path
    files: dict[str, str]  # snapshot taken right after webpack finished
    release: str  # the label its sources carry (RELEASE_ENV)
    seconds: float


def build_with_webpack(site: Path, output: Path, tools: Tools, release: str = "A") -> WebpackBuild:
    """Build `site` into `output`, its sources carrying `release` (sample_site's
    release-loader.js): release A is what the committed dist/ holds; any other label changes the
    entry JS, the CSS and every lazy chunk, and so their content hashes."""
    started = time.monotonic()
    run(
        [tools.npx, "--no", "--", "webpack", "--mode", "production", "--output-path", str(output)],
        cwd=site,
        timeout=300,
        env={RELEASE_ENV: release},
    )
    return WebpackBuild(output, snapshot(output), release, time.monotonic() - started)


def cli(*args: str) -> tuple[int, str, str]:
    """assetpub's command line run in this process, as a shell would run it: (exit code,
    stdout, stderr)."""
    from click.testing import CliRunner

    from assetpub.cli.app import main

    with CliRunner().isolation() as (out, err, *_):
        code = main(list(args))
    return code, out.getvalue().decode(), err.getvalue().decode()


def snapshot(folder: Path) -> dict[str, str]:
    """{relative posix path: sha256} of every file under folder."""
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@dataclass
class Served:
    path: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    key: str | None = None  # the object served, relative to the prefix


@dataclass
class CdnServer:
    """A loopback "CDN" whose origin is one prefix of an S3 bucket."""

    url: str
    log: list[Served]

    def fetched(self, pattern: str) -> list[Served]:
        return [entry for entry in self.log if re.fullmatch(pattern, entry.path)]


def pretty_url_keys(path: str) -> list[str]:
    """The keys a static host tries for a request path, in order, as Netlify, Cloudflare Pages
    or a CloudFront function do: /x/ -> x/index.html; /x -> x, x.html, x/index.html."""
    relative = unquote(path).lstrip("/")
    if relative == "" or relative.endswith("/"):
        return [relative + "index.html"]
    return [relative, relative + ".html", relative + "/index.html"]


@contextmanager
def serve_s3_prefix(s3_client: S3Client, bucket: str, prefix: str) -> Iterator[CdnServer]:
    """Serve GET /x from s3://bucket/prefix/x with pretty URLs (see pretty_url_keys) and the
    site's 404.html for a miss, as a CDN with an origin path would, passing the object's
    Content-Type and Cache-Control through. Query strings (Next.js's ?_rsc=) are not part of
    the key. Nothing is cached here on purpose: every request reaches the origin, so an
    object that a publish, rollback or GC lost shows up as a 404 instead of being hidden."""
    log: list[Served] = []
    lock = threading.Lock()

    def get(key: str) -> Any:
        try:
            return s3_client.get_object(Bucket=bucket, Key=f"{prefix}/{key}")
        except s3_client.exceptions.NoSuchKey:
            return None

    class Handler(BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:  # noqa: N802 (Next.js's prefetch asks HEAD first)
            self.do_GET()

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            path = urlsplit(self.path).path
            for key in pretty_url_keys(path):
                obj = get(key)
                if obj is not None:
                    self._answer(path, 200, _object_headers(obj), obj["Body"].read(), key)
                    return
            page = get("404.html")
            body = page["Body"].read() if page else b"not found\n"
            self._answer(path, 404, {"Content-Type": "text/html"}, body, None)

        def _answer(
            self, path: str, status: int, headers: dict[str, str], body: bytes, key: str | None
        ) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                if self.command != "HEAD":
                    self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the browser closed the tab
                pass
            with lock:
                log.append(Served(path, status, headers, key))

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="s3-cdn", daemon=True)
    thread.start()
    try:
        yield CdnServer(url=f"http://127.0.0.1:{server.server_address[1]}", log=log)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


class BrowserTab:
    """One visitor's tab on the CDN: a browser context of its own, so its own HTTP cache (what
    it fetched stays cached as the served Cache-Control says; the rest comes from the origin as
    it is when asked), one page, and the errors the page raised or logged."""

    def __init__(self, browser: Any, cdn: CdnServer) -> None:
        self.cdn = cdn
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on(
            "console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None
        )

    def close(self) -> None:
        self.context.close()


def _object_headers(obj: Any) -> dict[str, str]:
    headers = {"Content-Type": obj.get("ContentType", "application/octet-stream")}
    for name, key in (
        ("Cache-Control", "CacheControl"),
        ("ETag", "ETag"),
        ("Content-Encoding", "ContentEncoding"),
    ):
        if obj.get(key):
            headers[name] = obj[key]
    if "Content-Encoding" in headers:  # what CloudFront adds for an encoded object
        headers["Vary"] = "Accept-Encoding"
    return headers


def dump_dom(chromium: str, url: str, profile: Path, budget_ms: int = 10_000) -> str:
    """Load url in headless Chromium and return the DOM once the page's virtual time is spent."""
    args = [
        chromium,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={profile}",
        f"--virtual-time-budget={budget_ms}",
        "--dump-dom",
        url,
    ]
    # Its own process group, so a hung browser is ended with all its helper processes.
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        stdout, stderr = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        pytest.fail(f"Chromium did not finish loading {url} in 60 s\n{stderr[-4000:]}")
    if proc.returncode != 0 or "<html" not in stdout:
        pytest.fail(f"Chromium exited {proc.returncode} on {url}\n{stderr[-4000:]}")
    return stdout


def read_report(dom: str) -> dict[str, Any]:
    """The JSON that sample_site's checks write into <pre id="report">."""
    match = re.search(r'<pre id="report">(.*?)</pre>', dom, re.DOTALL)
    if not match:
        pytest.fail(f"no #report in the page:\n{dom[:4000]}")
    report: dict[str, Any] = json.loads(html.unescape(match.group(1)))
    return report
