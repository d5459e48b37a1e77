"""Process liveness for the GC lease: POSIX for real, Windows through a stand-in kernel32."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from dataclasses import dataclass, field

import pytest

from assetpub.history import liveness
from assetpub.history.liveness import (
    MAX_PID,
    is_posix_process_alive,
    is_process_alive,
    is_windows_process_alive,
)


def finished_child_pid() -> int:
    """The pid of a process that has exited and been reaped: no process has it now (until the
    system reuses it, which takes a full turn of the pid range)."""
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(child.stdout)


def test_a_running_process_is_alive_and_a_finished_one_is_not() -> None:
    assert is_process_alive(os.getpid())
    assert is_posix_process_alive(os.getppid())
    assert not is_process_alive(finished_child_pid())


_AS_ANOTHER_USER = """
import os, sys
sys.path.insert(0, sys.argv[1])
from assetpub.history.liveness import is_posix_process_alive
if os.geteuid() == 0:
    os.setgid(65534)
    os.setuid(65534)  # nobody: now pid 1, root's, may not be signalled (EPERM)
print(is_posix_process_alive(1), is_posix_process_alive(int(sys.argv[2])))
"""


@pytest.mark.skipif(os.name != "posix", reason="signal permissions are POSIX's")
def test_a_process_of_another_user_is_alive() -> None:
    """EPERM means the process exists. As root every process may be signalled, so the check
    runs in a child that first becomes nobody."""
    root_of_checkout = os.path.dirname(os.path.dirname(os.path.abspath(liveness.__file__)))
    child = subprocess.run(
        [sys.executable, "-c", _AS_ANOTHER_USER, root_of_checkout, str(finished_child_pid())],
        capture_output=True,
        text=True,
        check=True,
    )
    assert child.stdout.split() == ["True", "False"]


@pytest.mark.parametrize("pid", [0, -1, MAX_PID + 1])
def test_what_is_no_process_id_is_refused(pid: int) -> None:
    # os.kill(0, 0) would ask about our own process group and os.kill(-1, 0) about every process.
    with pytest.raises(ValueError, match="not a process id"):
        is_process_alive(pid)


@dataclass
class FakeKernel32:
    """OpenProcess answers `handle` (None: it failed); the wait answers `wait_result`."""

    handle: int | None
    wait_result: int = 0
    opened: list[tuple[int, bool, int]] = field(default_factory=list)
    closed: list[int] = field(default_factory=list)

    def OpenProcess(self, access: int, inherit: bool, pid: int) -> int | None:
        self.opened.append((access, inherit, pid))
        return self.handle

    def WaitForSingleObject(self, handle: int, milliseconds: int) -> int:
        assert handle == self.handle and milliseconds == 0
        return self.wait_result

    def CloseHandle(self, handle: int) -> int:
        self.closed.append(handle)
        return 1


@pytest.mark.parametrize(
    ("kernel32", "last_error", "alive"),
    [
        (FakeKernel32(handle=None), 87, False),  # ERROR_INVALID_PARAMETER: no such process
        (FakeKernel32(handle=None), 5, True),  # ERROR_ACCESS_DENIED: it exists
        (FakeKernel32(handle=None), 31, True),  # anything else: unsure, so alive
        (FakeKernel32(handle=7, wait_result=0x102), 0, True),  # WAIT_TIMEOUT: still running
        (FakeKernel32(handle=7, wait_result=0), 0, False),  # WAIT_OBJECT_0: it has exited
    ],
)
def test_windows_liveness(kernel32: FakeKernel32, last_error: int, alive: bool) -> None:
    assert is_windows_process_alive(1234, kernel32, lambda: last_error) is alive
    assert [pid for _, _, pid in kernel32.opened] == [1234]
    assert kernel32.closed == ([] if kernel32.handle is None else [kernel32.handle])


def test_windows_never_calls_os_kill(monkeypatch: pytest.MonkeyPatch) -> None:
    """On Windows os.kill would terminate the process it is asked about."""
    kernel32 = FakeKernel32(handle=7, wait_result=0x102)

    def kill(pid: int, signal: int) -> None:
        raise AssertionError(f"os.kill({pid}, {signal}) on Windows")

    monkeypatch.setattr(os, "kill", kill)
    monkeypatch.setattr(liveness, "_kernel32", lambda: kernel32)
    monkeypatch.setattr(ctypes, "get_last_error", lambda: 0, raising=False)
    monkeypatch.setattr(os, "name", "nt")
    assert is_process_alive(4321)
    assert [pid for _, _, pid in kernel32.opened] == [4321]
