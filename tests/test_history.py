"""Release history, rollback, GC, status and verify, over memory, folder and S3 (moto over HTTP)."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest
from checks import snapshot
from fixture_types import MakeBuild, MakeOrigin

from assetpub.commands.gc import run_gc
from assetpub.commands.publish import PublishResult, publish
from assetpub.commands.rollback import rollback
from assetpub.commands.status import divergence, origin_status
from assetpub.commands.verify import verify_origin
from assetpub.errors import AssetpubError, OriginError, RollbackError, TooManyDeletesError
from assetpub.history.record import ReleaseRecord, load_record
from assetpub.history.store import StateStore
from assetpub.origins import Origin
from assetpub.origins.base import ObjectHeaders
from assetpub.origins.dryrun import DryRunOrigin
from assetpub.origins.memory import MemoryOrigin
from assetpub.settings import GcSettings, PublishSettings

# The published fixture: the origin, v1..v3's publish results, and what each left live.
Published = tuple[Origin, list[PublishResult], list[dict[str, bytes]]]


def site(version: int) -> dict[str, str | bytes]:
    """Version n of a small site: shared logo, per-version stylesheet, image and page text."""
    return {
        "index.html": f"<link rel=stylesheet href=css/site.css><img src=img/logo.png>v{version}",
        "about.html": f"<link rel=stylesheet href=css/site.css>about v{version}",
        "css/site.css": f"body{{background:url(../img/bg{version}.png)}}",
        f"img/bg{version}.png": f"bg{version}".encode(),
        "img/logo.png": b"logo",
        "chunk.js": f"// plain, named in JS: chunk v{version}",
        "main.0123456789abcdef.js": "import('./chunk.js')",
    }


def live_files(origin: Origin) -> dict[str, bytes]:
    return {
        k: origin.get(k) or b""
        for k in ("index.html", "about.html", "asset-manifest.json", "chunk.js")
    }


@pytest.fixture
def published(make_build: MakeBuild, make_origin: MakeOrigin) -> Published:
    """An origin with v1, v2, v3 published, and what each left live."""
    origin = make_origin()
    results: list[PublishResult] = []
    lives: list[dict[str, bytes]] = []
    for version in (1, 2, 3):
        build = make_build(site(version))
        results.append(publish(PublishSettings(build, (), message=f"v{version}"), origins=[origin]))
        lives.append(live_files(origin))
    return origin, results, lives


def ids(results: list[PublishResult]) -> list[str]:
    return [r.release.id for r in results]


def test_releases_are_listed_newest_first_with_one_live(published: Published) -> None:
    origin, results, _ = published
    state, _ = StateStore(origin).load()
    assert [e.id for e in state.newest_first()] == list(reversed(ids(results)))
    assert state.live == results[2].release.id
    assert [e.message for e in state.newest_first()] == ["v3", "v2", "v1"]
    assert [(a.action, a.release) for a in state.log] == [("publish", i) for i in ids(results)]
    entry = state.entry(results[0].release.id)
    assert entry is not None and entry.files == len(site(1))
    assert entry.bytes == results[0].release.total_bytes


def test_rollback_and_roll_forward_restore_byte_identical_files(published: Published) -> None:
    origin, results, lives = published
    result = rollback([origin])
    assert result.release == results[1].release.id
    assert live_files(origin) == lives[1]  # index, about, manifest and the plain chunk
    forward = rollback([origin], results[2].release.id)
    assert forward.release == results[2].release.id
    assert live_files(origin) == lives[2]
    state, _ = StateStore(origin).load()
    assert [a.action for a in state.log] == ["publish"] * 3 + ["rollback"] * 2
    assert verify_origin(origin).healthy


def test_rollback_uploads_nothing_from_disk(published: Published) -> None:
    origin, results, lives = published
    before = dict(origin.stats.by_operation)
    rollback([origin], results[0].release.id)
    ops = {k: v - before.get(k, 0) for k, v in origin.stats.by_operation.items()}
    # State, manifest, two pages; the plain chunk comes back by a copy within the origin.
    assert ops.get("put", 0) == 4 and ops.get("copy", 0) == 1
    assert live_files(origin) == lives[0]


def test_rollback_errors_change_nothing(published: Published) -> None:
    origin, results, _ = published
    before = snapshot(origin)
    with pytest.raises(RollbackError, match="not retained"):
        rollback([origin], "20200101T000000Z-00000000")
    record = load_record(origin, results[0].release.id)
    bg1 = record.files["img/bg1.png"].key
    origin.delete([bg1])
    before = snapshot(origin)
    with pytest.raises(RollbackError, match=rf"cannot be restored: {bg1}"):
        rollback([origin], results[0].release.id)
    assert snapshot(origin) == before


def test_rollback_with_nothing_to_go_back_to(
    make_build: MakeBuild, make_origin: MakeOrigin
) -> None:
    origin = make_origin()
    with pytest.raises(RollbackError, match="no release is live"):
        rollback([origin])
    publish(PublishSettings(make_build(site(1)), ()), origins=[origin])
    with pytest.raises(RollbackError, match="no previous release"):
        rollback([origin])


def test_dry_run_rollback_changes_nothing(published: Published) -> None:
    origin, results, _ = published
    before = snapshot(origin)
    result = rollback([DryRunOrigin(origin)], dry_run=True)
    assert result.release == results[1].release.id and snapshot(origin) == before


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
    from assetpub.history.state import GcLease, iso, utc_now

    origin, _, _ = published
    store = StateStore(origin)
    lease = GcLease("other", iso(utc_now() + timedelta(minutes=5)), (), "elsewhere:1")
    store.update(lambda s: s.take_gc_lease(lease))
    with pytest.raises(OriginError, match="another GC is running"):
        run_gc(origin, GcSettings(keep=1, grace=timedelta(0)))


def test_verify_finds_missing_changed_and_tampered_objects(published: Published) -> None:
    origin, results, _ = published
    assert verify_origin(origin).healthy and verify_origin(origin, deep=True).healthy
    record = load_record(origin, results[2].release.id)
    css = record.files["css/site.css"]
    headers = ObjectHeaders(css.content_type, css.cache_control, css.sha256)
    # Same size, other bytes: only a deep verify reads it.
    origin.put_bytes(css.key, b"x" * css.size, headers)
    assert verify_origin(origin).healthy
    deep = verify_origin(origin, deep=True)
    assert [p.key for p in deep.problems] == [css.key]
    origin.put_bytes("index.html", b"<p>hacked", headers)
    logo = record.files["img/logo.png"].key
    origin.delete([logo])
    problems = {p.key: p.message for p in verify_origin(origin).problems}
    assert problems.keys() == {"index.html", logo}
    assert "missing" in problems[logo]


def test_status_flags_divergence(make_build: MakeBuild, make_origin: MakeOrigin) -> None:
    a, b = make_origin(), make_origin()
    for version in (1, 2):
        publish(PublishSettings(make_build(site(version)), ()), origins=[a, b])
    assert divergence([origin_status(a), origin_status(b)]) == []
    rollback([a])
    reasons = divergence([origin_status(a), origin_status(b)])
    assert len(reasons) == 1 and "different releases" in reasons[0]


def test_multi_origin_rollback_checks_every_origin_first(
    make_build: MakeBuild, make_origin: MakeOrigin
) -> None:
    a, b = make_origin(), make_origin()
    results = [publish(PublishSettings(make_build(site(v)), ()), origins=[a, b]) for v in (1, 2)]
    record = load_record(b, results[0].release.id)
    b.delete([record.files["img/bg1.png"].key])
    before = snapshot(a)
    with pytest.raises(AssetpubError, match="cannot be restored"):
        rollback([a, b])
    assert snapshot(a) == before


def test_records_are_never_overwritten(make_build: MakeBuild, make_origin: MakeOrigin) -> None:
    origin = make_origin()
    result = publish(PublishSettings(make_build(site(1)), ()), origins=[origin])
    key = f"_assetpub/releases/{result.release.id}.json"
    from assetpub.errors import AlreadyExistsError

    with pytest.raises(AlreadyExistsError):
        origin.put_bytes(key, b"{}", ObjectHeaders("a", "b", "c"), if_absent=True)
    assert json.loads(origin.get(key) or b"")["id"] == result.release.id


class NoConditionalWrites(MemoryOrigin):
    """An S3-compatible service that ignores If-Match / If-None-Match."""

    def supports_conditional_writes(self) -> bool:
        return False

    def put_bytes(
        self,
        key: str,
        data: bytes,
        headers: ObjectHeaders,
        *,
        if_absent: bool = False,
        if_match: str | None = None,
    ) -> None:
        super().put_bytes(key, data, headers)


def test_without_conditional_writes_a_lock_object_stands_in_with_a_warning(
    make_build: MakeBuild,
) -> None:
    origin = NoConditionalWrites("no-cas")
    warnings: list[str] = []
    from assetpub.commands.publish import Hooks

    for version in (1, 2):
        publish(
            PublishSettings(make_build(site(version)), ()),
            Hooks(warn=warnings.append),
            origins=[origin],
        )
    assert any("does not enforce conditional writes" in w for w in warnings)
    state, _ = StateStore(origin).load()
    assert len(state.releases) == 2 and "_assetpub/lock.json" not in origin.objects
    assert verify_origin(origin).healthy


def test_publish_waits_for_a_running_gc_then_commits(make_build: MakeBuild) -> None:
    import threading

    from assetpub.history.state import GcLease, iso, utc_now

    origin = MemoryOrigin("waits")
    publish(PublishSettings(make_build(site(1)), ()), origins=[origin])
    store = StateStore(origin)
    lease = GcLease("gc-1", iso(utc_now() + timedelta(minutes=5)), (), "another-host:1")
    store.update(lambda s: s.take_gc_lease(lease))
    timer = threading.Timer(0.5, lambda: store.update(lambda s: s.without_gc_lease("gc-1")))
    timer.start()
    started = time.monotonic()
    result = publish(PublishSettings(make_build(site(2)), ()), origins=[origin])
    waited = time.monotonic() - started
    timer.join()
    assert waited >= 0.4  # it did not commit while the lease was held
    state, _ = store.load()
    assert state.live == result.release.id and state.gc_lease is None
    assert verify_origin(origin).healthy


def test_a_lease_left_by_a_dead_local_process_is_stale() -> None:
    import os
    import socket
    import subprocess
    import sys

    from assetpub.history.lease import is_stale_local_holder

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    host = socket.gethostname()
    assert is_stale_local_holder(f"{host}:{dead.stdout.strip()}")
    assert not is_stale_local_holder(f"{host}:{os.getpid()}")
    assert not is_stale_local_holder(f"some-other-host:{dead.stdout.strip()}")
    assert not is_stale_local_holder("garbage")


def test_rollback_failing_on_the_second_origin_says_who_is_where(make_build: MakeBuild) -> None:
    from assetpub.errors import PartialSwitchError

    good, bad = MemoryOrigin("rb-good"), MemoryOrigin("rb-bad")
    results = [
        publish(PublishSettings(make_build(site(v)), ()), origins=[good, bad]) for v in (1, 2)
    ]
    bad.fail = lambda op, key: key == "index.html"
    with pytest.raises(PartialSwitchError) as info:
        rollback([good, bad])
    message = info.value.message
    assert f"live on {results[0].release.id}: memory://rb-good" in message
    assert "not switched: memory://rb-bad" in message
    bad.fail = None
    rollback([good, bad], results[0].release.id)  # running it again converges
    assert good.objects["index.html"] == bad.objects["index.html"]
    assert verify_origin(bad).healthy
