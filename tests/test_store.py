"""The state store and release records: compare-and-swap, create-only records, and the
lock-object fallback."""

from __future__ import annotations

import json

import pytest
from fixture_types import MakeBuild, MakeOrigin
from history_support import Published, ids, site

from assetpub.commands.publish import publish
from assetpub.commands.verify import verify_origin
from assetpub.history.store import StateStore
from assetpub.origins.base import ObjectHeaders
from assetpub.origins.memory import MemoryOrigin
from assetpub.settings import PublishSettings


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
