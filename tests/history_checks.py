"""Assertions shared by the concurrency and crash tests: nothing a retained release needs is
ever missing."""

from __future__ import annotations

from assetpub.gc import needed_keys
from assetpub.history import StateStore, load_record
from assetpub.origins import Origin


def assert_retained_releases_whole(origin: Origin) -> None:
    state, _ = StateStore(origin).load()
    present = {obj.key for obj in origin.list()}
    for entry in state.releases:
        record = load_record(origin, entry.id)  # raises if a committed record is gone
        missing = needed_keys(record) - present
        assert not missing, f"release {entry.id} lost {sorted(missing)[:5]}"
