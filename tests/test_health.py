"""Health checks after a switch (assetpub/health/, commands/guard.py): what a visitor-side check
fetches and what passes (pure), its retries on a fake clock, the check command, and the CLI
end to end: publish to S3 (the moto server) behind a CDN-like server (serve_s3_prefix), a
broken build rolled back automatically and marked in the history, rollback's and verify's own
checks, and a check command that loads the page in headless Chromium.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from e2e_support import REPO_ROOT, CdnServer, find_chromium, serve_s3_prefix, unavailable
from fixture_types import MakeBucket, MakeBuild, S3Client
from test_cli import run

from assetpub.clock import FakeClock
from assetpub.commands.guard import check_after_publish
from assetpub.commands.publish import publish as publish_core
from assetpub.errors import HealthCheckError
from assetpub.health.check import check_url, pause_before, run_health_checks
from assetpub.health.command import CommandRun, run_check_command
from assetpub.health.fetch import Answer
from assetpub.health.page import (
    acceptable_types,
    answer_problem,
    asset_manifest_url,
    page_resources,
    stylesheet_resources,
)
from assetpub.history.store import StateStore
from assetpub.origins.memory import MemoryOrigin
from assetpub.settings import CheckSettings, PublishSettings

T0 = datetime(2026, 12, 1, tzinfo=UTC)
CHECK_FAILED = 3

# --------------------------------------------------------------------------------------------
# What to fetch, and what passes (pure)


def test_the_page_resources_are_the_rewriters_references_resolved_like_a_browser() -> None:
    html = (
        "<!doctype html><link rel=stylesheet href=css/site.css>"
        "<link rel=preload as=script href=/js/chunk.js#x><script src=js/app.js></script>"
        "<img src=img/a.png srcset='img/a.png 1x, img/a2.png 2x'>"
        "<a href=about.html>about</a><link rel=canonical href=https://x/>"
        "<img src=https://other.example/ext.png><img src='data:image/png;base64,AA'>"
        "<script>var u = 'not/a/reference.js'</script>"
    )
    found = page_resources("https://cdn.example.com/app/index.html?v=1", html)
    assert [(r.url, r.kind) for r in found] == [
        ("https://cdn.example.com/app/css/site.css", "<link href>"),
        ("https://cdn.example.com/js/chunk.js", "<link href>"),
        ("https://cdn.example.com/app/js/app.js", "<script src>"),
        ("https://cdn.example.com/app/img/a.png", "<img src>"),
        ("https://cdn.example.com/app/img/a2.png", "srcset"),
    ]
    based = page_resources("https://cdn.example.com/x/page.html", "<base href=/s/><img src=i.png>")
    assert [r.url for r in based] == ["https://cdn.example.com/s/i.png"]


def test_a_stylesheets_resources_resolve_from_it_and_skip_its_source_map() -> None:
    css = (
        "@import 'theme.css';body{background:url(../img/bg.png)}"
        "@font-face{src:url(/f.woff2)format('woff2')}"
        "/*# sourceMappingURL=site.css.map */"
    )
    found = stylesheet_resources("https://cdn.example.com/css/site.css", css)
    assert [r.url for r in found] == [
        "https://cdn.example.com/css/theme.css",
        "https://cdn.example.com/img/bg.png",
        "https://cdn.example.com/f.woff2",
    ]
    assert found[0].may_be_stylesheet and not found[1].may_be_stylesheet


def test_references_made_absolute_with_the_public_url_are_the_sites_own() -> None:
    public = "https://cdn.example.com/site/"
    html = (
        f"<link rel=stylesheet href={public}site.1234.css><script src={public}app.js></script>"
        "<img src=https://other.example/x.png><img src=local.png>"
    )
    found = page_resources("https://www.example.com/", html, public)
    assert [r.url for r in found] == [
        "https://cdn.example.com/site/site.1234.css",
        "https://cdn.example.com/site/app.js",
        "https://www.example.com/local.png",
    ]
    css = f"a{{background:url({public}img/a.png)}}b{{background:url(https://other.example/b.png)}}"
    assert [r.url for r in stylesheet_resources(f"{public}site.css", css, public)] == [
        "https://cdn.example.com/site/img/a.png"
    ]
    # Protocol-relative, as --public-url allows: the page's scheme.
    found = page_resources(
        "http://www.example.com/", "<img src=//cdn.example.com/a.png>", "//cdn.example.com/"
    )
    assert [r.url for r in found] == ["http://cdn.example.com/a.png"]
    # Without it, an absolute URL is another site's, as the rewriter sees it.
    assert [r.url for r in page_resources("https://www.example.com/", html)] == [
        "https://www.example.com/local.png"
    ]


@pytest.mark.parametrize(
    ("page", "manifest"),
    [
        ("https://cdn.example.com/", "https://cdn.example.com/asset-manifest.json"),
        (
            "https://cdn.example.com/app/index.html?x=1",
            "https://cdn.example.com/app/asset-manifest.json",
        ),
        ("http://127.0.0.1:8080/app/", "http://127.0.0.1:8080/app/asset-manifest.json"),
    ],
)
def test_the_asset_manifest_is_the_one_next_to_the_page(page: str, manifest: str) -> None:
    assert asset_manifest_url(page) == manifest


@pytest.mark.parametrize(
    ("url", "status", "content_type", "problem"),
    [
        ("/a.js", 200, "text/javascript; charset=utf-8", None),
        ("/a.js", 200, "application/javascript", None),  # any JavaScript MIME type runs
        ("/a.js", 200, "text/html", "served as text/html, expected text/javascript"),
        ("/a.js", 200, "text/plain", "served as text/plain, expected text/javascript"),
        ("/a.js", 404, "text/html", "answered HTTP 404"),
        ("/a.css", 200, "TEXT/CSS", None),
        ("/a.css", 200, None, "served as no Content-Type, expected text/css"),
        ("/a.png", 200, "image/png", None),
        ("/a.png", 204, "image/png", None),
        ("/favicon.ico", 200, "image/vnd.microsoft.icon", None),
        ("/data.bin", 200, "text/html", None),  # the name implies no type: any passes
        ("/a.js", 301, "text/html", "answered HTTP 301"),
    ],
)
def test_an_answer_passes_when_2xx_with_the_type_its_name_implies(
    url: str, status: int, content_type: str | None, problem: str | None
) -> None:
    implied = {"js": "text/javascript", "css": "text/css"}.get(url.rsplit(".", 1)[-1])
    assert answer_problem(status, content_type, acceptable_types(url), implied) == problem


# --------------------------------------------------------------------------------------------
# The URL check, its retries and its deadline, on a fake clock

SITE_URL = "https://cdn.example.com/"
PAGE = "<!doctype html><link rel=stylesheet href=site.css><script src=app.js></script>"
CSS = "body{background:url(bg.png)}"


def manifest(release: str) -> bytes:
    return json.dumps({"release": release, "files": {}}).encode()


@dataclass
class FakeFetcher:
    """Answers from a table; `answers` may be replaced between attempts. Records each fetch."""

    answers: Mapping[str, Answer]
    clock: FakeClock | None = None
    request_seconds: float = 0.0  # what each fetch costs on the clock
    fetched: list[tuple[str, float]] = field(default_factory=list)

    def fetch(self, url: str, *, read_body: bool, timeout: float) -> Answer:
        self.fetched.append((url, timeout))
        if self.clock is not None:
            self.clock.advance(self.request_seconds)
        answer = self.answers.get(url)
        if answer is None:
            return Answer(url, 404, "text/html", b"not found" if read_body else None)
        return answer if read_body else replace(answer, body=None)


def good_site(release: str) -> dict[str, Answer]:
    def ok(path: str, content_type: str, body: bytes = b"") -> tuple[str, Answer]:
        return SITE_URL + path, Answer(SITE_URL + path, 200, content_type, body)

    return dict(
        [
            ok("asset-manifest.json", "application/json", manifest(release)),
            ok("", "text/html; charset=utf-8", PAGE.encode()),
            ok("site.css", "text/css", CSS.encode()),
            ok("app.js", "text/javascript"),
            ok("bg.png", "image/png"),
        ]
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


def test_a_good_site_passes_in_one_request_per_thing_the_page_loads(clock: FakeClock) -> None:
    fetcher = FakeFetcher(good_site("r2"))
    outcome = check_url(SITE_URL, "r2", timeout=30, fetcher=fetcher, clock=clock)
    assert outcome.passed and outcome.problem is None and outcome.release == "r2"
    assert [url for url, _ in fetcher.fetched] == [
        SITE_URL + "asset-manifest.json",
        SITE_URL,
        SITE_URL + "site.css",
        SITE_URL + "app.js",
        SITE_URL + "bg.png",
    ]
    assert (outcome.resources, outcome.requests, outcome.attempts) == (3, 5, 1)
    assert clock.slept == 0


def test_a_stale_manifest_is_waited_for_until_the_cdn_revalidates(clock: FakeClock) -> None:
    fetcher = FakeFetcher(good_site("r1"))
    stale_attempts = 3

    def sleep(seconds: float) -> None:
        FakeClock.sleep(clock, seconds)
        if len([u for u, _ in fetcher.fetched if u.endswith("manifest.json")]) >= stale_attempts:
            fetcher.answers = good_site("r2")

    clock.sleep = sleep  # type: ignore[method-assign]
    outcome = check_url(SITE_URL, "r2", timeout=30, fetcher=fetcher, clock=clock)
    assert outcome.passed and outcome.attempts == stale_attempts + 1
    assert clock.slept == sum(pause_before(n) for n in range(1, stale_attempts + 1))


def test_a_manifest_that_never_names_the_release_times_out_with_a_clear_line(
    clock: FakeClock,
) -> None:
    fetcher = FakeFetcher(good_site("r1"))
    outcome = check_url(SITE_URL, "r2", timeout=30, fetcher=fetcher, clock=clock)
    assert not outcome.passed
    assert outcome.problem is not None
    assert outcome.problem.startswith(
        "asset-manifest.json names release r1, not r2 (still after 30 s"
    )
    assert clock.elapsed == pytest.approx(30)  # the deadline, not a second more
    assert outcome.summary.startswith(f"check {SITE_URL} failed: asset-manifest.json names")


def test_requests_never_wait_past_the_deadline(clock: FakeClock) -> None:
    fetcher = FakeFetcher(good_site("r1"), clock=clock, request_seconds=4)
    outcome = check_url(SITE_URL, "r2", timeout=10, fetcher=fetcher, clock=clock)
    assert not outcome.passed
    assert all(0 < timeout <= 10 for _, timeout in fetcher.fetched)
    assert clock.elapsed <= 10 + 4  # at most the last request's own cost past the deadline


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"app.js": None}, f"{SITE_URL}app.js (<script src>) answered HTTP 404"),
        ({"bg.png": None}, f"{SITE_URL}bg.png (url()) answered HTTP 404"),
        (
            {"app.js": Answer(SITE_URL + "app.js", 200, "text/html", b"<!doctype html>")},
            "app.js (<script src>) served as text/html, expected text/javascript",
        ),
        ({"": Answer(SITE_URL, 404, "text/html", b"")}, "the page answered HTTP 404"),
    ],
    ids=["missing-chunk", "missing-css-image", "spa-fallback", "missing-page"],
)
def test_a_broken_release_fails_at_once_without_retrying(
    clock: FakeClock, change: dict[str, Answer | None], says: str
) -> None:
    answers: dict[str, Answer] = good_site("r2")
    for path, answer in change.items():
        if answer is None:
            del answers[SITE_URL + path]
        else:
            answers[SITE_URL + path] = answer
    outcome = check_url(SITE_URL, "r2", timeout=30, fetcher=FakeFetcher(answers), clock=clock)
    assert not outcome.passed and outcome.problem is not None
    assert says in outcome.problem
    assert outcome.attempts == 1 and clock.slept == 0


def test_a_stylesheet_is_read_by_its_type_when_its_name_implies_none(clock: FakeClock) -> None:
    answers = good_site("r2")
    page = "<!doctype html><link rel=stylesheet href=/styles>"
    answers[SITE_URL] = Answer(SITE_URL, 200, "text/html", page.encode())
    answers[SITE_URL + "styles"] = Answer(SITE_URL + "styles", 200, "text/css", b"a{b:url(x.png)}")
    outcome = check_url(SITE_URL, "r2", timeout=30, fetcher=FakeFetcher(answers), clock=clock)
    assert outcome.problem == f"{SITE_URL}x.png (url()) answered HTTP 404"


def test_no_answer_or_a_5xx_is_retried(clock: FakeClock) -> None:
    answers = good_site("r2")
    answers[SITE_URL + "app.js"] = Answer(SITE_URL + "app.js", 503, "text/html")
    fetcher = FakeFetcher(answers)
    outcome = check_url(SITE_URL, "r2", timeout=5, fetcher=fetcher, clock=clock)
    assert not outcome.passed and outcome.attempts > 1
    assert outcome.problem is not None and "answered HTTP 503" in outcome.problem
    answers[SITE_URL + "app.js"] = Answer(SITE_URL + "app.js", 0, error="connection refused")
    outcome = check_url(SITE_URL, "r2", timeout=5, fetcher=fetcher, clock=clock)
    assert outcome.problem is not None and "connection refused" in outcome.problem


def test_the_command_runs_only_after_the_urls_pass_and_sees_the_switch(clock: FakeClock) -> None:
    seen: list[tuple[str, dict[str, str], float]] = []

    def command(cmd: str, env: Mapping[str, str], timeout: float) -> CommandRun:
        seen.append((cmd, dict(env), timeout))
        return CommandRun(True, None, "")

    fetcher = FakeFetcher(good_site("r2"))
    report = run_health_checks(
        (SITE_URL,), "smoke", "r2", "r1", timeout=7, fetcher=fetcher, clock=clock, run=command
    )
    assert report.passed and len(report.outcomes) == 2
    assert seen == [
        (
            "smoke",
            {
                "ASSETPUB_RELEASE": "r2",
                "ASSETPUB_PREVIOUS_RELEASE": "r1",
                "ASSETPUB_CHECK_URL": SITE_URL,
            },
            7,
        )
    ]
    seen.clear()
    broken = run_health_checks(
        (SITE_URL,), "smoke", "r3", "r2", timeout=7, fetcher=fetcher, clock=clock, run=command
    )
    assert broken.failed is broken.outcomes[0] and seen == []


# --------------------------------------------------------------------------------------------
# The check command, a real process


def test_a_commands_exit_code_decides_and_it_sees_the_environment(tmp_path: Path) -> None:
    passed = run_check_command("exit 0", {}, timeout=10)
    assert passed.passed and passed.problem is None
    failed = run_check_command("echo smoke: 1 failed; exit 1", {}, timeout=10)
    assert not failed.passed and failed.problem == "exited 1: smoke: 1 failed"
    env = run_check_command('test "$ASSETPUB_RELEASE" = r2', {"ASSETPUB_RELEASE": "r2"}, 10)
    assert env.passed


def test_a_hung_command_is_killed_with_its_children_at_the_deadline(tmp_path: Path) -> None:
    marker = tmp_path / "child-survived"
    started = time.monotonic()
    done = run_check_command(f"(sleep 3; touch {marker}) & sleep 30", {}, timeout=0.5)
    assert time.monotonic() - started < 10
    assert not done.passed and done.problem == "did not finish within 0.5 s (killed)"
    time.sleep(3.5)
    assert not marker.exists(), "a child of the command outlived the timeout"


# --------------------------------------------------------------------------------------------
# The CLI, end to end: S3 (moto) behind a CDN-like server


def page(version: int, *, script: str = "app.js") -> dict[str, str | bytes]:
    return {
        "index.html": (
            "<!doctype html><link rel=stylesheet href=site.css>"
            f"<script src={script}></script><img src=logo.png><p>v{version}</p>"
        ),
        "site.css": f"body{{background:url(bg.png)}}/* v{version} */",
        "app.js": f"console.log({version})",
        "logo.png": b"\x89PNG-logo",
        "bg.png": f"bg{version}".encode(),
    }


@dataclass
class Site:
    """An S3 origin (a prefix of a moto bucket) and the CDN-like server in front of it."""

    origin: str
    endpoint: str
    cdn: CdnServer
    s3: S3Client
    bucket: str

    def cli(self, command: str, *args: str) -> tuple[int, str, str]:
        return run(command, *args, "--origin", self.origin, "--endpoint-url", self.endpoint)

    def publish(self, build: Path, *args: str) -> tuple[int, dict[str, object], str]:
        code, out, err = run(
            "publish",
            str(build),
            "--origin",
            self.origin,
            "--endpoint-url",
            self.endpoint,
            "--json",
            *args,
        )
        return code, json.loads(out) if out.strip() else {}, err

    def get(self, key: str) -> bytes:
        body: bytes = self.s3.get_object(Bucket=self.bucket, Key=f"site/{key}")["Body"].read()
        return body

    def live(self) -> str:
        release: str = json.loads(self.get("asset-manifest.json"))["release"]
        return release

    def releases(self) -> dict[str, dict[str, object]]:
        code, out, err = self.cli("releases", "--json")
        assert code == 0, err
        return {entry["id"]: entry for entry in json.loads(out)}


@pytest.fixture
def site(s3_client: S3Client, make_bucket: MakeBucket, s3_endpoint: str) -> Iterator[Site]:
    bucket = make_bucket()
    with serve_s3_prefix(s3_client, bucket, "site") as cdn:
        yield Site(f"s3://{bucket}/site", s3_endpoint, cdn, s3_client, bucket)


def check(site: Site, *more: str) -> tuple[str, ...]:
    return ("--check-url", site.cdn.url + "/", "--check-timeout", "10s", *more)


def served(cdn: CdnServer, count: int) -> list[str]:
    """The paths the CDN served, once `count` are logged: it logs after answering, so the
    client can be a moment ahead of the log."""
    deadline = time.monotonic() + 5
    while len(cdn.log) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return sorted(entry.path for entry in cdn.log)


def error_line(err: str) -> str:
    """The one error line (warnings, such as the build's missing reference, aside)."""
    lines = [line for line in err.strip().splitlines() if not line.startswith("warning: ")]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("assetpub: error: "), lines[0]
    return lines[0]


def test_a_good_build_passes_its_check(site: Site, make_build: MakeBuild) -> None:
    code, out, err = run(
        "publish", str(make_build(page(1))), "--origin", site.origin,
        "--endpoint-url", site.endpoint, *check(site),
    )  # fmt: skip
    assert code == 0, err
    assert f"check {site.cdn.url}/: passed (release " in out and "4 resources" in out
    paths = sorted(re.sub(r"\.[0-9a-f]{12}\.", ".", path) for path in served(site.cdn, 6))
    assert paths == ["/", "/app.js", "/asset-manifest.json", "/bg.png", "/logo.png", "/site.css"]
    assert all(entry.status == 200 for entry in site.cdn.log)


def test_references_made_absolute_with_public_url_are_checked_too(
    site: Site, make_build: MakeBuild
) -> None:
    public = site.cdn.url + "/"
    build = make_build(page(1))
    code, out, err = site.cli("publish", str(build), "--public-url", public, *check(site))
    assert code == 0, err
    assert "<script src=http://127.0.0.1" in site.get("index.html").decode()
    assert "(release " in out and "4 resources" in out


def test_a_missing_chunk_is_rolled_back_and_marked_and_a_plain_rollback_passes_it_over(
    site: Site, make_build: MakeBuild
) -> None:
    ids = []
    for version in (0, 1):
        code, summary, err = site.publish(make_build(page(version)), *check(site))
        assert code == 0, err
        assert summary["check"]["passed"], summary  # type: ignore[index]
        ids.append(str(summary["release"]))
    good_index = site.get("index.html")

    broken = make_build(page(2, script="chunk.1234abcd.js"))  # never built
    code, summary, err = site.publish(broken, *check(site))

    bad = str(summary["release"])
    line = error_line(err)
    assert code == CHECK_FAILED, err
    assert "chunk.1234abcd.js (<script src>) answered HTTP 404" in line
    assert f"rolled back to {ids[1]} on every origin" in line
    assert summary["check"]["rolled_back_to"] == ids[1]  # type: ignore[index]
    assert site.get("index.html") == good_index, "the previous index.html is not back"
    assert site.live() == ids[1]

    releases = site.releases()
    assert bad in releases, "the failed release left the history"
    mark = releases[bad]["failed_check"]
    assert isinstance(mark, dict) and mark["action"] == "publish" and "chunk" in mark["check"]
    assert releases[ids[1]]["failed_check"] is None and releases[ids[1]]["live"]
    code, out, _ = site.cli("releases")
    assert f" ! {bad}" in out and f"*  {ids[1]}" in out and "failed its check after publish" in out

    code, out, err = site.cli("rollback", "--json")
    assert code == 0, err
    assert json.loads(out)["release"] == ids[0], "a plain rollback brought the failed release back"
    assert f"passing over release {bad}: it failed its health check" in err
    code, out, err = site.cli("rollback", bad)  # named, it still may: with a warning
    assert code == 0 and f"release {bad} failed its health check" in err


def test_a_chunk_served_with_the_wrong_type_fails(
    site: Site, make_build: MakeBuild, tmp_path: Path
) -> None:
    code, first, err = site.publish(make_build(page(1)))
    assert code == 0, err
    config = tmp_path / "wrong-type.toml"
    config.write_text('[[headers]]\npattern = "*.js"\ncontent_type = "text/plain"\n')
    code, out, err = run(
        "--config", str(config), "publish", str(make_build(page(2))), "--origin", site.origin,
        "--endpoint-url", site.endpoint, *check(site),
    )  # fmt: skip
    assert code == CHECK_FAILED
    assert "(<script src>) served as text/plain, expected text/javascript" in error_line(err)
    assert site.live() == first["release"]


def test_no_rollback_on_failure_leaves_the_release_live_and_exits_with_the_code(
    site: Site, make_build: MakeBuild
) -> None:
    code, _, err = site.publish(make_build(page(1)))
    assert code == 0, err
    code, summary, err = site.publish(
        make_build(page(2, script="gone.js")), *check(site, "--no-rollback-on-failure")
    )
    assert code == CHECK_FAILED
    assert "it stays live (--no-rollback-on-failure)" in error_line(err)
    assert site.live() == summary["release"]
    assert site.releases()[str(summary["release"])]["failed_check"] is not None


def test_a_failed_first_publish_has_nothing_to_roll_back_to(
    site: Site, make_build: MakeBuild
) -> None:
    code, summary, err = site.publish(make_build(page(1, script="gone.js")), *check(site))
    assert code == CHECK_FAILED
    assert "nothing to roll back to (it is the first release); it stays live" in err
    assert site.live() == summary["release"]


def test_a_check_command_decides_and_sees_the_release_and_the_url(
    site: Site, make_build: MakeBuild, tmp_path: Path
) -> None:
    seen = tmp_path / "env.txt"
    record = (
        'printf "%s\\n" "$ASSETPUB_RELEASE" "$ASSETPUB_PREVIOUS_RELEASE" "$ASSETPUB_CHECK_URL" '
        f"> {seen}"
    )
    code, first, err = site.publish(make_build(page(1)), "--check-cmd", f"{record}; exit 0")
    assert code == 0, err
    assert seen.read_text().splitlines() == [first["release"], "", ""]

    code, second, err = site.publish(
        make_build(page(2)), *check(site, "--check-cmd", f"{record}; exit 1")
    )
    assert code == CHECK_FAILED
    assert (
        f"check command '{record}; exit 1' failed for release {second['release']}: exited 1" in err
    )
    assert seen.read_text().splitlines() == [
        second["release"],
        first["release"],
        site.cdn.url + "/",
    ]
    assert site.live() == first["release"]


def test_a_check_command_that_hangs_is_a_failure(site: Site, make_build: MakeBuild) -> None:
    code, first, err = site.publish(make_build(page(1)))
    started = time.monotonic()
    code, _, err = site.publish(
        make_build(page(2)), "--check-cmd", "sleep 30", "--check-timeout", "1"
    )
    assert time.monotonic() - started < 20
    assert code == CHECK_FAILED
    assert "check command 'sleep 30' failed" in err and "did not finish within 1 s (killed)" in err
    assert site.live() == first["release"]


def test_a_rollback_whose_check_fails_is_reported_and_left_live(
    site: Site, make_build: MakeBuild
) -> None:
    code, broken, err = site.publish(make_build(page(1, script="gone.js")))
    code, good, err = site.publish(make_build(page(2)))
    assert code == 0, err
    code, out, err = site.cli("rollback", *check(site))
    assert code == CHECK_FAILED
    line = error_line(err)
    assert "gone.js (<script src>) answered HTTP 404" in line
    assert "it stays live (a rollback whose check fails does not roll forward)" in line
    assert site.live() == broken["release"]
    mark = site.releases()[str(broken["release"])]["failed_check"]
    assert isinstance(mark, dict) and mark["action"] == "rollback"
    code, out, err = site.cli("rollback", str(good["release"]), *check(site))
    assert code == 0, err
    assert "passed" in out


def test_verify_url_checks_the_site_as_a_visitor_without_an_origin(
    site: Site, make_build: MakeBuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, first, err = site.publish(make_build(page(1)))
    assert code == 0, err
    # No origin is opened: one that could not even be reached would not matter.
    monkeypatch.setenv("ASSETPUB_ORIGIN", "s3://no-such-bucket")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    site.cdn.log.clear()
    code, out, err = run("verify", "--url", site.cdn.url + "/", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["healthy"] and data["origins"] == []
    assert data["urls"][0]["release"] == first["release"]
    # The page, its manifest, and what the page loads: never a request per published file.
    assert len(served(site.cdn, 6)) == data["urls"][0]["requests"] == 6
    monkeypatch.undo()

    code, _, err = site.publish(make_build(page(2, script="gone.js")), "-m", "no check")
    code, out, err = run("verify", "--url", site.cdn.url + "/")
    assert code == 1 and "gone.js (<script src>) answered HTTP 404" in out
    # With --origin too: the origin verify as before, and the URL expected to serve its live one.
    code, out, err = site.cli("verify", "--url", site.cdn.url + "/", "--json")
    data = json.loads(out)
    assert code == 1 and data["origins"][0]["healthy"] and not data["healthy"]


# --------------------------------------------------------------------------------------------
# A JavaScript exception: only a browser sees it


BROWSER_CHECK = REPO_ROOT / "tests" / "browser_check.py"


def script_page(app_js: str) -> dict[str, str | bytes]:
    return {
        "index.html": (
            "<!doctype html><html><head><script>"
            "addEventListener('error', e => document.documentElement.dataset.error = e.message)"
            "</script><script src=app.js></script></head><body>app</body></html>"
        ),
        "app.js": app_js,
    }


@pytest.mark.e2e
def test_a_build_whose_script_throws_fails_a_browser_check_command(
    site: Site, make_build: MakeBuild, tmp_path: Path
) -> None:
    if find_chromium() is None:
        unavailable("Chromium is needed for the browser check command (/usr/bin/chromium)")
    browser = f"{sys.executable} {BROWSER_CHECK}"
    works = "document.documentElement.dataset.ok = 'yes'"
    code, good, err = site.publish(
        make_build(script_page(works)), *check(site, "--check-cmd", browser)
    )
    assert code == 0, err

    throws = "throw new Error('boom: undefined is not a function')"
    code, bad, err = site.publish(
        make_build(script_page(throws)), *check(site, "--check-cmd", browser)
    )
    # The URL check passes (every file is there, with its type); the browser does not.
    assert bad["check"]["checks"][0]["passed"], bad  # type: ignore[index]
    assert code == CHECK_FAILED, err
    assert "boom: undefined is not a function" in error_line(err)
    assert site.live() == good["release"]


# --------------------------------------------------------------------------------------------
# The policy after a switch (commands/guard.py), on a memory origin


def test_a_release_switched_away_from_meanwhile_is_marked_but_not_rolled_back(
    make_build: MakeBuild,
) -> None:
    """Rolling back an origin that another publish switched since would undo that one."""
    origin = MemoryOrigin("guard")
    first = publish_core(PublishSettings(make_build(page(1)), ()), origins=[origin])
    second = publish_core(PublishSettings(make_build(page(2)), ()), origins=[origin])
    later: list[str] = []

    def another_publish_then_fail(cmd: str, env: Mapping[str, str], timeout: float) -> CommandRun:
        build = make_build(page(3))
        later.append(publish_core(PublishSettings(build, ()), origins=[origin]).release.id)
        return CommandRun(False, "exited 1", "")

    warnings: list[str] = []
    guard = check_after_publish(
        second,
        CheckSettings(command="smoke"),
        lambda: [origin],
        run=another_publish_then_fail,
        warn=warnings.append,
    )
    assert guard is not None and not guard.passed and guard.previous == first.release.id
    assert guard.rolled_back_to is None
    assert "not rolled back: another switch came after it" in guard.failure_message(True)
    assert warnings == [
        f"{origin.url}: {later[0]} is live now, not {second.release.id}: not rolled back"
    ]
    state, _ = StateStore(origin).load()
    assert state.live == later[0] and state.failed_ids == {second.release.id}
    with pytest.raises(HealthCheckError) as raised:
        guard.raise_if_failed(True)
    assert raised.value.exit_code == CHECK_FAILED


def test_a_dry_run_or_no_checks_runs_nothing(make_build: MakeBuild) -> None:
    origin = MemoryOrigin("guard-dry")
    dry = publish_core(PublishSettings(make_build(page(1)), (), dry_run=True), origins=[origin])

    def never(cmd: str, env: Mapping[str, str], timeout: float) -> CommandRun:
        raise AssertionError("a check ran")

    assert check_after_publish(dry, CheckSettings(command="x"), lambda: [origin], run=never) is None
    real = publish_core(PublishSettings(make_build(page(1)), ()), origins=[origin])
    assert check_after_publish(real, CheckSettings(), lambda: [origin], run=never) is None
