"""publish and gc are not coordinated in real life (CI and cron): run them concurrently in
loops and check that nothing a committed, retained release needs is ever lost."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from backends import ACROSS_PROCESSES, Backend
from checks import assert_retained_releases_whole
from fixture_types import MakeBuild

from assetpub.commands.gc import run_gc
from assetpub.commands.publish import publish
from assetpub.commands.verify import verify_origin
from assetpub.errors import OriginError
from assetpub.history.store import StateStore
from assetpub.settings import GcSettings, PublishSettings


def build_files(writer: int, version: int) -> dict[str, str | bytes]:
    return {
        "index.html": (
            f"<link rel=stylesheet href=css/site.css><img src=img/a.png>{writer}.{version}"
        ),
        "css/site.css": (
            f"body{{background:url(../img/b{version % 3}.png)}}/*{writer}.{version}*/"
        ),
        "img/a.png": b"shared",
        f"img/b{version % 3}.png": f"b{version % 3}".encode(),
        **{f"img/x{i}.png": f"{writer}.{version}.{i}".encode() for i in range(20)},
        "page.html": "".join(f"<img src=img/x{i}.png>" for i in range(20)),
    }


# Each worker opens its own origin object (its own client), like separate processes.
pytestmark = pytest.mark.parametrize("backend_kind", ACROSS_PROCESSES)


def run_threads(*targets: Callable[[], None]) -> None:
    errors: list[BaseException] = []

    def guard(target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as exc:  # re-raised in the main thread
                errors.append(exc)

        return run

    threads = [threading.Thread(target=guard(t)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    if errors:
        raise errors[0]
    stuck = [thread.name for thread in threads if thread.is_alive()]
    assert not stuck, f"still running after 300 s: {stuck}"


def test_concurrent_publishes_lose_no_release(make_build: MakeBuild, backend: Backend) -> None:
    committed: list[str] = []

    def publisher(writer: int) -> Callable[[], None]:
        def run() -> None:
            origin = backend.open()
            for version in range(4):
                build = make_build(build_files(writer, version))
                result = publish(PublishSettings(build, ()), origins=[origin])
                committed.append(result.release.id)

        return run

    run_threads(publisher(1), publisher(2))
    origin = backend.open()
    state, _ = StateStore(origin).load()
    assert state.release_ids == set(committed) and len(committed) == 8
    assert state.live in committed
    assert_retained_releases_whole(origin)
    # The files ended on the state's live release, whoever switched last.
    assert verify_origin(origin).healthy


def test_publish_and_gc_in_loops_lose_nothing(make_build: MakeBuild, backend: Backend) -> None:
    done = threading.Event()
    gc_runs: list[int] = []

    def publisher() -> None:
        origin = backend.open()
        try:
            for version in range(6):
                build = make_build(build_files(1, version))
                publish(PublishSettings(build, ()), origins=[origin])
                # GC runs all the time, with no grace: the live release must still be whole.
                health = verify_origin(origin)
                assert health.healthy, health.problems
        finally:
            done.set()

    def collector() -> None:
        origin = backend.open()
        options = GcSettings(keep=2, grace=timedelta(0))
        while not done.is_set():
            try:
                result = run_gc(origin, options)
                gc_runs.append(result.deleted_objects)
            except OriginError as exc:  # "releases kept changing": try again, like cron would
                assert "kept changing" in exc.message

    run_threads(publisher, collector)
    origin = backend.open()
    assert len(gc_runs) >= 2 and sum(gc_runs) > 0  # GC really ran and really deleted
    assert_retained_releases_whole(origin)
    assert verify_origin(origin, deep=True).healthy
    state, _ = StateStore(origin).load()
    assert state.gc_lease is None
