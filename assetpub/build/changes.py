"""The build folder's changes, from watchdog's observer, for `assetpub watch`.

Two watches: the build folder, recursively, and its parent (or the nearest folder above it that
exists), for the build folder itself only. A bundler that deletes and recreates the folder ends
the first watch with it (inotify watches an inode, not a path); the second sees the folder come
back, and the build folder is watched again. Reading a file is no change: publish reads the
build, and its own reads must not start another publish.
"""

from __future__ import annotations

import contextlib
import os
import queue
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import ObservedWatch

from assetpub.clock import SYSTEM_CLOCK, Clock
from assetpub.errors import BuildError

# What a bundler writing, deleting or renaming files causes; not opened or closed_no_write
# (reads), nor attrib (chmod, touch: nothing a publish reads changes).
_CHANGES = frozenset({"created", "deleted", "modified", "moved", "closed"})
_STOP = "stop"


@dataclass(frozen=True)
class Wake:
    """Why a wait ended: changes (the monotonic time of the latest), a stop request, or
    neither (the timeout)."""

    changed_at: float | None = None
    stop: bool = False


class BuildChanges:
    """Changes under one build folder as a queue the watch loop waits on.

    `request_stop` may be called from a signal handler: a SimpleQueue's put is reentrant,
    where a lock taken by the interrupted code would deadlock the handler."""

    def __init__(self, build_dir: Path, clock: Clock = SYSTEM_CLOCK) -> None:
        self.build_dir = os.path.abspath(build_dir)
        self._clock = clock
        self._events: queue.SimpleQueue[tuple[str, float]] = queue.SimpleQueue()
        self._observer = Observer()
        self._build_watch: ObservedWatch | None = None
        self._anchor_watch: ObservedWatch | None = None

    def __enter__(self) -> BuildChanges:
        self._observer.start()
        try:
            self._rewatch()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._observer.stop()
        self._observer.join(timeout=5)

    def request_stop(self) -> None:
        self._events.put((_STOP, 0.0))

    def wait(self, timeout: float | None) -> Wake:
        """Block until a change or a stop request arrives, or `timeout` seconds pass (None:
        no timeout); then take every change that has arrived."""
        changed_at: float | None = None
        stop = rewatch = False
        try:
            item: tuple[str, float] | None = self._events.get(timeout=timeout)
        except queue.Empty:
            return Wake()
        while item is not None:
            kind, at = item
            if kind == _STOP:
                stop = True
            else:
                changed_at = at if changed_at is None else max(changed_at, at)
                rewatch = rewatch or kind == "rewatch"
            try:
                item = self._events.get_nowait()
            except queue.Empty:
                item = None
        if rewatch:
            self._rewatch()
        return Wake(changed_at, stop)

    def _changed(self, rewatch: bool) -> None:
        self._events.put(("rewatch" if rewatch else "change", self._clock.monotonic()))

    def _touches_build_dir(self, event: FileSystemEvent) -> bool:
        """Whether the event names the build folder or a folder above it."""
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            path = os.fsdecode(raw)
            if path and (path == self.build_dir or self.build_dir.startswith(path + os.sep)):
                return True
        return False

    def _rewatch(self) -> None:
        """Watch the build folder if it exists (again, after it was deleted), and the nearest
        folder above it that exists. Runs in the loop's thread, never in the observer's."""
        anchor = os.path.dirname(self.build_dir)
        while not os.path.isdir(anchor) and os.path.dirname(anchor) != anchor:
            anchor = os.path.dirname(anchor)
        # Both scheduled anew each time: a folder recreated under the same name is another
        # inode, which the old watch does not see.
        self._anchor_watch = self._schedule(self._anchor_watch, anchor, _AnchorHandler(self))
        self._build_watch = self._schedule(
            self._build_watch,
            self.build_dir if os.path.isdir(self.build_dir) else None,
            _BuildHandler(self),
        )

    def _schedule(
        self, old: ObservedWatch | None, path: str | None, handler: _BuildHandler | _AnchorHandler
    ) -> ObservedWatch | None:
        if old is not None:
            with contextlib.suppress(KeyError):  # its emitter already ended with the folder
                self._observer.unschedule(old)
        if path is None:
            return None
        try:
            return self._observer.schedule(handler, path, recursive=handler.recursive)
        except FileNotFoundError:  # gone again already: the folder above reports its return
            return None
        except OSError as exc:
            raise BuildError(
                f"cannot watch {path}: {exc.strerror} (raise fs.inotify.max_user_watches?)"
            ) from None


class _BuildHandler(FileSystemEventHandler):
    recursive = True

    def __init__(self, changes: BuildChanges) -> None:
        self._changes = changes

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in _CHANGES:
            gone = event.event_type in {"deleted", "moved"}
            self._changes._changed(rewatch=gone and self._changes._touches_build_dir(event))


class _AnchorHandler(FileSystemEventHandler):
    recursive = False

    def __init__(self, changes: BuildChanges) -> None:
        self._changes = changes

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in _CHANGES and self._changes._touches_build_dir(event):
            self._changes._changed(rewatch=True)
