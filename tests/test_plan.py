"""The planner is pure: these tests need no storage at all."""

from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from assetpub.build.classify import FileKind
from assetpub.build.hashing import digest_bytes
from assetpub.build.prepare import PreparedBuild, PreparedFile
from assetpub.commands.plan import (
    HeaderEvidence,
    OriginPlan,
    files_to_verify,
    header_witness,
    plan_origin,
    switch_order,
)
from assetpub.history.record import RecordedFile, build_release
from assetpub.history.state import ReleaseEntry, State
from assetpub.keys import blob_key, release_record_key
from assetpub.origins.base import ObjectHeaders, ObjectInfo, RemoteObject, headers_fingerprint


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
    **options: Any,
) -> OriginPlan:
    release = build_release(
        build,
        release_id="r1",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        git_commit=None,
        message=None,
    )
    return plan_origin("mem://", build, release, listing or {}, holds_digest, **options)


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


# --- headers of objects already there --------------------------------------------------------


def recorded(file: PreparedFile, cache_control: str | None = None) -> RecordedFile:
    """The file as a record has it, with other headers if asked."""
    return RecordedFile(
        file.key,
        file.kind.value,
        file.content_type,
        cache_control or file.cache_control,
        file.digests,
    )


def test_fingerprint_is_short_stable_and_headers_only() -> None:
    one = ObjectHeaders("text/css; charset=utf-8", "no-cache", "a" * 64)
    assert one.fingerprint == headers_fingerprint("text/css; charset=utf-8", "no-cache")
    assert (
        one.fingerprint == ObjectHeaders(one.content_type, one.cache_control, "b" * 64).fingerprint
    )
    assert len(one.fingerprint) == 16 and int(one.fingerprint, 16) >= 0
    # Fixed for good: objects keep the fingerprint they were written with.
    assert headers_fingerprint("text/css; charset=utf-8", "no-cache") == "881c32a499471baf"
    assert one.fingerprint != headers_fingerprint("text/css; charset=utf-8", "no-store")
    assert one.fingerprint != headers_fingerprint("no-cache", "text/css; charset=utf-8")


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        (ObjectInfo("k", 1, "x/y", "no-cache", None, headers_fingerprint("x/y", "no-cache")), True),
        # The fingerprint is the object's word, whatever the service reports.
        (ObjectInfo("k", 1, "X/Y", "no-cache", None, headers_fingerprint("x/y", "no-cache")), True),
        (ObjectInfo("k", 1, "x/y", "no-cache", None, headers_fingerprint("x/y", "max")), False),
        # Written by an older assetpub: the headers as reported.
        (ObjectInfo("k", 1, "x/y", "no-cache", None), True),
        (ObjectInfo("k", 1, "x/y", "public", None), False),
        (ObjectInfo("k", 1, None, None, None), None),
    ],
)
def test_has_headers(info: ObjectInfo, expected: bool | None) -> None:
    assert info.has_headers(ObjectHeaders("x/y", "no-cache", "")) is expected


def entry(release_id: str) -> ReleaseEntry:
    return ReleaseEntry(release_id, release_id, release_id)


def records(*ids: str) -> dict[str, RemoteObject]:
    return {release_record_key(i): RemoteObject(release_record_key(i), 1) for i in ids}


@pytest.mark.parametrize(
    ("state", "listing", "witness"),
    [
        (State(), {}, None),
        (State(live="r1", releases=(entry("r1"),)), records("r1"), "r1"),
        # After a rollback: the newest release is still the one whose headers objects carry.
        (State(live="r1", releases=(entry("r1"), entry("r2"))), records("r1", "r2"), "r2"),
        # A newer publish wrote its record and never committed: it may have changed headers.
        (State(live="r1", releases=(entry("r1"),)), records("r1", "r2"), None),
        # An older uncommitted record (a publish that failed before r2) changes nothing.
        (State(live="r2", releases=(entry("r2"),)), records("r1", "r2"), "r2"),
    ],
)
def test_header_witness(
    state: State, listing: dict[str, RemoteObject], witness: str | None
) -> None:
    assert header_witness(state, listing) == witness


def test_evidence_vouches_for_immutable_objects_and_for_plain_ones_only_while_live(
    build: PreparedBuild,
) -> None:
    js, chunk = build.files[3], build.files[5]
    same = HeaderEvidence({js.key: recorded(js), chunk.key: recorded(chunk)}, live=True)
    assert same.carries(js) is True and same.carries(chunk) is True
    other = HeaderEvidence({js.key: recorded(js, "max-age=1")}, live=True)
    assert other.carries(js) is False
    rolled_back = HeaderEvidence({js.key: recorded(js), chunk.key: recorded(chunk)}, live=False)
    assert rolled_back.carries(js) is True and rolled_back.carries(chunk) is None
    # A record of other bytes under the key says nothing of these.
    stale = replace(recorded(chunk), digests=build.files[4].digests)
    assert HeaderEvidence({chunk.key: stale}, live=True).carries(chunk) is None
    assert HeaderEvidence().carries(js) is None


def test_changed_headers_are_a_copy_onto_itself_and_unknown_ones_are_read(
    build: PreparedBuild,
) -> None:
    listing = {f.key: remote(f) for f in build.files}
    listing[blob_key(build.files[5].digests.sha256)] = RemoteObject("blob", 5, None)
    js, css, chunk = build.files[3], build.files[4], build.files[5]
    evidence = HeaderEvidence({js.key: recorded(js, "max-age=1"), css.key: recorded(css)}, True)
    # The record speaks for js and css; 480.js costs a HEAD.
    assert files_to_verify(build, listing, evidence) == [chunk]
    plan = make_plan(build, listing, headers=evidence, carrying={chunk.key})
    assert [(u.key, u.copy_of, u.reason) for u in plan.headers] == [
        (js.key, js.key, "headers changed")
    ]
    assert plan.headers[0].headers == ObjectHeaders("x/y", "no-cache", js.digests.sha256)
    assert not plan.headers[0].from_build and plan.assets == () and plan.plain == ()
    assert {s.key for s in plan.skipped} == {css.key, chunk.key}
    # What the HEAD did not find carrying the file's headers is updated too.
    unread = make_plan(build, listing, headers=evidence)
    assert {u.key for u in unread.headers} == {js.key, chunk.key}
    # An origin that keeps no headers (a folder) is never asked.
    assert make_plan(build, listing).headers == ()


def test_force_uploads_everything_and_keeps_the_conflict_rule(build: PreparedBuild) -> None:
    listing = {f.key: remote(f) for f in build.files}
    blob = blob_key(build.files[5].digests.sha256)
    listing[blob] = RemoteObject(blob, 5, None)
    plan = make_plan(build, listing, headers=HeaderEvidence(), force=True)
    assert plan.skipped == () and plan.headers == ()
    assert {(u.key, u.reason) for u in plan.assets} == {
        ("app.0123456789ab.js", "forced"),
        ("main.abcdef12.css", "forced"),
        (blob, "forced blob for rollback"),
    }
    assert [(u.key, u.reason) for u in plan.plain] == [("480.js", "forced")]
    css = build.files[4]
    forced = make_plan(build, {css.key: remote(css, size=999)}, force=True)
    assert [c.key for c in forced.conflicts] == [css.key]
