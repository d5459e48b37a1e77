"""Shared pieces of the benchmarks: a moto S3 server in its own process (so its CPU does not
share our GIL), a bucket, and a synthetic build shaped like a large front-end app."""

from __future__ import annotations

import base64
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Dummy credentials and no config files: no benchmark ever reaches a real account. Set here for
# this process (boto3 reads them) and handed to every tool a benchmark runs as a subprocess.
DUMMY_AWS_ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
os.environ.update(DUMMY_AWS_ENV)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def moto_server() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("moto server did not start") from None
                time.sleep(0.1)
        yield endpoint
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def make_bucket(endpoint: str, name: str) -> None:
    import boto3

    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=name)


def synthetic_build(
    root: Path, files: int, total_mb: int, seed: int = 1, text: bool = False
) -> Path:
    """An index.html, a stylesheet, and `files` assets: JS chunks with webpack-style hashed
    names, images referenced from CSS (which assetpub hashes itself), random bytes so nothing
    compresses or deduplicates by accident. With `text`, the JS chunks are ASCII text (string
    literals of base64), as real bundles are, instead of raw bytes.

    The simple shape the README's bench_publish/bench_prepare/bench_history figures were
    measured on, kept so they stay reproducible; `benchmarks.synthetic.generate_build` makes
    the realistic, version-able build (source maps, bundler CSS, plain fonts) that
    compare_sync uses."""
    rng = random.Random(seed)
    root.mkdir(parents=True)
    per_file = total_mb * 1024 * 1024 // files
    css_lines = []
    scripts = []
    for i in range(files):
        size = max(1, int(per_file * rng.uniform(0.2, 1.8)))
        data = rng.randbytes(size)
        if i % 2 and text:
            literal = base64.b64encode(data[: size * 3 // 4])
            data = b'var s="' + literal + b'";console.log(s.length)\n'
        if i % 2:
            name = f"js/chunk{i}.{rng.getrandbits(80):020x}.js"
            scripts.append(name)
        else:
            name = f"img/pic{i}.png"
            css_lines.append(f".p{i}{{background:url(../{name})}}")
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (root / "css").mkdir()
    (root / "css" / "site.css").write_text("\n".join(css_lines))
    tags = "".join(f"<script defer src={s}></script>" for s in scripts[:20])
    (root / "index.html").write_text(
        f"<!doctype html><link rel=stylesheet href=css/site.css>{tags}<h1>bench</h1>"
    )
    return root


def change_files(root: Path, count: int, seed: int = 2) -> None:
    """Replace `count` images with new bytes (new hashed names, and a new site.css)."""
    rng = random.Random(seed)
    pictures = sorted((root / "img").iterdir())[:count]
    for path in pictures:
        path.write_bytes(rng.randbytes(path.stat().st_size))


@contextmanager
def scratch() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="assetpub-bench-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
