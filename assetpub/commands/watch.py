"""The watch command's core: publish the build once, then again each time it changes and
settles. No printing, no click, no watchdog: changes come from a ChangeSource (build/changes.py
in the program, a script of events in tests) and time from a Clock.

One publish at a time, in this thread: changes that arrive during a publish wait in the source
and make one more publish once the folder is quiet again. A stop request (SIGINT, SIGTERM) is
one more item in the source, so it is seen between operations, never inside a switch.
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import FrameType
from typing import Protocol

from assetpub.build.changes import Wake
from assetpub.build.completeness import Completeness, inspect_build
from assetpub.build.scan import FileSelection
from assetpub.clock import SYSTEM_CLOCK, Clock
from assetpub.commands.publish import Hooks, PublishResult, publish
from assetpub.errors import AssetpubError, BuildError, ConflictError
from assetpub.origins import Origin, open_origins
from assetpub.settings import PublishSettings, WatchSettings


class ChangeSource(Protocol):
    def wait(self, timeout: float | None) -> Wake:
        """Block until changes or a stop request arrive, or `timeout` seconds pass (None:
        no timeout)."""
        ...


@dataclass
class Schedule:
    """When the next look at the build is due (pure): once the folder has been quiet for
    `debounce` seconds since its latest change, and not before a retry's back-off ends."""

    debounce: float
    changed_at: float | None = None  # monotonic time of the latest change not yet looked at
    retry_at: float | None = None

    def note_change(self, at: float) -> None:
        self.changed_at = at if self.changed_at is None else max(self.changed_at, at)

    def due_in(self, now: float) -> float | None:
        """Seconds until the next look (0: now), None when nothing is pending."""
        times = [t for t in (self.retry_at,) if t is not None]
        if self.changed_at is not None:
            times.append(self.changed_at + self.debounce)
        return max(0.0, max(times) - now) if times else None

    def clear(self) -> None:
        self.changed_at = self.retry_at = None


@dataclass
class Backoff:
    """1 s, 2 s, 4 s ... up to `limit` between tries; reset by a success."""

    first: float
    limit: float
    current: float | None = None

    def next(self) -> float:
        self.current = self.first if self.current is None else min(self.current * 2, self.limit)
        return self.current

    def reset(self) -> None:
        self.current = None


def _ignore(*_: object) -> None:
    pass


@dataclass(frozen=True)
class WatchHooks:
    """How the loop reports without knowing about terminals."""

    on_published: Callable[[PublishResult, datetime, float], None] = _ignore  # when, seconds
    on_waiting: Callable[[str], None] = _ignore  # why the build is not published yet
    # The error, and the seconds until the publish is tried again (None: at the next change).
    on_error: Callable[[AssetpubError, float | None], None] = _ignore
    publish_hooks: Hooks = field(default_factory=Hooks)


Inspect = Callable[[Path, FileSelection, float, float], Completeness]
Publish = Callable[[PublishSettings, Hooks, Clock], PublishResult]


@dataclass(frozen=True)
class _PublishOnOpenedOrigins:
    """publish, on origins opened once for every publish of the watch: a boto3 client takes
    about 0.4 CPU-seconds to build, which every cycle would pay again."""

    origins: list[Origin]

    def __call__(self, settings: PublishSettings, hooks: Hooks, clock: Clock) -> PublishResult:
        return publish(settings, hooks, origins=self.origins, clock=clock)


def is_build_problem(exc: AssetpubError) -> bool:
    """The build cannot be published as it is: trying again before it changes cannot help,
    where an origin's trouble (an endpoint gone, a lease held) may pass."""
    return isinstance(exc, BuildError | ConflictError)


def watch(
    settings: WatchSettings,
    changes: ChangeSource,
    hooks: WatchHooks = WatchHooks(),
    clock: Clock = SYSTEM_CLOCK,
    inspect: Inspect = inspect_build,
    publish_build: Publish | None = None,
) -> int:
    """Publish at start and after every change once the build is quiet and complete, until a
    stop request; returns how many publishes ran (unchanged ones and failures included)."""
    build = settings.publish
    # Opening contacts nothing: what fails here is the settings, before anything is watched.
    publish_build = publish_build or _PublishOnOpenedOrigins(open_origins(build.origins))
    schedule = Schedule(settings.debounce, changed_at=clock.monotonic() - settings.debounce)
    backoff = Backoff(settings.retry_first, settings.retry_max)
    # Compiled once: include/exclude are the same for every look at the build.
    selection = build.selection
    published_signature: tuple[object, ...] | None = None
    # The build as it was when it could not be published (a build problem): an event that
    # left it so (a rename's second event, a touch) tries it, and says so, no second time.
    broken_signature: tuple[object, ...] | None = None
    last_reason = ""
    attempts = 0
    while True:
        wake = changes.wait(schedule.due_in(clock.monotonic()))
        if wake.stop:
            return attempts
        if wake.changed_at is not None:
            schedule.note_change(wake.changed_at)
        if schedule.due_in(clock.monotonic()) != 0:
            continue
        schedule.clear()
        found = inspect(build.build_dir, selection, clock.now().timestamp(), settings.debounce)
        if not found.is_complete:
            if found.is_changing:  # written without an event yet: look again once quiet
                schedule.note_change(clock.monotonic())
            elif found.reason != last_reason:  # the next change may complete it
                hooks.on_waiting(found.reason)
                last_reason = found.reason
            continue
        last_reason = ""
        if found.signature is not None and found.signature in (
            published_signature,
            broken_signature,
        ):
            continue  # woken by a change that left every file as published, or as refused
        started, start = clock.now(), clock.monotonic()
        attempts += 1
        try:
            result = publish_build(build, hooks.publish_hooks, clock)
        except AssetpubError as exc:
            if is_build_problem(exc):
                broken_signature = found.signature
                hooks.on_error(exc, None)
            else:
                delay = backoff.next()
                schedule.retry_at = clock.monotonic() + delay
                hooks.on_error(exc, delay)
            continue
        backoff.reset()
        published_signature, broken_signature = found.signature, None
        hooks.on_published(result, started, clock.monotonic() - start)


@contextmanager
def stopping_on_signals(request_stop: Callable[[], None]) -> Iterator[None]:
    """SIGINT and SIGTERM ask the loop to stop instead of raising in the middle of whatever
    runs (a KeyboardInterrupt inside a switch would leave it half done); the handlers that
    were there before come back afterwards. A signal the process was started ignoring (a
    background job's SIGINT, nohup) stays ignored, as Python itself leaves it."""

    def handler(signum: int, frame: FrameType | None) -> None:
        request_stop()

    previous = {
        sig: signal.signal(sig, handler)
        for sig in (signal.SIGINT, signal.SIGTERM)
        if signal.getsignal(sig) is not signal.SIG_IGN
    }
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
