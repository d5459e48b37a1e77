"""Run one assetpub command with a fault-injecting origin: SIGKILL at a chosen write.

    python tests/crash_runner.py CHECKPOINT N -- <assetpub CLI args>

CHECKPOINT is `KIND` or `KIND@WHEN`. The runner wraps the write methods of the folder and S3
origins (put_file, put_bytes, copy, delete), classifies every write into a KIND, and when the
N-th write (1-based) of that KIND happens it SIGKILLs its own process:

    WHEN = before   (default) the write is not sent;
           after    the write went through, nothing after it did;
           during   a delete: the first half of its keys deleted, the rest not (any origin);
                    a put or copy, folder origin only: the bytes are in the temp file, the
                    rename never happens (a torn write; the temp file stays behind).

KINDs (a write has exactly one, plus `any-write`; entry and plain files are told apart by the
Cache-Control assetpub gives them by default, so a config `headers` rule can blur them):

    put-record     _assetpub/releases/<id>.json, the publish's intent
    put-asset      an immutable object (hashed or bundler-hashed name)
    put-blob       _assetpub/blobs/<sha256>, the rollback copy of a plain file
    put-state      _assetpub/state.json: every compare-and-swap (commit, GC lease, renew, release)
    put-plain      a plain file under its mutable name
    put-manifest   asset-manifest.json
    put-entry      an entry file other than the root index.html
    put-index      the root index.html
    copy           a server-side copy (rollback restoring a plain file from its blob)
    delete-object  a delete call naming objects (GC's batches of assets and blobs)
    delete-record  a delete call naming only release records (GC's last batch)
    put-probe, delete-probe, put-lock, delete-lock   the S3 probe and the lock-object fallback
    any-write      every one of the above
    none           never kill: run the command and report the counts

Each write is counted when it starts, so the N-th is the same write in every run of the same
command on the same origin; with parallel uploads the others in flight may or may not land.

The outcome is on stderr as one line `CRASH_RUNNER {json}`:
    {"reached": true, "checkpoint": ..., "n": N, "key": ...}   printed right before the kill;
    {"reached": false, "exit": rc, "counts": {...}}             the command finished instead,
and the runner then exits with NOT_REACHED (97) whatever the command's own exit code was
(CHECKPOINT `none` exits with the command's code).

    python tests/crash_runner.py --serve

does the same for many runs without paying Python's and boto3's start-up each time: it imports
assetpub once, then for every request line `{"argv": [CHECKPOINT, N, "--", ...], "stdout": PATH,
"stderr": PATH, "timeout": SECONDS}` on stdin it forks a child that runs exactly the command
above, waits for it, and answers `{"status": S}` on stdout: the child's exit code, or minus the
signal that ended it (-9: the kill landed), as subprocess reports it. A child still running
after `timeout` seconds is SIGKILLed and answered with `"timeout": true`.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import select
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NOT_REACHED = 97
MARKER = "CRASH_RUNNER "
WHENS = ("before", "after", "during")
KINDS = (
    "put-record",
    "put-asset",
    "put-blob",
    "put-state",
    "put-plain",
    "put-manifest",
    "put-entry",
    "put-index",
    "copy",
    "delete-object",
    "delete-record",
    "put-probe",
    "delete-probe",
    "put-lock",
    "delete-lock",
    "any-write",
    "none",
)

ROOT = Path(__file__).resolve().parent.parent


def classify_put(key: str, cache_control: str) -> str:
    """The KIND of a put (or copy target) of `key` with these headers."""
    from assetpub.build.headers import IMMUTABLE, NO_CACHE
    from assetpub.keys import ASSET_MANIFEST_KEY, BLOBS_PREFIX, LOCK_KEY, RELEASES_PREFIX, STATE_KEY

    if key == STATE_KEY:
        return "put-state"
    if key.startswith(RELEASES_PREFIX):
        return "put-record"
    if key.startswith(BLOBS_PREFIX):
        return "put-blob"
    if key == LOCK_KEY:
        return "put-lock"
    if key.startswith("_assetpub/probe-"):
        return "put-probe"
    if key == ASSET_MANIFEST_KEY:
        return "put-manifest"
    if key == "index.html":
        return "put-index"
    if cache_control == IMMUTABLE:
        return "put-asset"
    if cache_control == NO_CACHE:
        return "put-entry"
    return "put-plain"


def classify_delete(keys: list[str]) -> str:
    from assetpub.keys import LOCK_KEY, RELEASES_PREFIX

    if keys and all(k.startswith("_assetpub/probe-") for k in keys):
        return "delete-probe"
    if keys == [LOCK_KEY]:
        return "delete-lock"
    if keys and all(k.startswith(RELEASES_PREFIX) for k in keys):
        return "delete-record"
    return "delete-object"


@dataclass
class Injector:
    """Counts writes by KIND and kills the process at the chosen one."""

    kind: str = "none"
    n: int = 0
    when: str = "before"
    counts: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, kind: str) -> bool:
        """Count a write that is about to happen; True if it is the chosen one."""
        with self._lock:
            chosen = False
            for name in (kind, "any-write"):
                self.counts[name] = self.counts.get(name, 0) + 1
                chosen = chosen or (name == self.kind and self.counts[name] == self.n)
        return chosen

    def die(self, key: str) -> None:
        info = {"reached": True, "checkpoint": f"{self.kind}@{self.when}", "n": self.n, "key": key}
        sys.stderr.write(MARKER + json.dumps(info) + "\n")
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)


def install(injector: Injector) -> Callable[[], None]:
    """Wrap the write methods of the folder and S3 origins; returns a function that undoes it."""
    from assetpub.origins.folder import FolderOrigin
    from assetpub.origins.s3 import S3Origin

    undo: list[tuple[type, str, Any]] = []

    def patch(cls: type, name: str, wrapper: Callable[[Any], Any]) -> None:
        original = cls.__dict__[name]
        undo.append((cls, name, original))
        setattr(cls, name, functools.wraps(original)(wrapper(original)))

    def around(chosen: bool, key: str, write: Callable[[], Any]) -> Any:
        if chosen and injector.when == "before":
            injector.die(key)
        result = write()
        if chosen and injector.when == "after":
            injector.die(key)
        return result

    def put_file(original: Any) -> Any:
        def wrapper(self: Any, key: str, path: Path, headers: Any, **kwargs: Any) -> Any:
            chosen = injector.start(classify_put(key, headers.cache_control))
            with _torn(self, injector, chosen, key):
                return around(chosen, key, lambda: original(self, key, path, headers, **kwargs))

        return wrapper

    def put_bytes(original: Any) -> Any:
        def wrapper(self: Any, key: str, data: bytes, headers: Any, **kwargs: Any) -> Any:
            chosen = injector.start(classify_put(key, headers.cache_control))
            with _torn(self, injector, chosen, key):
                return around(chosen, key, lambda: original(self, key, data, headers, **kwargs))

        return wrapper

    def copy(original: Any) -> Any:
        def wrapper(self: Any, source_key: str, key: str, headers: Any) -> Any:
            chosen = injector.start("copy")
            with _torn(self, injector, chosen, key):
                return around(chosen, key, lambda: original(self, source_key, key, headers))

        return wrapper

    def delete(original: Any) -> Any:
        def wrapper(self: Any, keys: list[str]) -> Any:
            keys = list(keys)
            chosen = injector.start(classify_delete(keys))
            if chosen and injector.when == "during":
                # Half the batch is gone, the rest is not: a delete cut off half-way.
                original(self, keys[: max(1, len(keys) // 2)])
                injector.die(keys[0])
            return around(chosen, keys[0] if keys else "", lambda: original(self, keys))

        return wrapper

    for cls in (FolderOrigin, S3Origin):
        patch(cls, "put_file", put_file)
        patch(cls, "put_bytes", put_bytes)
        patch(cls, "copy", copy)
        patch(cls, "delete", delete)

    def restore() -> None:
        for cls, name, original in reversed(undo):
            setattr(cls, name, original)

    return restore


class _torn:
    """WHEN=during on a folder origin: let the bytes reach the temp file, then die before the
    rename (the temp file stays behind, as after a real crash mid-write)."""

    def __init__(self, origin: Any, injector: Injector, chosen: bool, key: str) -> None:
        self.active = chosen and injector.when == "during"
        self.origin, self.injector, self.key = origin, injector, key

    def __enter__(self) -> None:
        if not self.active:
            return
        if not hasattr(self.origin, "_write"):  # FolderOrigin._write: temp file, then rename
            sys.stderr.write("crash_runner: @during is only supported on folder origins\n")
            os._exit(2)
        original = self.origin._write
        injector, key, thread = self.injector, self.key, threading.get_ident()

        def write(k: str, target: Path, fill: Callable[[Any], object], *args: Any) -> None:
            if threading.get_ident() != thread:  # another upload thread: untouched
                original(k, target, fill, *args)
                return

            def fill_then_die(out: Any) -> None:
                fill(out)
                out.flush()
                os.fsync(out.fileno())
                injector.die(key)

            original(k, target, fill_then_die, *args)

        self.origin._write = write  # an instance attribute: only this call's origin object

    def __exit__(self, *exc: object) -> None:
        if self.active:
            del self.origin._write


def parse_checkpoint(text: str) -> tuple[str, str]:
    kind, _, when = text.partition("@")
    when = when or "before"
    if kind not in KINDS or when not in WHENS:
        raise SystemExit(f"crash_runner: bad checkpoint {text!r}: KIND[@{'|'.join(WHENS)}]")
    return kind, when


def main(argv: list[str]) -> int:
    if len(argv) < 3 or argv[2] != "--":
        raise SystemExit(__doc__)
    kind, when = parse_checkpoint(argv[0])
    injector = Injector(kind, int(argv[1]), when)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # the working copy, not an installed assetpub
    install(injector)
    from assetpub.cli import main as assetpub_main

    code = assetpub_main(argv[3:])
    sys.stdout.flush()
    report = {"reached": False, "exit": code, "counts": injector.counts}
    sys.stderr.write(MARKER + json.dumps(report) + "\n")
    sys.stderr.flush()
    return code if kind == "none" else NOT_REACHED


def serve() -> int:
    """The fork server: one child per request line, each a fresh run of main()."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    _preload()
    while True:
        line = sys.stdin.readline()
        if not line:
            return 0
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _child(request)  # never returns
        status, timed_out = _wait(pid, float(request.get("timeout", 120)))
        sys.stdout.write(json.dumps({"status": status, "timeout": timed_out}) + "\n")
        sys.stdout.flush()


def _preload() -> None:
    """Import what every run needs, so a child starts in milliseconds. No threads are started
    here (a fork only copies the calling thread)."""
    import assetpub.cli.app  # noqa: F401
    import assetpub.origins.folder  # noqa: F401
    import assetpub.origins.s3  # noqa: F401

    try:  # botocore imports much of itself lazily, on the first client
        import boto3

        boto3.session.Session(region_name="us-east-1").client(
            "s3", endpoint_url="http://127.0.0.1:9"
        )
    except Exception:  # only a warm-up
        pass


def _child(request: dict[str, Any]) -> None:
    code = 3
    try:
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        for fd, path in ((1, request["stdout"]), (2, request["stderr"])):
            os.dup2(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), fd)
        code = main(list(request["argv"]))
    except SystemExit as exc:
        if isinstance(exc.code, int):
            code = exc.code
        else:
            sys.stderr.write(f"{exc.code}\n")
            code = 2
    except BaseException:  # reported, then the child ends
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def _wait(pid: int, timeout: float) -> tuple[int, bool]:
    deadline = time.monotonic() + timeout
    pidfd = None
    with contextlib.suppress(AttributeError, OSError):  # no pidfd: poll
        pidfd = os.pidfd_open(pid)
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                return os.waitstatus_to_exitcode(status), False
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                _, status = os.waitpid(pid, 0)
                return os.waitstatus_to_exitcode(status), True
            if pidfd is not None:
                select.select([pidfd], [], [], left)
            else:
                time.sleep(min(left, 0.005))
    finally:
        if pidfd is not None:
            os.close(pidfd)


if __name__ == "__main__":
    sys.exit(serve() if sys.argv[1:] == ["--serve"] else main(sys.argv[1:]))
