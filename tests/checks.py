"""Checks shared by the test modules."""

from __future__ import annotations

from assetpub.history.record import load_record
from assetpub.history.store import StateStore
from assetpub.origins import Origin


def assert_retained_releases_whole(origin: Origin) -> None:
    """Nothing a retained release needs is missing, and every committed record is there."""
    state, _ = StateStore(origin).load()
    present = {obj.key for obj in origin.list()}
    for entry in state.releases:
        record = load_record(origin, entry.id)  # raises if a committed record is gone
        missing = record.owned_keys() - present
        assert not missing, f"release {entry.id} lost {sorted(missing)[:5]}"


def snapshot(origin: Origin) -> dict[str, bytes]:
    """Every object under the origin's prefix with its bytes."""
    return {obj.key: origin.get(obj.key) or b"" for obj in origin.list()}
