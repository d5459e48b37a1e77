"""The GC lease: who holds it, and whether it blocks a commit now. A lease left by a dead
process on this host is stale at once; any other lease blocks until it expires, unless it
expires later than any GC sets it, which is reported rather than waited for."""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from assetpub.errors import OriginError
from assetpub.history.liveness import MAX_PID, is_process_alive
from assetpub.history.state import GcLease, State, iso, parse_iso
from assetpub.history.store import StateStore

log = logging.getLogger(__name__)

# A GC sets its lease to expire this long after now, and renews it before every delete batch.
LEASE_SECONDS = 60
# How far another host's clock may run ahead of ours before its lease counts as implausible.
CLOCK_SKEW_MARGIN = 60


def holder_id() -> str:
    """Who holds a lease: host and process, so a lease left by a dead local process can be
    recognised as stale at once instead of after it expires."""
    return f"{socket.gethostname()}:{os.getpid()}"


def is_stale_local_holder(holder: str) -> bool:
    """Whether `holder` names a process of this host that is no longer running. A holder this
    cannot read (another host's, or no pid assetpub writes) is not known dead."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit() or not 0 < int(pid) <= MAX_PID:
        return False
    return not is_process_alive(int(pid))


def lease_blocks(state: State, now: datetime) -> bool:
    """Whether a GC holds a live lease on this state at `now` (not expired, holder not known
    dead)."""
    lease = state.gc_lease
    return lease is not None and lease.is_active(now) and not is_stale_local_holder(lease.holder)


def is_implausible(lease: GcLease, now: datetime) -> bool:
    """Whether `lease` expires later than a GC can have set it (now + LEASE_SECONDS) even on a
    clock CLOCK_SKEW_MARGIN ahead of ours: a far-off clock or a stuck writer, which waiting
    would not cure."""
    limit = now + timedelta(seconds=LEASE_SECONDS + CLOCK_SKEW_MARGIN)
    return parse_iso(lease.expires_at) > limit


def implausible_lease_message(url: str, lease: GcLease, now: datetime) -> str:
    ahead = (parse_iso(lease.expires_at) - now).total_seconds()
    return (
        f"{url}: the GC lease held by {lease.holder or 'unknown'} expires at {lease.expires_at}, "
        f"{ahead:.0f} s from now, though a GC holds it {LEASE_SECONDS} s at a time (a clock far "
        "ahead, or a stuck writer); if no GC is running, clear it with "
        "`assetpub gc --break-lease`"
    )


class StateMoved(Exception):
    """The state is no longer the one the caller planned from: it plans again."""


def take_lease(store: StateStore, planned_from: State, doomed: Iterable[str]) -> GcLease:
    """Take the GC lease for deleting `doomed` releases' objects, on the state the plan was
    made from; raises StateMoved when a publish, rollback or GC changed it since."""
    lease = GcLease(
        id=secrets.token_hex(8),
        expires_at=iso(store.clock.now() + timedelta(seconds=LEASE_SECONDS)),
        doomed=tuple(doomed),
        holder=holder_id(),
    )

    def change(current: State) -> State | None:
        if current.gc_lease is not None and current.gc_lease.id == lease.id:
            return None  # our own swap went through; its answer was lost
        if current != planned_from:
            raise StateMoved
        return current.take_gc_lease(lease)

    store.update(change)
    return lease


def renew_lease(store: StateStore, lease: GcLease, lost: str) -> None:
    """Push the lease's expiry on; OriginError(`lost`) when it is no longer ours (broken with
    `gc --break-lease`, or the state deleted)."""

    def change(current: State) -> State:
        if current.gc_lease is None or current.gc_lease.id != lease.id:
            raise OriginError(lost)
        expires = iso(store.clock.now() + timedelta(seconds=LEASE_SECONDS))
        return replace(current, gc_lease=replace(lease, expires_at=expires))

    store.update(change)


def release_lease(store: StateStore, lease: GcLease) -> None:
    store.update(lambda current: current.without_gc_lease(lease.id))
