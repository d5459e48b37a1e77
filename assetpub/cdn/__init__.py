"""CDN invalidation after a switch: which URL paths a switch made stale (paths.py, pure), the
target a user names (`cloudfront:DISTRIBUTION_ID`), and the small interface a CDN adapter
offers (cloudfront.py is the only module that talks to one). No boto3 here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from assetpub.errors import ConfigError

SCHEMES = ("cloudfront",)
# CloudFront distribution ids: uppercase letters and digits (E2QWRUHAPOMQZL).
_DISTRIBUTION_ID = re.compile(r"[A-Z0-9]{1,64}")


@dataclass(frozen=True)
class CdnTarget:
    """One CDN to invalidate: `cloudfront:E2QWRUHAPOMQZL`."""

    scheme: str
    id: str

    @property
    def spec(self) -> str:
        return f"{self.scheme}:{self.id}"


def parse_cdn_target(spec: str, where: str = "--invalidate") -> CdnTarget:
    """`cloudfront:ID`, or ConfigError naming `where` the spec came from."""
    scheme, sep, ident = spec.strip().partition(":")
    if not sep or scheme not in SCHEMES:
        raise ConfigError(
            f"{where}: {spec!r} is not a CDN to invalidate: use cloudfront:DISTRIBUTION_ID"
        )
    if not _DISTRIBUTION_ID.fullmatch(ident):
        raise ConfigError(
            f"{where}: {ident!r} is not a CloudFront distribution id "
            "(uppercase letters and digits, e.g. cloudfront:E2QWRUHAPOMQZL)"
        )
    return CdnTarget(scheme, ident)


class Cdn(Protocol):
    """What a switch needs of a CDN: one invalidation request for these paths."""

    target: CdnTarget

    def invalidate(self, paths: tuple[str, ...], caller_reference: str) -> str:
        """Send one invalidation; its id. Raises CdnError."""
        ...

    @property
    def requests(self) -> int:
        """HTTP requests sent so far, retries included."""
        ...


def open_cdn(target: CdnTarget, profile: str | None = None) -> Cdn:
    """The adapter for `target`; boto3 is imported only here, on first use."""
    from assetpub.cdn.cloudfront import CloudFrontCdn

    return CloudFrontCdn(target, profile)
