"""The bounded pool every phase runs its writes and checks on: only a window of tasks taken
from the input at a time, and nothing new started after a failure."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from assetpub.commands.parallel import run_parallel


def test_tasks_are_taken_from_the_input_a_window_at_a_time() -> None:
    taken: list[int] = []
    most_ahead = 0
    lock = threading.Lock()

    def tasks() -> Iterator[int]:
        for n in range(1000):
            taken.append(n)
            yield n

    def work(n: int) -> None:
        nonlocal most_ahead
        with lock:
            most_ahead = max(most_ahead, len(taken) - n)

    done: list[int] = []
    run_parallel(tasks(), work, workers=3, on_done=done.append)
    assert sorted(done) == list(range(1000))
    # Three workers, two tasks each: never a Future per task of the whole input up front.
    assert most_ahead <= 3 * 2 + 1


def test_a_failure_starts_nothing_more_and_is_raised() -> None:
    started: list[int] = []

    def work(n: int) -> None:
        started.append(n)
        if n == 5:
            raise RuntimeError("write failed")

    with pytest.raises(RuntimeError, match="write failed"):
        run_parallel(range(1000), work, workers=1)
    assert 5 in started
    assert len(started) <= 5 + 1 + 2
