"""GC runs over memory, folder and S3 (moto over HTTP): what goes, what stays, the safety rails."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any, BinaryIO

import pytest
from checks import snapshot
from fixture_types import MakeBuild
from history_support import Published, ids, live_files, site

from assetpub.commands.gc import run_gc
from assetpub.commands.publish import publish
from assetpub.commands.rollback import rollback
from assetpub.commands.verify import verify_origin
from assetpub.errors import HistoryError, NewerFormatError, OriginError, TooManyDeletesError
from assetpub.history.record import ReleaseRecord, load_record
from assetpub.history.store import StateStore, private_json_headers
from assetpub.keys import blob_key
from assetpub.origins import Origin
from assetpub.origins.base import ObjectHeaders
from assetpub.origins.memory import MemoryOrigin
from assetpub.settings import GcSettings, PublishSettings


def only_needed_by(records: list[ReleaseRecord], index: int) -> set[str]:
    others = set().union(*(r.owned_keys() for i, r in enumerate(records) if i != index))
    return records[index].owned_keys() - others


def test_gc_removes_exactly_what_only_expired_releases_needed(published: Published) -> None:
    origin, results, lives = published
    origin.put_bytes("uploads/user.png", b"user", ObjectHeaders("image/png", "no-cache", "x"))
    records = [load_record(origin, i) for i in ids(results)]
    before = snapshot(origin)

    dry = run_gc(origin, GcSettings(keep=2, grace=timedelta(0), dry_run=True))
    assert snapshot(origin) == before
    expected = only_needed_by(records, 0)
    assert expected and set(dry.plan.delete_keys) == expected
    assert dry.plan.doomed == (results[0].release.id,)
    # The dry run took the real path (lease, batches, records) through the wrapper's overlay.
    assert dry.dry_run and (dry.deleted_objects, dry.deleted_records) == (len(expected), 1)

    result = run_gc(origin, GcSettings(keep=2, grace=timedelta(0)))
    after = snapshot(origin)
    gone = set(before) - set(after)
    assert gone == expected | {f"_assetpub/releases/{results[0].release.id}.json"}
    assert after["uploads/user.png"] == b"user"  # not assetpub's: never touched
    assert result.deleted_objects == len(expected)
    state, _ = StateStore(origin).load()
    assert state.release_ids == set(ids(results)[1:]) and state.gc_lease is None
    assert verify_origin(origin).healthy and live_files(origin) == lives[2]
    # A second run finds nothing more to do.
    assert run_gc(origin, GcSettings(keep=2, grace=timedelta(0))).plan.delete_keys == ()


def test_keep_counts_the_old_live_release_after_a_rollback(published: Published) -> None:
    """`keep N` is N releases, the live one among them (Capistrano's keep_releases): after a
    rollback to the oldest, keep 2 is it and the newest, keep 1 is it alone."""
    origin, results, _ = published
    rollback([origin], results[0].release.id)
    run_gc(origin, GcSettings(keep=2, grace=timedelta(0)))
    state, _ = StateStore(origin).load()
    assert state.live == results[0].release.id
    assert state.release_ids == {results[0].release.id, results[2].release.id}
    run_gc(origin, GcSettings(keep=1, grace=timedelta(0)))
    state, _ = StateStore(origin).load()
    assert state.release_ids == {results[0].release.id}
    assert verify_origin(origin).healthy


def test_grace_protects_a_release_replaced_a_minute_ago(published: Published) -> None:
    origin, results, _ = published
    result = run_gc(origin, GcSettings(keep=1, grace=timedelta(hours=24)))
    assert result.plan.doomed == () and result.deleted_objects == 0
    assert set(result.plan.retained) == set(ids(results))


def test_max_deletes_stops_before_deleting_unless_forced(published: Published) -> None:
    origin, results, _ = published
    before = snapshot(origin)
    with pytest.raises(TooManyDeletesError, match="more than --max-deletes 1"):
        run_gc(origin, GcSettings(keep=1, grace=timedelta(0), max_deletes=1))
    assert snapshot(origin) == before
    run_gc(origin, GcSettings(keep=1, grace=timedelta(0), max_deletes=1, force=True))
    assert StateStore(origin).load()[0].release_ids == {results[2].release.id}


def test_a_publish_that_died_before_commit_is_collected_after_grace(make_build: MakeBuild) -> None:
    origin = MemoryOrigin("died")
    publish(PublishSettings(make_build(site(1)), ()), origins=[origin])
    origin.fail = lambda op, key: key == "_assetpub/state.json"
    with pytest.raises(OriginError, match="injected"):
        publish(PublishSettings(make_build(site(2)), ()), origins=[origin])
    origin.fail = None
    dead = [k for k in origin.objects if k.startswith("img/bg2.")]
    assert dead  # uploaded, never committed
    kept = run_gc(origin, GcSettings(keep=5, grace=timedelta(hours=1)))
    assert kept.plan.pending and dead[0] in origin.objects
    collected = run_gc(origin, GcSettings(keep=5, grace=timedelta(0)))
    assert collected.plan.doomed == kept.plan.pending
    assert dead[0] not in origin.objects
    assert verify_origin(origin).healthy


def test_gc_refuses_while_another_gc_holds_the_lease(published: Published) -> None:
    from assetpub.clock import SYSTEM_CLOCK
    from assetpub.history.state import GcLease, iso

    origin, _, _ = published
    store = StateStore(origin)
    lease = GcLease("other", iso(SYSTEM_CLOCK.now() + timedelta(seconds=90)), (), "elsewhere:1")
    store.update(lambda s: s.take_gc_lease(lease))
    with pytest.raises(OriginError, match="another GC is running"):
        run_gc(origin, GcSettings(keep=1, grace=timedelta(0)))


# --------------------------------------------------------------------------------------------
# Records GC must not trust: v1's record on the origin is edited, v1 and v2 are expired (keep
# 1, no grace) and v3 is live. Whatever v1's record says, the live site, the history and the
# user's own objects stay, and v2's garbage still goes.

RecordEdit = Callable[[dict[str, Any], ReleaseRecord], None]
AVATAR = "uploads/avatar.png"


def _hashed_file(data: dict[str, Any]) -> dict[str, Any]:
    file: dict[str, Any] = data["files"]["css/site.css"]
    return file


def _set_key(key: Callable[[ReleaseRecord], str]) -> RecordEdit:
    def edit(data: dict[str, Any], live: ReleaseRecord) -> None:
        _hashed_file(data)["key"] = key(live)

    return edit


def _add_bundler(path: Callable[[ReleaseRecord], str]) -> RecordEdit:
    """A bundler file recorded under the path `path(live)`, its key that path too."""

    def edit(data: dict[str, Any], live: ReleaseRecord) -> None:
        data["files"][path(live)] = {**_hashed_file(data), "kind": "bundler", "key": path(live)}

    return edit


def _move_plain(path: str) -> RecordEdit:
    def edit(data: dict[str, Any], live: ReleaseRecord) -> None:
        data["files"][path] = {**data["files"].pop("chunk.js"), "key": path}

    return edit


def _entry_to_hashed(data: dict[str, Any], live: ReleaseRecord) -> None:
    data["files"]["index.html"]["kind"] = "hashed"


def _unknown_kind(data: dict[str, Any], live: ReleaseRecord) -> None:
    _hashed_file(data)["kind"] = "font"


def _live_blob(data: dict[str, Any], live: ReleaseRecord) -> None:
    # Consistent: a plain file's digest is its blob's name, here the live release's blob.
    data["files"]["chunk.js"]["sha256"] = live.files["chunk.js"].sha256


# (edit, whether v1 is kept: its record is one no publish could have written)
HOSTILE_EDITS: dict[str, tuple[RecordEdit, bool]] = {
    "entry-kind-hashed": (_entry_to_hashed, True),
    "key-live-record": (_set_key(lambda live: f"_assetpub/releases/{live.id}.json"), True),
    "key-state": (_set_key(lambda live: "_assetpub/state.json"), True),
    "key-live-index": (_set_key(lambda live: "index.html"), True),
    "key-live-asset": (_set_key(lambda live: live.files["css/site.css"].key), True),
    "key-foreign": (_set_key(lambda live: AVATAR), True),
    "key-outside-prefix": (_set_key(lambda live: "../outside.css"), True),
    "unknown-kind": (_unknown_kind, True),
    "path-dotdot": (_move_plain("../chunk.js"), True),
    "path-absolute": (_move_plain("/chunk.js"), True),
    # The live record's key, often shaped like a Vite hash ("-1a2b3c4d.json"): assetpub's own.
    "path-live-record": (_add_bundler(lambda live: f"_assetpub/releases/{live.id}.json"), True),
    # Consistent records, collected: but only what the model derives from them goes.
    "bundler-foreign": (_add_bundler(lambda live: AVATAR), False),
    "plain-live-blob": (_live_blob, False),
}


def _rewrite_record(
    origin: Origin, release_id: str, change: Callable[[dict[str, Any]], None]
) -> None:
    key = f"_assetpub/releases/{release_id}.json"
    data = json.loads(origin.get(key) or b"")
    change(data)
    raw = json.dumps(data).encode()
    origin.put_bytes(key, raw, private_json_headers(raw))


def _live_site(origin: Origin) -> dict[str, bytes | None]:
    """index.html, asset-manifest.json and every key the live asset manifest maps to."""
    manifest = origin.get("asset-manifest.json") or b"{}"
    keys = {"index.html", "asset-manifest.json", *json.loads(manifest)["files"].values()}
    return {k: origin.get(k) for k in sorted(keys)}


@pytest.mark.parametrize("edit_name", list(HOSTILE_EDITS))
def test_gc_trusts_no_old_record(published: Published, edit_name: str) -> None:
    origin, results, _ = published
    edit, v1_kept = HOSTILE_EDITS[edit_name]
    origin.put_bytes(AVATAR, b"mine", ObjectHeaders("image/png", "no-cache", "x"))
    v1, v2, v3 = (load_record(origin, i) for i in ids(results))
    v1_key, v2_key, v3_key = (f"_assetpub/releases/{r.id}.json" for r in (v1, v2, v3))
    _rewrite_record(origin, v1.id, lambda data: edit(data, v3))
    before, site_before = snapshot(origin), _live_site(origin)
    assert all(data is not None for data in site_before.values())
    warnings: list[str] = []

    result = run_gc(origin, GcSettings(keep=1, grace=timedelta(0)), warn=warnings.append)

    after = snapshot(origin)
    gone = set(before) - set(after)
    # The live site is whole, the history and the user's object are there.
    assert verify_origin(origin).healthy and _live_site(origin) == site_before
    assert {v3_key, "_assetpub/state.json"} <= set(after) and after[AVATAR] == b"mine"
    # GC still collected v2, with exactly the garbage only it needed...
    v2_only = v2.collectable_keys() - v1.owned_keys() - v3.owned_keys()
    assert v2_only and v2_only | {v2_key} <= gone
    # ...and deleted nothing but what the honest records derive.
    honest_garbage = (v1.collectable_keys() | v2.collectable_keys()) - v3.owned_keys()
    assert gone <= honest_garbage | {v1_key, v2_key}
    state, _ = StateStore(origin).load()
    if v1_kept:
        assert gone == v2_only | {v2_key}
        assert [u.release for u in result.plan.untrusted] == [v1.id]
        assert len(warnings) == 1 and v1_key in warnings[0]
        assert state.release_ids == {v1.id, v3.id}
    else:
        assert v1_key in gone and not result.plan.untrusted and not warnings
        assert state.release_ids == {v3.id}


@pytest.mark.parametrize(
    "content", [b"{not json", b"[]", b'{"id": "x"}'], ids=["invalid-json", "array", "no-files"]
)
def test_gc_keeps_a_release_whose_record_is_broken_and_collects_the_others(
    published: Published, content: bytes
) -> None:
    origin, results, _ = published
    v1, v2, v3 = (load_record(origin, i) for i in ids(results))
    v1_key = f"_assetpub/releases/{v1.id}.json"
    origin.put_bytes(v1_key, content, private_json_headers(content))
    warnings: list[str] = []
    result = run_gc(origin, GcSettings(keep=1, grace=timedelta(0)), warn=warnings.append)
    assert result.plan.doomed == (v2.id,) and [u.release for u in result.plan.untrusted] == [v1.id]
    assert len(warnings) == 1 and v1_key in warnings[0]
    assert origin.get(v1_key) == content and verify_origin(origin).healthy
    assert StateStore(origin).load()[0].release_ids == {v1.id, v3.id}
    # v1's record says nothing, so v1 protects nothing: v2's garbage goes, shared or not.
    assert not (v2.collectable_keys() - v3.owned_keys()) & {o.key for o in origin.list()}


@pytest.mark.parametrize(
    ("which", "content"),
    [
        # A release GC keeps, with a record no publish wrote: what it needs is unknown.
        (2, b'{"format": 1}'),
        (1, b"[]"),  # with keep 2, v2 is retained
        # A record a newer assetpub wrote, even a doomed one: this code cannot read it.
        (0, b'{"format": 2, "files": {}}'),
    ],
    ids=["live-broken", "retained-broken", "doomed-newer-format"],
)
def test_gc_deletes_nothing_when_it_cannot_know_what_a_record_protects(
    published: Published, which: int, content: bytes
) -> None:
    origin, results, _ = published
    key = f"_assetpub/releases/{results[which].release.id}.json"
    origin.put_bytes(key, content, private_json_headers(content))
    before = snapshot(origin)
    with pytest.raises(HistoryError, match=re.escape(key)) as caught:
        run_gc(origin, GcSettings(keep=2 if which == 1 else 1, grace=timedelta(0)))
    assert "\n" not in caught.value.message
    if which == 0:
        assert isinstance(caught.value, NewerFormatError)
        assert "newer assetpub (format 2, this one reads 1)" in caught.value.message
    assert snapshot(origin) == before


def test_gc_keeps_every_key_the_live_asset_manifest_maps_to(published: Published) -> None:
    origin, results, _ = published
    v2 = load_record(origin, results[1].release.id)
    # The live manifest on the origin (not the record) maps a path to v2's stylesheet.
    css = v2.files["css/site.css"].key
    manifest = json.loads(origin.get("asset-manifest.json") or b"")
    manifest["files"]["legacy.css"] = css
    raw = json.dumps(manifest).encode()
    origin.put_bytes("asset-manifest.json", raw, private_json_headers(raw))
    result = run_gc(origin, GcSettings(keep=1, grace=timedelta(0)))
    assert results[1].release.id in result.plan.doomed and css not in result.plan.delete_keys
    assert origin.get(css) is not None
    assert blob_key(v2.files["chunk.js"].sha256) in result.plan.delete_keys  # v2 did go


def test_verify_reports_an_inconsistent_live_record(published: Published) -> None:
    origin, results, _ = published
    live = results[2].release.id
    _rewrite_record(origin, live, lambda data: _entry_to_hashed(data, results[2].release))
    problems = verify_origin(origin).problems
    key = f"_assetpub/releases/{live}.json"
    assert [p.key for p in problems] == [key] and "not a valid release record" in problems[
        0
    ].message


def test_a_record_another_gc_collects_while_this_one_plans_makes_it_plan_again(
    published: Published,
) -> None:
    """Two GCs: this one lists a doomed release's record, the other deletes it before this one
    reads it. That is the other GC's work done, not "a record is missing": plan again."""
    origin, results, lives = published
    doomed = results[0].release.id
    record_key = f"_assetpub/releases/{doomed}.json"
    real_get_to, reads = origin.get_to, list[str]()

    def get_to(key: str, out: BinaryIO) -> bool:
        if key == record_key and not reads:
            reads.append(key)
            origin.delete([key])  # what the other GC just did
            return False
        return real_get_to(key, out)

    origin.get_to = get_to  # type: ignore[method-assign]
    run_gc(origin, GcSettings(keep=2, grace=timedelta(0)))  # no "has no record" error
    assert reads == [record_key]
    state, _ = StateStore(origin).load()
    assert state.release_ids == set(ids(results)[1:]) and state.gc_lease is None
    assert verify_origin(origin).healthy and live_files(origin) == lives[2]


def test_gc_deletes_pages_and_files_no_kept_release_has_after_grace(
    make_build: MakeBuild, backend: Any
) -> None:
    """A page deleted from the site and a feed no longer built go once the last release that
    had them is collected (their grace over); a name someone else wrote since stays, with one
    warning; the dry run shows exactly what the real run deletes."""
    origin = backend.open()
    old_site = {**site(1), "old.html": "<p>deleted later", "feed.xml": "<rss>1", "robots.txt": "x"}
    first = publish(PublishSettings(make_build(old_site), ()), origins=[origin])
    assert first.release.files["feed.xml"].kind == "plain"
    publish(PublishSettings(make_build(site(2)), ()), origins=[origin])
    lives = live_files(origin)

    in_grace = run_gc(origin, GcSettings(keep=1, grace=timedelta(hours=1)))
    assert in_grace.plan.doomed == () and origin.get("old.html") == b"<p>deleted later"

    origin.put_bytes("robots.txt", b"theirs", ObjectHeaders("text/plain", "no-cache", "0" * 64))
    before = snapshot(origin)
    warnings: list[str] = []
    dry = run_gc(origin, GcSettings(keep=1, grace=timedelta(0), dry_run=True), warn=warnings.append)
    assert snapshot(origin) == before
    assert dry.plan.removed_names == ("feed.xml", "old.html")
    assert [n.key for n in dry.plan.left_names] == ["robots.txt"]
    assert warnings == [
        f"{origin.url}: leaving robots.txt: no kept release has it, but it holds other bytes "
        "than any release that published it (another upload?)"
    ]

    result = run_gc(origin, GcSettings(keep=1, grace=timedelta(0)), warn=warnings.append)
    gone = set(before) - set(snapshot(origin))
    assert gone == set(dry.plan.delete_keys) | set(dry.plan.record_keys)
    assert {"feed.xml", "old.html", blob_key(first.release.files["feed.xml"].sha256)} <= gone
    assert origin.get("robots.txt") == b"theirs"
    assert result.deleted_objects == len(dry.plan.delete_keys)
    assert verify_origin(origin).healthy and live_files(origin) == lives


def test_max_deletes_counts_removed_names(make_build: MakeBuild) -> None:
    origin = MemoryOrigin("names")
    pages = {f"old{n}.html": f"<p>{n}" for n in range(3)}
    publish(PublishSettings(make_build({**site(1), **pages}), ()), origins=[origin])
    publish(PublishSettings(make_build(site(1) | {"index.html": "<p>v2"}), ()), origins=[origin])
    plan = run_gc(origin, GcSettings(keep=1, grace=timedelta(0), dry_run=True)).plan
    assert plan.removed_names == tuple(sorted(pages))
    # The three pages, the stylesheet only v1 loaded, and v1's record.
    assert plan.total_deletes == 5
    with pytest.raises(TooManyDeletesError, match="delete 5 objects"):
        run_gc(origin, GcSettings(keep=1, grace=timedelta(0), max_deletes=4))
    assert all(origin.get(p) for p in pages)
    run_gc(origin, GcSettings(keep=1, grace=timedelta(0), max_deletes=5))
    assert not any(origin.get(p) for p in pages) and verify_origin(origin).healthy


def test_a_publish_that_listed_a_plain_file_before_gc_removed_it_puts_it_back(
    make_build: MakeBuild, backend: Any
) -> None:
    """v3 brings back v1's feed.xml, byte for byte: its listing finds it there (v1's, which
    no kept release has) and the switch would skip it. A GC between that listing and the
    commit deletes it; the commit sees the GC epoch moved and uploads it again."""
    from assetpub.commands.publish import Hooks

    origin = backend.open()
    with_feed = {**site(1), "feed.xml": "<rss>1"}
    publish(PublishSettings(make_build(with_feed), ()), origins=[origin])
    publish(PublishSettings(make_build(site(2)), ()), origins=[origin])
    collected: list[tuple[str, ...]] = []

    def gc_now(_uploads: int) -> None:
        result = run_gc(backend.open(), GcSettings(keep=1, grace=timedelta(0)))
        collected.append(result.plan.removed_names)

    back = publish(
        PublishSettings(make_build({**site(3), "feed.xml": "<rss>1"}), ()),
        Hooks(on_plan=gc_now),
        origins=[origin],
    )
    assert collected == [("feed.xml",)]
    assert origin.get("feed.xml") == b"<rss>1"
    assert verify_origin(origin).healthy
    assert StateStore(origin).load()[0].live == back.release.id
