"""Peak memory and wall time of the command line on a build of many tiny files, on a folder
origin: publish cold, publish again unchanged (the read cache warm), and verify. Each run is a
subprocess of its own, so its peak RSS is its own (wait4's rusage), interpreter included.

    python -m benchmarks.bench_memory [--files 100000]
    python -m benchmarks.bench_memory --smoke        # 300 files: does the script work

The build holds every kind of file a publish treats differently, in folders of 1,000: JS chunks
with bundler-hashed names, images that stylesheets name (assetpub hashes both), data files no
page names (plain: a blob each too) and HTML pages (entries, kept in the release record).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.common import scratch

SMOKE_FILES = 300
_PER_FOLDER = 1000


@dataclass(frozen=True)
class Run:
    label: str
    seconds: float
    peak_rss_mb: float
    exit_code: int
    output: str


def tiny_build(root: Path, files: int, seed: int = 1) -> Path:
    """`files` files of 10-200 bytes: 1% HTML pages, 39% bundler chunks, 30% images named
    by one stylesheet per folder, 30% data files, with index.html and the stylesheets
    (counted among `files`) linking the rest."""
    rng = random.Random(seed)
    pages = max(1, files // 100)
    chunks = files * 39 // 100
    images = files * 30 // 100
    sheets = -(-images // _PER_FOLDER) if images else 0
    data = files - 1 - pages - chunks - images - sheets
    if data < 0:
        raise ValueError(f"a tiny build needs more than {files} files")
    root.mkdir(parents=True)

    def write(rel: str, content: bytes) -> None:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)

    def small() -> bytes:
        return rng.randbytes(rng.randint(10, 200))

    for i in range(pages):
        write(f"pages/{i // _PER_FOLDER}/page-{i}.html", f"<!doctype html><h1>{i}</h1>".encode())
    for i in range(chunks):
        write(f"js/{i // _PER_FOLDER}/chunk-{i}.{rng.getrandbits(80):020x}.js", b"f(%d)" % i)
    rules: dict[int, list[str]] = {}
    for i in range(images):
        folder = i // _PER_FOLDER
        write(f"img/{folder}/pic-{i}.png", small())
        rules.setdefault(folder, []).append(f".p{i}{{background:url(../img/{folder}/pic-{i}.png)}}")
    for folder, lines in rules.items():
        write(f"css/sheet-{folder}.css", "\n".join(lines).encode())
    for i in range(data):
        write(f"data/{i // _PER_FOLDER}/item-{i}.json", small())
    links = "".join(f"<link rel=stylesheet href=css/sheet-{f}.css>" for f in rules)
    write("index.html", f"<!doctype html>{links}<h1>tiny</h1>".encode())
    return root


def measure(label: str, argv: list[str], env: dict[str, str]) -> Run:
    """Run `argv`, returning its wall time and its own peak RSS (Linux reports KiB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    output = proc.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stdout.close()
    return Run(label, seconds, usage.ru_maxrss / 1024, proc.returncode, output)


def run_all(files: int, tmp: Path) -> list[Run]:
    build = tiny_build(tmp / "build", files)
    origin = tmp / "origin"
    # The read cache lives in the scratch folder: cold means cold, and the user's stays clean.
    env = {**os.environ, "ASSETPUB_CACHE_DIR": str(tmp / "cache")}
    assetpub = [sys.executable, "-m", "assetpub", "-q"]
    return [
        measure("publish cold", [*assetpub, "publish", str(build), "--origin", str(origin)], env),
        measure("unchanged", [*assetpub, "publish", str(build), "--origin", str(origin)], env),
        measure("verify", [*assetpub, "verify", "--origin", str(origin)], env),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--smoke", action="store_true", help=f"{SMOKE_FILES} files")
    args = parser.parse_args(argv)
    files = SMOKE_FILES if args.smoke else args.files
    with scratch() as tmp:
        runs = run_all(files, tmp)
    print(f"{files} tiny files, folder origin")
    for run in runs:
        print(f"{run.label:13} {run.seconds:7.2f} s  peak RSS {run.peak_rss_mb:6.1f} MB")
    failed = [run for run in runs if run.exit_code != 0]
    for run in failed:
        print(f"{run.label} exited {run.exit_code}:\n{run.output}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
