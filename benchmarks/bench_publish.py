"""Publish a large synthetic build to a moto S3 server over loopback: cold, unchanged, and with a
few changed files. Prints wall time and the requests each run made.

    python -m benchmarks.bench_publish [--files 2000] [--mb 115]
"""

from __future__ import annotations

import argparse
import time

from benchmarks.common import change_files, make_bucket, moto_server, scratch, synthetic_build


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--mb", type=int, default=115)
    args = parser.parse_args()

    from assetpub.config import PublishSettings
    from assetpub.origins import OriginSpec, open_origin
    from assetpub.publish import publish

    with moto_server() as endpoint, scratch() as tmp:
        make_bucket(endpoint, "bench")
        build = synthetic_build(tmp / "build", args.files, args.mb)
        spec = OriginSpec(url="s3://bench/site", endpoint_url=endpoint)
        settings = PublishSettings(build_dir=build, origins=(spec,))
        print(f"build: {args.files + 2} files, {args.mb} MB")

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
        change_files(build, 20)
        run("20 changed")


if __name__ == "__main__":
    main()
