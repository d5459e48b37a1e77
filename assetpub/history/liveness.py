"""Whether a process on this machine is still running, on POSIX and on Windows.

The GC lease asks it of the pid in a lease's holder. os.kill(pid, 0) answers it on POSIX only:
on Windows os.kill terminates the process it is asked about, whatever the signal number.
"""

from __future__ import annotations

import ctypes
import errno
import os
from collections.abc import Callable
from typing import Protocol

# The largest pid either system can hand out fits a signed 32-bit number; a larger "pid" (a
# holder id assetpub did not write) names no process, and would overflow os.kill or OpenProcess.
MAX_PID = 2**31 - 1

# Windows' names, from processthreadsapi.h, synchapi.h and winerror.h.
_SYNCHRONIZE = 0x00100000
_PROCESS_QUERY_LIMITED_INFORMATION = 0x1000
_WAIT_TIMEOUT = 0x102
_ERROR_INVALID_PARAMETER = 87


class Kernel32(Protocol):
    """The three kernel32 functions the Windows check calls (a parameter, so a test can stand
    in for them on any OS)."""

    def OpenProcess(self, access: int, inherit: bool, pid: int) -> int | None: ...

    def WaitForSingleObject(self, handle: int, milliseconds: int) -> int: ...

    def CloseHandle(self, handle: int) -> int: ...


def is_process_alive(pid: int) -> bool:
    """Whether process `pid` (1 to MAX_PID) runs on this machine. Unsure (no right to look at
    it) counts as alive: a lease is then waited out, never broken under a live GC."""
    if not 0 < pid <= MAX_PID:
        raise ValueError(f"not a process id: {pid}")
    if os.name == "nt":
        return is_windows_process_alive(pid, _kernel32(), ctypes.get_last_error)  # type: ignore[attr-defined,unused-ignore]
    return is_posix_process_alive(pid)


def is_posix_process_alive(pid: int) -> bool:
    """Signal 0 checks that `pid` exists without sending anything. EPERM: it exists, owned by
    another user."""
    try:
        os.kill(pid, 0)
    except OSError as exc:
        if exc.errno == errno.ESRCH:
            return False
        if exc.errno == errno.EPERM:
            return True
        raise
    return True


def _kernel32() -> Kernel32:
    """kernel32 with its handles typed as pointers (ctypes' default int would cut them on
    64-bit Windows)."""
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined,unused-ignore]
    kernel32.OpenProcess.argtypes = [wintypes.DWORD, wintypes.BOOL, wintypes.DWORD]
    kernel32.OpenProcess.restype = wintypes.HANDLE
    kernel32.WaitForSingleObject.argtypes = [wintypes.HANDLE, wintypes.DWORD]
    kernel32.WaitForSingleObject.restype = wintypes.DWORD
    kernel32.CloseHandle.argtypes = [wintypes.HANDLE]
    kernel32.CloseHandle.restype = wintypes.BOOL
    return kernel32  # type: ignore[no-any-return,unused-ignore]


def is_windows_process_alive(pid: int, kernel32: Kernel32, last_error: Callable[[], int]) -> bool:
    """OpenProcess finds `pid` (ERROR_INVALID_PARAMETER: there is none) and a zero-timeout wait
    on its handle says whether it has exited: a finished process's handle stays openable while
    anyone holds one, so finding it is not enough."""
    handle = kernel32.OpenProcess(_SYNCHRONIZE | _PROCESS_QUERY_LIMITED_INFORMATION, False, pid)
    if not handle:
        return last_error() != _ERROR_INVALID_PARAMETER  # access denied, or unsure: alive
    try:
        return kernel32.WaitForSingleObject(handle, 0) == _WAIT_TIMEOUT
    finally:
        kernel32.CloseHandle(handle)
