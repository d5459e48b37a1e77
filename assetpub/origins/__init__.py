"""Where a build is published: choose a backend from an origin URL.

    s3://bucket[/prefix]   S3 or an S3-compatible service (R2, MinIO, GCS interop)
    file:///abs/path       a local folder, e.g. one nginx serves (file:///C:/site on Windows)
    some/path              the same, relative to the working directory (C:\\site on Windows)
    memory://name          in-process storage for tests

Backends are imported on first use, so the planning core never imports boto3.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from assetpub.errors import ConfigError
from assetpub.origins.base import (
    ObjectHeaders,
    ObjectInfo,
    Origin,
    OriginStats,
    RemoteObject,
    VersionedBytes,
)
from assetpub.origins.checks import CONTROL_CHARACTER, check_key
from assetpub.origins.folder_paths import (
    NATIVE,
    PathRules,
    folder_from_file_url,
    folder_from_path,
    is_folder_path,
)

__all__ = [
    "as_dry_run",
    "list_all",
    "ObjectHeaders",
    "ObjectInfo",
    "Origin",
    "OriginSpec",
    "OriginStats",
    "RemoteObject",
    "VersionedBytes",
    "open_origin",
    "open_origins",
    "parse_origin_url",
]

_CHECKSUM_MODES = ("when_required", "when_supported")
_ADDRESSING_STYLES = ("path", "virtual", "auto")
_S3_MIN_PART_SIZE = 5 * 1024 * 1024
# AWS rules (3-63 chars, lowercase, digits, '.', '-', alphanumeric at both ends) plus '_', which
# GCS interop buckets may use.
_BUCKET_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]")
_URL_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
# botocore's own check is only that the region is a valid host label.
_REGION = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_ENDPOINT = re.compile(r"https?://[^/\s?#@]+(/[^\s?#]*)?")
# S3's canned ACLs: anything else is refused by the first PUT, better refused here.
CANNED_ACLS = (
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "aws-exec-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
)


@dataclass(frozen=True)
class OriginSpec:
    """Everything needed to open one origin; validated on construction (ConfigError)."""

    url: str
    # Else boto3's own AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL handling applies.
    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    # "path" | "virtual" | "auto": MinIO wants path; R2 takes either.
    addressing_style: str | None = None
    # botocore's request_checksum_calculation / response_checksum_validation. boto3's default,
    # "when_supported", sends CRC headers that several S3-compatible services reject.
    checksums: str = "when_required"
    # No x-amz-acl header unless set: R2 and ACL-less AWS buckets reject it.
    acl: str | None = None
    # Also the part size; S3 refuses parts under 5 MiB.
    multipart_threshold: int = 8 * 1024 * 1024
    max_connections: int = 16
    # Attempts per request (botocore standard retry mode), seconds to wait for a connection and
    # for each read of an answer. A server that accepts connections and never answers costs at
    # most max_attempts * read_timeout plus the retries' backoff (< 2**(max_attempts-1) s).
    max_attempts: int = 5
    connect_timeout: float = 5.0
    read_timeout: float = 30.0

    def __post_init__(self) -> None:
        parse_origin_url(self.url)
        if self.checksums not in _CHECKSUM_MODES:
            raise ConfigError(f"checksums must be one of {_CHECKSUM_MODES}, not {self.checksums!r}")
        if self.addressing_style not in (None, *_ADDRESSING_STYLES):
            raise ConfigError(
                f"addressing_style must be one of {_ADDRESSING_STYLES}, "
                f"not {self.addressing_style!r}"
            )
        if self.multipart_threshold < _S3_MIN_PART_SIZE:
            raise ConfigError("multipart_threshold must be at least 5 MiB (the S3 part minimum)")
        if (
            self.max_connections < 1
            or self.max_attempts < 1
            or self.connect_timeout <= 0
            or self.read_timeout <= 0
        ):
            raise ConfigError(
                "max_connections, max_attempts, connect_timeout and read_timeout must be positive"
            )
        if self.endpoint_url is not None and not _is_endpoint(self.endpoint_url):
            raise ConfigError(
                f"bad endpoint URL {self.endpoint_url!r}: use http(s)://host[:port], "
                "e.g. http://127.0.0.1:9000"
            )
        if self.region is not None and not _REGION.fullmatch(self.region):
            raise ConfigError(f"bad region {self.region!r}: e.g. us-east-1, or auto for R2")
        if self.acl is not None and self.acl not in CANNED_ACLS:
            raise ConfigError(
                f"acl must be one of S3's canned ACLs {CANNED_ACLS}, not {self.acl!r}"
            )

    @property
    def identity(self) -> tuple[str, str, str]:
        """What the URL names, whatever its spelling: s3://b/p and s3://b/p/, or a folder path
        and its file:// URL, are the same origin."""
        return parse_origin_url(self.url)


def _is_endpoint(url: str) -> bool:
    if CONTROL_CHARACTER.search(url) or not _ENDPOINT.fullmatch(url):
        return False
    try:
        parts = urlsplit(url)
        _ = parts.port  # a port that is not a number, or out of range, raises
    except ValueError:
        return False
    return bool(parts.hostname)


def parse_origin_url(url: str, paths: PathRules = NATIVE) -> tuple[str, str, str]:
    """Split an origin URL into (scheme, location, prefix), or raise ConfigError.

    location is the bucket (s3), the absolute folder (file, plain paths) or the name (memory);
    prefix is '' or 'a/b' without leading or trailing '/'. Only s3 URLs carry a prefix. Folders
    follow this OS's `paths` rules (a parameter, so other systems' are tested here too).
    """
    if not url or not url.strip():
        raise ConfigError("the origin URL is empty: use s3://bucket/prefix or a folder path")
    if CONTROL_CHARACTER.search(url):
        raise ConfigError(f"bad origin URL {url!r}: it contains a control character")
    if not _URL_SCHEME.match(url) or is_folder_path(url, paths):
        return "file", folder_from_path(url, url, paths), ""
    if "://" not in url:
        raise ConfigError(f"bad origin URL {url!r}: expected scheme://..., e.g. s3://bucket/site")
    parts = urlsplit(url)
    if parts.query or parts.fragment or url.endswith(("?", "#")):
        raise ConfigError(f"bad origin URL {url!r}: query strings and fragments are not allowed")
    if parts.scheme == "s3":
        return "s3", _check_bucket(parts.netloc, url), _normalise_prefix(parts.path, url)
    if parts.scheme == "file":
        return "file", folder_from_file_url(parts.netloc, parts.path, url, paths), ""
    if parts.scheme == "memory":
        if not parts.netloc or parts.path.strip("/"):
            raise ConfigError(f"bad origin URL {url!r}: use memory://NAME")
        return "memory", parts.netloc, ""
    raise ConfigError(
        f"unknown origin scheme {parts.scheme!r} in {url!r}: "
        "use s3://bucket/prefix, file:///path, a folder path or memory://name"
    )


def _check_bucket(bucket: str, url: str) -> str:
    if not bucket:
        raise ConfigError(f"bad origin URL {url!r}: the bucket name is empty")
    if not _BUCKET_NAME.fullmatch(bucket) or ".." in bucket:
        raise ConfigError(
            f"bad origin URL {url!r}: {bucket!r} is not a valid bucket name "
            "(3-63 lowercase letters, digits, '.', '-')"
        )
    return bucket


def _normalise_prefix(path: str, url: str) -> str:
    prefix = path.strip("/")
    if not prefix:
        return ""
    try:
        return check_key(prefix)
    except ValueError:
        raise ConfigError(
            f"bad origin URL {url!r}: the prefix must not contain '..', '.', '//' or backslashes"
        ) from None


def open_origin(spec: OriginSpec) -> Origin:
    """The origin `spec.url` names. Nothing is contacted yet: call `check()` for that."""
    scheme, location, prefix = parse_origin_url(spec.url)
    if scheme == "s3":
        from assetpub.origins.s3 import S3Origin

        return S3Origin(location, prefix, spec)
    if scheme == "memory":
        from assetpub.origins.memory import shared_memory_origin

        return shared_memory_origin(location)
    from assetpub.origins.folder import FolderOrigin

    return FolderOrigin(Path(location))


def open_origins(specs: Sequence[OriginSpec], dry_run: bool = False) -> list[Origin]:
    """The origins `specs` name; with `dry_run`, each behind the dry-run wrapper."""
    opened = [open_origin(spec) for spec in specs]
    return as_dry_run(opened) if dry_run else opened


def as_dry_run(origins: Sequence[Origin]) -> list[Origin]:
    """`origins` behind the DryRunOrigin wrapper, the one dry-run convention of every command:
    the command's real code path runs, reads go through, writes stay in the wrapper's overlay.
    An origin already wrapped is kept as it is (a command given --dry-run's origins and the
    flag wraps once)."""
    from assetpub.origins.dryrun import DryRunOrigin

    return [o if isinstance(o, DryRunOrigin) else DryRunOrigin(o) for o in origins]


def list_all(origin: Origin, same_keys: Mapping[str, str] | None = None) -> dict[str, RemoteObject]:
    """The whole prefix as {key: object}: one request per 1,000 keys on S3. `same_keys`: the
    caller's own strs for keys it holds (a build's, each mapped to itself), which the listing
    uses instead of a copy of each (11 MB at 100,000 files)."""
    if same_keys is None:
        return {obj.key: obj for obj in origin.list()}
    listing = {}
    for obj in origin.list():
        key = same_keys.get(obj.key)
        if key is not None:
            obj = RemoteObject(key, obj.size, obj.etag)
        listing[obj.key] = obj
    return listing
