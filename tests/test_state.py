"""The state object's transitions and retention rules: pure, no storage."""

import json
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest

from assetpub.history.state import (
    FailedCheck,
    GcLease,
    ReleaseEntry,
    State,
    iso,
    parse_duration,
    release_time,
)

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def publish(state: State, release_id: str, at: datetime) -> State:
    entry = ReleaseEntry(release_id, iso(at), iso(at))
    return state.activate(
        release_id, action="publish", now=at, by="u@h", git_commit=None, new_entry=entry
    )


def history(*ids_and_minutes: tuple[str, float]) -> State:
    state = State()
    for release_id, at in ids_and_minutes:
        state = publish(state, release_id, minutes(at))
    return state


def test_publish_and_rollback_keep_an_activation_log() -> None:
    state = history(("v1", 0), ("v2", 10), ("v3", 20))
    assert state.live == "v3"
    assert [e.id for e in state.newest_first()] == ["v3", "v2", "v1"]
    assert state.previous_live() == "v2"
    assert cast(ReleaseEntry, state.entry("v2")).replaced_at == iso(minutes(20))
    rolled = state.activate("v2", action="rollback", now=minutes(30), by="u@h", git_commit=None)
    assert rolled.live == "v2" and cast(ReleaseEntry, rolled.entry("v2")).replaced_at is None
    assert cast(ReleaseEntry, rolled.entry("v3")).replaced_at == iso(minutes(30))
    assert [(a.action, a.release, a.previous) for a in rolled.log][-1] == ("rollback", "v2", "v3")
    assert rolled.previous_live() == "v3"  # rollback again goes back to v3


def test_retention_keeps_newest_live_and_grace() -> None:
    state = history(("v1", 0), ("v2", 10), ("v3", 20), ("v4", 30))
    now = minutes(24 * 60)
    assert state.retained_ids(2, timedelta(0), now) == {"v4", "v3"}
    # v2 stopped being needed when v4 (the second newer release) committed: 30 min.
    assert state.retained_ids(2, timedelta(hours=23, minutes=31), now) == {"v4", "v3", "v2"}
    assert state.retained_ids(2, timedelta(hours=23, minutes=29), now) == {"v4", "v3"}


def test_live_is_retained_whatever_its_age() -> None:
    state = history(("v1", 0), ("v2", 10), ("v3", 20))
    state = state.activate("v1", action="rollback", now=minutes(30), by="u", git_commit=None)
    assert state.retained_ids(1, timedelta(0), minutes(10_000)) == {"v1"}
    assert state.retained_ids(2, timedelta(0), minutes(10_000)) == {"v1", "v3"}
    # v3 stopped being needed when the rollback replaced it (30 min), v2 when v3 came (20).
    assert state.retained_ids(1, timedelta(minutes=11), minutes(40)) == {"v1", "v3"}
    assert state.retained_ids(1, timedelta(minutes=21), minutes(40)) == {"v1", "v2", "v3"}


def test_a_release_pushed_out_by_a_rollback_and_never_live_is_kept_through_grace() -> None:
    # v3 is committed but was never switched to (the state says so: not live, no replaced_at).
    state = history(("v1", 0), ("v2", 10))
    entry = ReleaseEntry("v3", iso(minutes(20)), iso(minutes(20)))
    state = replace(state, releases=(*state.releases, entry))
    state = state.activate("v1", action="rollback", now=minutes(30), by="u", git_commit=None)
    assert state.retained_ids(1, timedelta(hours=1), minutes(10_000)) == {"v1", "v3"}
    assert state.retained_ids(1, timedelta(0), minutes(40)) == {"v1"}


def test_grace_protects_a_release_replaced_a_minute_ago() -> None:
    # v1 is old, but was live until a minute ago: pages loaded from it are still open.
    state = history(("v1", 0), ("v2", 60 * 24 * 30))
    now = minutes(60 * 24 * 30 + 1)
    assert state.retained_ids(1, timedelta(hours=24), now) == {"v1", "v2"}
    assert state.retained_ids(1, timedelta(0), now) == {"v2"}


def test_gc_lease_removes_doomed_and_bumps_epoch() -> None:
    state = history(("v1", 0), ("v2", 10))
    lease = GcLease("g1", iso(minutes(11)), ("v1",), "host:1")
    leased = state.take_gc_lease(lease)
    assert leased.gc_epoch == state.gc_epoch + 1
    assert leased.release_ids == {"v2"} and leased.gc_lease == lease
    assert lease.is_active(minutes(10.5)) and not lease.is_active(minutes(12))
    assert leased.without_gc_lease("other") == leased
    assert leased.without_gc_lease("g1").gc_lease is None


def test_json_round_trip_keeps_unknown_keys() -> None:
    state = history(("v1", 0), ("v2", 10)).take_gc_lease(GcLease("g", iso(T0), ("x",), "h:1"))
    again = State.from_json(state.to_json())
    assert again == state
    raw = state.to_json().replace(b'"format"', b'"future_key": 1, "format"')
    assert State.from_json(raw).extra == {"future_key": 1}


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0", 0), ("90s", 90), ("15m", 900), ("24h", 86400), ("7d", 604800), ("45", 45)],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "1w", "-5m", "1.5h", "h"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(text)


def test_release_time_reads_the_id() -> None:
    assert release_time("20261126T084653Z-dc7c0dee") == datetime(
        2026, 11, 26, 8, 46, 53, tzinfo=UTC
    )
    assert release_time("20261126T084653250Z-dc7c0dee") == datetime(
        2026, 11, 26, 8, 46, 53, 250_000, tzinfo=UTC
    )
    assert release_time("garbage") is None


def rollback_to(state: State, release_id: str, at: float) -> State:
    return state.activate(release_id, action="rollback", now=minutes(at), by="u@h", git_commit=None)


def failed(release_id: str) -> FailedCheck:
    return FailedCheck(release_id, iso(T0), f"check https://x/ failed for {release_id}", "publish")


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        # v3 failed its check and was rolled back to v2: a plain rollback goes to v1, not v3.
        ("v3 rolled back", "v1"),
        # v3 failed and stayed live (--no-rollback-on-failure): rolling back from it is fine.
        ("v3 kept live", "v2"),
        # v2 failed earlier and was rolled back; then v3: back from v3 is v1 (v2 is passed over).
        ("v2 failed before v3", "v1"),
        # Only v1 before the failed one: nothing left.
        ("only a failed one before", None),
    ],
)
def test_previous_live_passes_over_failed_releases(case: str, expected: str | None) -> None:
    if case == "v3 rolled back":
        state = rollback_to(history(("v1", 0), ("v2", 10), ("v3", 20)), "v2", 21)
        state = state.with_failed_check(failed("v3"))
        assert state.previous_live() == "v3"  # without skipping: what a rollback of it gives
    elif case == "v3 kept live":
        state = history(("v1", 0), ("v2", 10), ("v3", 20)).with_failed_check(failed("v3"))
    elif case == "v2 failed before v3":
        state = rollback_to(history(("v1", 0), ("v2", 10)), "v1", 11)
        state = publish(state.with_failed_check(failed("v2")), "v3", minutes(20))
        # v3 replaced v1, so v1 is the answer with or without skipping
    else:
        state = rollback_to(history(("v1", 0), ("v2", 10)), "v1", 11)
        state = state.with_failed_check(failed("v2"))
    assert state.previous_live(skip=state.failed_ids) == expected


def test_a_failed_check_round_trips_without_a_format_bump() -> None:
    state = history(("v1", 0), ("v2", 10)).with_failed_check(failed("v2"))
    data = json.loads(state.to_json())
    assert data["format"] == 1
    assert data["failed_checks"] == [
        {
            "release": "v2",
            "at": iso(T0),
            "check": "check https://x/ failed for v2",
            "action": "publish",
        }
    ]
    # Each release entry keeps exactly the fields format-1 readers build ReleaseEntry from
    # (an unknown field there would make them refuse the state).
    assert all(set(e) == {f.name for f in fields(ReleaseEntry)} for e in data["releases"])
    again = State.from_json(state.to_json())
    assert again.failed_check("v2") == failed("v2") and again.failed_ids == {"v2"}
    assert State.from_json(history(("v1", 0)).to_json()).failed_checks == ()
    assert "failed_checks" not in json.loads(history(("v1", 0)).to_json())


def test_a_reader_that_does_not_know_failed_checks_keeps_them() -> None:
    """What format-1 readers before failed checks do with the new key: keep it, as every
    top-level key they do not know, through their own transitions and writes."""
    data = json.loads(history(("v1", 0), ("v2", 10)).with_failed_check(failed("v2")).to_json())
    unknown_to_old_code = {k: v for k, v in data.items() if k != "failed_checks"}
    unknown_to_old_code["later_key"] = data["failed_checks"]
    old_view = State.from_json(json.dumps(unknown_to_old_code).encode())
    assert old_view.extra == {"later_key": data["failed_checks"]}
    written = json.loads(publish(old_view, "v3", minutes(20)).to_json())
    assert written["later_key"] == data["failed_checks"]


def test_marks_follow_their_release() -> None:
    state = history(("v1", 0), ("v2", 10))
    assert state.with_failed_check(failed("gone")) == state  # not retained: nothing to mark
    marked = state.with_failed_check(failed("v2"))
    again = marked.with_failed_check(FailedCheck("v2", iso(minutes(5)), "later", "rollback"))
    assert again.failed_checks == (FailedCheck("v2", iso(minutes(5)), "later", "rollback"),)
    collected = marked.take_gc_lease(GcLease("g", iso(T0), ("v2",), "h:1"))
    assert collected.failed_checks == ()


@pytest.mark.parametrize(
    "bad",
    [{"failed_checks": {}}, {"failed_checks": [1]}, {"failed_checks": [{"release": 5}]}],
    ids=["object", "number", "wrong-type"],
)
def test_a_mangled_failed_checks_list_is_refused(bad: dict[str, object]) -> None:
    data = {**json.loads(history(("v1", 0)).to_json()), **bad}
    with pytest.raises((ValueError, TypeError)):
        State.from_json(json.dumps(data).encode())
