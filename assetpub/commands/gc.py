"""Garbage collection: delete what no retained release needs, never what one does.

Planning is pure (plan_gc); run_gc takes a lease in the state object before deleting, so a
publish that commits meanwhile waits for it and then re-checks its objects (history.py), and it
renews the lease before every batch so a dead GC's lease soon stops blocking anyone.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from assetpub.clock import SYSTEM_CLOCK, Clock
from assetpub.errors import HistoryError, OriginError, TooManyDeletesError
from assetpub.history.lease import holder_id, lease_blocks
from assetpub.history.record import (
    ReleaseRecord,
    load_record,
    record_ids,
    release_in_asset_manifest,
)
from assetpub.history.state import GcLease, State, iso, release_time
from assetpub.history.store import StateStore
from assetpub.keys import release_record_key
from assetpub.origins import as_dry_run, list_all
from assetpub.origins.base import Origin, RemoteObject, request_counter
from assetpub.settings import GcSettings

log = logging.getLogger(__name__)

BATCH = 1000
LEASE_SECONDS = 60


def serving_live_pages(
    records: Mapping[str, ReleaseRecord],
    doomed: set[str],
    kept: set[str],
    listing: Mapping[str, RemoteObject],
    live_bytes: Callable[[str], bytes | None],
) -> set[str]:
    """Doomed releases whose entry files are what the origin serves right now, under a key
    where no kept release published the same bytes.

    A publish or rollback that died mid-switch leaves the state and asset-manifest.json on one
    release and some pages (index.html last) still on another; those pages load that other
    release's assets, so it must not be collected. Where a kept release has the same bytes
    (robots.txt, unchanged pages), its own objects already cover what the page loads.
    """

    def serves(release_id: str, key: str) -> bool:
        record = records[release_id]
        content = record.entry_content.get(key)
        remote = listing.get(key)
        if content is None or remote is None:
            return False
        file = record.files.get(key)
        by_listing = remote.holds(len(content), file.md5) if file else None
        return by_listing if by_listing is not None else live_bytes(key) == content

    rescued: set[str] = set()
    keys = {k for r in doomed if r in records for k in records[r].entry_content}
    for key in sorted(keys):
        serving = {r for r in doomed if r in records and serves(r, key)}
        if serving and not any(serves(r, key) for r in kept if r in records):
            rescued |= serving
    return rescued


@dataclass(frozen=True)
class GcPlan:
    retained: tuple[str, ...]
    pending: tuple[str, ...]  # uncommitted publishes younger than the grace period
    doomed: tuple[str, ...]  # releases whose records go, committed or never committed
    delete_keys: tuple[str, ...]  # their objects that nothing kept needs, existing on the origin
    delete_bytes: int

    @property
    def record_keys(self) -> tuple[str, ...]:
        return tuple(release_record_key(r) for r in self.doomed)

    @property
    def total_deletes(self) -> int:
        return len(self.delete_keys) + len(self.doomed)


def classify_releases(
    state: State,
    ids_on_origin: set[str],
    *,
    keep: int,
    grace: timedelta,
    now: datetime,
    protected: set[str],
) -> tuple[set[str], set[str], set[str]]:
    """(retained, pending, doomed) release ids.

    Uncommitted records are publishes in flight or publishes that died: kept while younger
    than the grace period, collected after. `protected` (e.g. the release the live
    asset-manifest.json names) is always kept.
    """
    retained = state.retained_ids(keep, grace, now) | (protected & ids_on_origin)
    committed = state.release_ids
    doomed = committed - retained
    pending: set[str] = set()
    expired_lease = state.gc_lease.doomed if state.gc_lease else ()
    for release_id in ids_on_origin - committed - retained:
        created = release_time(release_id)
        if release_id in expired_lease or created is None or now - created >= grace:
            doomed.add(release_id)
        else:
            pending.add(release_id)
    return retained, pending, doomed & (ids_on_origin | committed)


def plan_gc(
    records: Mapping[str, ReleaseRecord],
    listing: Mapping[str, RemoteObject],
    retained: set[str],
    pending: set[str],
    doomed: set[str],
) -> GcPlan:
    kept: set[str] = set()
    for release_id in retained | pending:
        kept |= records[release_id].owned_keys()
    candidates: set[str] = set()
    for release_id in doomed:
        if release_id in records:
            candidates |= records[release_id].owned_keys()
    delete = sorted(k for k in candidates - kept if k in listing)
    return GcPlan(
        retained=tuple(sorted(retained, reverse=True)),
        pending=tuple(sorted(pending, reverse=True)),
        doomed=tuple(sorted(doomed, reverse=True)),
        delete_keys=tuple(delete),
        delete_bytes=sum(listing[k].size for k in delete),
    )


@dataclass
class GcResult:
    url: str
    plan: GcPlan
    deleted_objects: int = 0
    deleted_records: int = 0
    dry_run: bool = False
    requests: int = 0


class _StateMoved(Exception):
    pass


@dataclass
class _Collector:
    origin: Origin
    options: GcSettings
    warn: Callable[[str], None]
    clock: Clock = SYSTEM_CLOCK
    store: StateStore = field(init=False)

    def __post_init__(self) -> None:
        self.store = StateStore(self.origin, warn=self.warn, clock=self.clock)

    def plan(self) -> tuple[State, GcPlan]:
        state, _ = self.store.load()
        if lease_blocks(state, self.clock.now()) and state.gc_lease:
            raise OriginError(
                f"{self.origin.url}: another GC is running (lease held by "
                f"{state.gc_lease.holder or 'unknown'} until {state.gc_lease.expires_at})"
            )
        listing = list_all(self.origin)
        on_origin = record_ids(list(listing))
        retained, pending, doomed = classify_releases(
            state,
            on_origin,
            keep=self.options.keep,
            grace=self.options.grace,
            now=self.clock.now(),
            # The release the live asset manifest names is protected even if the state lost track of
            # it (a crash between switching and committing, or an origin without state).
            protected={r for r in (state.live, release_in_asset_manifest(self.origin)) if r},
        )
        records = {}
        for release_id in retained | pending | doomed:
            if release_id in on_origin:
                records[release_id] = load_record(self.origin, release_id)
            elif release_id in retained:
                raise HistoryError(
                    f"{self.origin.url}: retained release {release_id} has no record; refusing "
                    "to collect anything until `assetpub verify` is clean"
                )
        live: dict[str, bytes | None] = {}

        def live_bytes(key: str) -> bytes | None:
            if key not in live:
                live[key] = self.origin.get(key)
            return live[key]

        rescued = serving_live_pages(records, doomed, retained | pending, listing, live_bytes)
        if rescued:
            log.info("%s: keeping %s: live pages still load them", self.origin.url, rescued)
        retained, doomed = retained | rescued, doomed - rescued
        return state, plan_gc(records, listing, retained, pending, doomed)

    def take_lease(self, planned_from: State, plan: GcPlan) -> GcLease:
        lease = GcLease(
            id=secrets.token_hex(8),
            expires_at=iso(self.clock.now() + timedelta(seconds=LEASE_SECONDS)),
            doomed=plan.doomed,
            holder=holder_id(),
        )

        def change(current: State) -> State:
            if current != planned_from:
                raise _StateMoved  # a publish or rollback committed: plan again
            return current.take_gc_lease(lease)

        self.store.update(change)
        return lease

    def renew(self, lease: GcLease) -> None:
        def change(current: State) -> State:
            if current.gc_lease is None or current.gc_lease.id != lease.id:
                raise OriginError(f"{self.origin.url}: GC lost its lease; stopped deleting")
            expires = iso(self.clock.now() + timedelta(seconds=LEASE_SECONDS))
            return replace(current, gc_lease=replace(lease, expires_at=expires))

        self.store.update(change)

    def release(self, lease: GcLease) -> None:
        self.store.update(lambda current: current.without_gc_lease(lease.id))

    def run(self) -> GcResult:
        for _attempt in range(10):
            state, plan = self.plan()
            result = GcResult(self.origin.url, plan, dry_run=self.options.dry_run)
            if plan.total_deletes > self.options.max_deletes and not self.options.force:
                raise TooManyDeletesError(
                    f"{self.origin.url}: GC would delete {plan.total_deletes} objects, more than "
                    f"--max-deletes {self.options.max_deletes}; nothing deleted (use --force)"
                )
            if not plan.doomed:
                return result
            try:
                lease = self.take_lease(state, plan)
            except _StateMoved:
                continue
            try:
                for start in range(0, len(plan.delete_keys), BATCH):
                    self.renew(lease)
                    batch = list(plan.delete_keys[start : start + BATCH])
                    self.origin.delete(batch)
                    result.deleted_objects += len(batch)
                self.renew(lease)
                self.origin.delete(list(plan.record_keys))
                result.deleted_records = len(plan.record_keys)
            finally:
                self.release(lease)
            return result
        raise OriginError(f"{self.origin.url}: releases kept changing during GC; try again")


def run_gc(
    origin: Origin,
    options: GcSettings,
    warn: Callable[[str], None] = log.warning,
    clock: Clock = SYSTEM_CLOCK,
) -> GcResult:
    if options.dry_run:
        [origin] = as_dry_run([origin])
    requests = request_counter(origin)
    result = _Collector(origin, options, warn, clock).run()
    result.requests = requests()
    return result
