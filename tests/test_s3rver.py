"""assetpub on an S3 endpoint that ignores conditional writes: s3rver (tests/s3_servers.py).

docs/history.md: the first state write probes, finds no conditional writes, warns once and
falls back to the lock object; the answer is remembered in the state, so later commands neither
probe nor warn. Skipped without Node.js, unless ASSETPUB_REQUIRE_E2E=1.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from backends import Backend
from fixture_types import MakeBuild
from history_support import Published, live_files, site
from test_cli import run
from test_store import sent_by

from assetpub.commands.gc import run_gc
from assetpub.commands.publish import Hooks, publish
from assetpub.commands.rollback import rollback
from assetpub.commands.verify import verify_origin
from assetpub.errors import AlreadyExistsError
from assetpub.history.store import StateStore, remembered_answer
from assetpub.keys import LOCK_KEY
from assetpub.origins.base import ObjectHeaders
from assetpub.settings import GcSettings, PublishSettings

pytestmark = pytest.mark.parametrize("backend_kind", ["s3rver"])
WARNING = "does not enforce conditional writes"


def test_s3rver_really_ignores_both_conditions(backend: Backend) -> None:
    """The premise of this file: a create-only write and a stale If-Match both go through."""
    origin = backend.open()
    headers = ObjectHeaders("text/plain", "no-store", "0" * 64)
    origin.put_bytes("k", b"one", headers, if_absent=True)
    try:
        origin.put_bytes("k", b"two", headers, if_absent=True)
    except AlreadyExistsError:
        pytest.fail("s3rver refused If-None-Match: *; this file tests nothing")
    origin.put_bytes("k", b"three", headers, if_match="0" * 32)
    assert origin.get("k") == b"three"
    assert origin.supports_conditional_writes() is False


def test_publishes_use_the_lock_object_and_warn_once(
    backend: Backend, make_build: MakeBuild
) -> None:
    warned, probes = [], []
    for version in (1, 2, 3):
        origin = backend.open()  # each command opens its own client
        sent = sent_by(origin)
        warnings: list[str] = []
        publish(
            PublishSettings(make_build(site(version)), ()),
            Hooks(warn=warnings.append),
            origins=[origin],
        )
        warned.append([w for w in warnings if WARNING in w])
        probes.append(sent.probes)
    assert [len(w) for w in warned] == [1, 0, 0]
    assert probes == [3, 0, 0]  # PUT, PUT (not refused), DeleteObjects; then remembered
    state, _ = StateStore(origin).load()
    assert len(state.releases) == 3
    assert remembered_answer(state, origin.service, datetime.now(UTC)) is False
    assert origin.get(LOCK_KEY) is None  # taken and released each time
    assert verify_origin(origin).healthy


def test_the_cli_warns_on_the_first_command_only(backend: Backend, make_build: MakeBuild) -> None:
    outputs = [run("publish", str(make_build(site(v))), *backend.cli_args) for v in (1, 2)]
    assert [code for code, _, _ in outputs] == [0, 0], outputs
    assert [err.count(WARNING) for _, _, err in outputs] == [1, 0]


def test_gc_collects_through_the_lock_object(backend: Backend, make_build: MakeBuild) -> None:
    origin = backend.open()
    for version in (1, 2, 3):
        publish(PublishSettings(make_build(site(version)), ()), origins=[origin])
    warnings: list[str] = []
    result = run_gc(backend.open(), GcSettings(keep=1, grace=timedelta(0)), warnings.append)
    assert result.deleted_records == 2 and result.deleted_objects > 0
    assert not [w for w in warnings if WARNING in w]
    state, _ = StateStore(origin).load()
    assert len(state.releases) == 1 and state.gc_lease is None
    assert origin.get(LOCK_KEY) is None
    assert verify_origin(origin).healthy


def test_rollback_and_roll_forward(published: Published) -> None:
    """s3rver's CopyObject onto an existing key keeps that key's old ETag: a rollback that
    trusts the listed ETag after its copies sees the old bytes where the new ones are."""
    origin, results, lives = published
    rollback([origin])
    assert live_files(origin) == lives[1]
    assert verify_origin(origin).healthy
    rollback([origin], results[2].release.id)
    assert live_files(origin) == lives[2]
    assert verify_origin(origin).healthy


def test_publishing_the_newest_build_again_after_a_rollback_serves_its_bytes(
    published: Published, make_build: MakeBuild
) -> None:
    """After the rollback's copies, s3rver still lists the keys with v3's ETags over v2's
    bytes. A publish of v3 that trusted those listings would skip its plain files and serve
    v2's: restore writes the bytes itself where a copy reports another ETag than the blob's."""
    origin, _, lives = published
    rollback([origin])
    assert live_files(origin) == lives[1]
    publish(PublishSettings(make_build(site(3)), (), message="v3 again"), origins=[origin])
    assert origin.get("chunk.js") == lives[2]["chunk.js"] == b"// plain, named in JS: chunk v3"
    assert verify_origin(origin).healthy
