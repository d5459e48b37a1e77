"""Reading and writing an origin's history: the state object (compare-and-swap) and the
release records.

State updates are read-modify-write loops: read state.json with its version token, apply a pure
transition, write it back with If-Match (If-None-Match: * when it does not exist yet); a 412
means another writer won, so read again and re-apply. Where an endpoint ignores conditional
writes, a lock object stands in for them, with a warning: it narrows the race, it cannot close it.
"""

from __future__ import annotations

import json
import logging
import os
import random
import secrets
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta

from assetpub.errors import AlreadyExistsError, OriginError, PreconditionFailedError
from assetpub.hashing import digest_bytes
from assetpub.headers import PRIVATE
from assetpub.origins.base import ObjectHeaders, Origin
from assetpub.release import MANIFEST_KEY, RELEASES_PREFIX, Release, release_record_key
from assetpub.state import STATE_KEY, ReleaseEntry, State, iso, parse_iso, utc_now

log = logging.getLogger(__name__)

LOCK_KEY = "_assetpub/lock.json"
# Set in the state once a compare-and-swap write went through on this origin.
_PROBED = "conditional_writes"
_JSON = "application/json; charset=utf-8"


def private_json_headers(data: bytes) -> ObjectHeaders:
    return ObjectHeaders(_JSON, PRIVATE, digest_bytes(data).sha256)


class HistoryError(OriginError):
    """The origin's history is missing something a command needs (release, state)."""


@dataclass
class StateStore:
    origin: Origin
    warn: Callable[[str], None] = log.warning
    attempts: int = 30
    _conditional: bool | None = field(default=None, init=False)

    def load(self) -> tuple[State, str | None]:
        """The state and its version token (None when the origin has no state yet)."""
        got = self.origin.read(STATE_KEY)
        if got is None:
            return State(), None
        try:
            return State.from_json(got.data), got.etag
        except (ValueError, KeyError, TypeError) as exc:
            raise HistoryError(f"{self.origin.url}: {STATE_KEY} is not valid: {exc}") from None

    def update(
        self,
        change: Callable[[State], State | None],
        current: tuple[State, str | None] | None = None,
    ) -> State:
        """Apply `change` to the current state and write it back atomically, retrying when
        another writer got there first. `change` returns None to leave the state as it is and
        may raise to abort; it can run several times, so it must be pure. `current` is a
        (state, token) pair the caller just loaded, which saves reading it again."""
        loaded = current or self.load()
        if not self._supports_conditional_writes(loaded[0]):
            with self._lock_object():
                state, _ = self.load()
                new = change(state)
                if new is not None:
                    data = new.to_json()
                    self.origin.put_bytes(STATE_KEY, data, private_json_headers(data))
                return new or state
        for attempt in range(self.attempts):
            state, etag = loaded if attempt == 0 else self.load()
            new = change(state)
            if new is None:
                return state
            # Remember the probe's answer in the state itself: later runs skip probing.
            new = replace(new, extra={**new.extra, _PROBED: True})
            data = new.to_json()
            try:
                if etag is None:
                    self.origin.put_bytes(
                        STATE_KEY, data, private_json_headers(data), if_absent=True
                    )
                else:
                    self.origin.put_bytes(
                        STATE_KEY, data, private_json_headers(data), if_match=etag
                    )
                return new
            except (PreconditionFailedError, AlreadyExistsError):
                log.debug("%s: state changed under us (attempt %d)", self.origin.url, attempt)
                time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
        raise OriginError(
            f"{self.origin.url}: {STATE_KEY} kept changing under concurrent writers; try again"
        )

    def _supports_conditional_writes(self, state: State) -> bool:
        if self._conditional is None:
            self._conditional = state.extra.get(_PROBED) is True or (
                self.origin.supports_conditional_writes()
            )
            if not self._conditional:
                self.warn(
                    f"{self.origin.url} does not enforce conditional writes: assetpub falls "
                    "back to a lock object, which cannot fully exclude concurrent writers"
                )
        return self._conditional

    @contextmanager
    def _lock_object(self, timeout: float = 120.0) -> Iterator[None]:
        token = secrets.token_hex(8)
        deadline = time.monotonic() + timeout
        while True:
            held = self.origin.get(LOCK_KEY)
            if held is None or _lock_expired(held):
                data = json.dumps(
                    {"token": token, "expires_at": iso(utc_now() + timedelta(seconds=60))}
                ).encode()
                self.origin.put_bytes(LOCK_KEY, data, private_json_headers(data))
                time.sleep(0.2)  # let a racing writer's lock land, then see who won
                held = self.origin.get(LOCK_KEY)
                if held is not None and json.loads(held).get("token") == token:
                    break
            if time.monotonic() > deadline:
                raise OriginError(f"{self.origin.url}: {LOCK_KEY} is held by another writer")
            time.sleep(0.5)
        try:
            yield
        finally:
            self.origin.delete([LOCK_KEY])


def _lock_expired(raw: bytes) -> bool:
    try:
        return parse_iso(json.loads(raw)["expires_at"]) < utc_now()
    except (ValueError, KeyError, TypeError):
        return True


def load_record(origin: Origin, release_id: str) -> Release:
    raw = origin.get(release_record_key(release_id))
    if raw is None:
        raise HistoryError(f"{origin.url}: release {release_id} has no record on this origin")
    try:
        return Release.from_json(raw)
    except (ValueError, KeyError, TypeError) as exc:
        raise HistoryError(
            f"{origin.url}: release record {release_id} is not valid: {exc}"
        ) from None


def record_ids(keys: Iterator[str] | list[str]) -> set[str]:
    """Release ids of the record keys among `keys`."""
    return {
        key[len(RELEASES_PREFIX) : -len(".json")]
        for key in keys
        if key.startswith(RELEASES_PREFIX)
        and key.endswith(".json")
        and "/" not in key[len(RELEASES_PREFIX) :]
    }


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


def lease_blocks(state: State) -> bool:
    """Whether a GC holds a live lease on this state (not expired, holder not known dead)."""
    lease = state.gc_lease
    return (
        lease is not None and lease.is_active(utc_now()) and not is_stale_local_holder(lease.holder)
    )


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
    wait_seconds: float = 600.0,
) -> State:
    """Make a freshly uploaded release live in the state, safely against a concurrent GC.

    `seen_epoch` is the GC epoch read before the origin was listed (None if a GC was running
    then). If a GC has started since, objects the upload skipped as "already there" may be
    gone: `refresh` lists the origin again and uploads whatever is missing, and only then does
    the commit go through. While a GC holds its lease, the commit waits: the lease tells
    publishes which releases the GC is deleting, and it renews it while it works.
    """
    epoch = seen_epoch
    deadline = time.monotonic() + wait_seconds
    while True:
        loaded = store.load()
        state = loaded[0]
        if lease_blocks(state):
            if time.monotonic() > deadline:
                raise OriginError(
                    f"{store.origin.url}: a GC has held its lease for over {wait_seconds:.0f} s; "
                    "nothing was switched, run the publish again"
                )
            time.sleep(0.25)
            continue
        if epoch != state.gc_epoch:
            refresh()
            epoch = state.gc_epoch
            continue

        def change(current: State, checked_epoch: int | None = epoch) -> State:
            if lease_blocks(current) or current.gc_epoch != checked_epoch:
                raise _LeaseOrEpochChanged
            now = utc_now()
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


def manifest_release(origin: Origin) -> str | None:
    """The release the live asset-manifest.json names, or None (missing or unreadable)."""
    raw = origin.get(MANIFEST_KEY)
    try:
        release = json.loads(raw)["release"] if raw else None
    except (ValueError, KeyError, TypeError):
        return None
    return release if isinstance(release, str) else None
