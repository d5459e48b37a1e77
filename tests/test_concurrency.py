"""publish and gc are not coordinated in real life (CI and cron): run them concurrently in
loops and check that nothing a committed, retained release needs is ever lost."""

from __future__ import annotations

import os
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


# The stress run (`pytest -m stress`): more publishers and more rounds; the variable, a
# number of rounds, overrides both the short and the long default.
ROUNDS_VARIABLE = "ASSETPUB_RACE_ROUNDS"


def rounds(default: int) -> int:
    return int(os.environ.get(ROUNDS_VARIABLE) or default)


def test_concurrent_publishes_lose_no_release(make_build: MakeBuild, backend: Backend) -> None:
    race_publishers(make_build, backend, writers=2, versions=rounds(4))


@pytest.mark.stress
def test_concurrent_publishes_lose_no_release_stress(
    make_build: MakeBuild, backend: Backend
) -> None:
    race_publishers(make_build, backend, writers=4, versions=rounds(25))


def race_publishers(make_build: MakeBuild, backend: Backend, writers: int, versions: int) -> None:
    committed: list[str] = []

    def publisher(writer: int) -> Callable[[], None]:
        def run() -> None:
            origin = backend.open()
            for version in range(versions):
                build = make_build(build_files(writer, version))
                result = publish(PublishSettings(build, ()), origins=[origin])
                committed.append(result.release.id)

        return run

    run_threads(*(publisher(writer) for writer in range(1, writers + 1)))
    origin = backend.open()
    state, _ = StateStore(origin).load()
    assert state.release_ids == set(committed) and len(committed) == writers * versions
    assert state.live in committed
    assert_retained_releases_whole(origin)
    # The files ended on the state's live release, whoever switched last.
    assert verify_origin(origin).healthy


def test_publish_and_gc_in_loops_lose_nothing(make_build: MakeBuild, backend: Backend) -> None:
    race_publish_and_gc(make_build, backend, collectors=1, versions=rounds(6))


@pytest.mark.stress
def test_publish_and_gc_in_loops_lose_nothing_stress(
    make_build: MakeBuild, backend: Backend
) -> None:
    race_publish_and_gc(make_build, backend, collectors=2, versions=rounds(60))


def race_publish_and_gc(
    make_build: MakeBuild, backend: Backend, collectors: int, versions: int
) -> None:
    """One publisher checking the live site after each publish, `collectors` GCs in loops
    with no grace until it is done."""
    done = threading.Event()
    gc_runs: list[int] = []
    refused: list[str] = []

    def publisher() -> None:
        origin = backend.open()
        try:
            for version in range(versions):
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
            except OriginError as exc:  # try again, like cron would
                # Two collectors: the one that finds the other's lease stands back.
                refusals = ("kept changing", "another GC is running")
                assert any(reason in exc.message for reason in refusals[:collectors])
                refused.append(exc.message)

    run_threads(publisher, *[collector] * collectors)
    origin = backend.open()
    assert len(gc_runs) >= 2 and sum(gc_runs) > 0  # GC really ran and really deleted
    print(
        f"{versions} publishes, {len(gc_runs)} GC runs deleting {sum(gc_runs)} objects, "
        f"{len(refused)} GC runs refused"
    )
    assert_retained_releases_whole(origin)
    assert verify_origin(origin, deep=True).healthy
    state, _ = StateStore(origin).load()
    assert state.gc_lease is None
