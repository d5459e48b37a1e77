"""Which paths a switch invalidates (assetpub.cdn.paths, pure), and the --invalidate spec."""

from __future__ import annotations

from dataclasses import replace

import pytest
from history_support import recorded_release

from assetpub.cdn import CdnTarget, parse_cdn_target
from assetpub.cdn.paths import changed_keys, invalidation_paths, key_paths, url_path
from assetpub.errors import ConfigError
from assetpub.history.record import ReleaseRecord

V1 = {
    "index.html": ("entry", b"<p>v1"),
    "docs/index.html": ("entry", b"docs v1"),
    "about.html": ("entry", b"about"),
    "feed.xml": ("plain", b"<rss>1"),
    "robots.txt": ("entry", b"User-agent: *"),
    "css/site.css": ("hashed", b"body{}"),
    "main.0123456789abcdef.js": ("bundler", b"js"),
}


def release(changes: dict[str, tuple[str, bytes] | None], manifest: bytes = b"{}") -> ReleaseRecord:
    """V1 with `changes` (None: the file is gone) and this asset manifest."""
    files = dict(V1)
    for path, file in changes.items():
        if file is None:
            del files[path]
        else:
            files[path] = file
    return replace(
        recorded_release("20261201T000000000Z-00000002", files), stated_manifest=manifest
    )


@pytest.mark.parametrize(
    ("changes", "manifest", "expected"),
    [
        ({}, b"{}", []),  # the same bytes: nothing is stale
        ({"index.html": ("entry", b"<p>v2")}, b"{}", ["index.html"]),
        ({"feed.xml": ("plain", b"<rss>2")}, b"{}", ["feed.xml"]),
        ({}, b'{"release":"2"}', ["asset-manifest.json"]),
        # Hashed and bundler-hashed names hold one content forever: never invalidated.
        ({"css/site.css": ("hashed", b"body{color:red}")}, b"{}", []),
        ({"main.0123456789abcdef.js": ("bundler", b"js2")}, b"{}", []),
        # A new page: the CDN may hold the error the origin answered for it.
        ({"new/index.html": ("entry", b"new")}, b"{}", ["new/index.html"]),
        # A page the new release lacks stays on the origin as it was: nothing to invalidate.
        ({"about.html": None}, b"{}", []),
        # A file that turned from hashed into plain is now served under its own name.
        ({"css/site.css": ("plain", b"body{}")}, b"{}", ["css/site.css"]),
    ],
)
def test_changed_keys(
    changes: dict[str, tuple[str, bytes] | None], manifest: bytes, expected: list[str]
) -> None:
    before = release({})
    assert changed_keys(before, release(changes, manifest)) == expected


def test_changed_keys_with_nothing_live_before_is_every_mutable_key() -> None:
    after = release({})
    assert changed_keys(None, after) == [
        "about.html",
        "asset-manifest.json",
        "docs/index.html",
        "feed.xml",
        "index.html",
        "robots.txt",
    ]


@pytest.mark.parametrize(
    ("key", "pretty", "expected"),
    [
        ("index.html", True, ["/index.html", "/"]),
        ("index.html", False, ["/index.html"]),
        ("docs/index.html", True, ["/docs/index.html", "/docs/"]),
        ("docs/index.html", False, ["/docs/index.html"]),
        ("about.html", True, ["/about.html"]),
        ("myindex.html", True, ["/myindex.html"]),  # not a folder's page
        ("asset-manifest.json", True, ["/asset-manifest.json"]),
        ("caf\u00e9/men\u00fc.html", True, ["/caf%C3%A9/men%C3%BC.html"]),
        ("a b/c~d.txt", True, ["/a%20b/c%7Ed.txt"]),
        ("what?.txt", True, ["/what%3F.txt"]),
        ("50%.txt", True, ["/50%25.txt"]),
        ("hash#1.txt", True, ["/hash%231.txt"]),
        ("star*.txt", True, ["/star%2A.txt"]),  # never read as a wildcard
        ("x/y_z-1.2(3)!$+,;:@=&'.txt", True, ["/x/y_z-1.2(3)!$+,;:@=&'.txt"]),
    ],
)
def test_key_paths(key: str, pretty: bool, expected: list[str]) -> None:
    assert key_paths(key, pretty) == expected


def test_invalidation_paths_sorted_unique_and_limited() -> None:
    keys = ["index.html", "docs/index.html", "asset-manifest.json"]
    assert invalidation_paths(keys) == (
        "/",
        "/asset-manifest.json",
        "/docs/",
        "/docs/index.html",
        "/index.html",
    )
    assert invalidation_paths([]) == ()
    many = [f"page{i}.html" for i in range(3000)]
    assert len(invalidation_paths(many)) == 3000  # CloudFront's limit, precise still
    assert invalidation_paths([*many, "one-more.html"]) == ("/*",)
    # The limit counts paths, not keys: index pages count twice with pretty URLs.
    pages = [f"p{i}/index.html" for i in range(1501)]
    assert invalidation_paths(pages) == ("/*",)
    assert len(invalidation_paths(pages, pretty_urls=False)) == 1501
    assert url_path("") == "/"


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("cloudfront:E2QWRUHAPOMQZL", CdnTarget("cloudfront", "E2QWRUHAPOMQZL")),
        (" cloudfront:E123 ", CdnTarget("cloudfront", "E123")),
    ],
)
def test_parse_cdn_target(spec: str, expected: CdnTarget) -> None:
    assert parse_cdn_target(spec) == expected
    assert expected.spec == spec.strip()


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("E2QWRUHAPOMQZL", "not a CDN to invalidate"),
        ("fastly:ABC", "not a CDN to invalidate"),
        ("cloudfront:", "not a CloudFront distribution id"),
        ("cloudfront:e2qwruhapomqzl", "not a CloudFront distribution id"),
        ("cloudfront:E1/site", "not a CloudFront distribution id"),
        ("cloudfront:" + "E" * 65, "not a CloudFront distribution id"),
    ],
)
def test_parse_cdn_target_refuses(spec: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_cdn_target(spec)
