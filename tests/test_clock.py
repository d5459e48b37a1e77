"""Lease, grace and wait logic as functions of `now`: millisecond edges with a fake clock,
no threads, no real sleeps."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from fixture_types import MakeBuild

from assetpub.clock import FakeClock
from assetpub.commands.gc import break_lease, run_gc
from assetpub.commands.publish import publish
from assetpub.errors import OriginError
from assetpub.history.commit import commit_release
from assetpub.history.lease import (
    CLOCK_SKEW_MARGIN,
    LEASE_SECONDS,
    is_implausible,
    lease_blocks,
)
from assetpub.history.state import GcLease, ReleaseEntry, State, iso
from assetpub.history.store import StateStore
from assetpub.origins.memory import MemoryOrigin
from assetpub.settings import GcSettings, PublishSettings

T0 = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
MS = timedelta(milliseconds=1)
OTHER_HOST = "another-host:1"  # never taken for a dead local process


def leased(expires: datetime) -> State:
    return State(gc_lease=GcLease("gc-1", iso(expires), (), OTHER_HOST))


def test_a_lease_blocks_until_the_millisecond_it_expires() -> None:
    state = leased(T0)
    assert lease_blocks(state, T0 - MS)
    assert not lease_blocks(state, T0)
    assert not lease_blocks(state, T0 + MS)
    assert not lease_blocks(State(), T0)


def _entry(release_id: str) -> ReleaseEntry:
    return ReleaseEntry(release_id, iso(T0), iso(T0))


def test_a_commit_gives_up_on_a_lease_held_past_its_wait_without_sleeping_for_real() -> None:
    clock = FakeClock(T0)
    origin = MemoryOrigin("clock-wait")
    store = StateStore(origin, clock=clock)
    # Plausible (a GC sets 60 s, another host's clock may run a minute ahead) and held past
    # the wait.
    store.update(
        lambda s: s.take_gc_lease(GcLease("gc-1", iso(T0 + timedelta(seconds=120)), (), OTHER_HOST))
    )
    started = time.monotonic()
    with pytest.raises(OriginError, match="held its lease for over 90 s"):
        commit_release(
            store,
            _entry("20261201T120000000Z-00000001"),
            action="publish",
            by="t@h",
            git_commit=None,
            seen_epoch=None,
            refresh=lambda: None,
            wait_seconds=90,
        )
    assert 90 <= clock.slept <= 90.5  # it waited the whole time, in fake seconds
    assert time.monotonic() - started < 5
    assert StateStore(origin).load()[0].live is None  # nothing committed


def test_a_commit_goes_through_once_the_lease_expires() -> None:
    clock = FakeClock(T0)
    store = StateStore(MemoryOrigin("clock-expire"), clock=clock)
    store.update(
        lambda s: s.take_gc_lease(GcLease("gc-1", iso(T0 + timedelta(seconds=1)), (), OTHER_HOST))
    )
    epoch = store.load()[0].gc_epoch
    state = commit_release(
        store,
        _entry("20261201T120000000Z-00000001"),
        action="publish",
        by="t@h",
        git_commit=None,
        seen_epoch=epoch,
        refresh=lambda: None,
    )
    assert state.live == "20261201T120000000Z-00000001"
    assert 1 <= clock.slept <= 1.25  # polled every 0.25 s until the lease ran out
    assert state.log[-1].at == iso(clock.now())  # committed at the clock's time


def test_gc_grace_edge_is_a_millisecond(make_build: MakeBuild) -> None:
    origin = MemoryOrigin("clock-grace")
    clock = FakeClock(T0)
    files = {"index.html": '<link rel=stylesheet href="a.css">', "a.css": "a{}"}
    first = publish(PublishSettings(make_build(files), ()), origins=[origin], clock=clock)
    clock.advance(10)
    files = {"index.html": '<link rel=stylesheet href="a.css">', "a.css": "b{}"}
    publish(PublishSettings(make_build(files), ()), origins=[origin], clock=clock)
    replaced_at = clock.now()
    options = GcSettings(keep=1, grace=timedelta(hours=1))

    clock.current = replaced_at + timedelta(hours=1) - MS
    kept = run_gc(origin, options, clock=clock)
    assert first.release.id in kept.plan.retained and kept.deleted_objects == 0

    clock.current = replaced_at + timedelta(hours=1) + MS
    collected = run_gc(origin, options, clock=clock)
    assert collected.plan.doomed == (first.release.id,)
    assert collected.deleted_objects == 1  # the first release's hashed a.css


def _commit_under(lease_expires: datetime, clock: FakeClock, name: str) -> MemoryOrigin:
    origin = MemoryOrigin(name)
    store = StateStore(origin, clock=clock)
    store.update(lambda s: s.take_gc_lease(GcLease("gc-1", iso(lease_expires), (), OTHER_HOST)))
    commit_release(
        store,
        _entry("20261201T120000000Z-00000001"),
        action="publish",
        by="t@h",
        git_commit=None,
        seen_epoch=None,
        refresh=lambda: None,
        wait_seconds=600,
    )
    return origin


def test_a_lease_beyond_what_any_gc_sets_is_reported_at_once_not_waited_for() -> None:
    # A GC sets now + 60 s; another host's clock may run 60 s ahead: 120 s is the limit.
    limit = T0 + timedelta(seconds=LEASE_SECONDS + CLOCK_SKEW_MARGIN)
    assert not is_implausible(GcLease("g", iso(limit), ()), T0)
    assert is_implausible(GcLease("g", iso(limit + MS), ()), T0)

    clock = FakeClock(T0)
    with pytest.raises(OriginError) as caught:
        _commit_under(T0 + timedelta(days=30), clock, "clock-far-lease")
    assert clock.slept == 0
    message = str(caught.value)
    assert "\n" not in message and "`assetpub gc --break-lease`" in message
    assert "another-host:1" in message and "nothing was switched" in message


def test_a_lease_at_the_limit_is_waited_for_until_it_expires() -> None:
    clock = FakeClock(T0)
    origin = _commit_under(T0 + timedelta(seconds=120), clock, "clock-limit-lease")
    assert 120 <= clock.slept <= 120.25
    assert StateStore(origin).load()[0].live == "20261201T120000000Z-00000001"


def test_gc_refuses_to_run_under_a_far_future_lease_and_break_lease_clears_only_it() -> None:
    clock = FakeClock(T0)
    origin = MemoryOrigin("clock-break-lease")
    store = StateStore(origin, clock=clock)
    far = GcLease("gc-far", iso(T0 + timedelta(days=1)), (), OTHER_HOST)
    store.update(lambda s: s.take_gc_lease(far))
    with pytest.raises(OriginError, match="gc --break-lease"):
        run_gc(origin, GcSettings(), clock=clock)
    before = store.load()[0]
    assert break_lease(origin, dry_run=True, clock=clock) == far
    assert store.load()[0] == before  # a dry run changes nothing
    assert break_lease(origin, clock=clock) == far
    after = store.load()[0]
    assert after.gc_lease is None and after.gc_epoch == before.gc_epoch
    assert break_lease(origin, clock=clock) is None  # nothing left to break
    run_gc(origin, GcSettings(), clock=clock)  # and GC runs again
