"""Garbage collection: delete what no retained release needs, never what one does.

Planning is pure (plan_gc); run_gc takes a lease in the state object before deleting, so a
publish that commits meanwhile waits for it and then re-checks its objects
(history/commit.py), and it renews the lease before every batch so a dead GC's lease soon stops
blocking anyone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from assetpub.clock import SYSTEM_CLOCK, Clock
from assetpub.errors import (
    HistoryError,
    InvalidRecordError,
    MissingRecordError,
    OriginError,
    TooManyDeletesError,
    and_more,
)
from assetpub.history.lease import (
    StateMoved,
    implausible_lease_message,
    is_implausible,
    lease_blocks,
    release_lease,
    renew_lease,
    take_lease,
)
from assetpub.history.record import (
    RecordedFile,
    ReleaseRecord,
    keys_in_asset_manifest,
    load_record,
    record_ids,
    release_named_by,
)
from assetpub.history.state import GcLease, State, release_time
from assetpub.history.store import StateStore
from assetpub.keys import ASSET_MANIFEST_KEY, is_blob_key, is_reserved, release_record_key
from assetpub.origins import as_dry_run, list_all
from assetpub.origins.base import Origin, RemoteObject, request_counter
from assetpub.settings import GcSettings

log = logging.getLogger(__name__)

BATCH = 1000


def serving_live_pages(
    records: Mapping[str, ReleaseRecord],
    doomed: set[str],
    kept: set[str],
    listing: Mapping[str, RemoteObject],
    live_bytes: Callable[[str], bytes | None],
    live_keys: AbstractSet[str] = frozenset(),
) -> set[str]:
    """Doomed releases whose entry files are what the origin serves right now, under a key
    a kept release (or the live asset manifest, `live_keys`) has too, where no kept release
    published the same bytes.

    A publish or rollback that died mid-switch leaves the state and asset-manifest.json on one
    release and some pages (index.html last) still on another; those pages load that other
    release's assets, so it must not be collected. Where a kept release has the same bytes
    (robots.txt, unchanged pages), its own objects already cover what the page loads. A page
    no kept release has (one deleted from the site) rescues nothing: it goes with the last
    release that had it (removed_names), instead of keeping that release forever.
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
    switched = set(live_keys).union(*(records[r].entry_content for r in kept if r in records))
    keys = {k for r in doomed if r in records for k in records[r].entry_content} & switched
    for key in sorted(keys):
        serving = {r for r in doomed if r in records and serves(r, key)}
        if serving and not any(serves(r, key) for r in kept if r in records):
            rescued |= serving
    return rescued


@dataclass(frozen=True)
class Untrusted:
    """A release GC would collect but keeps: its record cannot be read, or no publish could
    have written it as it is, so nothing it names is deleted (its record included)."""

    release: str
    reason: str

    @property
    def record_key(self) -> str:
        return release_record_key(self.release)


@dataclass(frozen=True)
class LeftName:
    """A page or plain file only collected releases published, which GC leaves: the object
    under that name is not (or cannot be shown to be) what any of them put there."""

    key: str
    reason: str


def removed_names(
    records: Mapping[str, ReleaseRecord],
    collected: AbstractSet[str],
    kept: AbstractSet[str],
    listing: Mapping[str, RemoteObject],
    live_keys: AbstractSet[str],
    stored_sha256: Callable[[str], str | None],
) -> tuple[list[str], list[LeftName]]:
    """The entry and plain names (a page deleted from the site, an old robots.txt) that GC
    deletes with the `collected` releases, and the ones it leaves, with why.

    A name goes only when a collected release's record published it, no `kept` release's
    record names it in any way, it is not part of the live site (`live_keys`) nor assetpub's
    own, and the object under it holds bytes one of those records published there: by the
    listing's size and MD5 ETag, else by the SHA-256 assetpub stored with it
    (`stored_sha256`, one HEAD). Anything else there was written by someone else after
    (a foreign upload under a name the site no longer uses) and is left. Names are compared
    without case against what is kept: on a case-insensitive folder origin `About.html` is
    `about.html`."""
    published: dict[str, list[RecordedFile]] = {}
    for release_id in sorted(collected):
        if release_id in records:
            for key, file in records[release_id].named_files().items():
                published.setdefault(key, []).append(file)
    protected = set(live_keys).union(*(records[r].needed_keys() for r in kept if r in records))
    protected_folded = {k.casefold() for k in protected}
    delete: list[str] = []
    left: list[LeftName] = []
    for key, versions in sorted(published.items()):
        remote = listing.get(key)
        if remote is None or key.casefold() in protected_folded or is_reserved(key):
            continue
        verdicts = [remote.holds(f.size, f.md5) for f in versions]
        if any(verdicts):
            delete.append(key)
            continue
        undecided = {f.sha256 for f, held in zip(versions, verdicts, strict=True) if held is None}
        if undecided and stored_sha256(key) in undecided:
            delete.append(key)
        else:
            left.append(
                LeftName(
                    key, "holds other bytes than any release that published it (another upload?)"
                )
            )
    return delete, left


@dataclass(frozen=True)
class GcPlan:
    retained: tuple[str, ...]
    pending: tuple[str, ...]  # uncommitted publishes younger than the grace period
    doomed: tuple[str, ...]  # releases whose records go, committed or never committed
    delete_keys: tuple[str, ...]  # their objects that nothing kept needs, existing on the origin
    delete_bytes: int
    untrusted: tuple[Untrusted, ...] = ()  # would be doomed, kept: their records are not valid
    # Among delete_keys: pages and plain files no kept release has any more (removed_names).
    removed_names: tuple[str, ...] = ()
    left_names: tuple[LeftName, ...] = ()  # such names GC leaves: others' bytes are there

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
    *,
    live_keys: AbstractSet[str] = frozenset(),
    unreadable: Mapping[str, str] | None = None,
    stored_sha256: Callable[[str], str | None] = lambda key: None,
) -> GcPlan:
    """What a collection of `doomed` deletes: the keys their records derive (collectable_keys),
    minus what any kept release owns, minus `live_keys` (what the live site is made of), and
    never a key in assetpub's own namespace but a blob; and the pages and plain files only
    they published, still holding their bytes (removed_names; `stored_sha256` reads the
    digest of one the listing cannot settle). A doomed release whose record is `unreadable`
    (id -> why) or has problems is kept instead, with what its record claims."""
    untrusted = dict(unreadable or {})
    for release_id in doomed - untrusted.keys():
        record = records.get(release_id)
        if record is not None and (problems := record.problems(release_id)):
            untrusted[release_id] = problems[0] + and_more(len(problems))
    untrusted = {r: why for r, why in untrusted.items() if r in doomed}
    collected = doomed - untrusted.keys()
    kept: set[str] = set()
    for release_id in retained | pending | untrusted.keys():
        if release_id in records:
            # What a record claims it needs is kept, trusted or not: keeping is never unsafe.
            kept |= records[release_id].owned_keys()
    candidates: set[str] = set()
    for release_id in collected:
        if release_id in records:
            candidates |= records[release_id].collectable_keys()
    delete = {
        k
        for k in candidates - kept - live_keys
        if k in listing and (is_blob_key(k) or not is_reserved(k))
    }
    names, left = removed_names(
        records,
        collected,
        retained | pending | untrusted.keys(),
        listing,
        live_keys,
        stored_sha256,
    )
    delete |= set(names)
    return GcPlan(
        retained=tuple(sorted(retained, reverse=True)),
        pending=tuple(sorted(pending, reverse=True)),
        doomed=tuple(sorted(collected, reverse=True)),
        delete_keys=tuple(sorted(delete)),
        delete_bytes=sum(listing[k].size for k in delete),
        untrusted=tuple(Untrusted(r, why) for r, why in sorted(untrusted.items(), reverse=True)),
        removed_names=tuple(names),
        left_names=tuple(left),
    )


@dataclass
class GcResult:
    url: str
    plan: GcPlan
    deleted_objects: int = 0
    deleted_records: int = 0
    dry_run: bool = False
    requests: int = 0


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
            if is_implausible(state.gc_lease, self.clock.now()):
                raise OriginError(
                    implausible_lease_message(self.origin.url, state.gc_lease, self.clock.now())
                )
            raise OriginError(
                f"{self.origin.url}: another GC is running (lease held by "
                f"{state.gc_lease.holder or 'unknown'} until {state.gc_lease.expires_at})"
            )
        listing = list_all(self.origin)
        on_origin = record_ids(list(listing))
        asset_manifest = self.origin.get(ASSET_MANIFEST_KEY)
        # The releases the site is on: the state's, and the one the live asset manifest names,
        # protected even if the state lost track of it (a crash between switching and
        # committing, or an origin without state).
        live = {r for r in (state.live, release_named_by(asset_manifest)) if r}
        retained, pending, doomed = classify_releases(
            state,
            on_origin,
            keep=self.options.keep,
            grace=self.options.grace,
            now=self.clock.now(),
            protected=live,
        )
        records, unreadable = self._load_records(retained, pending, doomed, on_origin)
        live_keys = keys_in_asset_manifest(asset_manifest).union(
            *(records[r].needed_keys() for r in live if r in records)
        )
        live_bytes_read: dict[str, bytes | None] = {}

        def live_bytes(key: str) -> bytes | None:
            if key not in live_bytes_read:
                live_bytes_read[key] = self.origin.get(key)
            return live_bytes_read[key]

        rescued = serving_live_pages(
            records, doomed, retained | pending, listing, live_bytes, live_keys
        )
        if rescued:
            log.info("%s: keeping %s: live pages still load them", self.origin.url, rescued)
        retained, doomed = retained | rescued, doomed - rescued
        plan = plan_gc(
            records,
            listing,
            retained,
            pending,
            doomed,
            live_keys=live_keys,
            unreadable=unreadable,
            stored_sha256=self.origin.sha256,
        )
        return state, plan

    def _load_records(
        self, retained: set[str], pending: set[str], doomed: set[str], on_origin: set[str]
    ) -> tuple[dict[str, ReleaseRecord], dict[str, str]]:
        """The records of every release in play, and why some cannot be trusted (id -> why).

        A record a newer assetpub wrote stops the whole GC (NewerFormatError): this code cannot
        know what it needs. So does an untrusted record of a release GC keeps: what it needs is
        unknown, and any hash-named object could be part of it. An untrusted doomed record only
        keeps its own release (plan_gc), so it does not block collecting the others.
        """
        records: dict[str, ReleaseRecord] = {}
        unreadable: dict[str, str] = {}
        for release_id in sorted(retained | pending | doomed):
            if release_id in on_origin:
                try:
                    records[release_id] = load_record(self.origin, release_id, check=False)
                except InvalidRecordError as exc:
                    unreadable[release_id] = exc.reason
                except MissingRecordError:
                    # Listed a moment ago, gone now: another GC collected it. The plan rests
                    # on a listing that no longer holds: plan again from a fresh one.
                    raise StateMoved from None
            elif release_id in retained:
                raise HistoryError(
                    f"{self.origin.url}: retained release {release_id} has no record; refusing "
                    "to collect anything until `assetpub verify` is clean"
                )
        for release_id in sorted(retained | pending):
            reason = unreadable.get(release_id)
            if reason is None and release_id in records:
                problems = records[release_id].problems(release_id)
                reason = problems[0] + and_more(len(problems)) if problems else None
            if reason is not None:
                raise HistoryError(
                    f"{self.origin.url}: {release_record_key(release_id)} is not a valid "
                    f"release record ({reason}); GC keeps that release, so it deletes nothing "
                    "until the record is fixed"
                )
        return records, unreadable

    def take_lease(self, planned_from: State, plan: GcPlan) -> GcLease:
        return take_lease(self.store, planned_from, plan.doomed)

    def renew(self, lease: GcLease) -> None:
        renew_lease(
            self.store,
            lease,
            f"{self.origin.url}: GC lost its lease; stopped deleting",
        )

    def release(self, lease: GcLease) -> None:
        release_lease(self.store, lease)

    def run(self) -> GcResult:
        warned: set[str] = set()
        for _attempt in range(10):
            try:
                state, plan = self.plan()
            except StateMoved:
                continue
            for untrusted in plan.untrusted:
                if untrusted.release not in warned:  # once per release, however many plans
                    warned.add(untrusted.release)
                    self.warn(
                        f"{self.origin.url}: {untrusted.record_key} is not a valid release "
                        f"record ({untrusted.reason}); GC keeps release {untrusted.release} "
                        "and everything it names"
                    )
            for name in plan.left_names:
                if name.key not in warned:
                    warned.add(name.key)
                    self.warn(
                        f"{self.origin.url}: leaving {name.key}: no kept release has it, but it "
                        f"{name.reason}"
                    )
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
            except StateMoved:
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


def break_lease(
    origin: Origin,
    *,
    dry_run: bool = False,
    warn: Callable[[str], None] = log.warning,
    clock: Clock = SYSTEM_CLOCK,
) -> GcLease | None:
    """Clear the GC lease, whoever holds it, and return it (None when no lease is held): for a
    lease no GC will release or let expire in time, e.g. one set by a clock far ahead. Deletes
    nothing. A GC still running under that lease stops at its next renewal; publishes then
    list again before they commit, since the epoch that GC took differs from theirs."""
    if dry_run:
        [origin] = as_dry_run([origin])
    store = StateStore(origin, warn=warn, clock=clock)
    state, token = store.load()
    lease = state.gc_lease
    if lease is None:
        return None

    def change(current: State) -> State | None:
        # Only that lease: one a GC took meanwhile is left alone.
        held = current.gc_lease
        return current.without_gc_lease(lease.id) if held and held.id == lease.id else None

    store.update(change, current=(state, token))
    return lease


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
