"""A process SIGKILLed at random points of publish, rollback and gc leaves every retained
release intact; verify then tells what is off, and running the same command again converges."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from checks import assert_retained_releases_whole

from assetpub.history.store import StateStore
from assetpub.origins import Origin, OriginSpec, open_origin

ROOT = Path(__file__).resolve().parent.parent


def big_site(version: int) -> dict[str, str | bytes]:
    """Enough files that a publish takes a while, so kills land in every phase."""
    files: dict[str, str | bytes] = {
        f"img/p{i}.png": os.urandom(2048) if i % 4 == version % 4 else f"{i}".encode() * 512
        for i in range(160)
    }
    files["css/site.css"] = "".join(f".p{i}{{background:url(../img/p{i}.png)}}" for i in range(160))
    files["index.html"] = f"<link rel=stylesheet href=css/site.css><p>v{version}"
    files["chunk.js"] = f"// plain v{version}"
    return files


def cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "assetpub", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
        timeout=120,
    )


def timed_cli(
    args: list[str], env: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.monotonic()
    result = cli(args, env)
    return result, time.monotonic() - start


def kill_at_random(
    args: list[str], env: dict[str, str], rng: random.Random, duration: float
) -> bool:
    """Start the command and SIGKILL it at a random point of its usual `duration`; True if it
    was still running."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "assetpub", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=ROOT,
    )
    time.sleep(rng.uniform(0.1, 0.95) * duration)
    proc.send_signal(signal.SIGKILL)
    return proc.wait() == -signal.SIGKILL


@pytest.fixture(params=["folder", "s3"])
def target(request, tmp_path: Path) -> tuple[list[str], Origin, dict[str, str]]:  # type: ignore[no-untyped-def]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if request.param == "folder":
        url = str(tmp_path / "origin")
        return ["--origin", url], open_origin(OriginSpec(url=url)), env
    bucket = request.getfixturevalue("make_bucket")()
    endpoint = request.getfixturevalue("s3_endpoint")
    url = f"s3://{bucket}/site"
    return (
        ["--origin", url, "--endpoint-url", endpoint],
        open_origin(OriginSpec(url=url, endpoint_url=endpoint)),
        env,
    )


def test_sigkill_at_random_points_then_verify_and_rerun(make_build, target) -> None:  # type: ignore[no-untyped-def]
    origin_args, origin, env = target
    rng = random.Random(20261126)
    builds = [make_build(big_site(v)) for v in range(3)]
    durations: dict[str, float] = {}
    for build in builds[:2]:
        result, durations["publish"] = timed_cli(["publish", str(build), *origin_args], env)
        assert result.returncode == 0, result.stderr
    durations["rollback"] = durations["gc"] = durations["publish"]

    gc = ["gc", *origin_args, "--keep", "2", "--grace", "0", "--force"]
    commands = [
        ["publish", str(builds[2]), *origin_args],
        ["rollback", "RELEASE", *origin_args],
        gc,
    ]
    killed = 0
    for round_ in range(9):
        command = list(commands[round_ % 3])
        if command[0] == "rollback":
            state, _ = StateStore(origin).load()
            other = [e.id for e in state.newest_first() if e.id != state.live]
            command[1] = other[0]
        killed += kill_at_random(command, env, rng, durations[command[0]])
        assert_retained_releases_whole(origin)  # even before anything is repaired
        verify = cli(["verify", *origin_args, "--json"], env)
        report = json.loads(verify.stdout)  # healthy or not, it names what is off
        assert verify.returncode == (0 if report["healthy"] else 1)
        rerun, seconds = timed_cli(command, env)
        assert rerun.returncode == 0, rerun.stderr
        durations[command[0]] = seconds  # a full run of this command, to aim the next kill
        after = cli(["verify", *origin_args, "--deep"], env)
        assert after.returncode == 0, after.stdout
        assert_retained_releases_whole(origin)
    print(f"{killed} of 9 kills landed while the command ran")
    assert killed >= 4, f"only {killed} of 9 kills landed while the command ran"
