"""The publish commit protocol: record a release as live in the state, never under a GC that
may have deleted what the release needs.

A publish listed the origin under some GC epoch. If a GC holds the lease, the commit waits for
it; if the epoch moved since the listing, the publish lists and uploads again (`refresh`)
before it commits, so a release is never live while objects it needs are gone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace

from assetpub.errors import OriginError
from assetpub.history.lease import implausible_lease_message, is_implausible, lease_blocks
from assetpub.history.state import ReleaseEntry, State, iso
from assetpub.history.store import StateStore

log = logging.getLogger(__name__)


class _LeaseOrEpochChanged(Exception):
    """Raised inside a state transition to leave the CAS loop and re-check the GC lease."""


def commit_release(
    store: StateStore,
    entry: ReleaseEntry,
    *,
    action: str,
    by: str,
    git_commit: str | None,
    seen_epoch: int | None,
    refresh: Callable[[], None],
    wait_seconds: float = 300.0,
) -> State:
    """Make a freshly uploaded release live in the state, safely against a concurrent GC.

    `seen_epoch` is the GC epoch read before the origin was listed (None if a GC was running
    then). If a GC has started since, objects the upload skipped as "already there" may be
    gone: `refresh` lists the origin again and uploads whatever is missing, and only then does
    the commit go through. While a GC holds its lease, the commit waits, at most
    `wait_seconds`: the lease tells publishes which releases the GC is deleting, and it renews
    it while it works. A lease expiring later than any GC sets one fails at once.
    """
    clock = store.clock
    epoch = seen_epoch
    deadline = clock.monotonic() + wait_seconds
    while True:
        loaded = store.load()
        state = loaded[0]
        if lease_blocks(state, clock.now()):
            assert state.gc_lease is not None
            if is_implausible(state.gc_lease, clock.now()):
                raise OriginError(
                    implausible_lease_message(store.origin.url, state.gc_lease, clock.now())
                    + "; nothing was switched"
                )
            if clock.monotonic() > deadline:
                raise OriginError(
                    f"{store.origin.url}: a GC has held its lease for over {wait_seconds:.0f} s; "
                    "nothing was switched, run the publish again (lease_wait sets how long "
                    "it waits)"
                )
            clock.sleep(0.25)
            continue
        if epoch != state.gc_epoch:
            refresh()
            epoch = state.gc_epoch
            continue

        def change(current: State, checked_epoch: int | None = epoch) -> State | None:
            if current.entry(entry.id) is not None:
                # Release ids are unique: our own commit went through, and the answer to it
                # was lost (the client's retry then saw its own write).
                return None
            now = clock.now()
            if lease_blocks(current, now) or current.gc_epoch != checked_epoch:
                raise _LeaseOrEpochChanged
            return current.activate(
                entry.id,
                action=action,
                now=now,
                by=by,
                git_commit=git_commit,
                new_entry=replace(entry, committed_at=iso(now)),
            )

        try:
            return store.update(change, current=loaded)
        except _LeaseOrEpochChanged:
            continue
