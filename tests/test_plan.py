"""The planner is pure: these tests need no storage at all."""

from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest

from assetpub.build.classify import FileKind
from assetpub.build.hashing import digest_bytes
from assetpub.build.prepare import PreparedBuild, PreparedFile
from assetpub.commands.plan import OriginPlan, files_to_verify, plan_origin, switch_order
from assetpub.history.record import build_release
from assetpub.keys import blob_key
from assetpub.origins.base import RemoteObject


def prepared_file(tmp_path: Path, key: str, kind: FileKind, data: bytes) -> PreparedFile:
    path = tmp_path / key.replace("/", "_")
    path.write_bytes(data)
    return PreparedFile(key, key, kind, str(path), digest_bytes(data), "x/y", "no-cache")


@pytest.fixture
def build(tmp_path: Path) -> PreparedBuild:
    files = (
        prepared_file(tmp_path, "index.html", FileKind.ENTRY, b"<html>"),
        prepared_file(tmp_path, "about/index.html", FileKind.ENTRY, b"<html>about"),
        prepared_file(tmp_path, "robots.txt", FileKind.ENTRY, b"User-agent: *"),
        prepared_file(tmp_path, "app.0123456789ab.js", FileKind.HASHED, b"js"),
        prepared_file(tmp_path, "main.abcdef12.css", FileKind.BUNDLER, b"css"),
        prepared_file(tmp_path, "480.js", FileKind.PLAIN, b"chunk"),
    )
    return PreparedBuild(files, (), ())


def make_plan(
    build: PreparedBuild,
    listing: Mapping[str, RemoteObject] | None = None,
    holds_digest: Collection[str] = (),
) -> OriginPlan:
    release = build_release(
        build,
        release_id="r1",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        git_commit=None,
        message=None,
    )
    return plan_origin("mem://", build, release, listing or {}, holds_digest)


def remote(file: PreparedFile, etag: str | None = "same", size: int | None = None) -> RemoteObject:
    return RemoteObject(
        file.key,
        file.digests.size if size is None else size,
        file.digests.md5 if etag == "same" else etag,
    )


def test_empty_origin_uploads_everything_in_safe_order(build: PreparedBuild) -> None:
    plan = make_plan(build)
    assert plan.record.key == "_assetpub/releases/r1.json" and plan.record.create_only
    plain_blob = blob_key(build.files[5].digests.sha256)
    assert sorted(u.key for u in plan.assets) == sorted(
        ["app.0123456789ab.js", "main.abcdef12.css", plain_blob]
    )
    assert [u.key for u in plan.plain] == ["480.js"]
    assert plan.asset_manifest.key == "asset-manifest.json"
    # Non-HTML entries first, deeper pages before shallower, the root index.html alone and last.
    assert [u.key for u in plan.entries] == ["robots.txt", "about/index.html"]
    assert [u.key for u in plan.index] == ["index.html"]
    assert [name for name, _ in plan.switch_groups] == ["plain", "manifest", "entries", "index"]
    assert all(u.reason == "not on origin" for u in plan.assets if u.from_build)


def test_objects_already_there_are_skipped_by_listing_alone(build: PreparedBuild) -> None:
    listing = {f.key: remote(f) for f in build.files}
    listing[blob_key(build.files[5].digests.sha256)] = RemoteObject("blob", 5, None)
    assert files_to_verify(build, listing) == []
    plan = make_plan(build, listing)
    assert plan.assets == () and plan.plain == ()
    assert {s.key for s in plan.skipped} == {"app.0123456789ab.js", "main.abcdef12.css", "480.js"}
    # Entry files and the manifest are the switch itself: always written.
    assert [u.key for u in plan.entries + plan.index] == [
        "robots.txt",
        "about/index.html",
        "index.html",
    ]


def test_multipart_etag_is_verified_by_digest_not_trusted(build: PreparedBuild) -> None:
    js = build.files[3]
    listing = {js.key: remote(js, etag="0" * 32 + "-2")}
    assert files_to_verify(build, listing) == [js]
    plan = make_plan(build, listing, {js.key})
    assert js.key in {s.key for s in plan.skipped} and not plan.conflicts
    # Unproven is not the same: without the origin's word on its digest, it is a conflict.
    assert [c.key for c in make_plan(build, listing).conflicts] == [js.key]


def test_different_bytes_under_an_immutable_name_is_a_conflict(build: PreparedBuild) -> None:
    css = build.files[4]
    plan = make_plan(build, {css.key: remote(css, size=999)})
    assert [c.key for c in plan.conflicts] == [css.key]
    js = build.files[3]
    plan = make_plan(build, {js.key: remote(js, etag="f" * 32)}, set())
    assert [c.key for c in plan.conflicts] == [js.key]


def test_changed_plain_file_is_replaced_not_a_conflict(build: PreparedBuild) -> None:
    chunk = build.files[5]
    plan = make_plan(build, {chunk.key: remote(chunk, size=1)})
    assert [(u.key, u.reason) for u in plan.plain] == [("480.js", "changed")]
    assert not plan.conflicts


@pytest.mark.parametrize(
    ("keys", "entries", "index"),
    [
        (["index.html"], [], ["index.html"]),
        # Non-HTML entry files first, then pages deepest first, the root index.html alone last.
        (
            ["index.html", "robots.txt", "about/index.html", "docs/a/b/index.html", "404.html"],
            ["robots.txt", "docs/a/b/index.html", "about/index.html", "404.html"],
            ["index.html"],
        ),
        # Next.js route payloads switch before the pages that fetch them.
        (
            ["about/index.html", "about/index.txt", "index.html", "index.txt"],
            ["about/index.txt", "index.txt", "about/index.html"],
            ["index.html"],
        ),
        # A build without a root page has no index step.
        (["docs/index.html", "site.webmanifest"], ["site.webmanifest", "docs/index.html"], []),
    ],
)
def test_switch_order(keys: list[str], entries: list[str], index: list[str]) -> None:
    assert switch_order(keys) == (entries, index)
