"""Publish a large synthetic build to a moto S3 server over loopback: cold, unchanged, and with a
few changed files. Prints wall time and the requests each run made.

    python -m benchmarks.bench_publish [--files 2000] [--mb 115]
    python -m benchmarks.bench_publish --build sample_site/dist    # an existing build
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from benchmarks.common import change_files, make_bucket, moto_server, scratch, synthetic_build


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--mb", type=int, default=115)
    parser.add_argument("--build", type=Path, help="publish this folder instead (cold, unchanged)")
    args = parser.parse_args()

    from assetpub.cli.render import human_bytes
    from assetpub.commands.publish import publish
    from assetpub.origins import OriginSpec, open_origin
    from assetpub.settings import PublishSettings

    with moto_server() as endpoint, scratch() as tmp:
        make_bucket(endpoint, "bench")
        if args.build:
            build = tmp / "build"
            shutil.copytree(args.build, build)
        else:
            build = synthetic_build(tmp / "build", args.files, args.mb)
        spec = OriginSpec(url="s3://bench/site", endpoint_url=endpoint)
        settings = PublishSettings(build_dir=build, origins=(spec,))
        files = [p for p in build.rglob("*") if p.is_file()]
        size = human_bytes(sum(p.stat().st_size for p in files))
        print(f"build: {len(files)} files, {size}")

        def run(label: str) -> None:
            origin = open_origin(spec)
            start = time.perf_counter()
            result = publish(settings, origins=[origin])
            elapsed = time.perf_counter() - start
            ops = ", ".join(f"{k} {v}" for k, v in sorted(origin.stats.by_operation.items()))
            print(
                f"{label:10} {elapsed:6.2f} s  uploaded {result.uploaded:5}  "
                f"skipped {result.skipped:5}  requests {origin.stats.requests:5} ({ops})"
            )

        run("cold")
        run("unchanged")
        if not args.build:
            change_files(build, 20)
            run("20 changed")


if __name__ == "__main__":
    main()
