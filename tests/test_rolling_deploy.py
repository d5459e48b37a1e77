"""The rolling deploy assetpub exists for, in a real browser (docs/rolling-deploys.md is the
walkthrough; this file is its script).

Two webpack builds of sample_site, release A and release B (new entry JS, CSS and lazy chunks),
go to one prefix of a moto S3 server, served at a site root by a CDN-like loopback server that
passes the objects' Cache-Control through. Playwright keeps tabs open in headless Chromium across
the deploys, each tab a visitor with its own HTTP cache, and has them load chunks on demand
(`window.sampleSite.loadLazy`), as a visitor opening a part of the app later would.

With assetpub the tab opened on A keeps working through the publish of B, a rollback and GC;
with `aws s3 sync --delete` (the usual recipe, same cache headers) the
same tab breaks at step 3, as does a B tab at the sync "rollback".
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from e2e_support import (
    PAGE_CHECKS,
    BrowserTab,
    CdnServer,
    WebpackBuild,
    cli,
    run,
    serve_s3_prefix,
    unavailable,
)
from fixture_types import MakeBucket, S3Client

pytestmark = pytest.mark.e2e

PREFIX = "site"
IMMUTABLE = "public, max-age=31536000, immutable"
WEBPACK_HASH = r"[0-9a-f]{20}"
# webpack's runtime (JS) or mini-css-extract-plugin's (CSS), whichever fails first.
CHUNK_LOAD_FAILED = re.compile(r"(ChunkLoadError: )?Loading (CSS )?chunk \w+ failed")


def on_release(label: str) -> dict[str, str]:
    """What window.sampleSite.release() says on a page of that release: its entry JS, its CSS,
    its lazy chunk and that chunk's CSS."""
    return dict.fromkeys(("js", "css", "lazy", "lazyCss"), label)


def chunk_paths(build: WebpackBuild, chunk: str) -> list[str]:
    """The JS and CSS webpack emitted for one chunk: ["panel.<hash>.css", "panel.<hash>.js"]."""
    found = sorted(p for p in build.files if re.fullmatch(rf"{chunk}\.{WEBPACK_HASH}\.(js|css)", p))
    assert len(found) == 2, f"{chunk}: {found}"
    return found


class Tab(BrowserTab):
    """A tab on sample_site, driven through the page's window.sampleSite."""

    def open(self, release: str) -> bytes:
        """Load the site root; it must render whole and be `release`. Returns index.html."""
        response = self.page.goto(self.cdn.url + "/", wait_until="load")
        assert response is not None and response.status == 200
        self.page.wait_for_function("document.body.dataset.status !== 'loading'", timeout=20_000)
        report = json.loads(self.page.text_content("#report") or "{}")
        assert report == dict.fromkeys(PAGE_CHECKS, True), f"{report}; errors {self.errors}"
        assert self.release() == on_release(release)
        body: bytes = response.body()
        return body

    def release(self) -> dict[str, str]:
        result: dict[str, str] = self.page.evaluate("window.sampleSite.release()")
        return result

    def load_lazy(self, chunk: str) -> dict[str, str]:
        """Load an on-demand chunk now: {"js": release, "css": release} of what it got, or
        {"error": webpack's ChunkLoadError}."""
        result: dict[str, str] = self.page.evaluate("c => window.sampleSite.loadLazy(c)", chunk)
        return result


@pytest.fixture
def tabs(browser: Any) -> Iterator[list[Tab]]:
    """Tabs to open; whatever a test leaves open is closed after it."""
    opened: list[Tab] = []
    yield opened
    for tab in opened:
        tab.close()


def served(cdn: CdnServer, since: int, paths: list[str], timeout: float = 5.0) -> dict[str, int]:
    """{path: HTTP status} the CDN answered for these site paths since log entry `since`. The
    page may see a response before the server has logged it, so this waits for every path."""
    wanted = {"/" + p for p in paths}
    deadline = time.monotonic() + timeout
    while True:
        answered = {e.path: e.status for e in cdn.log[since:] if e.path in wanted}
        if answered.keys() == wanted or time.monotonic() > deadline:
            return {path.lstrip("/"): status for path, status in answered.items()}
        time.sleep(0.05)


def cache_control(cdn: CdnServer, pattern: str) -> set[str]:
    return {e.headers.get("Cache-Control", "") for e in cdn.fetched(pattern) if e.status == 200}


def bucket_paths(s3_client: S3Client, bucket: str) -> set[str]:
    """Every key under the prefix, relative to it."""
    pages = s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=PREFIX + "/")
    return {obj["Key"][len(PREFIX) + 1 :] for page in pages for obj in page.get("Contents", [])}


def assetpub(*args: str) -> dict[str, Any]:
    code, out, err = cli(*args, "--json")
    assert code == 0, f"assetpub {' '.join(args)} exited {code}: {err}{out}"
    result: dict[str, Any] = json.loads(out)
    return result


def test_assetpub_keeps_open_tabs_working_across_publish_rollback_and_gc(
    webpack_build: WebpackBuild,
    webpack_build_b: WebpackBuild,
    browser: Any,
    tabs: list[Tab],
    s3_endpoint: str,
    s3_client: S3Client,
    make_bucket: MakeBucket,
) -> None:
    a, b = webpack_build, webpack_build_b
    bucket = make_bucket()
    origin = ("--origin", f"s3://{bucket}/{PREFIX}", "--endpoint-url", s3_endpoint)

    def tab() -> Tab:
        tabs.append(Tab(browser, cdn))
        return tabs[-1]

    def gc() -> dict[str, Any]:
        origins: list[dict[str, Any]] = assetpub("gc", "--keep", "1", "--grace", "0", *origin)[
            "origins"
        ]
        return origins[0]

    with serve_s3_prefix(s3_client, bucket, PREFIX) as cdn:
        # 1. Release A is live; a visitor opens it and the page renders whole.
        first_a = assetpub("publish", str(a.path), *origin)["release"]
        a_tab = tab()
        index_a = a_tab.open("A")

        # 2. Release B is published while that tab stays open.
        release_b = assetpub("publish", str(b.path), *origin)["release"]
        assert set(a.files) - set(b.files) <= bucket_paths(s3_client, bucket)

        # 3. The A tab opens its panel now: A's chunk and CSS, still on the origin, not B's.
        mark = len(cdn.log)
        assert a_tab.load_lazy("panel") == {"js": "A", "css": "A"}
        a_panel = chunk_paths(a, "panel")
        assert served(cdn, mark, a_panel) == dict.fromkeys(a_panel, 200)
        b_tab = tab()
        b_tab.open("B")  # a new visitor gets B

        # 4. Rollback: a new visitor gets A again, index.html byte for byte; the B tab still
        # finds B's chunks.
        assetpub("rollback", *origin)
        assert tab().open("A") == index_a
        mark = len(cdn.log)
        assert b_tab.load_lazy("panel") == {"js": "B", "css": "B"}
        b_panel = chunk_paths(b, "panel")
        assert served(cdn, mark, b_panel) == dict.fromkeys(b_panel, 200)
        assert b_tab.errors == []

        # 5. GC, keep 1 and no grace: A (live) is the release kept, B is collected with what
        # only B needed.
        # B's own files: the JS and CSS of its entry and of each chunk, and their maps.
        b_only = set(b.files) - set(a.files)
        b_code = {p for c in ("main", "lazy", "panel", "dialog") for p in chunk_paths(b, c)}
        assert b_code <= b_only <= bucket_paths(s3_client, bucket)
        collected = gc()
        assert collected["collected_releases"] == [release_b], collected
        left = bucket_paths(s3_client, bucket)
        assert b_only & left == set(), f"GC left B's own files: {sorted(b_only & left)}"
        assert f"_assetpub/releases/{release_b}.json" not in left

        # The A tab, open since step 1, still fetches what it had not needed yet.
        mark = len(cdn.log)
        assert a_tab.load_lazy("dialog") == {"js": "A", "css": "A"}
        a_dialog = chunk_paths(a, "dialog")
        assert served(cdn, mark, a_dialog) == dict.fromkeys(a_dialog, 200)
        assert a_tab.errors == []
        verify = assetpub("verify", *origin)
        assert verify["healthy"] is True and verify["origins"][0]["live"] == first_a, verify

    # The headers the browsers cached by: hashed files forever, index.html revalidated.
    assert cache_control(cdn, rf"/main\.{WEBPACK_HASH}\.js") == {IMMUTABLE}
    assert cache_control(cdn, rf"/panel\.{WEBPACK_HASH}\.(js|css)") == {IMMUTABLE}
    assert cache_control(cdn, "/") == {"no-cache"}


@pytest.fixture(scope="session")
def aws() -> tuple[str, ...]:
    """The aws command: on PATH or in benchmarks/.aws-venv (awscli pins its own botocore, so
    it lives apart from boto3's). Never installed here, the tests stay off the network:
    .ci/run installs it before them with `python -m benchmarks.compare_sync --install-aws`."""
    from benchmarks.compare_sync import installed_aws

    found = installed_aws()
    if found is None:
        unavailable(
            "awscli is needed to compare with `aws s3 sync`; install it into "
            "benchmarks/.aws-venv with `python -m benchmarks.compare_sync --install-aws`"
        )
    return found


def aws_sync(aws: tuple[str, ...], build: Path, url: str, endpoint: str, cwd: Path) -> None:
    """The usual `aws s3 sync` deploy, as fair as it gets: everything but index.html, with the
    same long-lived Cache-Control assetpub gives hashed files and --delete so the prefix does
    not grow forever; then index.html, no-cache, last."""
    common = ["--endpoint-url", endpoint, "--only-show-errors"]
    sync = ["s3", "sync", str(build), url, "--delete", "--exclude", "index.html"]
    run([*aws, *sync, "--cache-control", IMMUTABLE, *common], cwd=cwd, timeout=120)
    index = ["s3", "cp", str(build / "index.html"), f"{url}/index.html"]
    run([*aws, *index, "--cache-control", "no-cache", *common], cwd=cwd, timeout=120)


def test_aws_s3_sync_delete_breaks_the_open_tab(
    aws: tuple[str, ...],  # first: without aws, skip before building anything
    webpack_build: WebpackBuild,
    webpack_build_b: WebpackBuild,
    browser: Any,
    tabs: list[Tab],
    s3_endpoint: str,
    s3_client: S3Client,
    make_bucket: MakeBucket,
    tmp_path: Path,
) -> None:
    a, b = webpack_build, webpack_build_b
    bucket = make_bucket()

    def deploy(build: WebpackBuild) -> None:
        aws_sync(aws, build.path, f"s3://{bucket}/{PREFIX}", s3_endpoint, tmp_path)

    def tab() -> Tab:
        tabs.append(Tab(browser, cdn))
        return tabs[-1]

    with serve_s3_prefix(s3_client, bucket, PREFIX) as cdn:
        # 1. Release A synced; a visitor opens it and the page renders whole.
        deploy(a)
        a_tab = tab()
        a_tab.open("A")

        # 2. Release B synced while that tab stays open: --delete removes A's chunks.
        deploy(b)
        a_only = set(a.files) - set(b.files)
        a_code = {p for c in ("main", "lazy", "panel", "dialog") for p in chunk_paths(a, c)}
        assert a_code <= a_only and a_only & bucket_paths(s3_client, bucket) == set()
        a_panel = chunk_paths(a, "panel")

        # 3. Where it breaks: the A tab's runtime asks for A's panel chunk and CSS, by the
        # names it was built with, and the origin no longer has them.
        mark = len(cdn.log)
        result = a_tab.load_lazy("panel")
        assert CHUNK_LOAD_FAILED.match(result.get("error", "")), result
        assert any(p in result["error"] for p in a_panel), result
        assert served(cdn, mark, a_panel) == dict.fromkeys(a_panel, 404)
        assert a_tab.errors, "the broken chunk load left no console error"
        b_tab = tab()
        b_tab.open("B")  # a new visitor gets B: sync is fine for fresh page loads

        # 4. A "rollback" with sync is syncing A again, and --delete takes B's chunks from
        # the B tab.
        deploy(a)
        tab().open("A")
        mark = len(cdn.log)
        result = b_tab.load_lazy("panel")
        b_panel = chunk_paths(b, "panel")
        assert CHUNK_LOAD_FAILED.match(result.get("error", "")), result
        assert any(p in result["error"] for p in b_panel), result
        assert served(cdn, mark, b_panel) == dict.fromkeys(b_panel, 404)

    # The comparison is fair on caching: the same headers as assetpub's.
    assert cache_control(cdn, rf"/main\.{WEBPACK_HASH}\.js") == {IMMUTABLE}
    assert cache_control(cdn, "/") == {"no-cache"}
