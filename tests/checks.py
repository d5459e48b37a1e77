"""Checks shared by the test modules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from assetpub.build import prepare as prepare_module
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


class Reads:
    """Records the build files prepare reads: whole (`_read_bytes`) and, with `streamed`,
    hashed as a stream (`_digest`)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, streamed: bool = True) -> None:
        self.paths: list[str] = []

        def counted(function: Callable[[Any], Any]) -> Callable[[Any], Any]:
            def run(file: Any) -> Any:
                self.paths.append(file.path)
                return function(file)

            return run

        monkeypatch.setattr(prepare_module, "_read_bytes", counted(prepare_module._read_bytes))
        if streamed:
            monkeypatch.setattr(prepare_module, "_digest", counted(prepare_module._digest))

    def take(self) -> list[str]:
        """The paths read since the last take, sorted."""
        taken, self.paths = sorted(self.paths), []
        return taken
