"""assetpub watch: the loop (commands/watch.py) with a fake clock and a scripted event source,
where every timing edge is exact; then real file-system events (watchdog's observer) and a
real `python -m assetpub watch` stopped by signals. The real tests wait for conditions with
timeouts and never assert on how long anything took."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import pytest
from fault_proxy import FaultProxy, Rule
from fixture_types import MakeBucket, MakeBuild, S3Client

from assetpub.build.changes import BuildChanges, Wake
from assetpub.build.completeness import Completeness
from assetpub.build.scan import FileSelection
from assetpub.clock import SYSTEM_CLOCK, Clock, FakeClock
from assetpub.commands.publish import Hooks, PublishResult
from assetpub.commands.watch import Backoff, Schedule, WatchHooks, watch
from assetpub.errors import AssetpubError, BuildError, OriginError
from assetpub.origins import OriginSpec
from assetpub.settings import PublishSettings, WatchSettings

T0 = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
ROOT = Path(__file__).parents[1]  # the checkout: `python -m assetpub` imports it from there
DEBOUNCE = 1.0

# --------------------------------------------------------------------------------------------
# The pure pieces


def test_the_schedule_is_due_once_quiet_and_not_before_a_retry() -> None:
    schedule = Schedule(debounce=1.0)
    assert schedule.due_in(0.0) is None  # nothing pending: wait for a change
    schedule.note_change(10.0)
    schedule.note_change(9.0)  # an older change, reported late, moves nothing
    assert schedule.due_in(10.5) == 0.5
    assert schedule.due_in(11.0) == 0.0
    schedule.retry_at = 20.0
    assert schedule.due_in(11.0) == 9.0  # the back-off wins over the quiet period
    schedule.clear()
    assert schedule.due_in(11.0) is None


def test_the_backoff_doubles_up_to_its_limit_and_resets() -> None:
    backoff = Backoff(first=1.0, limit=30.0)
    assert [backoff.next() for _ in range(7)] == [1, 2, 4, 8, 16, 30, 30]
    backoff.reset()
    assert backoff.next() == 1


# --------------------------------------------------------------------------------------------
# The loop, with a fake clock and a script of events


@dataclass
class ScriptedChanges:
    """Changes and stop requests at given fake times. Waiting advances the clock to the next
    one (or by the timeout); with nothing left and no timeout the script is over: stop. A
    change delivered calls `on_change` (the files changed) unless it left them as they were."""

    clock: FakeClock
    on_change: Callable[[], None]
    script: list[tuple[float, str]] = field(default_factory=list)  # (time, what)
    waits: list[float | None] = field(default_factory=list)

    def at(self, when: float, what: str = "change") -> None:
        """`what`: "change", "same" (an event that left every file as it was) or "stop"."""
        self.script.append((when, what))
        self.script.sort()

    def wait(self, timeout: float | None) -> Wake:
        self.waits.append(timeout)
        now = self.clock.monotonic()
        first = self.script[0][0] if self.script else None
        if first is None and timeout is None:
            return Wake(stop=True)
        if first is None or (timeout is not None and first > now + timeout):
            assert timeout is not None
            self.clock.sleep(timeout)
            return Wake()
        self.clock.sleep(max(0.0, first - now))
        due = [item for item in self.script if item[0] <= self.clock.monotonic()]
        del self.script[: len(due)]
        if any(what == "change" for _, what in due):
            self.on_change()
        changes = [t for t, what in due if what != "stop"]
        return Wake(max(changes) if changes else None, any(w == "stop" for _, w in due))


# The loop hands a result to on_published and never looks inside it.
PUBLISHED = PublishResult.__new__(PublishResult)


@dataclass
class FakeBuild:
    """What inspect and publish see: a build that is complete unless told otherwise, and a
    publish that takes `publish_seconds` of fake time and may fail."""

    clock: FakeClock
    publish_seconds: float = 0.5
    version: int = 0  # what the files are: changed by every scripted change
    answers: list[Completeness] = field(default_factory=list)  # next inspections', if any
    outcomes: list[AssetpubError | None] = field(default_factory=list)  # next publishes'
    during_publish: list[Callable[[], None]] = field(default_factory=list)  # one a publish
    published_at: list[float] = field(default_factory=list)  # fake times publishes began
    inspected_at: list[float] = field(default_factory=list)

    def change(self) -> None:
        self.version += 1

    def inspect(
        self, build_dir: Path, selection: FileSelection, now: float, quiet: float
    ) -> Completeness:
        self.inspected_at.append(self.clock.monotonic())
        if self.answers:
            return self.answers.pop(0)
        return Completeness(signature=(self.version,))

    def publish(self, settings: PublishSettings, hooks: Hooks, clock: Clock) -> PublishResult:
        self.published_at.append(self.clock.monotonic())
        if self.during_publish:
            self.during_publish.pop(0)()
        self.clock.sleep(self.publish_seconds)
        failure = self.outcomes.pop(0) if self.outcomes else None
        if failure is not None:
            raise failure
        return PUBLISHED


@dataclass
class Run:
    clock: FakeClock
    changes: ScriptedChanges
    build: FakeBuild
    errors: list[tuple[str, float | None]] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)

    def watch(self) -> int:
        settings = WatchSettings(PublishSettings(Path("dist"), ()), debounce=DEBOUNCE)
        hooks = WatchHooks(
            on_waiting=self.waiting.append,
            on_error=lambda exc, retry: self.errors.append((exc.message, retry)),
        )
        return watch(
            settings,
            self.changes,
            hooks,
            clock=self.clock,
            inspect=self.build.inspect,
            publish_build=self.build.publish,
        )


@pytest.fixture
def run() -> Run:
    clock = FakeClock(T0)
    build = FakeBuild(clock)
    return Run(clock, ScriptedChanges(clock, build.change), build)


def test_it_publishes_once_at_start_and_then_waits(run: Run) -> None:
    assert run.watch() == 1
    assert run.build.published_at == [0.0]
    assert run.changes.waits[-1] is None  # nothing pending: no timeout, no polling


def test_what_include_and_exclude_leave_out_never_starts_a_publish_nor_a_wait(
    make_build: MakeBuild,
) -> None:
    """The real inspect_build over a real folder: writing excluded files (a source map the
    page names, a drafts folder) changes nothing a publish reads, so no publish follows, and
    the page's reference to the excluded map is publish's warning, not a file to wait for."""
    build = make_build({"index.html": "<script src=app.js.map></script>", "app.js.map": "{}"})
    clock = FakeClock(datetime.now(UTC) + timedelta(hours=1))  # every file long settled
    published: list[float] = []
    waiting: list[str] = []

    def publish_build(settings: PublishSettings, hooks: Hooks, clock: Clock) -> PublishResult:
        published.append(clock.monotonic())
        return PUBLISHED

    edits = iter(
        [
            (build / "app.js.map", '{"v": 2}'),
            (build / "drafts" / "a.html", "<p>draft"),
            (build / "index.html", "<p>v2"),
        ]
    )

    def edit() -> None:
        path, text = next(edits)
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)

    changes = ScriptedChanges(clock, edit)
    for t in (5.0, 10.0, 15.0):
        changes.at(t)
    settings = WatchSettings(
        PublishSettings(build, (), exclude=("*.map", "drafts/")), debounce=DEBOUNCE
    )
    watch(
        settings,
        changes,
        WatchHooks(on_waiting=waiting.append),
        clock=clock,
        publish_build=publish_build,
    )
    assert published == [0.0, 16.0] and waiting == []  # at start, and for index.html


def test_changes_closer_than_the_debounce_make_one_publish_after_the_last(run: Run) -> None:
    for t in (5.0, 5.4, 5.8, 6.5):  # pauses of 0.4-0.7 s, all shorter than the 1 s debounce
        run.changes.at(t)
    run.watch()
    assert run.build.published_at == [0.0, 7.5]


def test_changes_during_a_publish_make_exactly_one_more_after_it(run: Run) -> None:
    run.build.publish_seconds = 3.0
    run.changes.at(10.0)

    def rebuild_while_publishing() -> None:
        for t in (11.5, 12.0, 12.5):  # all inside the publish from 11.0 to 14.0
            run.changes.at(t)

    run.build.during_publish += [lambda: None, rebuild_while_publishing]
    run.watch()
    # 11: 10.0 + the debounce; 14: that publish ends more than the debounce after the last
    # change made during it, so the one more publish runs at once, and no other.
    assert run.build.published_at == [0.0, 11.0, 14.0]


def test_a_stop_request_during_a_publish_lets_it_finish_and_then_stops(run: Run) -> None:
    run.build.publish_seconds = 5.0
    run.build.during_publish.append(lambda: run.changes.at(2.0, "stop"))
    run.changes.at(3.0)  # a change during the publish: stopping wins over publishing it
    assert run.watch() == 1
    assert run.clock.monotonic() == 5.0  # the publish ran to its end before the loop stopped


def test_a_stop_request_while_waiting_stops_before_a_pending_publish(run: Run) -> None:
    run.changes.at(5.0)
    run.changes.at(5.5, "stop")
    assert run.watch() == 1


def test_an_incomplete_build_waits_for_the_next_change(run: Run) -> None:
    missing = Completeness(("index.html: <script src> 'a.js' refers to a.js, not written yet",))
    run.build.answers += [Completeness(signature=(0,)), missing, missing]
    for t in (5.0, 7.0, 9.0):  # a rebuild begins, goes on, and the last write completes it
        run.changes.at(t)
    run.watch()
    assert run.build.inspected_at == [0.0, 6.0, 8.0, 10.0]
    assert run.build.published_at == [0.0, 10.0]
    assert run.waiting == [missing.reason]  # said once, not at every look


def test_a_file_still_being_written_is_looked_at_again_without_an_event(run: Run) -> None:
    growing = Completeness(("big.js changed less than 1 s ago",), is_changing=True)
    run.build.answers += [growing, growing]
    run.watch()
    assert run.build.inspected_at == [0.0, 1.0, 2.0]
    assert run.build.published_at == [2.0]
    assert run.waiting == []  # a write in progress is no news


def test_a_broken_build_is_tried_once_until_it_changes(run: Run) -> None:
    """A build refused for what it is (a missing reference with --strict) is reported once:
    events that leave it as it was (a rename's second event) try it no second time."""
    run.build.outcomes += [None, BuildError("a.css: url(missing.png) is not in the build")]
    run.changes.at(5.0)
    run.changes.at(7.0, "same")
    run.changes.at(9.0)  # fixed
    run.watch()
    assert run.build.published_at == [0.0, 6.0, 10.0]
    assert [message for message, _ in run.errors] == ["a.css: url(missing.png) is not in the build"]


def test_a_change_that_left_every_file_as_published_publishes_nothing(run: Run) -> None:
    run.changes.at(5.0, "same")
    run.watch()
    assert run.build.inspected_at == [0.0, 6.0]
    assert run.build.published_at == [0.0]


def test_a_broken_build_is_reported_and_the_next_change_published(run: Run) -> None:
    run.build.outcomes.append(BuildError("style.css: url(a.png) refers to a.png"))
    run.changes.at(20.0)
    run.watch()
    assert run.errors == [("style.css: url(a.png) refers to a.png", None)]
    assert run.build.published_at == [0.0, 21.0]  # no retry until the build changed


def test_a_lost_endpoint_is_retried_with_a_bounded_backoff(run: Run) -> None:
    run.build.publish_seconds = 0.0
    lost = OriginError("s3://b: cannot reach http://127.0.0.1:9: Connection refused")
    run.build.outcomes += [lost] * 7 + [None, lost]
    run.changes.at(200.0)
    run.watch()
    assert [retry for _, retry in run.errors] == [1, 2, 4, 8, 16, 30, 30, 1]
    # After the success at 91 the next loss is retried after 1 s again.
    assert run.build.published_at == [0, 1, 3, 7, 15, 31, 61, 91, 201, 202]


# --------------------------------------------------------------------------------------------
# Real file-system events, real publishes to a folder origin

QUIET = 0.2  # the debounce of the real tests
TIMEOUT = 30.0  # how long a condition may take on a loaded machine before the test fails


@dataclass
class Watching:
    """`watch` on a real build folder in a thread, publishing to a folder origin."""

    build: Path
    origin: Path
    results: list[PublishResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def releases(self) -> list[str]:
        folder = self.origin / "_assetpub" / "releases"
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []

    def live(self) -> str:
        return (self.origin / "index.html").read_text()

    def until(self, condition: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not condition():
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.02)

    def settle(self) -> None:
        """Long enough that a publish would have started, were one coming (the assertions
        after it hold however slow the machine: they are about what did not happen)."""
        time.sleep(QUIET * 5)


@contextmanager
def watching(build: Path, origin: Path, strict: bool = False) -> Iterator[Watching]:
    state = Watching(build, origin)
    settings = WatchSettings(
        PublishSettings(build, (OriginSpec(url=str(origin)),), strict=strict, read_cache=True),
        debounce=QUIET,
    )

    def on_published(result: PublishResult, started: datetime, seconds: float) -> None:
        with state.lock:
            state.results.append(result)

    hooks = WatchHooks(
        on_published=on_published,
        on_waiting=state.waiting.append,
        on_error=lambda exc, retry: state.errors.append(exc.message),
    )
    with BuildChanges(build) as changes:
        thread = threading.Thread(target=watch, args=(settings, changes, hooks, SYSTEM_CLOCK))
        thread.start()
        try:
            yield state
        finally:
            changes.request_stop()
            thread.join(TIMEOUT)
    assert not thread.is_alive()


def write(build: Path, files: dict[str, str]) -> None:
    """Each file whole, by a rename from beside the build: a test thread paused between
    truncating and writing a page (a loaded machine) must not show the watcher an empty page
    that it could rightly publish, which no bundler leaves for longer than a write takes."""
    for rel, text in files.items():
        (build / rel).parent.mkdir(parents=True, exist_ok=True)
        staged = build.parent / f".{build.name}-{rel.replace('/', '-')}.tmp"
        staged.write_text(text)
        os.replace(staged, build / rel)


V1 = {"index.html": "<link rel=stylesheet href=a.css><h1>v1</h1>", "a.css": "h1{color:red}"}


def test_a_build_written_in_steps_is_published_once_complete(
    make_build: MakeBuild, tmp_path: Path
) -> None:
    build = make_build(V1)
    with watching(build, tmp_path / "origin") as w:
        w.until(lambda: len(w.results) == 1, "the publish at start")
        # index.html first, naming files not written yet, then those: every state but the
        # last is incomplete, so no pause (slow machine or not) can publish one of them.
        write(build, {"index.html": "<link rel=stylesheet href=b.css><script src=b.js></script>"})
        time.sleep(QUIET / 4)
        write(build, {"b.js": "run()"})
        time.sleep(QUIET / 4)
        write(build, {"b.css": "h1{color:blue}"})
        w.until(lambda: len(w.results) == 2, "the rebuild's publish")
        w.settle()
    assert len(w.releases()) == 2 and len(w.results) == 2
    assert "b.js" not in w.live() and ".js" in w.live()  # renamed: the complete build is live
    assert w.errors == []


def test_a_folder_recreated_page_first_is_published_only_when_complete(
    make_build: MakeBuild, tmp_path: Path
) -> None:
    build = make_build(V1)
    with watching(build, tmp_path / "origin") as w:
        w.until(lambda: len(w.results) == 1, "the publish at start")
        shutil.rmtree(build)
        w.until(lambda: any("does not exist" in r for r in w.waiting), "the folder to go")
        build.mkdir()
        write(build, {"index.html": "<script src=app.js></script><h1>v2</h1>"})
        w.until(lambda: any("app.js" in r for r in w.waiting), "index.html to be seen")
        w.settle()  # far longer than the debounce: still nothing, app.js is missing
        assert len(w.results) == 1 and len(w.releases()) == 1
        write(build, {"app.js": "run()"})  # in the recreated folder: watched again
        w.until(lambda: len(w.results) == 2, "the complete build's publish")
    assert "v2" in w.live() and len(w.releases()) == 2


def test_identical_rewrites_publish_nothing(make_build: MakeBuild, tmp_path: Path) -> None:
    build = make_build(V1)
    with watching(build, tmp_path / "origin") as w:
        w.until(lambda: len(w.results) == 1, "the publish at start")
        write(build, V1)  # the bundler wrote every file again, with the same bytes
        w.until(lambda: len(w.results) == 2, "the rebuild to be looked at")
        w.settle()
    # Each file's events may come a debounce apart on a loaded machine: however many looks
    # that takes, each finds the live release unchanged.
    first = w.results[0].release.id
    assert all(r.unchanged and r.release.id == first for r in w.results[1:])
    assert len(w.releases()) == 1


def test_a_broken_build_is_reported_and_the_next_good_one_published(
    make_build: MakeBuild, tmp_path: Path
) -> None:
    build = make_build(V1)
    with watching(build, tmp_path / "origin", strict=True) as w:
        w.until(lambda: len(w.results) == 1, "the publish at start")
        write(build, {"a.css": "h1{background:url(missing.png)}"})  # --strict: an error
        # At least once: the rename's events may reach the watcher a debounce apart on a
        # loaded machine, and each change tries the build again.
        w.until(lambda: len(w.errors) >= 1, "the error")
        write(build, {"a.css": "h1{color:green}"})
        w.until(lambda: len(w.results) == 2, "the fixed build's publish")
    assert "missing.png" in w.errors[0]
    assert len(w.releases()) == 2


def test_reading_the_build_publishes_nothing(make_build: MakeBuild, tmp_path: Path) -> None:
    """Publish reads every file, and watchdog reports opens and closes: none may start
    another publish (an endless loop of unchanged ones)."""
    build = make_build(V1)
    with watching(build, tmp_path / "origin") as w:
        w.until(lambda: len(w.results) == 1, "the publish at start")
        for path in build.iterdir():
            path.read_bytes()
        w.settle()
    assert len(w.results) == 1


def test_the_event_source_reports_writes_not_reads_and_follows_a_recreated_folder(
    make_build: MakeBuild,
) -> None:
    build = make_build(V1)
    with BuildChanges(build) as changes:
        for path in build.iterdir():
            path.read_bytes()
        assert changes.wait(QUIET * 5) == Wake()  # opened, closed_no_write: no change
        write(build, {"a.css": "h1{color:blue}"})
        assert changes.wait(TIMEOUT).changed_at is not None
        shutil.rmtree(build)
        assert changes.wait(TIMEOUT).changed_at is not None
        build.mkdir()
        assert changes.wait(TIMEOUT).changed_at is not None  # seen from the parent folder
        while changes.wait(QUIET) != Wake():  # whatever else the deletion reported
            pass
        write(build, {"index.html": "<h1>back</h1>"})  # inside the new folder: watched again
        assert changes.wait(TIMEOUT).changed_at is not None
        changes.request_stop()
        assert changes.wait(TIMEOUT).stop


# --------------------------------------------------------------------------------------------
# The command line, in a real process


class WatchProcess:
    """`python -m assetpub watch ...`, its output read as it comes."""

    def __init__(
        self,
        args: list[str],
        cwd: Path,
        env: dict[str, str] | None = None,
        flags: tuple[str, ...] = (),
    ) -> None:
        """`flags` go before the command (--debug, -vv), `env` replaces os.environ."""
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "assetpub", *flags, "watch", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=cwd,
            env={**(os.environ if env is None else env), "PYTHONPATH": str(ROOT)},
        )
        self.lines: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self._arrived = threading.Condition()
        self._readers = [
            threading.Thread(target=self._read, args=(name, stream), daemon=True)
            for name, stream in (("stdout", self.proc.stdout), ("stderr", self.proc.stderr))
        ]
        for reader in self._readers:
            reader.start()

    def _read(self, name: str, stream: IO[str]) -> None:
        for line in stream:
            with self._arrived:
                self.lines[name].append(line.rstrip("\n"))
                self._arrived.notify_all()

    def until_line(self, needle: str, stream: str = "stdout", count: int = 1) -> str:
        """The `count`th line of `stream` that holds `needle`, once it is there."""

        def found() -> list[str]:
            return [line for line in self.lines[stream] if needle in line]

        with self._arrived:
            if not self._arrived.wait_for(lambda: len(found()) >= count, TIMEOUT):
                self.proc.kill()
                raise AssertionError(f"no line with {needle!r} in {self.lines}")
            return found()[count - 1]

    def stop(self, signum: int) -> tuple[int, str]:
        """Send `signum`; the exit code and everything on stderr."""
        self.proc.send_signal(signum)
        try:
            code = self.proc.wait(timeout=TIMEOUT)
        finally:
            self.proc.kill()
        for reader in self._readers:
            reader.join(TIMEOUT)
        return code, "\n".join(self.lines["stderr"])


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_the_command_cleanly(
    signum: int, make_build: MakeBuild, tmp_path: Path
) -> None:
    build = make_build(V1)
    watcher = WatchProcess(
        [str(build), "--origin", str(tmp_path / "www"), "--debounce", "0.2"], tmp_path
    )
    line = watcher.until_line("published").strip()
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d published \S+: 2 files uploaded in [\d.]+ s, live: .+", line
    )
    code, err = watcher.stop(signum)
    assert code == 0, err
    assert err.splitlines()[-1] == "assetpub: watch stopped"
    assert "Traceback" not in err


def test_the_command_publishes_rebuilds_to_s3(
    make_build: MakeBuild,
    tmp_path: Path,
    s3_endpoint: str,
    make_bucket: MakeBucket,
    s3_client: S3Client,
) -> None:
    bucket = make_bucket()
    build = make_build(V1)
    watcher = WatchProcess(
        [
            str(build),
            "--origin",
            f"s3://{bucket}/site",
            "--endpoint-url",
            s3_endpoint,
            "--debounce",
            "0.2",
        ],
        tmp_path,
    )
    first = watcher.until_line("published")
    write(build, {"index.html": "<link rel=stylesheet href=a.css><h1>v2</h1>"})
    second = watcher.until_line("published", count=2)
    code, err = watcher.stop(signal.SIGTERM)
    assert code == 0, err
    assert "2 files uploaded" in first and "1 file uploaded" in second  # only the page changed
    body = s3_client.get_object(Bucket=bucket, Key="site/index.html")["Body"].read()
    assert b"v2" in body


def test_a_lost_endpoint_is_one_line_and_retried(make_build: MakeBuild, tmp_path: Path) -> None:
    from conftest import _free_port

    closed = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    (tmp_path / "assetpub.toml").write_text(
        f'origins = [{{url = "s3://bucket/site", endpoint_url = "{closed}", max_attempts = 1}}]'
    )
    watcher = WatchProcess([str(make_build(V1))], tmp_path)
    watcher.until_line("retrying in 2 s", stream="stderr")
    code, err = watcher.stop(signal.SIGINT)
    assert code == 0, err
    errors = [line for line in err.splitlines() if line.startswith("assetpub: error:")]
    assert errors[0].endswith("(retrying in 1 s)") and errors[1].endswith("(retrying in 2 s)")
    assert "Traceback" not in err and err.splitlines()[-1] == "assetpub: watch stopped"


def test_watch_takes_publish_options_and_refuses_bad_ones(tmp_path: Path) -> None:
    from test_cli import one_line_error, run

    code, out, _ = run("watch", "--help")
    for option in ("--origin", "--endpoint-url", "--strict", "--no-cache", "--debounce"):
        assert option in out
    assert "--dry-run" not in out and "--json" not in out
    one_line_error(*run("watch", str(tmp_path), "--debounce", "0"), "--debounce must be")
    one_line_error(
        *run("watch", str(tmp_path / "b"), "--origin", str(tmp_path)), "overlap"
    )  # the same settings as publish, validated by the same code


def test_a_signal_during_a_switch_lets_it_finish_then_stops(
    make_build: MakeBuild,
    tmp_path: Path,
    fault_proxy: FaultProxy,
    make_bucket: MakeBucket,
    s3_client: S3Client,
) -> None:
    bucket = make_bucket()
    build = make_build(V1)
    args = ["--origin", f"s3://{bucket}/site", "--endpoint-url", fault_proxy.url]
    watcher = WatchProcess([str(build), *args, "--debounce", "0.2"], tmp_path)
    watcher.until_line("published")
    fault_proxy.arm(Rule("index_put", "delay", seconds=2.0))  # the switch's last write
    write(build, {"index.html": "<link rel=stylesheet href=a.css><h1>v2</h1>"})
    deadline = time.monotonic() + TIMEOUT
    while "index_put" not in fault_proxy.applied("delay"):
        assert time.monotonic() < deadline, "the second publish never reached its switch"
        time.sleep(0.02)
    code, err = watcher.stop(signal.SIGTERM)  # while index.html is on its way
    assert code == 0, err
    assert err.splitlines()[-1] == "assetpub: watch stopped"
    assert len([line for line in watcher.lines["stdout"] if "published" in line]) == 2
    body = s3_client.get_object(Bucket=bucket, Key="site/index.html")["Body"].read()
    assert b"v2" in body  # the switch ran to its end
