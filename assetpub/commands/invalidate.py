"""After a switch (publish, rollback, the rollback after a failed health check): invalidate on
each configured CDN the paths the switch made stale (cdn/paths.py), once per switch.

The switch has happened when this runs, so a CDN that fails is reported, not raised: the
release is live, and the result carries the exact command that retries the invalidation.
A dry run computes the paths and sends nothing.
"""

from __future__ import annotations

import json
import logging
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assetpub.cdn import Cdn, CdnTarget, open_cdn
from assetpub.cdn.paths import changed_keys, invalidation_paths
from assetpub.errors import AssetpubError
from assetpub.history.record import ReleaseRecord, load_record
from assetpub.history.state import Activation
from assetpub.origins.base import Origin
from assetpub.settings import InvalidateSettings

log = logging.getLogger(__name__)

OpenCdn = Callable[[CdnTarget, str | None], Cdn]


@dataclass(frozen=True)
class Invalidation:
    """One CDN's invalidation after one switch: sent (`id`), failed (`error`), or only
    computed (`dry_run`, or no path changed)."""

    target: CdnTarget
    paths: tuple[str, ...]
    caller_reference: str
    dry_run: bool = False
    id: str | None = None
    error: str | None = None
    requests: int = 0

    @property
    def retry_command(self) -> str:
        """The AWS CLI command that sends this invalidation again; with the same
        CallerReference, CloudFront answers a request it already took with that invalidation
        instead of making a second one."""
        batch = {
            "Paths": {"Quantity": len(self.paths), "Items": list(self.paths)},
            "CallerReference": self.caller_reference,
        }
        return (
            f"aws cloudfront create-invalidation --distribution-id {self.target.id} "
            f"--invalidation-batch {shlex.quote(json.dumps(batch, separators=(',', ':')))}"
        )


def caller_reference(activation: Activation | None, release_id: str, action: str) -> str:
    """The same for every attempt at one switch (a retry, or the same command run again to
    converge), new for each switch: a release made live again later is invalidated again."""
    if activation is None:
        return f"assetpub-{action}-{release_id}"
    at = "".join(ch for ch in activation.at if ch.isalnum())
    return f"assetpub-{activation.action}-{activation.release}-{at}"


def records_before(
    switched: Sequence[tuple[Origin, str | None]], warn: Callable[[str], None]
) -> list[ReleaseRecord | None]:
    """The record of the release live before the switch on each origin (None: none was),
    each distinct release read once. One that cannot be read counts as nothing live, so
    every mutable name is invalidated: the safe side."""
    loaded: dict[str, ReleaseRecord | None] = {}
    for origin, previous in switched:
        if previous is None or previous in loaded:
            continue
        try:
            loaded[previous] = load_record(origin, previous)
        except AssetpubError as exc:
            warn(f"{exc.message}; invalidating every mutable name")
            loaded[previous] = None
    return [loaded[p] if p is not None else None for _, p in switched]


def invalidate_switch(
    before: Sequence[ReleaseRecord | None],
    after: ReleaseRecord,
    reference: str,
    settings: InvalidateSettings,
    *,
    dry_run: bool,
    warn: Callable[[str], None],
    opener: OpenCdn = open_cdn,
) -> list[Invalidation]:
    """Invalidate what changed from each of `before` (one per origin) to `after` on every
    target; a failure is a warning with the retry command, never raised."""
    keys = sorted({key for old in before for key in changed_keys(old, after)})
    paths = invalidation_paths(keys, pretty_urls=settings.pretty_urls)
    results = []
    for target in settings.targets:
        if dry_run or not paths:
            results.append(Invalidation(target, paths, reference, dry_run=dry_run))
            continue
        cdn: Cdn | None = None
        try:
            cdn = opener(target, settings.profile)
            sent = cdn.invalidate(paths, reference)
            results.append(Invalidation(target, paths, reference, id=sent, requests=cdn.requests))
        except AssetpubError as exc:
            failed = Invalidation(
                target,
                paths,
                reference,
                error=exc.message,
                requests=cdn.requests if cdn else 0,
            )
            warn(
                f"invalidating {len(paths)} path(s) on {target.spec} failed ({exc.message}); "
                f"release {after.id} is live; retry with: {failed.retry_command}"
            )
            results.append(failed)
    return results
