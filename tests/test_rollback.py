"""Rollback and roll forward, from records alone, over memory, folder and S3 (moto over HTTP)."""

from __future__ import annotations

import pytest
from backends import Backend
from checks import snapshot
from fixture_types import MakeBuild, MakeOrigin
from history_support import Published, live_files, site

from assetpub.commands.publish import publish
from assetpub.commands.rollback import rollback
from assetpub.commands.verify import verify_origin
from assetpub.errors import AssetpubError, RollbackError
from assetpub.history.record import load_record
from assetpub.history.store import StateStore
from assetpub.origins.memory import MemoryOrigin
from assetpub.settings import PublishSettings


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
    assert snapshot(origin) == before
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


def test_dry_run_rollback_changes_nothing(published: Published, backend: Backend) -> None:
    origin, results, _ = published
    before = snapshot(origin)
    result = rollback([backend.open(dry_run=True)], dry_run=True)
    assert result.release == results[1].release.id and snapshot(origin) == before
    # It took the real path: the same writes a real rollback then makes.
    real = rollback([origin])
    assert real.release == result.release and real.written == result.written > 0


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
