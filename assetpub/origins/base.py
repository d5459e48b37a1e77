"""The interface every origin implements: a flat key space under one prefix.

Keys are always relative to the origin's prefix, '/'-separated, never starting with '/'.
An origin never reads or writes outside its prefix.
"""

from __future__ import annotations

import builtins
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol, cast


@dataclass(frozen=True, slots=True)
class RemoteObject:
    """What one LIST entry tells about an object, without a request per object."""

    key: str
    size: int
    # S3: the ETag without quotes. Only a plain MD5 for single-part, unencrypted uploads, so it
    # is a hint, never proof of content. None where the origin has no ETag (folder origin).
    etag: str | None = None

    def holds(self, size: int, md5: str) -> bool | None:
        """Whether this listed object holds bytes of this size and MD5, as far as the listing
        can tell: False when the size differs, True when the ETag is that MD5, None when only
        the object's stored digest can say (multipart or encrypted ETag, no ETag, no MD5)."""
        if self.size != size:
            return False
        if md5 and self.etag is not None and self.etag.lower() == md5.lower():
            return True
        return None


@dataclass(frozen=True, slots=True)
class ObjectHeaders:
    """The headers and metadata assetpub sets on every object it writes."""

    content_type: str
    cache_control: str
    # sha256 hex of the bytes, kept in object metadata (x-amz-meta-assetpub-sha256): unlike the
    # ETag it survives multipart uploads.
    sha256: str
    # "gzip" or "br" for bytes stored encoded (docs/compression.md); they then also get
    # Vary: Accept-Encoding where the backend can set it.
    content_encoding: str | None = None
    # With an encoding: the sha256 of the decoded bytes (x-amz-meta-assetpub-decoded-sha256),
    # which tells a re-encoding of the same content from other bytes under an immutable name.
    decoded_sha256: str | None = None

    @property
    def fingerprint(self) -> str:
        """What the headers assetpub sets amount to, kept in metadata beside the digest
        (x-amz-meta-assetpub-headers) on every put and copy: the object's own word for which
        headers it was given, whatever a service makes of their spelling."""
        return headers_fingerprint(self.content_type, self.cache_control, self.content_encoding)


def headers_fingerprint(
    content_type: str, cache_control: str, content_encoding: str | None = None
) -> str:
    """16 hex digits of the SHA-256 of the headers' canonical JSON: short, and stable across
    versions (a new header joins the JSON only when set, so old fingerprints keep their value)."""
    headers = {"cache-control": cache_control, "content-type": content_type}
    if content_encoding is not None:
        headers["content-encoding"] = content_encoding
    canonical = json.dumps(headers, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class VersionedBytes:
    """An object's bytes with the version token a compare-and-swap write must name."""

    data: bytes
    # Opaque: the S3 ETag (quotes stripped); a content digest on other backends.
    etag: str


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What a HEAD tells: enough to check an object's headers without reading it."""

    key: str
    size: int
    content_type: str | None  # None where the backend stores no headers (folder)
    cache_control: str | None
    sha256: str | None
    # The fingerprint assetpub stored with the headers (ObjectHeaders.fingerprint); None when
    # the object has none (written by an older assetpub, or a backend without metadata).
    headers_fingerprint: str | None = None
    content_encoding: str | None = None  # as the backend reports it (None: none, or unknown)
    decoded_sha256: str | None = None  # ObjectHeaders.decoded_sha256, as stored

    @classmethod
    def written(cls, key: str, size: int, headers: ObjectHeaders) -> ObjectInfo:
        """What a HEAD tells of an object written with `headers` (the test double and the
        dry run's overlay, which keep the headers themselves)."""
        return cls(
            key,
            size,
            headers.content_type,
            headers.cache_control,
            headers.sha256,
            headers.fingerprint,
            headers.content_encoding,
            headers.decoded_sha256,
        )

    @property
    def content_sha256(self) -> str | None:
        """The digest of the content the object stands for, decoded (None: unknown)."""
        return self.decoded_sha256 or self.sha256

    def has_headers(self, headers: ObjectHeaders) -> bool | None:
        """Whether the object carries `headers`: by the stored fingerprint, else by the
        headers the backend reports; None when it tells neither."""
        if self.headers_fingerprint is not None:
            return self.headers_fingerprint == headers.fingerprint
        if self.content_type is None or self.cache_control is None:
            return None
        return (self.content_type, self.cache_control, self.content_encoding) == (
            headers.content_type,
            headers.cache_control,
            headers.content_encoding,
        )


@dataclass
class OriginStats:
    """Requests one origin made; tests and benchmarks assert on these."""

    requests: int = 0
    by_operation: dict[str, int] = field(default_factory=dict)

    def count(self, operation: str) -> None:
        self.requests += 1
        self.by_operation[operation] = self.by_operation.get(operation, 0) + 1


def request_counter(*origins: Origin) -> Callable[[], int]:
    """How many requests `origins` have made since this call: the one way a command reports
    what it cost."""
    before = sum(o.stats.requests for o in origins)
    return lambda: sum(o.stats.requests for o in origins) - before


class Origin(Protocol):
    """A place a build is published to: an S3 bucket prefix, a local folder, memory."""

    url: str
    stats: OriginStats
    # What answers this origin's requests: an S3 origin's endpoint URL, else the backend's name.
    # The state remembers per service whether it enforces conditional writes.
    service: str
    # Whether objects carry the headers they are written with. A folder's do not (its web
    # server decides them), so no publish ever needs to update an object's headers there.
    keeps_headers: bool

    def check(self) -> None:
        """Fail with OriginError now if the origin cannot be reached or written (bucket missing,
        credentials rejected, endpoint down), before anything is uploaded anywhere."""

    def list(self, prefix: str = "") -> Iterator[RemoteObject]:
        """Every object whose key starts with `prefix` (one request per 1,000 keys on S3), in
        no promised order (SeaweedFS lists folder by folder): callers index it by key."""

    def sha256(self, key: str) -> str | None:
        """The content digest of `key` (metadata on S3, hashing the file on a folder); None when
        the object is missing or carries no digest."""

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when missing."""

    def get_to(self, key: str, out: BinaryIO) -> bool:
        """Write the object's bytes to `out` as they arrive, never whole in memory (a release
        record of 100,000 files is 40 MB); False when missing."""

    def put_file(
        self, key: str, path: Path, headers: ObjectHeaders, *, if_absent: bool = False
    ) -> None:
        """Upload a file, streaming it (multipart above the threshold). Atomic: readers see the
        old object or the new one, never a part. With if_absent, raise AlreadyExistsError
        instead of replacing an existing object, as put_bytes does (one PUT, whatever the size:
        a release record of 100,000 files, 40 MB, is written from a file, not from memory)."""

    def put_bytes(
        self,
        key: str,
        data: bytes,
        headers: ObjectHeaders,
        *,
        if_absent: bool = False,
        if_match: str | None = None,
    ) -> None:
        """Write small content atomically. With if_absent, raise AlreadyExistsError instead of
        replacing an existing object (S3: If-None-Match: *). With if_match, replace only if the
        object's current version token equals it (S3: If-Match), else raise
        PreconditionFailedError: the compare-and-swap that state updates are built on."""

    def read(self, key: str) -> VersionedBytes | None:
        """The object's bytes with its version token for a later if_match write; None when
        missing."""

    def head(self, key: str) -> ObjectInfo | None:
        """Size, headers and stored digest of one object (one request); None when missing."""

    def copy(self, source_key: str, key: str, headers: ObjectHeaders) -> str | None:
        """Copy an object within the origin, replacing headers, without the bytes passing
        through this machine where the backend allows (S3 CopyObject). Atomic like a put.
        With source_key == key it changes an object's headers and keeps its bytes. Returns
        the ETag the service reports for the new object (None without ETags)."""

    def supports_conditional_writes(self) -> bool:
        """Whether if_absent / if_match are enforced. S3-compatible services vary, so the S3
        backend probes (both conditions, on a probe object under _assetpub/) once per origin
        object, and the state store remembers the answer for `service`."""

    def delete(self, keys: builtins.list[str]) -> None:
        """Delete keys (batched: up to 1,000 per request on S3). Missing keys are not an error."""


class _Hashing:
    """A writable (get_to's `out`) that hashes what goes through it and keeps none of it."""

    def __init__(self) -> None:
        self.sha256 = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> int:
        self.sha256.update(data)
        self.size += len(data)
        return len(data)


def read_digest(origin: Origin, key: str) -> tuple[int, str] | None:
    """The size and SHA-256 of the bytes `key` holds now, read as they stream by (one GET,
    never the object whole in memory: asset-manifest.json is 10 MB at 100,000 files); None
    when it is missing."""
    hashing = _Hashing()
    if not origin.get_to(key, cast(BinaryIO, hashing)):
        return None
    return hashing.size, hashing.sha256.hexdigest()
