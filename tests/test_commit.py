"""The publish commit protocol against a running GC, with a real thread (test_clock.py has
its edges as fake-clock tests)."""

from __future__ import annotations

import time
from datetime import timedelta

from fixture_types import MakeBuild
from history_support import site

from assetpub.commands.publish import publish
from assetpub.commands.verify import verify_origin
from assetpub.history.store import StateStore
from assetpub.origins.memory import MemoryOrigin
from assetpub.settings import PublishSettings


def test_publish_waits_for_a_running_gc_then_commits(make_build: MakeBuild) -> None:
    import threading

    from assetpub.clock import SYSTEM_CLOCK
    from assetpub.history.state import GcLease, iso

    origin = MemoryOrigin("waits")
    publish(PublishSettings(make_build(site(1)), ()), origins=[origin])
    store = StateStore(origin)
    lease = GcLease("gc-1", iso(SYSTEM_CLOCK.now() + timedelta(seconds=90)), (), "another-host:1")
    store.update(lambda s: s.take_gc_lease(lease))
    timer = threading.Timer(0.5, lambda: store.update(lambda s: s.without_gc_lease("gc-1")))
    timer.start()
    started = time.monotonic()
    result = publish(PublishSettings(make_build(site(2)), ()), origins=[origin])
    waited = time.monotonic() - started
    timer.join(timeout=10)
    assert not timer.is_alive(), "the lease-releasing thread did not finish"
    assert waited >= 0.4  # it did not commit while the lease was held
    state, _ = store.load()
    assert state.live == result.release.id and state.gc_lease is None
    assert verify_origin(origin).healthy
