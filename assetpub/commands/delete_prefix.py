"""Delete a preview: every object assetpub owns under one origin, and its history, and
nothing else.

What goes is what assetpub can prove its own: a key some valid release record names whose
current bytes are what a record says it holds (a page, a plain file, an asset-manifest.json
edited or replaced by hand stays), and everything under `_assetpub/`, the reserved namespace no
build can write. Every other object is foreign: listed, reported as left, never deleted.

Deletes go in an order that leaves the origin consistent whenever a run stops: the pages and
asset-manifest.json first (no page is served whose assets are gone), then plain and immutable
files, blobs, the release records (a rerun reads them to know what else is assetpub's) and
state.json last. A GC lease is held throughout, renewed before every batch of 1,000, as GC
holds it: a publish waits for it before committing and then lists and uploads again; another
GC or delete-prefix is refused while it is held.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

from assetpub.build.classify import FileKind
from assetpub.build.hashing import Digests, digest_bytes
from assetpub.clock import SYSTEM_CLOCK, Clock
from assetpub.errors import (
    ConfigError,
    InvalidRecordError,
    MissingRecordError,
    NotConfirmedError,
    OriginError,
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
from assetpub.history.record import ReleaseRecord, load_record, record_ids
from assetpub.history.state import GcLease, State
from assetpub.history.store import StateStore
from assetpub.keys import (
    ASSET_MANIFEST_KEY,
    LOCK_KEY,
    RELEASES_PREFIX,
    RESERVED_PREFIX,
    STATE_KEY,
)
from assetpub.origins import as_dry_run, list_all, parse_origin_url
from assetpub.origins.base import Origin, RemoteObject, request_counter

log = logging.getLogger(__name__)

BATCH = 1000
_ATTEMPTS = 10
# The groups deleted one after the other, each finished before the next.
PHASES = ("entry files", "plain files", "immutable files", "blobs", "release records", "state")
_PHASE_OF_KIND = {
    FileKind.ENTRY: "entry files",
    FileKind.PLAIN: "plain files",
    FileKind.HASHED: "immutable files",
    FileKind.BUNDLER: "immutable files",
}
NOT_NAMED = "no release record names it"
OTHER_BYTES = "holds bytes no release record names"


@dataclass(frozen=True)
class LeftObject:
    """An object under the prefix that is not assetpub's to delete, and why."""

    key: str
    reason: str


@dataclass(frozen=True)
class DeletePrefixPlan:
    releases: tuple[str, ...]  # ids whose records go, newest first
    live: str | None  # the release the state says is live
    groups: tuple[tuple[str, tuple[str, ...]], ...]  # (phase, keys), in delete order
    delete_bytes: int
    left: tuple[LeftObject, ...]
    invalid_records: tuple[tuple[str, str], ...] = ()  # (record key, why): what they name stays

    @property
    def delete_keys(self) -> tuple[str, ...]:
        return tuple(key for _, keys in self.groups for key in keys)


def recorded_bytes(records: Mapping[str, ReleaseRecord]) -> dict[str, list[Digests]]:
    """Every key outside `_assetpub/` that the records name, with each content a record says
    the key holds: each file's key, and asset-manifest.json as each release switched to it."""
    claims: dict[str, list[Digests]] = {}
    for record in records.values():
        for file in record.files.values():
            claims.setdefault(file.key, []).append(file.digests)
        claims.setdefault(ASSET_MANIFEST_KEY, []).append(digest_bytes(record.asset_manifest))
    return claims


def holds_by_listing(remote: RemoteObject, contents: list[Digests]) -> bool | None:
    """Whether the listed object holds one of `contents`, as far as the listing tells: None
    where only its stored SHA-256 can say (no ETag, a multipart one)."""
    answers = [remote.holds(d.size, d.md5) for d in contents]
    if any(answers):
        return True
    return None if None in answers else False


def _kind_phase(key: str, records: Mapping[str, ReleaseRecord]) -> str:
    """The earliest group any record puts the key in: a name that was a page in one release
    and a plain file in another goes with the pages."""
    if key == ASSET_MANIFEST_KEY:
        return PHASES[0]
    phases = {
        _PHASE_OF_KIND[FileKind(f.kind)]
        for r in records.values()
        for f in r.files.values()
        if f.key == key
    }
    return min(phases, key=PHASES.index)


def _reserved_phase(key: str) -> str:
    if key.startswith(RELEASES_PREFIX):
        return "release records"
    if key in (STATE_KEY, LOCK_KEY):
        return "state"
    return "blobs"  # blobs, and the probe objects of a probe that died


def _delete_order(key: str) -> tuple[int, str]:
    # The root page first: the one file a visitor fetches without a hash.
    return (0 if key == "index.html" else 1 if key.endswith((".html", ".htm")) else 2, key)


def plan_delete_prefix(
    listing: Mapping[str, RemoteObject],
    records: Mapping[str, ReleaseRecord],
    holding: AbstractSet[str],
    *,
    live: str | None = None,
    invalid_records: Mapping[str, str] | None = None,
) -> DeletePrefixPlan:
    """What deleting the prefix deletes (pure). `records` are the valid ones, `holding` the
    listed keys that hold what a record says they hold, `invalid_records` (record key -> why)
    the records whose claims are not trusted: they go with `_assetpub/`, what they name stays."""
    claims = recorded_bytes(records)
    grouped: dict[str, list[str]] = {phase: [] for phase in PHASES}
    left = []
    for key in sorted(listing):
        if key.startswith(RESERVED_PREFIX):
            grouped[_reserved_phase(key)].append(key)
        elif key in claims and key in holding:
            grouped[_kind_phase(key, records)].append(key)
        else:
            left.append(LeftObject(key, OTHER_BYTES if key in claims else NOT_NAMED))
    groups = tuple(
        (phase, tuple(sorted(keys, key=_delete_order))) for phase, keys in grouped.items() if keys
    )
    deleted = [key for _, keys in groups for key in keys]
    return DeletePrefixPlan(
        releases=tuple(sorted(record_ids(list(listing)), reverse=True)),
        live=live,
        groups=groups,
        delete_bytes=sum(listing[key].size for key in deleted),
        left=tuple(left),
        invalid_records=tuple(sorted((invalid_records or {}).items())),
    )


@dataclass
class DeletePrefixResult:
    url: str
    plan: DeletePrefixPlan
    deleted: int = 0
    dry_run: bool = False
    requests: int = 0
    # What the prefix holds afterwards that the plan did not expect (a publish meanwhile).
    appeared: tuple[str, ...] = ()


def check_deletable(url: str) -> None:
    """Refuse a bucket's root: a preview lives under a prefix, and a missing prefix in a
    script would otherwise name the production site."""
    scheme, location, prefix = parse_origin_url(url)
    if scheme == "s3" and not prefix:
        raise ConfigError(
            f"{url} is a whole bucket: delete-prefix removes one preview's prefix, "
            f"e.g. s3://{location}/pr-42"
        )


@dataclass
class _Deleter:
    origin: Origin
    store: StateStore
    clock: Clock
    workers: int = 8

    def plan(self) -> tuple[State, DeletePrefixPlan]:
        state, _ = self.store.load()
        now = self.clock.now()
        if lease_blocks(state, now) and state.gc_lease:
            if is_implausible(state.gc_lease, now):
                raise OriginError(implausible_lease_message(self.origin.url, state.gc_lease, now))
            raise OriginError(
                f"{self.origin.url}: a GC or delete-prefix is running (lease held by "
                f"{state.gc_lease.holder or 'unknown'} until {state.gc_lease.expires_at}); "
                "nothing deleted, try again when it is done"
            )
        listing = list_all(self.origin)
        records: dict[str, ReleaseRecord] = {}
        invalid: dict[str, str] = {}
        # A record of a newer format stops everything (NewerFormatError): what it owns is
        # unknown to this code, and once deleted, unknown to anyone.
        for release_id in sorted(record_ids(list(listing))):
            try:
                record = load_record(self.origin, release_id)
            except InvalidRecordError as exc:
                invalid[exc.key] = exc.reason
                continue
            except MissingRecordError:
                raise StateMoved from None  # deleted since the listing: plan again
            records[release_id] = record
        holding = self._holding(listing, recorded_bytes(records))
        plan = plan_delete_prefix(
            listing, records, holding, live=state.live, invalid_records=invalid
        )
        return state, plan

    def _holding(
        self, listing: Mapping[str, RemoteObject], claims: Mapping[str, list[Digests]]
    ) -> set[str]:
        """The listed keys that hold bytes a record names: by the listing's ETag where it is
        the MD5, else by the SHA-256 the object carries (one HEAD; a folder hashes the file)."""
        from assetpub.commands.parallel import run_parallel

        holding, unsure = set(), []
        for key, contents in claims.items():
            remote = listing.get(key)
            if remote is None:
                continue
            verdict = holds_by_listing(remote, contents)
            if verdict:
                holding.add(key)
            elif verdict is None:
                unsure.append(key)

        def check(key: str) -> None:
            sha256 = self.origin.sha256(key)
            size = listing[key].size
            if any(d.sha256 == sha256 and d.size == size for d in claims[key]):
                holding.add(key)  # set.add is atomic under the GIL

        run_parallel(unsure, check, self.workers)
        return holding

    def take_lease(self, planned_from: State, plan: DeletePrefixPlan) -> GcLease:
        return take_lease(self.store, planned_from, plan.releases)

    def renew(self, lease: GcLease) -> None:
        renew_lease(
            self.store,
            lease,
            f"{self.origin.url}: delete-prefix lost its lease (`gc --break-lease`?); "
            "stopped deleting, run it again",
        )

    def release(self, lease: GcLease) -> None:
        release_lease(self.store, lease)

    def delete(self, plan: DeletePrefixPlan, lease: GcLease, result: DeletePrefixResult) -> None:
        groups = dict(plan.groups)
        state_keys = groups.pop("state", ())
        try:
            for keys in groups.values():
                for start in range(0, len(keys), BATCH):
                    batch = list(keys[start : start + BATCH])
                    self.renew(lease)
                    self.origin.delete(batch)
                    result.deleted += len(batch)
        except BaseException:
            self.release(lease)
            raise
        # state.json holds the lease, so deleting it releases it (a publish waiting for the
        # lease then commits into a fresh state). It goes even when the listing had none: the
        # lease wrote one. Never released after this point: that would write it again.
        self.origin.delete(sorted({*state_keys, STATE_KEY}))
        result.deleted += len(state_keys)


def delete_prefix(
    origin: Origin,
    *,
    confirm: Callable[[DeletePrefixPlan], bool] = lambda plan: True,
    dry_run: bool = False,
    warn: Callable[[str], None] = log.warning,
    clock: Clock = SYSTEM_CLOCK,
) -> DeletePrefixResult:
    """Delete everything assetpub owns under `origin` (see the module's docstring). `confirm`
    sees each plan before anything is written (again if the state moves before the lease is
    taken); False stops with NotConfirmedError."""
    check_deletable(origin.url)
    if dry_run:
        [origin] = as_dry_run([origin])
    requests = request_counter(origin)
    deleter = _Deleter(origin, StateStore(origin, warn=warn, clock=clock), clock)
    confirmed: DeletePrefixPlan | None = None
    for _attempt in range(_ATTEMPTS):
        try:
            state, plan = deleter.plan()
        except StateMoved:
            continue
        for record_key, reason in plan.invalid_records:
            warn(
                f"{origin.url}: {record_key} is not a valid release record ({reason}); it is "
                "deleted with _assetpub/, what it names is left"
            )
        if plan != confirmed and not confirm(plan):
            raise NotConfirmedError(f"{origin.url}: not confirmed; nothing deleted")
        confirmed = plan
        result = DeletePrefixResult(origin.url, plan, dry_run=dry_run)
        if plan.delete_keys:
            try:
                lease = deleter.take_lease(state, plan)
            except StateMoved:
                continue
            deleter.delete(plan, lease, result)
        expected_left = {left.key for left in plan.left}
        result.appeared = tuple(sorted(set(list_all(origin)) - expected_left))
        if result.appeared:
            warn(
                f"{origin.url}: {len(result.appeared)} object(s) appeared while deleting, "
                f"e.g. {result.appeared[0]} (a publish to this prefix?); run delete-prefix "
                "again once it is done, or `assetpub verify` to keep it"
            )
        result.requests = requests()
        return result
    raise OriginError(f"{origin.url}: the state kept changing during delete-prefix; try again")
