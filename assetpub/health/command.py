"""Run the user's check command (`--check-cmd`, e.g. `npx playwright test smoke`) in a shell,
with the release it checks in its environment; exit 0 passes. A command still running at the
deadline is killed with its whole process group (a browser it started included): a failure."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class CommandRun:
    passed: bool
    problem: str | None  # why it failed, in a few words, with its last line of output
    output: str  # stdout and stderr, interleaved


def check_environment(release: str, previous: str | None, check_url: str | None) -> dict[str, str]:
    """What the command learns about the switch; empty strings where there is nothing."""
    return {
        "ASSETPUB_RELEASE": release,
        "ASSETPUB_PREVIOUS_RELEASE": previous or "",
        "ASSETPUB_CHECK_URL": check_url or "",
    }


def run_check_command(command: str, extra_env: Mapping[str, str], timeout: float) -> CommandRun:
    process = subprocess.Popen(
        command,
        shell=True,  # the user's own command line, as they would type it
        env={**os.environ, **extra_env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, so a timeout ends all of it
    )
    try:
        raw, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        try:
            raw, _ = process.communicate(timeout=5)
        except subprocess.TimeoutExpired:  # something left the group and holds the pipe open
            process.kill()
            raw = b""
        output = raw.decode(errors="replace")
        return CommandRun(
            False, f"did not finish within {timeout:g} s (killed){_last(output)}", output
        )
    output = raw.decode(errors="replace")
    if process.returncode == 0:
        return CommandRun(True, None, output)
    code = process.returncode
    how = f"was killed by signal {-code}" if code < 0 else f"exited {code}"
    return CommandRun(False, f"{how}{_last(output)}", output)


def _kill_group(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):  # it ended just now
        os.killpg(process.pid, signal.SIGKILL)


def _last(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    if not lines:
        return ""
    last = lines[-1]
    return f": {last[:200]}…" if len(last) > 200 else f": {last}"
