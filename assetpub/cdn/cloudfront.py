"""CloudFront invalidations through boto3: the one module that talks to CloudFront."""

from __future__ import annotations

import os
import threading
from typing import Any

import boto3
import botocore.exceptions as boto_errors
from botocore.config import Config

from assetpub.cdn import CdnTarget
from assetpub.errors import CdnError

# CloudFront is a global service whose API lives in us-east-1.
_REGION = "us-east-1"


class CloudFrontCdn:
    """One distribution. Credentials come from `profile` (the S3 origin's, when it names
    one), else boto3's default chain. AWS_ENDPOINT_URL is not followed: it usually points at
    the S3-compatible service of the origins (R2, MinIO), never at CloudFront; the
    service-specific AWS_ENDPOINT_URL_CLOUDFRONT is."""

    def __init__(self, target: CdnTarget, profile: str | None = None) -> None:
        self.target = target
        self._requests = 0
        self._lock = threading.Lock()
        try:
            session = boto3.session.Session(profile_name=profile, region_name=_REGION)
            self._client = session.client(
                "cloudfront",
                config=Config(
                    retries={"mode": "standard", "total_max_attempts": 5},
                    connect_timeout=5,
                    read_timeout=30,
                    ignore_configured_endpoint_urls=True,
                ),
                endpoint_url=os.environ.get("AWS_ENDPOINT_URL_CLOUDFRONT") or None,
            )
        except boto_errors.BotoCoreError as exc:
            raise CdnError(f"{target.spec}: {exc}") from None
        self._client.meta.events.register("before-send.cloudfront", self._count)

    def _count(self, **_: Any) -> None:
        with self._lock:
            self._requests += 1

    @property
    def requests(self) -> int:
        return self._requests

    def invalidate(self, paths: tuple[str, ...], caller_reference: str) -> str:
        batch = {
            "Paths": {"Quantity": len(paths), "Items": list(paths)},
            "CallerReference": caller_reference,
        }
        try:
            answer = self._client.create_invalidation(
                DistributionId=self.target.id, InvalidationBatch=batch
            )
        except boto_errors.ClientError as exc:
            error = exc.response.get("Error", {})
            code = error.get("Code", "error")
            raise CdnError(f"{self.target.spec}: {code}: {error.get('Message', exc)}") from None
        except boto_errors.BotoCoreError as exc:  # no credentials, unreachable, timed out
            raise CdnError(f"{self.target.spec}: {exc}") from None
        return str(answer["Invalidation"]["Id"])
