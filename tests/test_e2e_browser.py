"""End to end: a real webpack build of sample_site, published by the real CLI to a real S3 server
(moto over HTTP), served at a site root like a CDN with an origin path, loaded in headless
Chromium. The page checks itself (scripts, styles, font, images, lazy chunk) and writes a report.

Skipped without Node.js/npm or Chromium, unless ASSETPUB_REQUIRE_E2E=1 (CI), where that fails.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from e2e_support import (
    PAGE_CHECKS,
    REPO_ROOT,
    SAMPLE_SITE,
    Tools,
    WebpackBuild,
    dump_dom,
    read_report,
    serve_s3_prefix,
    snapshot,
)
from fixture_types import MakeBucket, S3Client

pytestmark = pytest.mark.e2e

# assetpub's hashed names: the first 12 hex digits of the SHA-256 (assetpub/hashing.py).
ASSETPUB_HASH = r"[0-9a-f]{12}"
# webpack's [contenthash]: left as webpack named it, because its runtime computes chunk URLs.
WEBPACK_HASH = r"[0-9a-f]{20}"


def publish(
    build: Path, origin: str, endpoint: str, cwd: Path, compress: bool = False
) -> dict[str, Any]:
    if compress:  # the config file is read from the current folder
        (cwd / "assetpub.toml").write_text('compress = ["gzip"]\n')
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    args = [sys.executable, "-m", "assetpub", "publish", str(build)]
    args += ["--origin", origin, "--endpoint-url", endpoint, "--json"]
    result = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, (
        f"assetpub publish exited {result.returncode}\n"
        f"--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}"
    )
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary


def test_committed_dist_matches_a_fresh_build(webpack_build: WebpackBuild) -> None:
    # The quickstart publishes the committed dist without Node; it must be what the sources build.
    assert snapshot(SAMPLE_SITE / "dist") == webpack_build.files, (
        "sample_site/dist is stale: rebuild it with `npx webpack --mode production` in sample_site"
    )


def test_published_site_loads_in_a_browser(
    webpack_build: WebpackBuild,
    e2e_tools: Tools,
    s3_endpoint: str,
    s3_client: S3Client,
    make_bucket: MakeBucket,
    tmp_path: Path,
) -> None:
    bucket = make_bucket()
    summary = publish(webpack_build.path, f"s3://{bucket}/site", s3_endpoint, cwd=tmp_path)
    assert {"release", "origins", "uploaded", "skipped"} <= summary.keys(), summary
    assert snapshot(webpack_build.path) == webpack_build.files, "publish changed the build folder"

    with serve_s3_prefix(s3_client, bucket, "site") as cdn:
        dom = dump_dom(e2e_tools.chromium, f"{cdn.url}/", tmp_path / "chromium-profile")
        with urllib.request.urlopen(f"{cdn.url}/", timeout=10) as response:
            index_html = response.read().decode("utf-8")

    report = read_report(dom)
    requests = [(entry.path, entry.status) for entry in cdn.log]
    assert report == dict.fromkeys(PAGE_CHECKS, True), f"page report {report}; requests {requests}"
    assert 'data-status="ok"' in dom

    assert [entry.path for entry in cdn.log if entry.status == 404] == [], requests
    expected_fetches = {
        "index.html": r"/",
        "webpack JS": rf"/main\.{WEBPACK_HASH}\.js",
        "webpack CSS": rf"/main\.{WEBPACK_HASH}\.css",
        "lazy chunk": rf"/lazy\.{WEBPACK_HASH}\.js",
        "lazy chunk CSS": rf"/lazy\.{WEBPACK_HASH}\.css",
        "theme.css": rf"/static/theme\.{ASSETPUB_HASH}\.css",
        "font": rf"/fonts/sample-sans\.{ASSETPUB_HASH}\.woff2",
        "logo image": rf"/img/logo\.{ASSETPUB_HASH}\.png",
        "background image": rf"/img/pattern\.{ASSETPUB_HASH}\.png",
    }
    for what, pattern in expected_fetches.items():
        fetched = cdn.fetched(pattern)
        assert fetched and all(entry.status == 200 for entry in fetched), (
            f"{what} ({pattern}) was not fetched with 200; requests {requests}"
        )

    # assetpub rewrote the references to public/ files, which webpack left unhashed.
    for pattern in (rf"static/theme\.{ASSETPUB_HASH}\.css", rf"img/logo\.{ASSETPUB_HASH}\.png"):
        assert re.search(rf"(?:src|href)=\"?{pattern}[\"\s>]", index_html), (
            f"index.html does not reference {pattern}: {index_html}"
        )

    for entry in cdn.log:
        cache_control = entry.headers.get("Cache-Control", "")
        if entry.path.endswith((".js", ".css")):
            assert "immutable" in cache_control, (entry.path, entry.headers)
        if entry.path == "/":
            assert "no-cache" in cache_control, (entry.path, entry.headers)
            assert entry.headers["Content-Type"].startswith("text/html"), entry.headers


def test_a_gzip_compressed_publish_loads_in_a_browser(
    webpack_build: WebpackBuild,
    e2e_tools: Tools,
    s3_endpoint: str,
    s3_client: S3Client,
    make_bucket: MakeBucket,
    tmp_path: Path,
) -> None:
    """compress = ["gzip"]: every text object is stored gzipped with Content-Encoding, served
    as stored (as CloudFront passes it through), and the page runs all its checks."""
    bucket = make_bucket()
    publish(webpack_build.path, f"s3://{bucket}/site", s3_endpoint, cwd=tmp_path, compress=True)
    with serve_s3_prefix(s3_client, bucket, "site") as cdn:
        dom = dump_dom(e2e_tools.chromium, f"{cdn.url}/", tmp_path / "chromium-profile")
    report = read_report(dom)
    requests = [(entry.path, entry.status, entry.headers) for entry in cdn.log]
    assert report == dict.fromkeys(PAGE_CHECKS, True), f"page report {report}; requests {requests}"
    encoded = {
        entry.path: entry.headers.get("Content-Encoding")
        for entry in cdn.log
        if entry.status == 200
    }
    assert encoded["/"] == "gzip", requests
    for pattern in (rf"/main\.{WEBPACK_HASH}\.js", rf"/main\.{WEBPACK_HASH}\.css"):
        fetched = cdn.fetched(pattern)
        assert fetched and all(e.headers.get("Content-Encoding") == "gzip" for e in fetched)
    # Already-compressed types are stored as they are.
    fonts = cdn.fetched(rf"/fonts/sample-sans\.{ASSETPUB_HASH}\.woff2")
    assert fonts and all("Content-Encoding" not in e.headers for e in fonts)
