"""Rollback (and roll forward): make a retained release live again from its record alone.

Every origin is checked first (the release is retained there and all its objects exist, one
listing per 1,000 keys); only then is any origin changed: state first, then the files, in the
publish order, index.html last.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from assetpub.cdn import open_cdn
from assetpub.clock import SYSTEM_CLOCK, Clock
from assetpub.commands.apply import after_commit, switch_origins
from assetpub.commands.invalidate import (
    Invalidation,
    OpenCdn,
    caller_reference,
    invalidate_switch,
    records_before,
)
from assetpub.commands.restore import converge_to_live, restore_release
from assetpub.errors import RollbackError, and_more
from assetpub.history.record import ReleaseRecord, current_user, load_record
from assetpub.history.state import Activation, State
from assetpub.history.store import StateStore
from assetpub.keys import STATE_KEY
from assetpub.origins import as_dry_run, list_all
from assetpub.origins.base import Origin, RemoteObject, request_counter
from assetpub.settings import NO_INVALIDATION, InvalidateSettings

log = logging.getLogger(__name__)


@dataclass
class RollbackOrigin:
    origin: Origin
    store: StateStore
    record: ReleaseRecord
    previous: str | None
    listing: dict[str, RemoteObject]


@dataclass
class RollbackResult:
    release: str
    origins: list[tuple[str, str | None]]  # (url, release live before)
    dry_run: bool
    written: int = 0
    requests: int = 0
    # Per origin URL, every key written (a dry run: would be), in the order written.
    written_keys: dict[str, list[str]] = field(default_factory=dict)
    # One per CDN given (--invalidate), after the switch.
    invalidations: list[Invalidation] = field(default_factory=list)


def _resolve(
    origin: Origin, store: StateStore, release_id: str | None, warn: Callable[[str], None]
) -> RollbackOrigin:
    state, _ = store.load()
    if state.live is None:
        raise RollbackError(f"{origin.url}: no release is live here yet (nothing to roll back)")
    wanted = release_id or _previous_passing(origin, state, warn)
    if wanted is None:
        raise RollbackError(f"{origin.url}: no previous release to roll back to")
    failed = state.failed_check(wanted)
    if release_id is not None and failed is not None:
        warn(
            f"{origin.url}: release {wanted} failed its health check at {failed.at} "
            f"({failed.check})"
        )
    if state.entry(wanted) is None:
        raise RollbackError(
            f"{origin.url}: release {wanted} is not retained here "
            "(unknown id, or collected by GC); see `assetpub releases`"
        )
    record = load_record(origin, wanted)
    listing = list_all(origin)
    missing = record.missing_from(listing)
    if missing:
        more = and_more(len(missing))
        raise RollbackError(
            f"{origin.url}: release {wanted} cannot be restored: {missing[0].key} "
            f"{missing[0].reason}{more}; nothing changed"
        )
    return RollbackOrigin(origin, store, record, state.live, listing)


def rollback(
    origins: Sequence[Origin],
    release_id: str | None = None,
    *,
    dry_run: bool = False,
    workers: int = 8,
    warn: Callable[[str], None] = log.warning,
    clock: Clock = SYSTEM_CLOCK,
    invalidate: InvalidateSettings = NO_INVALIDATION,
    open_cdn: OpenCdn = open_cdn,
) -> RollbackResult:
    if dry_run:
        origins = as_dry_run(origins)
    stores = [StateStore(o, warn=warn, clock=clock) for o in origins]
    requests = request_counter(*origins)
    rollbacks = [_resolve(o, s, release_id, warn) for o, s in zip(origins, stores, strict=True)]
    ids = {r.record.id for r in rollbacks}
    if len(ids) > 1:
        raise RollbackError(
            "origins disagree on the previous release ("
            + ", ".join(f"{r.origin.url}: {r.record.id}" for r in rollbacks)
            + "); name the release to roll back to"
        )
    result = RollbackResult(ids.pop(), [(r.origin.url, r.previous) for r in rollbacks], dry_run)
    by = current_user()
    activations: dict[str, Activation | None] = {}

    def switch_one(one: RollbackOrigin) -> None:
        activations[one.origin.url] = _activate(one, by).last_activation(one.record.id)
        with after_commit(one.origin.url, one.record.id, "run the same rollback again"):
            written = restore_release(one.origin, one.record, one.listing, workers)
            result.written_keys[one.origin.url] = [STATE_KEY, *written]
            result.written += len(written)
            converge_to_live(one.store, one.record.id, workers)

    switch_origins(
        rollbacks,
        switch_one,
        [r.origin.url for r in rollbacks],
        result.release,
        failed="rollback failed",
        rerun="Run it again to converge",
    )
    if invalidate.enabled:
        result.invalidations = _invalidate(
            rollbacks, activations, invalidate, dry_run, warn, open_cdn
        )
    result.requests = requests()
    return result


def _invalidate(
    rollbacks: Sequence[RollbackOrigin],
    activations: dict[str, Activation | None],
    settings: InvalidateSettings,
    dry_run: bool,
    warn: Callable[[str], None],
    opener: OpenCdn,
) -> list[Invalidation]:
    """Against the release the activation replaced, not the one live when this command
    started: a rollback run again to converge finds its target live already, and must
    invalidate what the first run's switch changed (under the same CallerReference)."""
    first = rollbacks[0]
    activation = activations.get(first.origin.url)

    def replaced(one: RollbackOrigin) -> str | None:
        done = activations.get(one.origin.url)
        return done.previous if done is not None else one.previous

    before = records_before([(r.origin, replaced(r)) for r in rollbacks], warn)
    reference = caller_reference(activation, first.record.id, "rollback")
    return invalidate_switch(
        before, first.record, reference, settings, dry_run=dry_run, warn=warn, opener=opener
    )


def _previous_passing(origin: Origin, state: State, warn: Callable[[str], None]) -> str | None:
    """The release live before the current one, passing over releases that failed their
    health check (a plain rollback must not bring back what a check just rolled back)."""
    wanted = state.previous_live(skip=state.failed_ids)
    passed_over = state.previous_live()
    if passed_over is not None and passed_over != wanted:
        warn(f"{origin.url}: passing over release {passed_over}: it failed its health check")
    return wanted


def _activate(one: RollbackOrigin, by: str) -> State:
    release_id = one.record.id

    def change(current: State) -> State | None:
        if current.entry(release_id) is None:
            raise RollbackError(
                f"{one.origin.url}: release {release_id} was collected meanwhile; nothing switched"
            )
        if current.live == release_id:
            return None
        return current.activate(
            release_id,
            action="rollback",
            now=one.store.clock.now(),
            by=by,
            git_commit=one.record.git_commit,
        )

    return one.store.update(change)
