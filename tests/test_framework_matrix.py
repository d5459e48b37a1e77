"""Real framework builds, published to moto over HTTP and driven in headless Chromium.

Each build under frameworks/ was made by its framework's own starter (see its README) and
follows one page contract: `#app-version` reads v1/v2, `html[data-hydrated]` is set by client
code once the runtime has hydrated, `#load-lazy` loads a lazily loaded chunk that renders
`#lazy-result`, and `#nav-link` navigates client-side to a page with `#about-page`.

For each build: publish v1 and check the site works (zero 404s, hydrated, a client-side
navigation without a page load, the lazy chunk, the headers); keep a tab open on v1; publish
v2 and have that tab load its lazy code; roll back and gc --keep 1 --grace 0 and have a v1 tab
load everything again, feeds and public files keeping their URLs all along.

Playwright drives Debian's chromium through `executable_path`: `playwright install` (which
downloads browsers) is never needed.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from typing import Any

import pytest
from e2e_support import REPO_ROOT, BrowserTab, CdnServer, cli, serve_s3_prefix
from fixture_types import MakeBucket, S3Client

pytestmark = pytest.mark.e2e
PREFIX = "site"
FRAMEWORKS = REPO_ROOT / "frameworks"
IMMUTABLE = "public, max-age=31536000, immutable"
# What each extension must be served as (independent of assetpub's own table).
CONTENT_TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".txt": "text/plain",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".ico": "image/",  # image/x-icon or image/vnd.microsoft.icon
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".xml": "xml",  # application/xml, text/xml, application/rss+xml
}


@dataclass(frozen=True)
class FrameworkBuild:
    id: str
    folder: str
    variant: str  # prefix of the build folder names ("turbopack-" + "v1")
    detected: str
    # Paths (regex on the served key) the framework content-hashes: must be served immutable.
    hashed: str
    feeds: tuple[str, ...] = ()
    public_files: tuple[str, ...] = ()  # must keep their URLs

    def build(self, version: int) -> str:
        return str(FRAMEWORKS / self.folder / "builds" / f"{self.variant}v{version}")


MATRIX = [
    FrameworkBuild(
        "vite-react", "vite-react", "", "Vite", r"assets/.+", public_files=("icons.svg",)
    ),
    FrameworkBuild(
        "nextjs-turbopack",
        "nextjs",
        "turbopack-",
        "Next.js static export (Turbopack)",
        r"_next/static/.+",
        public_files=("next.svg", "vercel.svg"),
    ),
    FrameworkBuild(
        "nextjs-webpack",
        "nextjs",
        "webpack-",
        "Next.js static export (webpack)",
        r"_next/static/.+",
        public_files=("next.svg", "vercel.svg"),
    ),
    FrameworkBuild(
        "docusaurus",
        "docusaurus",
        "",
        "Docusaurus",
        r"assets/.+",
        feeds=("blog/rss.xml", "blog/atom.xml"),
        public_files=("img/logo.svg",),
    ),
    FrameworkBuild(
        "angular",
        "angular",
        "",
        "Angular",
        r"(main|polyfills|chunk|styles)-[A-Z0-9]{8}\.(js|css)|media/.+",
    ),
    FrameworkBuild("sveltekit", "sveltekit", "", "SvelteKit", r"_app/immutable/.+"),
]


class Tab(BrowserTab):
    """One browser tab on the CDN (the page contract above), with the console errors it saw."""

    def __init__(self, browser: Any, cdn: CdnServer, old_pages: dict[str, bytes] | None = None):
        super().__init__(browser, cdn)
        if old_pages:
            # A tab that has had these pages open since they were live: the browser holds the
            # page, everything it loads from now on comes from the origin as it is now.
            def serve_old(route: Any) -> None:
                path = re.sub(r"^https?://[^/]+", "", route.request.url).split("?")[0]
                if route.request.resource_type == "document" and path in old_pages:
                    route.fulfill(status=200, content_type="text/html", body=old_pages[path])
                else:
                    route.continue_()

            self.context.route("**/*", serve_old)

    def open(self, version: int) -> None:
        self.page.goto(self.cdn.url + "/", wait_until="load")
        self.page.wait_for_selector("html[data-hydrated='true']", timeout=20_000)
        assert self.page.text_content("#app-version").strip() == f"v{version}"
        self.page.evaluate("window.__sameDocument = true")

    def load_lazy(self, version: int) -> None:
        before = len(self.cdn.log)
        self.page.click("#load-lazy")
        self.page.wait_for_selector("#lazy-result", timeout=20_000)
        assert self.page.text_content("#lazy-result").strip() == f"lazy v{version}"
        fetched = [s.path for s in self.cdn.log[before:] if s.path.endswith((".js", ".mjs"))]
        assert fetched, "the lazy result came without fetching a chunk: it was not lazy"

    def navigate(self) -> None:
        self.page.click("#nav-link")
        self.page.wait_for_selector("#about-page", timeout=20_000)
        assert self.page.evaluate("window.__sameDocument") is True, "a full page load happened"

    def close(self) -> None:
        assert not self.errors, f"console errors: {self.errors}"
        super().close()


def no_404s(cdn: CdnServer, since: int = 0) -> None:
    missing = [s.path for s in cdn.log[since:] if s.status == 404]
    assert not missing, f"404s: {missing}"


def check_headers(
    cdn: CdnServer, record: dict[str, Any], build: FrameworkBuild, since: int = 0
) -> None:
    """Every object served since `since` (all from the release `record`) has the
    Cache-Control its class calls for and the right Content-Type."""
    by_key = {f["key"]: f for f in record["files"].values()}
    served = [s for s in cdn.log[since:] if s.status == 200 and s.key]
    assert served
    for s in served:
        assert s.key is not None
        file = by_key[s.key]
        cache = s.headers.get("Cache-Control", "")
        if file["kind"] == "entry":
            assert cache == "no-cache", (s.key, cache)
        if file["kind"] in ("bundler", "hashed") or re.fullmatch(build.hashed, s.key):
            assert cache == IMMUTABLE, (s.key, file["kind"], cache)
        expected = CONTENT_TYPES.get(posixpath.splitext(s.key)[1])
        if expected:
            assert expected in s.headers["Content-Type"], (s.key, s.headers["Content-Type"])


def release_record(s3_client: S3Client, bucket: str, release: str) -> dict[str, Any]:
    key = f"{PREFIX}/_assetpub/releases/{release}.json"
    # json.loads and boto3's (untyped) response are Any.
    return json.loads(s3_client.get_object(Bucket=bucket, Key=key)["Body"].read())  # type: ignore[no-any-return]


@pytest.mark.parametrize("build", MATRIX, ids=[b.id for b in MATRIX])
def test_framework_build_survives_publish_rollback_and_gc(
    build: FrameworkBuild,
    browser: Any,
    s3_endpoint: str,
    s3_client: S3Client,
    make_bucket: MakeBucket,
) -> None:
    bucket = make_bucket()
    origin = ["--origin", f"s3://{bucket}/{PREFIX}", "--endpoint-url", s3_endpoint]

    def publish(version: int) -> dict[str, Any]:
        code, out, err = cli("publish", build.build(version), *origin, "--json")
        assert code == 0, err
        result: dict[str, Any] = json.loads(out)
        assert result["detected"] == [build.detected]
        return result

    def gc(origin: list[str]) -> dict[str, Any]:
        code, out, err = cli("gc", "--keep", "1", "--grace", "0", "--json", *origin)
        assert code == 0, err
        result: dict[str, Any] = json.loads(out)["origins"][0]
        return result

    v1 = publish(1)
    with serve_s3_prefix(s3_client, bucket, PREFIX) as cdn:
        # v1 works: hydrated, lazy chunk, client-side navigation, headers, no 404.
        fresh = Tab(browser, cdn)
        fresh.open(1)
        fresh.load_lazy(1)
        fresh.navigate()
        fresh.close()
        no_404s(cdn)
        check_headers(cdn, release_record(s3_client, bucket, v1["release"]), build)
        old_pages = {"/": _get(s3_client, bucket, "index.html")}
        for path in (*build.feeds, *build.public_files):
            assert _fetch_status(cdn, path) == 200, path

        # A tab opened on v1 stays open across the publish of v2.
        old_tab = Tab(browser, cdn)
        old_tab.open(1)
        v2 = publish(2)
        mark = len(cdn.log)
        old_tab.load_lazy(1)
        old_tab.close()
        no_404s(cdn, mark)

        # New visitors get v2, whole.
        mark = len(cdn.log)
        new_tab = Tab(browser, cdn)
        new_tab.open(2)
        new_tab.load_lazy(2)
        new_tab.navigate()
        new_tab.close()
        no_404s(cdn, mark)
        check_headers(cdn, release_record(s3_client, bucket, v2["release"]), build, mark)

        # A tab opened on v2 stays open across the rollback to v1.
        v2_tab = Tab(browser, cdn)
        v2_tab.open(2)
        code, _, err = cli("rollback", *origin)
        assert code == 0, err
        mark = len(cdn.log)
        v2_tab.load_lazy(2)
        v2_tab.close()
        for tab in (Tab(browser, cdn), Tab(browser, cdn, old_pages)):
            tab.open(1)
            tab.load_lazy(1)
            tab.close()
        no_404s(cdn, mark)

        # GC with v1 live: keep 1 is v1 alone (keep counts the live release), so v2, rolled
        # back from, is collected, and only what v2 alone needed may go.
        collected = gc(origin)
        assert collected["collected_releases"] == [v2["release"]]
        assert collected["deleted_objects"] > 0, "GC collected nothing of v2"
        mark = len(cdn.log)
        old_v1 = Tab(browser, cdn, old_pages)
        old_v1.open(1)
        old_v1.load_lazy(1)
        old_v1.close()
        live = Tab(browser, cdn)
        live.open(1)
        live.navigate()
        live.close()
        no_404s(cdn, mark)
        # What only v2 needed is gone: GC did delete, and the tab survived it.
        v1_keys = {
            f["key"] for f in release_record(s3_client, bucket, v1["release"])["files"].values()
        }
        v2_only = sorted(set(collected["delete_keys"]) - v1_keys)
        assert v2_only and _fetch_status(cdn, v2_only[0]) == 404
        for path in (*build.feeds, *build.public_files):
            assert _fetch_status(cdn, path) == 200, path
        code, out, err = cli("verify", *origin, "--json")
        assert code == 0, out + err

        # The same v1 build published again (a CI re-run): v1 is live and, v2 collected, the
        # newest, so nothing is written and no release is made.
        v1_again = publish(1)
        assert v1_again["release"] == v1["release"] and v1_again["uploaded"] == 0


def _get(s3_client: S3Client, bucket: str, key: str) -> bytes:
    # boto3 is untyped: the body it reads is Any.
    return s3_client.get_object(Bucket=bucket, Key=f"{PREFIX}/{key}")["Body"].read()  # type: ignore[no-any-return]


def _fetch_status(cdn: CdnServer, path: str) -> int:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"{cdn.url}/{path}", timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
