"""The GC lease: who holds it, and whether it blocks a commit now. A lease left by a dead
process on this host is stale at once; any other lease blocks until it expires."""

from __future__ import annotations

import logging
import os
import socket
from datetime import datetime

from assetpub.history.state import State

log = logging.getLogger(__name__)


def holder_id() -> str:
    """Who holds a lease: host and process, so a lease left by a dead local process can be
    recognised as stale at once instead of after it expires."""
    return f"{socket.gethostname()}:{os.getpid()}"


def is_stale_local_holder(holder: str) -> bool:
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def lease_blocks(state: State, now: datetime) -> bool:
    """Whether a GC holds a live lease on this state at `now` (not expired, holder not known
    dead)."""
    lease = state.gc_lease
    return lease is not None and lease.is_active(now) and not is_stale_local_holder(lease.holder)
