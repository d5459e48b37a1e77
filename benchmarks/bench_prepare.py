"""The local phase alone: scan, find references and every name (the rename proof), rewrite and
hash, for a synthetic build or an existing one. Compares with reading and hashing every file,
the floor any publisher pays, to show the proof runs at I/O speed.

    python -m benchmarks.bench_prepare [--files 2000] [--mb 115] [--text]
    python -m benchmarks.bench_prepare --build frameworks/docusaurus/builds/v1
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.common import scratch, synthetic_build


def _read_and_hash(build: Path) -> None:
    for path in build.rglob("*"):
        if path.is_file():
            hashlib.sha256(path.read_bytes()).digest()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--mb", type=int, default=115)
    parser.add_argument("--text", action="store_true", help="JS chunks of ASCII text, not bytes")
    parser.add_argument("--build", type=Path, help="measure this folder instead")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from assetpub.build.prepare import PrepareOptions, prepare_build
    from assetpub.build.scan import scan_build
    from assetpub.settings import DEFAULT_ENTRY_PATTERNS, DEFAULT_HASHED_NAME_PATTERNS

    with scratch() as tmp:
        if args.build:
            build = tmp / "build"
            shutil.copytree(args.build, build)
        else:
            build = synthetic_build(tmp / "build", args.files, args.mb, text=args.text)
        files = [p for p in build.rglob("*") if p.is_file()]
        size = sum(p.stat().st_size for p in files)
        options = PrepareOptions(DEFAULT_ENTRY_PATTERNS, DEFAULT_HASHED_NAME_PATTERNS)

        def prepare() -> None:
            with tempfile.TemporaryDirectory(dir=tmp) as staging:
                prepare_build(scan_build(build), options, Path(staging))

        def best(run: object) -> float:
            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                run()  # type: ignore[operator]
                times.append(time.perf_counter() - start)
            return min(times) if times else statistics.mean(times)

        floor = best(lambda: _read_and_hash(build))
        local = best(prepare)
        mb = size / 1e6
        print(f"build: {len(files)} files, {mb:.1f} MB")
        print(f"read + sha256 every file: {floor:6.3f} s  ({mb / floor:6.0f} MB/s)")
        print(f"assetpub prepare:         {local:6.3f} s  ({mb / local:6.0f} MB/s)")


if __name__ == "__main__":
    main()
