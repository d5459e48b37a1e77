"""The health check as the last safeguard of a switch: after a publish or a rollback, run the
checks (assetpub.health); when one fails, mark the release in every origin's state and, after
a publish, roll back to the release that was live before it, on every origin, through the one
rollback routine (commands/rollback.py) and its switch.

A rollback whose check fails is reported and left live: rolling forward would bring back the
release the rollback was run to get away from.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assetpub.cdn import open_cdn
from assetpub.clock import SYSTEM_CLOCK, Clock
from assetpub.commands.invalidate import OpenCdn
from assetpub.commands.publish import PublishResult
from assetpub.commands.rollback import RollbackResult, rollback
from assetpub.errors import AssetpubError, HealthCheckError
from assetpub.health.check import HealthReport, RunCommand, run_health_checks
from assetpub.health.command import run_check_command
from assetpub.health.fetch import Fetcher
from assetpub.history.state import FailedCheck, State, iso
from assetpub.history.store import StateStore
from assetpub.origins import open_origins
from assetpub.origins.base import Origin
from assetpub.settings import NO_INVALIDATION, CheckSettings, InvalidateSettings, PublishSettings

log = logging.getLogger(__name__)

OpenOrigins = Callable[[], Sequence[Origin]]


@dataclass
class GuardResult:
    """What the checks after one switch found, and what was done about a failure."""

    action: str  # "publish" | "rollback"
    release: str
    previous: str | None  # the release live before the switch (None: the first release)
    report: HealthReport
    switched: bool = True  # False for an unchanged publish: nothing was switched
    rolled_back_to: str | None = None
    rollback_error: str | None = None
    rolled_back: RollbackResult | None = None

    @property
    def passed(self) -> bool:
        return self.report.passed

    def failure_message(self, rollback_on_failure: bool) -> str:
        """The one line a failure is reported in: the failing check, and what happened."""
        failed = self.report.failed
        assert failed is not None
        said = f"check {failed.check} failed for release {self.release}: {failed.problem}"
        if not self.switched:
            return f"{said}; this publish switched nothing ({self.release} was already live)"
        if self.action == "rollback":
            return f"{said}; it stays live (a rollback whose check fails does not roll forward)"
        if self.rollback_error is not None:
            return f"{said}; rolling back to {self.previous} failed too: {self.rollback_error}"
        if self.rolled_back_to is not None:
            return (
                f"{said}; rolled back to {self.rolled_back_to} on every origin "
                f"({self.release} is marked as failed in `assetpub releases`)"
            )
        if self.previous is None:
            return f"{said}; nothing to roll back to (it is the first release); it stays live"
        if rollback_on_failure:
            return f"{said}; not rolled back: another switch came after it (see the warnings)"
        return f"{said}; it stays live (--no-rollback-on-failure)"

    def raise_if_failed(self, rollback_on_failure: bool) -> None:
        if not self.passed:
            raise HealthCheckError(self.failure_message(rollback_on_failure))


def _mark_failed(origins: Sequence[Origin], failed: FailedCheck, clock: Clock) -> list[State]:
    """Mark the release in every origin's state (compare-and-swap); the states after it."""
    return [
        StateStore(origin, clock=clock).update(lambda state: _marked(state, failed))
        for origin in origins
    ]


def _marked(state: State, failed: FailedCheck) -> State | None:
    new = state.with_failed_check(failed)
    return None if new == state else new


def after_publish(
    result: PublishResult,
    settings: PublishSettings,
    checks: CheckSettings,
    warn: Callable[[str], None] = log.warning,
) -> GuardResult | None:
    """What follows a publish, for the CLI and the Python API alike: the build's warnings,
    then the health checks on what went live (opening the publish's origins again only for a
    rollback, which invalidates as the publish did). The caller reports, then raises."""
    for warning in result.build.warnings:
        warn(warning)
    return check_after_publish(
        result,
        checks,
        lambda: open_origins(settings.origins),
        warn=warn,
        invalidate=settings.invalidate,
    )


def check_after_publish(
    result: PublishResult,
    checks: CheckSettings,
    open_origins: OpenOrigins,
    *,
    fetcher: Fetcher | None = None,
    clock: Clock = SYSTEM_CLOCK,
    run: RunCommand = run_check_command,
    warn: Callable[[str], None] = log.warning,
    invalidate: InvalidateSettings = NO_INVALIDATION,
    open_cdn: OpenCdn = open_cdn,
) -> GuardResult | None:
    """Check what `result` switched to; on failure mark it and roll back (unless told not
    to), invalidating what the rollback switched on `invalidate`'s CDNs. None when there was
    nothing to check (no checks, or a dry run)."""
    if not checks.enabled or result.dry_run:
        return None
    release = result.release.id
    previous_by_origin = result.previous_live
    previous = next(iter(previous_by_origin.values()), None)
    report = _run(checks, release, previous, fetcher, clock, run)
    guard = GuardResult("publish", release, previous, report, switched=not result.unchanged)
    if report.passed or result.unchanged:
        return guard
    origins = open_origins()
    failed = report.failed
    assert failed is not None
    mark = FailedCheck(release, iso(clock.now()), failed.summary, "publish")
    states = _mark_failed(origins, mark, clock)
    if not checks.rollback_on_failure:
        return guard
    by_previous: dict[str, list[Origin]] = {}
    for origin, state in zip(origins, states, strict=True):
        before = previous_by_origin.get(origin.url)
        if state.live != release:
            # Another publish or rollback switched this origin since: rolling it back would
            # undo that one, not this.
            warn(f"{origin.url}: {state.live} is live now, not {release}: not rolled back")
        elif before is not None:
            by_previous.setdefault(before, []).append(origin)
    try:
        # Normally one group: origins that diverged before this publish go back each to its own.
        for target, group in by_previous.items():
            guard.rolled_back = rollback(
                group, target, warn=warn, clock=clock, invalidate=invalidate, open_cdn=open_cdn
            )
            guard.rolled_back_to = target
    except AssetpubError as exc:
        guard.rollback_error = exc.message
    if len(by_previous) > 1 and guard.rollback_error is None:
        guard.rolled_back_to = ", ".join(by_previous)
    return guard


def check_after_rollback(
    result: RollbackResult,
    checks: CheckSettings,
    origins: Sequence[Origin],
    *,
    fetcher: Fetcher | None = None,
    clock: Clock = SYSTEM_CLOCK,
    run: RunCommand = run_check_command,
) -> GuardResult | None:
    """Check the release a rollback made live; on failure mark it, and leave it live."""
    if not checks.enabled or result.dry_run:
        return None
    previous = result.origins[0][1] if result.origins else None
    report = _run(checks, result.release, previous, fetcher, clock, run)
    guard = GuardResult("rollback", result.release, previous, report)
    failed = report.failed
    if failed is not None:
        mark = FailedCheck(result.release, iso(clock.now()), failed.summary, "rollback")
        _mark_failed(origins, mark, clock)
    return guard


def _run(
    checks: CheckSettings,
    release: str,
    previous: str | None,
    fetcher: Fetcher | None,
    clock: Clock,
    run: RunCommand,
) -> HealthReport:
    return run_health_checks(
        checks.urls,
        checks.command,
        release,
        previous,
        timeout=checks.timeout,
        fetcher=fetcher,
        clock=clock,
        run=run,
        public_url=checks.public_url,
    )
