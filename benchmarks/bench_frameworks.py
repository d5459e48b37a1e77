"""Publish each committed framework build (frameworks/*/builds) to a moto S3 server in its own
process: v1 cold, then v2 over it. Prints what assetpub decided (renamed, bundler/framework
hashed, plain, entry), the time and the requests of each publish.

    python -m benchmarks.bench_frameworks
"""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

from benchmarks.common import make_bucket, moto_server

FRAMEWORKS = Path(__file__).resolve().parent.parent / "frameworks"
BUILDS = [
    ("vite-react", ""),
    ("nextjs", "turbopack-"),
    ("nextjs", "webpack-"),
    ("docusaurus", ""),
    ("angular", ""),
    ("sveltekit", ""),
]


def main() -> None:
    from assetpub.commands.publish import publish
    from assetpub.origins import OriginSpec, open_origin
    from assetpub.settings import PublishSettings

    with moto_server() as endpoint:
        for number, (folder, variant) in enumerate(BUILDS):
            bucket = f"bench{number}"
            make_bucket(endpoint, bucket)
            spec = OriginSpec(url=f"s3://{bucket}/site", endpoint_url=endpoint)
            for version in (1, 2):
                build = FRAMEWORKS / folder / "builds" / f"{variant}v{version}"
                origin = open_origin(spec)
                start = time.perf_counter()
                result = publish(
                    PublishSettings(build_dir=build, origins=(spec,)), origins=[origin]
                )
                elapsed = time.perf_counter() - start
                kinds = Counter(f.kind.value for f in result.build.files)
                renamed = sum(f.key != f.source for f in result.build.files)
                print(
                    f"{folder + '/' + variant + f'v{version}':24} {len(result.build.files):4} files"
                    f"  renamed {renamed:3}  bundler {kinds['bundler']:3}  plain {kinds['plain']:3}"
                    f"  entry {kinds['entry']:3}  {elapsed:5.2f} s  uploaded {result.uploaded:3}"
                    f"  requests {origin.stats.requests:3}"
                    f"  detected: {', '.join(result.build.detected)}"
                )


if __name__ == "__main__":
    main()
