"""Latency of `assetpub watch`: from the last file of a rebuild written to the new index.html
being live on a moto S3 server (a HEAD every 20 ms sees its ETag change) and on a folder
origin (where the origin costs least and the local phase shows), median of 5
rebuilds. Each rebuild writes the files of the next version of benchmarks.synthetic's build
that differ (`--changed` chunks and images plus what names them), deletes those gone, and
index.html last, as webpack --watch does. Run with the read cache (the default) and with
--no-cache, to show what the cache saves each cycle.

    python -m benchmarks.bench_watch [--files 2000] [--changed 20] [--debounce 1]
    python -m benchmarks.bench_watch --smoke     # 60 files, 2 rebuilds: does the script work

The latency includes the quiet period (--debounce) by design: watch publishes only once the
folder has been quiet that long.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from benchmarks.common import make_bucket, moto_server, scratch
from benchmarks.synthetic import build_files, generate_build


@dataclass(frozen=True)
class Options:
    files: int = 2000
    changed: int = 20  # chunks and images a rebuild changes (their referrers change too)
    rebuilds: int = 5
    debounce: float = 1.0
    # Between rebuilds, past build/cache.py's racy window (a file read within 2 s of being
    # written is read again next time), as between two saves of a developer's files.
    pause: float = 2.5


SMOKE = Options(files=60, changed=4, rebuilds=2, debounce=0.2, pause=0.0)
_PUBLISHED = re.compile(r"published \S+: (\d+) files? uploaded in ([\d.]+) s")
_TIMEOUT = 300.0


@dataclass
class Cycle:
    latency: float  # seconds from the last write to index.html live
    publish_seconds: float  # what watch's own line says the publish took
    uploaded: int


@dataclass
class Mode:
    label: str
    cycles: list[Cycle] = field(default_factory=list)
    first_publish: float = 0.0

    def median(self, what: str) -> float:
        return float(statistics.median(getattr(c, what) for c in self.cycles))


def apply_version(build: Path, version: Path) -> None:
    """Make `build` hold what `version` holds, writing only what differs, index.html last."""
    wanted = {p.relative_to(version).as_posix(): p for p in build_files(version)}
    for path in list(build_files(build)):
        if path.relative_to(build).as_posix() not in wanted:
            path.unlink()
    for rel in sorted(wanted, key=lambda r: r == "index.html"):
        target = build / rel
        data = wanted[rel].read_bytes()
        if not target.exists() or target.read_bytes() != data:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)


class Watcher:
    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(
            argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.published: list[tuple[int, float]] = []
        self.stderr: list[str] = []
        self._arrived = threading.Condition()
        assert self.proc.stdout is not None and self.proc.stderr is not None
        for stream, sink in ((self.proc.stdout, None), (self.proc.stderr, self.stderr)):
            threading.Thread(target=self._read, args=(stream, sink), daemon=True).start()

    def _read(self, stream: IO[str], sink: list[str] | None) -> None:
        for line in stream:
            with self._arrived:
                match = _PUBLISHED.search(line)
                if sink is not None:
                    sink.append(line)
                elif match:
                    self.published.append((int(match[1]), float(match[2])))
                self._arrived.notify_all()

    def until_published(self, count: int) -> tuple[int, float]:
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self.published) >= count, _TIMEOUT):
                raise RuntimeError(f"watch published nothing: {''.join(self.stderr)}")
            return self.published[count - 1]

    def stop(self) -> int:
        self.proc.terminate()
        return self.proc.wait(timeout=60)


class LiveS3Page:
    """The ETag of site/index.html on the moto server, read by a HEAD."""

    def __init__(self, endpoint: str, bucket: str) -> None:
        import boto3

        self._client = boto3.client("s3", endpoint_url=endpoint)
        self._bucket = bucket

    def version(self) -> object:
        try:
            return self._client.head_object(Bucket=self._bucket, Key="site/index.html")["ETag"]
        except self._client.exceptions.ClientError:
            return None


class LiveFolderPage:
    """A folder origin's index.html: replaced by a rename, so a new inode each switch."""

    def __init__(self, origin: Path) -> None:
        self._page = origin / "index.html"

    def version(self) -> object:
        try:
            return self._page.stat().st_ino
        except FileNotFoundError:
            return None


def _until_live(page: LiveS3Page | LiveFolderPage, old: object) -> float:
    deadline = time.perf_counter() + _TIMEOUT
    while (seen := page.version()) == old or seen is None:
        if time.perf_counter() > deadline:
            raise RuntimeError("the new index.html never went live")
        time.sleep(0.02)
    return time.perf_counter()


def run_mode(
    label: str,
    origin: list[str],
    page: LiveS3Page | LiveFolderPage,
    versions: list[Path],
    tmp: Path,
    options: Options,
) -> Mode:
    """Watch a copy of versions[0] publishing to `origin` (its command-line options), then
    write each later version into it and time it going live."""
    name = label.replace(" ", "-").replace(",", "")
    build = tmp / f"build-{name}"
    shutil.copytree(versions[0], build)
    env = {**os.environ, "ASSETPUB_CACHE_DIR": str(tmp / f"cache-{name}")}
    argv = [sys.executable, "-m", "assetpub", "watch", str(build), *origin]
    argv += ["--debounce", f"{options.debounce:g}"]
    mode = Mode(label)
    watcher = Watcher(argv, env)
    try:
        start = time.perf_counter()
        watcher.until_published(1)
        mode.first_publish = time.perf_counter() - start
        for n, version in enumerate(versions[1:], start=2):
            time.sleep(options.pause)
            old = page.version()
            apply_version(build, version)
            written = time.perf_counter()
            live = _until_live(page, old)
            uploaded, seconds = watcher.until_published(n)
            mode.cycles.append(Cycle(live - written, seconds, uploaded))
    finally:
        code = watcher.stop()
    if code != 0:
        raise RuntimeError(f"watch exited {code}: {''.join(watcher.stderr)}")
    return mode


def local_phase(versions: list[Path], tmp: Path, options: Options, cache: bool) -> list[float]:
    """Seconds of what each watch cycle does before it contacts an origin, in this process:
    the completeness check, then publish's scan and prepare (rewrite, hash; the read cache
    proving files unchanged). Each rebuild is looked at `debounce` seconds after it was
    written, as watch does; the first look is at a build just copied, as when a bundler and
    watch start together."""
    import tempfile

    from assetpub.build.completeness import inspect_build
    from assetpub.build.prepare import PrepareOptions, prepare_build
    from assetpub.build.scan import PUBLIC_FILES, scan_build
    from assetpub.settings import DEFAULT_ENTRY_PATTERNS, DEFAULT_HASHED_NAME_PATTERNS

    label = "cache" if cache else "nocache"
    build = tmp / f"build-local-{label}"
    shutil.copytree(versions[0], build)
    prepare = PrepareOptions(
        DEFAULT_ENTRY_PATTERNS,
        DEFAULT_HASHED_NAME_PATTERNS,
        read_cache=cache,
        cache_dir=tmp / f"cache-local-{label}",
    )

    def cycle() -> float:
        start = time.perf_counter()
        found = inspect_build(build, PUBLIC_FILES, time.time(), options.debounce)
        assert found.is_complete, found.reason
        with tempfile.TemporaryDirectory() as staging:
            prepare_build(scan_build(build), prepare, Path(staging))
        return time.perf_counter() - start

    time.sleep(options.debounce)
    cycle()  # the publish at start
    seconds = []
    for version in versions[1:]:
        time.sleep(options.pause)
        apply_version(build, version)
        time.sleep(options.debounce)
        seconds.append(cycle())
    return seconds


def generate_versions(options: Options, tmp: Path) -> list[Path]:
    """The build at start and one more version a rebuild."""
    return [
        generate_build(tmp / f"v{n}", options.files, seed=1, version=n, changed=options.changed)
        for n in range(options.rebuilds + 1)
    ]


def run_all(options: Options, versions: list[Path], tmp: Path, folder: bool = True) -> list[Mode]:
    """On moto S3, with and without the read cache; with `folder`, on a folder origin too,
    where the origin costs less."""
    modes = []
    with moto_server() as endpoint:
        for cache in (True, False):
            bucket = f"watch-{'cache' if cache else 'nocache'}"
            make_bucket(endpoint, bucket)
            s3 = ["--origin", f"s3://{bucket}/site", "--endpoint-url", endpoint]
            label = f"s3, {'read cache' if cache else 'no cache'}"
            flags = [] if cache else ["--no-cache"]
            page = LiveS3Page(endpoint, bucket)
            modes.append(run_mode(label, s3 + flags, page, versions, tmp, options))
    for cache in (True, False) if folder else ():
        origin = tmp / f"origin-{'cache' if cache else 'nocache'}"
        label = f"folder, {'read cache' if cache else 'no cache'}"
        flags = [] if cache else ["--no-cache"]
        args = ["--origin", str(origin), *flags]
        modes.append(run_mode(label, args, LiveFolderPage(origin), versions, tmp, options))
    return modes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=Options.files)
    parser.add_argument("--changed", type=int, default=Options.changed)
    parser.add_argument("--rebuilds", type=int, default=Options.rebuilds)
    parser.add_argument("--debounce", type=float, default=Options.debounce)
    parser.add_argument("--smoke", action="store_true", help="60 files, 2 rebuilds")
    args = parser.parse_args(argv)
    options = (
        SMOKE if args.smoke else Options(args.files, args.changed, args.rebuilds, args.debounce)
    )
    with scratch() as tmp:
        versions = generate_versions(options, tmp)
        modes = run_all(options, versions, tmp)
        local = {cache: local_phase(versions, tmp, options, cache) for cache in (True, False)}
    print(
        f"{options.files} files, {options.changed} changed a rebuild, debounce "
        f"{options.debounce:g} s, medians of {options.rebuilds} rebuilds"
    )
    for mode in modes:
        each = " ".join(f"{c.publish_seconds:.2f}" for c in mode.cycles)
        print(
            f"{mode.label:18}  first publish {mode.first_publish:6.2f} s   "
            f"last write -> live {mode.median('latency'):5.2f} s   "
            f"publish {mode.median('publish_seconds'):5.2f} s (each: {each})   "
            f"uploaded {mode.median('uploaded'):.0f}"
        )
    for cache, seconds in local.items():
        each = " ".join(f"{s:.2f}" for s in seconds)
        print(
            f"local phase, {'read cache' if cache else 'no cache':10}  "
            f"{statistics.median(seconds):5.2f} s (each: {each})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
