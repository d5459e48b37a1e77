"""GC runs over memory, folder and S3 (moto over HTTP): what goes, what stays, the safety rails."""

from __future__ import annotations

from datetime import timedelta

import pytest
from checks import snapshot
from fixture_types import MakeBuild
from history_support import Published, ids, live_files, site

from assetpub.commands.gc import run_gc
from assetpub.commands.publish import publish
from assetpub.commands.rollback import rollback
from assetpub.commands.verify import verify_origin
from assetpub.errors import OriginError, TooManyDeletesError
from assetpub.history.record import ReleaseRecord, load_record
from assetpub.history.store import StateStore
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


def test_gc_after_rollback_keeps_the_old_live_release(published: Published) -> None:
    origin, results, _ = published
    rollback([origin], results[0].release.id)
    run_gc(origin, GcSettings(keep=1, grace=timedelta(0)))
    state, _ = StateStore(origin).load()
    assert state.live == results[0].release.id
    assert state.release_ids == {results[0].release.id, results[2].release.id}
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
    lease = GcLease("other", iso(SYSTEM_CLOCK.now() + timedelta(minutes=5)), (), "elsewhere:1")
    store.update(lambda s: s.take_gc_lease(lease))
    with pytest.raises(OriginError, match="another GC is running"):
        run_gc(origin, GcSettings(keep=1, grace=timedelta(0)))
