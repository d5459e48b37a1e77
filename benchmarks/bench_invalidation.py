"""Requests of an invalidating publish and rollback: sample_site's committed build (release A),
then a second build (release B: `SAMPLE_SITE_RELEASE=B npx webpack --mode production
--output-path DIR` in sample_site), then a rollback, each with and without a CloudFront
invalidation. S3 and CloudFront are moto's, in-process (the counts are the clients' own).

    python -m benchmarks.bench_invalidation --second DIR [--first sample_site/dist]
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

SAMPLE_DIST = Path(__file__).resolve().parent.parent / "sample_site" / "dist"


def _distribution(client: Any) -> str:
    origin = {
        "Id": "site",
        "DomainName": "bench.s3.amazonaws.com",
        "OriginPath": "/site",
        "S3OriginConfig": {"OriginAccessIdentity": ""},
    }
    behaviour = {
        "TargetOriginId": "site",
        "ViewerProtocolPolicy": "allow-all",
        "MinTTL": 0,
        "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
        "TrustedSigners": {"Enabled": False, "Quantity": 0},
    }
    config = {
        "CallerReference": "bench",
        "Origins": {"Quantity": 1, "Items": [origin]},
        "DefaultCacheBehavior": behaviour,
        "Comment": "",
        "Enabled": True,
        "DefaultRootObject": "index.html",
    }
    return str(client.create_distribution(DistributionConfig=config)["Distribution"]["Id"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--first", type=Path, default=SAMPLE_DIST)
    parser.add_argument("--second", type=Path, required=True, help="a different build")
    args = parser.parse_args()
    for name, value in {
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        os.environ.setdefault(name, value)

    import boto3
    from moto import mock_aws

    from assetpub.cdn import parse_cdn_target
    from assetpub.commands.publish import publish
    from assetpub.commands.rollback import rollback
    from assetpub.origins import OriginSpec, open_origin
    from assetpub.settings import InvalidateSettings, PublishSettings

    def ops(origin: Any) -> str:
        return ", ".join(f"{k} {v}" for k, v in sorted(origin.stats.by_operation.items()))

    for invalidating in (False, True):
        with mock_aws():
            boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="bench")
            cdn = boto3.client("cloudfront", region_name="us-east-1")
            target = parse_cdn_target(f"cloudfront:{_distribution(cdn)}")
            cdns = InvalidateSettings(targets=(target,) if invalidating else ())
            spec = OriginSpec(url="s3://bench/site")
            print("with --invalidate" if invalidating else "without --invalidate")
            for label, build in (("publish A", args.first), ("publish B", args.second)):
                origin = open_origin(spec)
                settings = PublishSettings(build_dir=build, origins=(spec,), invalidate=cdns)
                result = publish(settings, origins=[origin])
                sent = result.invalidations
                print(
                    f"  {label:11} S3 {origin.stats.requests:3} ({ops(origin)}); CloudFront "
                    f"{sum(i.requests for i in sent)} ({sum(len(i.paths) for i in sent)} paths)"
                )
            origin = open_origin(spec)
            rolled = rollback([origin], invalidate=cdns)
            sent = rolled.invalidations
            print(
                f"  {'rollback':11} S3 {origin.stats.requests:3} ({ops(origin)}); CloudFront "
                f"{sum(i.requests for i in sent)} ({sum(len(i.paths) for i in sent)} paths)"
            )
            for inv in sent:
                print("    paths: " + " ".join(inv.paths))


if __name__ == "__main__":
    main()
