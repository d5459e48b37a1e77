"""GC's pure cores as table tests: which objects a collection deletes (plan_gc), and which
doomed releases a live page still needs (serving_live_pages)."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from history_support import recorded_release

from assetpub.commands.gc import GcPlan, Untrusted, classify_releases, plan_gc, serving_live_pages
from assetpub.history.record import RecordedFile, ReleaseRecord, keys_in_asset_manifest
from assetpub.history.state import ReleaseEntry, State, iso
from assetpub.keys import blob_key
from assetpub.origins.base import RemoteObject


def page(html: str) -> bytes:
    return html.encode()


def record(
    release_id: str, index: bytes, css: str, robots: bytes = b"User-agent: *"
) -> ReleaseRecord:
    def entry(key: str, data: bytes) -> RecordedFile:
        md5 = hashlib.md5(data).hexdigest()
        return RecordedFile.of(
            key, "entry", hashlib.sha256(data).hexdigest(), len(data), "text/html", "no-cache", md5
        )

    # A digest whose first 12 hex digits are the hash in `css`, as a publish would record it.
    css_sha = (css.split(".")[-2] * 6)[:64]
    return ReleaseRecord(
        id=release_id,
        created_at="2026-12-01T00:00:00.000Z",
        git_commit=None,
        message=None,
        tool_version="test",
        created_by="t@h",
        files={
            "index.html": entry("index.html", index),
            "robots.txt": entry("robots.txt", robots),
            "css/site.css": RecordedFile.of(css, "hashed", css_sha, 3, "text/css", "immutable"),
        },
        entry_content={"index.html": index, "robots.txt": robots},
        stated_manifest=b"{}",
    )


OLD = record("r1", page("<link href=css/site.111111111111.css>"), "css/site.111111111111.css")
NEW = record("r2", page("<link href=css/site.222222222222.css><p>v2"), "css/site.222222222222.css")
RECORDS = {"r1": OLD, "r2": NEW}


def listing_serving(data: bytes, *, etag: bool) -> dict[str, RemoteObject]:
    """An origin whose index.html holds `data` (with its MD5 as ETag, or none: folder origins)."""
    robots = OLD.entry_content["robots.txt"]
    return {
        "index.html": RemoteObject(
            "index.html", len(data), hashlib.md5(data).hexdigest() if etag else None
        ),
        "robots.txt": RemoteObject(
            "robots.txt", len(robots), hashlib.md5(robots).hexdigest() if etag else None
        ),
    }


@pytest.mark.parametrize("etag", [True, False], ids=["listing-etag", "no-etag-read-bytes"])
@pytest.mark.parametrize(
    ("live_index", "doomed", "kept", "rescued"),
    [
        # A publish of r2 died before index.html: r1's page is still served, so r1 stays.
        (OLD.entry_content["index.html"], {"r1"}, {"r2"}, {"r1"}),
        # Everything switched: r1's pages are served nowhere; it can go.
        (NEW.entry_content["index.html"], {"r1"}, {"r2"}, set()),
        # robots.txt is the same in both: the kept release covers it, that rescues nothing.
        (b"<p>a page neither release published", {"r1"}, {"r2"}, set()),
    ],
)
def test_serving_live_pages(
    live_index: bytes, doomed: set[str], kept: set[str], rescued: set[str], etag: bool
) -> None:
    listing = listing_serving(live_index, etag=etag)
    served = {"index.html": live_index, "robots.txt": OLD.entry_content["robots.txt"]}
    reads: list[str] = []

    def live_bytes(key: str) -> bytes | None:
        reads.append(key)
        return served.get(key)

    assert serving_live_pages(RECORDS, doomed, kept, listing, live_bytes) == rescued
    if etag:
        assert reads == []  # sizes and MD5 ETags settle it without a request


def test_plan_gc_deletes_only_what_no_kept_release_owns() -> None:
    shared = RecordedFile.of("img/shared.aaaaaaaaaaaa.png", "hashed", "a" * 64, 5, "image/png", "i")
    plain = RecordedFile.of("robots-extra.txt", "plain", "b" * 64, 4, "text/plain", "p")
    old = ReleaseRecord(
        **{
            **OLD.__dict__,
            "files": {**OLD.files, "img/shared.png": shared, "robots-extra.txt": plain},
        }
    )
    new = ReleaseRecord(**{**NEW.__dict__, "files": {**NEW.files, "img/shared.png": shared}})
    keys = [
        "css/site.111111111111.css",
        "css/site.222222222222.css",
        shared.key,
        blob_key("b" * 64),
    ]
    listing = {k: RemoteObject(k, 3) for k in keys}
    plan = plan_gc({"r1": old, "r2": new}, listing, {"r2"}, set(), {"r1"})
    assert plan.delete_keys == ("_assetpub/blobs/" + "b" * 64, "css/site.111111111111.css")
    assert plan.doomed == ("r1",) and plan.retained == ("r2",)
    assert plan.record_keys == ("_assetpub/releases/r1.json",)
    assert plan.delete_bytes == 6


# --------------------------------------------------------------------------------------------
# classify_releases: retained, pending (a publish in flight), doomed


T0 = datetime(2026, 12, 1, tzinfo=UTC)


def _state_with(*published_at_minutes: int) -> tuple[State, list[str]]:
    state, ids = State(), []
    for n, minute in enumerate(published_at_minutes):
        at = T0 + timedelta(minutes=minute)
        release_id = f"{at:%Y%m%dT%H%M%S}000Z-{n:08x}"
        ids.append(release_id)
        state = state.activate(
            release_id,
            action="publish",
            now=at,
            by="u@h",
            git_commit=None,
            new_entry=ReleaseEntry(release_id, iso(at), iso(at)),
        )
    return state, ids


@pytest.mark.parametrize(
    ("keep", "grace_minutes", "now_minutes", "uncommitted_minute", "expected"),
    [
        # keep 1, no grace: only the live (newest) release stays; an old dead publish goes.
        (1, 0, 60, 0, ({"r2"}, set(), {"r0", "r1", "dead"})),
        # keep 2: the newest two stay.
        (2, 0, 60, 0, ({"r1", "r2"}, set(), {"r0", "dead"})),
        # A grace of 30 minutes protects r1 (replaced at minute 20, now 45) but not r0 (at 10).
        (1, 30, 45, 0, ({"r1", "r2"}, set(), {"r0", "dead"})),
        # An uncommitted record younger than the grace period is a publish in flight: pending.
        (1, 30, 45, 40, ({"r1", "r2"}, {"dead"}, {"r0"})),
    ],
)
def test_classify_releases(
    keep: int,
    grace_minutes: int,
    now_minutes: int,
    uncommitted_minute: int,
    expected: tuple[set[str], set[str], set[str]],
) -> None:
    state, ids = _state_with(0, 10, 20)
    names = dict(zip(ids, ["r0", "r1", "r2"], strict=True))
    dead_at = T0 + timedelta(minutes=uncommitted_minute)
    dead = f"{dead_at:%Y%m%dT%H%M%S}000Z-deaddead"
    names[dead] = "dead"
    retained, pending, doomed = classify_releases(
        state,
        {*ids, dead},
        keep=keep,
        grace=timedelta(minutes=grace_minutes),
        now=T0 + timedelta(minutes=now_minutes),
        protected={ids[-1]},
    )
    named = tuple({names[r] for r in group} for group in (retained, pending, doomed))
    assert named == expected


def test_classify_releases_keeps_what_the_live_manifest_names() -> None:
    state, ids = _state_with(0, 10, 20)
    retained, _, doomed = classify_releases(
        state, set(ids), keep=1, grace=timedelta(0), now=T0 + timedelta(hours=1), protected={ids[0]}
    )
    assert ids[0] in retained and doomed == {ids[1]}


# --------------------------------------------------------------------------------------------
# plan_gc against records it must not trust: whatever a record says, GC deletes only keys the
# ownership model derives, never one the live site is made of, never assetpub's own.

KEPT = recorded_release(
    "r3",
    {"index.html": ("entry", b"<p>v3"), "css/site.css": ("hashed", b"v3"), "a.js": ("plain", b"3")},
)
GARBAGE = recorded_release(
    "r1",
    {"index.html": ("entry", b"<p>v1"), "css/site.css": ("hashed", b"v1"), "a.js": ("plain", b"1")},
)
GARBAGE_KEYS = {GARBAGE.files["css/site.css"].key, blob_key(GARBAGE.files["a.js"].sha256)}
LIVE_INDEX_AND_RECORD = {"index.html", "_assetpub/releases/r3.json", "_assetpub/state.json"}


def _with_file(record: ReleaseRecord, path: str, file: RecordedFile) -> ReleaseRecord:
    return replace(record, files={**record.files, path: file})


def _hostile(key: str, kind: str = "hashed") -> ReleaseRecord:
    """r2, a doomed release whose record was edited to name `key`."""
    honest = recorded_release("r2", {"index.html": ("entry", b"<p>v2")})
    return _with_file(
        honest, "img/x.png", RecordedFile.of(key, kind, "e" * 64, 1, "image/png", "i")
    )


def _plan(hostile: ReleaseRecord | None = None, *, doomed: str = "r2", **options: Any) -> GcPlan:
    """Plan collecting r1 (honest garbage) and `doomed` (read as `hostile`) with r3 live."""
    records = {"r3": KEPT, "r1": GARBAGE, **({doomed: hostile} if hostile else {})}
    everything = set().union(*(r.needed_keys() for r in records.values()))
    listing = {k: RemoteObject(k, 1) for k in everything | LIVE_INDEX_AND_RECORD}
    listing |= {"uploads/avatar.png": RemoteObject("uploads/avatar.png", 1)}
    return plan_gc(records, listing, {"r3"}, set(), {"r1", doomed}, **options)


@pytest.mark.parametrize(
    "hostile",
    [
        pytest.param(_hostile("index.html"), id="key-live-index"),
        pytest.param(_hostile("_assetpub/releases/r3.json"), id="key-live-record"),
        pytest.param(_hostile("_assetpub/state.json"), id="key-state"),
        pytest.param(_hostile("uploads/avatar.png"), id="key-foreign"),
        pytest.param(_hostile("../outside.png"), id="key-outside-prefix"),
        pytest.param(_hostile("img/x.png", kind="asset"), id="unknown-kind"),
        pytest.param(replace(_hostile("img/x.png", kind="plain"), id="r3"), id="id-not-its-key"),
        pytest.param(
            _with_file(
                recorded_release("r2", {"index.html": ("entry", b"<p>v2")}),
                "../x.png",
                RecordedFile.of("../x.png", "plain", "e" * 64, 1, "image/png", "i"),
            ),
            id="dotdot-path",
        ),
    ],
)
def test_plan_gc_keeps_a_doomed_release_whose_record_no_publish_wrote(
    hostile: ReleaseRecord,
) -> None:
    plan = _plan(hostile)
    assert [u.release for u in plan.untrusted] == ["r2"] and plan.untrusted[0].reason
    # r2 is kept, record and all; r1's garbage still goes, and nothing else.
    assert plan.doomed == ("r1",) and plan.record_keys == ("_assetpub/releases/r1.json",)
    assert set(plan.delete_keys) == GARBAGE_KEYS


def test_plan_gc_keeps_what_an_untrusted_record_claims() -> None:
    # r2's edited record claims r1's stylesheet: keeping it is never unsafe.
    claims = _hostile(GARBAGE.files["css/site.css"].key)
    plan = _plan(claims)
    assert [u.release for u in plan.untrusted] == ["r2"]
    assert set(plan.delete_keys) == {blob_key(GARBAGE.files["a.js"].sha256)}


def test_plan_gc_keeps_a_doomed_release_whose_record_is_unreadable() -> None:
    plan = _plan(unreadable={"r2": "not JSON"})  # r2 doomed, with no record to read
    assert plan.untrusted == (Untrusted("r2", "not JSON"),) and plan.doomed == ("r1",)
    assert set(plan.delete_keys) == GARBAGE_KEYS


def test_plan_gc_never_deletes_what_the_live_site_is_made_of() -> None:
    css = GARBAGE.files["css/site.css"].key
    plan = _plan(live_keys=keys_in_asset_manifest(b'{"files": {"old.css": "%s"}}' % css.encode()))
    assert set(plan.delete_keys) == GARBAGE_KEYS - {css}


def test_plan_gc_never_deletes_in_assetpubs_namespace_but_blobs() -> None:
    # Consistent, and shaped like a bundler hash ("-1a2b3c4d.json"): on a case-insensitive
    # folder origin this path is the live release's record.
    path = "_Assetpub/releases/20261201T000000000Z-1a2b3c4d.json"
    odd = recorded_release("r2", {"index.html": ("entry", b"<p>v2"), path: ("bundler", b"x")})
    assert odd.problems("r2") == [] and path in odd.collectable_keys()
    plan = _plan(odd)
    assert plan.untrusted == () and path not in plan.delete_keys
    assert set(plan.delete_keys) == GARBAGE_KEYS


# --------------------------------------------------------------------------------------------
# removed_names: pages and plain files only collected releases published

R1 = recorded_release(
    "r1",
    {
        "index.html": ("entry", b"<p>v1"),
        "old.html": ("entry", b"<p>gone"),
        "robots.txt": ("entry", b"User-agent: *"),
        "feed.xml": ("plain", b"<rss>1"),
        "About.html": ("entry", b"<p>about"),
    },
)
R2 = recorded_release(
    "r2",
    {
        "index.html": ("entry", b"<p>v2"),
        "old.html": ("entry", b"<p>gone, v2"),
        "x.js": ("plain", b"x"),
    },
)
R3 = recorded_release(
    "r3",
    {
        "index.html": ("entry", b"<p>v3"),
        "about.html": ("entry", b"<p>about"),
        "x.js": ("plain", b"x"),
    },
)
NAME_RECORDS = {"r1": R1, "r2": R2, "r3": R3}


def holding(data: bytes, *, etag: bool = True, key: str = "") -> RemoteObject:
    return RemoteObject(key, len(data), hashlib.md5(data).hexdigest() if etag else None)


def served(**objects: bytes) -> dict[str, RemoteObject]:
    return {k.replace("_", "."): holding(v, key=k) for k, v in objects.items()}


@pytest.mark.parametrize(
    ("listing", "stored", "collected", "deleted", "left"),
    [
        # Only collected releases published old.html, robots.txt and feed.xml, and they still
        # hold r1's bytes.
        (
            served(old_html=b"<p>gone", robots_txt=b"User-agent: *", feed_xml=b"<rss>1"),
            {},
            {"r1", "r2"},
            ["feed.xml", "old.html", "robots.txt"],
            [],
        ),
        # old.html holds r2's version: either collected release's bytes are evidence.
        (served(old_html=b"<p>gone, v2"), {}, {"r1", "r2"}, ["old.html"], []),
        # r2 is kept (not collected): its old.html stays, whatever r1 says.
        (served(old_html=b"<p>gone", feed_xml=b"<rss>1"), {}, {"r1"}, ["feed.xml"], []),
        # Another upload replaced the page since: its bytes are no release's, so it stays.
        (served(old_html=b"<p>someone else's"), {}, {"r1", "r2"}, [], ["old.html"]),
        # No MD5 ETag (a folder, a multipart upload): the stored SHA-256 decides.
        (
            {"old.html": holding(b"<p>gone", etag=False, key="old.html")},
            {"old.html": R1.files["old.html"].sha256},
            {"r1", "r2"},
            ["old.html"],
            [],
        ),
        (
            {"old.html": holding(b"<p>gone", etag=False, key="old.html")},
            {"old.html": "f" * 64},
            {"r1", "r2"},
            [],
            ["old.html"],
        ),
        # Already gone from the origin: nothing to do, nothing to say.
        ({}, {}, {"r1", "r2"}, [], []),
        # r3 (kept) has about.html: on a case-insensitive folder that is About.html.
        (served(About_html=b"<p>about"), {}, {"r1"}, [], []),
        # index.html and x.js are kept releases' names; asset-manifest.json is assetpub's.
        (
            served(index_html=b"<p>v1", x_js=b"x", **{"asset-manifest_json": b"{}"}),
            {},
            {"r1", "r2"},
            [],
            [],
        ),
    ],
    ids=[
        "only-collected",
        "either-version",
        "kept-release-has-it",
        "overwritten",
        "by-stored-digest",
        "stored-digest-differs",
        "already-gone",
        "case-insensitive",
        "kept-and-reserved",
    ],
)
def test_removed_names(
    listing: dict[str, RemoteObject],
    stored: dict[str, str],
    collected: set[str],
    deleted: list[str],
    left: list[str],
) -> None:
    from assetpub.commands.gc import removed_names

    kept = {"r1", "r2", "r3"} - collected
    heads: list[str] = []

    def stored_sha256(key: str) -> str | None:
        heads.append(key)
        return stored.get(key)

    names, left_names = removed_names(
        NAME_RECORDS, collected, kept, listing, R3.needed_keys(), stored_sha256
    )
    assert names == deleted and [n.key for n in left_names] == left
    assert set(heads) <= {k for k, o in listing.items() if o.etag is None}  # HEAD only then


def test_plan_gc_deletes_removed_names_with_their_releases_and_counts_them() -> None:
    listing = served(old_html=b"<p>gone", feed_xml=b"<rss>1", index_html=b"<p>v3")
    listing[blob_key(R1.files["feed.xml"].sha256)] = RemoteObject("b", 6)
    plan = plan_gc(NAME_RECORDS, listing, {"r3"}, set(), {"r1", "r2"}, live_keys=R3.needed_keys())
    assert plan.removed_names == ("feed.xml", "old.html")
    assert set(plan.delete_keys) == {"feed.xml", "old.html", blob_key(R1.files["feed.xml"].sha256)}
    assert plan.total_deletes == 5 and plan.delete_bytes == 6 + 6 + 7
    # A publish in flight (pending) that has old.html again keeps it.
    pending = recorded_release("p", {"old.html": ("entry", b"<p>back")})
    plan = plan_gc({**NAME_RECORDS, "p": pending}, listing, {"r3"}, {"p"}, {"r1", "r2"})
    assert plan.removed_names == ("feed.xml",)
    # An untrusted doomed record deletes nothing by its names.
    broken = replace(R1, id="other")
    plan = plan_gc({**NAME_RECORDS, "r1": broken}, listing, {"r3"}, set(), {"r1"})
    assert plan.removed_names == () and [u.release for u in plan.untrusted] == ["r1"]


def test_a_page_no_kept_release_has_rescues_nothing() -> None:
    """r1's old.html is served as r1 published it, but r3 (kept) has no such page: that is a
    page deleted from the site, which goes with r1 (removed_names), not a mid-switch crash
    that must keep r1; the same bytes under a name the live manifest maps still rescue it."""
    listing = served(old_html=b"<p>gone")
    served_bytes = {"old.html": b"<p>gone"}.get
    assert serving_live_pages(NAME_RECORDS, {"r1"}, {"r3"}, listing, served_bytes) == set()
    rescued = serving_live_pages(
        NAME_RECORDS, {"r1"}, {"r3"}, listing, served_bytes, live_keys={"old.html"}
    )
    assert rescued == {"r1"}
