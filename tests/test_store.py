"""The state store and release records: compare-and-swap, create-only records, and the
lock-object fallback."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import pytest
from fixture_types import MakeBucket, MakeBuild, MakeOrigin
from history_support import Published, ids, site
from test_origins import ignore_conditions

from assetpub.clock import FakeClock
from assetpub.commands.publish import Hooks, publish
from assetpub.commands.verify import verify_origin
from assetpub.history.state import State, iso
from assetpub.history.store import (
    RECHECK_REFUSAL,
    StateStore,
    private_json_headers,
    remembered_answer,
    with_answer,
)
from assetpub.keys import PROBE_PREFIX
from assetpub.origins import Origin, OriginSpec, open_origins
from assetpub.origins.base import ObjectHeaders, request_counter
from assetpub.origins.memory import MemoryOrigin
from assetpub.settings import PublishSettings

if TYPE_CHECKING:
    from assetpub.origins.s3 import S3Origin


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


# --- the conditional-write probe's remembered answer -----------------------------------------

NOW = datetime(2026, 12, 1, tzinfo=UTC)
SERVICE = "https://s3.example.test"


def answers(value: object) -> State:
    return State(extra={"conditional_writes": value})


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (State(), None),
        (answers(True), None),  # an older assetpub's bare flag: not tied to any endpoint
        (answers({SERVICE: {"enforced": True, "probed_at": "2020-01-01T00:00:00.000Z"}}), True),
        (answers({SERVICE: {"enforced": False, "probed_at": iso(NOW - timedelta(days=6))}}), False),
        (answers({SERVICE: {"enforced": False, "probed_at": iso(NOW - RECHECK_REFUSAL)}}), None),
        (answers({"http://127.0.0.1:9000": {"enforced": True, "probed_at": iso(NOW)}}), None),
        (answers({SERVICE: {"enforced": "yes", "probed_at": iso(NOW)}}), None),
        (answers({SERVICE: {"enforced": False}}), None),
        (answers({SERVICE: {"enforced": False, "probed_at": "Tuesday"}}), None),
        (answers([SERVICE]), None),
    ],
    ids=[
        "none",
        "legacy-true",
        "yes-never-expires",
        "no-within-a-week",
        "no-a-week-old",
        "other-endpoint",
        "not-a-bool",
        "no-time",
        "bad-time",
        "not-a-map",
    ],
)
def test_remembered_answer(state: State, expected: bool | None) -> None:
    assert remembered_answer(state, SERVICE, NOW) is expected


def test_with_answer_keeps_other_endpoints_and_replaces_a_legacy_flag() -> None:
    other = {"http://other": {"enforced": True, "probed_at": iso(NOW)}}
    state = with_answer(answers(other), SERVICE, False, NOW)
    assert remembered_answer(state, SERVICE, NOW) is False
    assert remembered_answer(state, "http://other", NOW) is True
    assert with_answer(answers(True), SERVICE, True, NOW).extra["conditional_writes"] == {
        SERVICE: {"enforced": True, "probed_at": iso(NOW)}
    }
    assert State.from_json(state.to_json()) == state  # survives a round trip


@dataclass
class Sent:
    """What one S3 origin sent: every request's operation and whether it touched a probe."""

    operations: list[str] = field(default_factory=list)
    probes: int = 0


def sent_by(origin: Origin) -> Sent:
    sent = Sent()

    def record(request: Any, event_name: str, **_: Any) -> None:
        sent.operations.append(event_name.rsplit(".", 1)[-1])
        body = request.body if isinstance(request.body, bytes) else b""
        if PROBE_PREFIX in request.url or PROBE_PREFIX.encode() in body:
            sent.probes += 1

    cast("S3Origin", origin)._client.meta.events.register("before-send.s3", record)
    return sent


def s3_command_origin(s3_endpoint: str, bucket: str, *ignored: str) -> Origin:
    """A fresh client, as each command opens one, on an endpoint that ignores `ignored`."""
    origin = open_origins([OriginSpec(url=f"s3://{bucket}/site", endpoint_url=s3_endpoint)])[0]
    ignore_conditions(origin, *ignored)
    return origin


def publish_warning(make_build: MakeBuild, origin: Origin, version: int) -> list[str]:
    warnings: list[str] = []
    publish(
        PublishSettings(make_build(site(version)), ()),
        Hooks(warn=warnings.append),
        origins=[origin],
    )
    return [w for w in warnings if "conditional writes" in w]


@pytest.mark.parametrize(
    ("ignored", "probe_requests"),
    [(("If-None-Match", "If-Match"), 3), (("If-Match",), 4)],
    ids=["ignores-both", "ignores-if-match"],
)
def test_an_endpoint_without_conditional_writes_is_probed_and_warned_about_once(
    s3_endpoint: str,
    make_bucket: MakeBucket,
    make_build: MakeBuild,
    ignored: tuple[str, ...],
    probe_requests: int,
) -> None:
    bucket = make_bucket()
    first = s3_command_origin(s3_endpoint, bucket, *ignored)
    first_sent = sent_by(first)
    assert len(publish_warning(make_build, first, 1)) == 1
    assert first_sent.probes == probe_requests

    second = s3_command_origin(s3_endpoint, bucket, *ignored)
    second_sent = sent_by(second)
    requests = request_counter(second)
    assert publish_warning(make_build, second, 2) == []
    assert second_sent.probes == 0
    assert requests() == len(second_sent.operations)
    # The lock object stood in for both (a GET, a PUT and a GET to take it, a delete after).
    assert second_sent.operations.count("DeleteObjects") >= 1

    state, _ = StateStore(second).load()
    assert remembered_answer(state, second.service, datetime.now(UTC)) is False
    assert len(state.releases) == 2 and "_assetpub/lock.json" not in {
        obj.key for obj in second.list("_assetpub/")
    }
    assert verify_origin(second).healthy


def test_a_yes_remembered_for_another_endpoint_is_not_trusted(
    s3_endpoint: str, make_bucket: MakeBucket, make_build: MakeBuild
) -> None:
    """A bucket copied, state.json and all, from a service that enforces conditional writes to
    one that does not: the old "yes" must not make assetpub trust a compare-and-swap that is
    not enforced."""
    bucket = make_bucket()
    copied = {"https://s3.amazonaws.com": {"enforced": True, "probed_at": iso(NOW)}}
    origin = s3_command_origin(s3_endpoint, bucket)
    publish(PublishSettings(make_build(site(1)), ()), origins=[origin])
    state, _ = StateStore(origin).load()
    data = replace(state, extra={"conditional_writes": copied}).to_json()
    origin.put_bytes("_assetpub/state.json", data, private_json_headers(data))

    moved = s3_command_origin(s3_endpoint, bucket, "If-None-Match", "If-Match")
    sent = sent_by(moved)
    assert len(publish_warning(make_build, moved, 2)) == 1
    assert sent.probes == 3
    state, _ = StateStore(moved).load()
    assert state.extra["conditional_writes"].keys() == {"https://s3.amazonaws.com", moved.service}
    assert remembered_answer(state, moved.service, datetime.now(UTC)) is False


def test_a_remembered_no_is_asked_again_after_a_week(make_build: MakeBuild) -> None:
    """An upgraded service is noticed: the probe runs again once the "no" is a week old."""
    origin = ProbingNoConditionalWrites("recheck")
    clock = FakeClock(NOW)
    store = StateStore(origin, warn=lambda _: None, clock=clock)

    def bump(state: State) -> State:
        return replace(state, gc_epoch=state.gc_epoch + 1)

    store.update(bump)
    assert origin.probes == 1
    for days, probes in ((6, 1), (1, 2)):
        clock.advance(days * 86400)
        StateStore(origin, warn=lambda _: None, clock=clock).update(bump)
        assert origin.probes == probes
    state, _ = store.load()
    assert state.extra["conditional_writes"]["memory"]["probed_at"] == iso(clock.now())


class ProbingNoConditionalWrites(NoConditionalWrites):
    """Counts how often the store asks."""

    probes = 0

    def supports_conditional_writes(self) -> bool:
        self.probes += 1
        return False
