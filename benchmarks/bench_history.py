"""Rollback of a 2,000-file release and a GC of 10 expired releases, on a moto S3 server in its
own process on loopback. Prints wall time and requests.

    python -m benchmarks.bench_history [--files 2000] [--mb 20]
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

from benchmarks.common import change_files, make_bucket, moto_server, scratch, synthetic_build


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--mb", type=int, default=20)
    parser.add_argument("--expired", type=int, default=10)
    args = parser.parse_args()

    from assetpub.commands.gc import run_gc
    from assetpub.commands.publish import publish
    from assetpub.commands.rollback import rollback
    from assetpub.origins import OriginSpec, open_origin
    from assetpub.settings import GcSettings, PublishSettings

    with moto_server() as endpoint, scratch() as tmp:
        make_bucket(endpoint, "bench")
        spec = OriginSpec(url="s3://bench/site", endpoint_url=endpoint)
        build = synthetic_build(tmp / "build", args.files, args.mb)
        settings = PublishSettings(build_dir=build, origins=(spec,))
        publish(settings, origins=[open_origin(spec)])
        change_files(build, 200, seed=100)
        publish(settings, origins=[open_origin(spec)])
        print(f"two releases of {args.files + 2} files ({args.mb} MB), 200 files apart")

        origin = open_origin(spec)
        start = time.perf_counter()
        result = rollback([origin])
        elapsed = time.perf_counter() - start
        ops = ", ".join(f"{k} {v}" for k, v in sorted(origin.stats.by_operation.items()))
        print(
            f"rollback   {elapsed:6.2f} s  requests {origin.stats.requests:4} ({ops})"
            f"  -> {result.release}"
        )

        for n in range(args.expired):
            change_files(build, 100, seed=200 + n)
            publish(settings, origins=[open_origin(spec)])
        origin = open_origin(spec)
        start = time.perf_counter()
        gc = run_gc(origin, GcSettings(keep=2, grace=timedelta(0)))
        elapsed = time.perf_counter() - start
        ops = ", ".join(f"{k} {v}" for k, v in sorted(origin.stats.by_operation.items()))
        print(
            f"gc         {elapsed:6.2f} s  requests {origin.stats.requests:4} ({ops})  "
            f"-> {len(gc.plan.doomed)} releases, {gc.deleted_objects} objects deleted"
        )


if __name__ == "__main__":
    main()
