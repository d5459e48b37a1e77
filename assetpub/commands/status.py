"""Health checks: `status` (what is live where, cheaply) and `verify` (is the live release
whole: entry files and asset-manifest.json as recorded, every object present with its headers;
with deep=True every object's bytes re-hashed).

verify costs one listing per 1,000 keys plus a GET and a HEAD per entry file (and per plain
file's headers), so it can run every minute; deep verification reads every object.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assetpub.history.record import release_in_asset_manifest
from assetpub.history.store import StateStore
from assetpub.origins.base import Origin


@dataclass
class OriginStatus:
    url: str
    live: str | None
    serving: str | None  # the release the live asset-manifest.json names
    retained: int
    created_at: str | None


def origin_status(origin: Origin) -> OriginStatus:
    state, _ = StateStore(origin).load()
    serving = release_in_asset_manifest(origin)
    entry = state.entry(state.live) if state.live else None
    return OriginStatus(
        origin.url, state.live, serving, len(state.releases), entry.created_at if entry else None
    )


def divergence(statuses: Sequence[OriginStatus]) -> list[str]:
    """Human-readable reasons the origins are not all serving one release."""
    reasons = []
    for status in statuses:
        if status.live != status.serving:
            reasons.append(
                f"{status.url}: state says {status.live} is live but asset-manifest.json names "
                f"{status.serving}"
            )
    lives = {s.live for s in statuses}
    if len(lives) > 1:
        reasons.append(
            "origins are live on different releases: "
            + ", ".join(f"{s.url}: {s.live}" for s in statuses)
        )
    return reasons
