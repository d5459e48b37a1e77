"""S3 and S3-compatible services (R2, MinIO, GCS interop) through boto3."""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import logging
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO

import boto3
import boto3.exceptions
import botocore.exceptions as boto_errors
import botocore.session
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

from assetpub.errors import AlreadyExistsError, OriginError, PreconditionFailedError
from assetpub.keys import PROBE_PREFIX
from assetpub.origins.base import (
    ObjectHeaders,
    ObjectInfo,
    OriginStats,
    RemoteObject,
    VersionedBytes,
)
from assetpub.origins.checks import check_key, check_list_prefix, check_write_conditions

if TYPE_CHECKING:
    from assetpub.origins import OriginSpec

log = logging.getLogger(__name__)

SHA256_METADATA = "assetpub-sha256"  # sent as x-amz-meta-assetpub-sha256
DECODED_SHA256_METADATA = "assetpub-decoded-sha256"  # ObjectHeaders.decoded_sha256
HEADERS_METADATA = "assetpub-headers"  # ObjectHeaders.fingerprint, x-amz-meta-assetpub-headers
BATCH_SIZE = 1000  # DeleteObjects' limit
_CONFLICT_ATTEMPTS = 4
_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})
_PRECONDITION_FAILED = frozenset({"412", "PreconditionFailed"})
_COPY_LIMIT = 5 * 1024**3  # CopyObject's largest source; beyond it S3 needs a multipart copy
_COPY_PART = 512 * 1024**2  # a multipart copy's part: 10 to 10,000 parts for 5 GiB to 5 TiB
_BAD_CREDENTIALS = frozenset(
    {"InvalidAccessKeyId", "SignatureDoesNotMatch", "InvalidToken", "ExpiredToken"}
)
# Stats use the same operation names as the memory and folder origins, so tests and benchmarks
# compare origins directly; a multipart upload counts as several "put" requests.
OPERATION_NAMES = {
    "ListObjectsV2": "list",
    "HeadObject": "head",
    "GetObject": "get",
    "PutObject": "put",
    "CreateMultipartUpload": "put",
    "UploadPart": "put",
    "CompleteMultipartUpload": "put",
    "AbortMultipartUpload": "put",
    "CopyObject": "copy",
    "UploadPartCopy": "copy",
    "DeleteObjects": "delete",
    "DeleteObject": "delete",
}


# Parts of one multipart upload sent at once.
_PARTS_AT_ONCE = 4
_STREAM_CHUNK = 1024 * 1024  # get_to writes what it receives in pieces this large


class S3Origin:
    """One bucket prefix. Keys are relative to the prefix; nothing outside it is read or written.

    `check()` sends one ListObjectsV2 (MaxKeys=1) under the prefix rather than HeadBucket: it
    works with credentials scoped to the prefix and proves listing, which planning needs. It does
    not probe write access: a probe object would break "a dry run changes nothing".
    """

    def __init__(self, bucket: str, prefix: str, spec: OriginSpec) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.url = f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}"
        self.stats = OriginStats()
        self._spec = spec
        self._stats_lock = threading.Lock()  # requests are sent from the uploader's threads
        self._batch_delete = True  # False once the endpoint refuses DeleteObjects (GCS interop)
        self._conditional: bool | None = None  # supports_conditional_writes(), once probed
        self._probe_lock = threading.Lock()
        self._endpoint = spec.endpoint_url or "the S3 endpoint"
        with self._errors():
            self._client = self._make_client()
        self._endpoint = self._client.meta.endpoint_url
        # The state remembers per service whether it enforces conditional writes: the same
        # bucket name behind another endpoint may be another implementation.
        self.service: str = self._endpoint
        self.keeps_headers = True
        self._client.meta.events.register("before-send.s3", self._count_request)

    def _make_client(self) -> Any:
        spec = self._spec
        core = botocore.session.get_session()
        # assetpub reads no timestamp from S3; parsing each listed object's LastModified with
        # dateutil was a quarter of a 2,000-key listing's client time. (The aws CLI does the
        # same for its own output.)
        core.get_component("response_parser_factory").set_parser_defaults(
            timestamp_parser=_timestamp_as_text
        )
        session = boto3.session.Session(
            botocore_session=core, profile_name=spec.profile, region_name=spec.region
        )
        options: dict[str, Any] = {
            "request_checksum_calculation": spec.checksums,
            "response_checksum_validation": spec.checksums,
            # total_max_attempts counts the first attempt; botocore's "max_attempts" would not
            # (5 meant 6 requests).
            "retries": {"mode": "standard", "total_max_attempts": spec.max_attempts},
            "max_pool_connections": spec.max_connections,
            "connect_timeout": spec.connect_timeout,
            "read_timeout": spec.read_timeout,
        }
        if spec.addressing_style:
            options["s3"] = {"addressing_style": spec.addressing_style}
        # endpoint_url=None lets boto3 apply AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL itself.
        return session.client("s3", config=Config(**options), endpoint_url=spec.endpoint_url)

    def _count_request(self, event_name: str, **_: Any) -> None:
        # before-send fires once per HTTP attempt, retries included; returning None lets the
        # request go out.
        operation = event_name.rsplit(".", 1)[-1]
        with self._stats_lock:
            self.stats.count(OPERATION_NAMES.get(operation, operation))

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def check(self) -> None:
        with self._errors():
            self._client.list_objects_v2(Bucket=self.bucket, Prefix=self._key_prefix(), MaxKeys=1)

    def list(self, prefix: str = "") -> Iterator[RemoteObject]:
        check_list_prefix(prefix)
        return self._list(self._key_prefix() + prefix)

    def _list(self, full_prefix: str) -> Iterator[RemoteObject]:
        strip = len(self._key_prefix())
        paginator = self._client.get_paginator("list_objects_v2")
        with self._errors():
            for page in paginator.paginate(Bucket=self.bucket, Prefix=full_prefix):
                for item in page.get("Contents", []):
                    key = item["Key"][strip:]
                    try:
                        check_key(key)
                    except ValueError:  # e.g. a console's "folder/" marker: not ours to touch
                        log.debug("skipping %s/%s: not a valid key", self.url, key)
                        continue
                    yield RemoteObject(key, item["Size"], item.get("ETag", "").strip('"') or None)

    def sha256(self, key: str) -> str | None:
        info = self.head(key)
        return info.sha256 if info else None

    def head(self, key: str) -> ObjectInfo | None:
        full_key = self._key(key)
        with self._errors(key):
            try:
                response = self._client.head_object(Bucket=self.bucket, Key=full_key)
            except boto_errors.ClientError as exc:
                if _code(exc) in _MISSING:
                    return None
                raise
        metadata = response.get("Metadata", {})
        return ObjectInfo(
            key,
            response["ContentLength"],
            response.get("ContentType"),
            response.get("CacheControl"),
            metadata.get(SHA256_METADATA),
            metadata.get(HEADERS_METADATA),
            response.get("ContentEncoding") or None,
            metadata.get(DECODED_SHA256_METADATA),
        )

    def get(self, key: str) -> bytes | None:
        found = self.read(key)
        return found.data if found else None

    def get_to(self, key: str, out: BinaryIO) -> bool:
        with self._errors(key):
            try:
                response = self._client.get_object(Bucket=self.bucket, Key=self._key(key))
            except boto_errors.ClientError as exc:
                if _code(exc) in _MISSING:
                    return False
                raise
            for chunk in response["Body"].iter_chunks(_STREAM_CHUNK):
                out.write(chunk)
        return True

    def read(self, key: str) -> VersionedBytes | None:
        full_key = self._key(key)
        with self._errors(key):
            try:
                response = self._client.get_object(Bucket=self.bucket, Key=full_key)
            except boto_errors.ClientError as exc:
                if _code(exc) in _MISSING:
                    return None
                raise
            data: bytes = response["Body"].read()
        return VersionedBytes(data, response.get("ETag", "").strip('"'))

    def put_file(
        self, key: str, path: Path, headers: ObjectHeaders, *, if_absent: bool = False
    ) -> None:
        full_key = self._key(key)
        if if_absent:
            # Conditional, so one PutObject (up to 5 GB) whatever the threshold: multipart
            # would check the condition only when the upload completes.
            self._put_object(key, lambda: path.open("rb"), headers, if_absent=True)
            return
        with self._errors(key):
            size = path.stat().st_size
            if size < self._spec.multipart_threshold:
                # One PutObject streamed from the file: s3transfer's manager, futures and
                # chunking cost more client CPU than the request itself for a small file.
                with path.open("rb") as body:
                    self._client.put_object(
                        Bucket=self.bucket, Key=full_key, Body=body, **self._headers(headers)
                    )
                return
        # A large file's parts go up a few at a time (one part at a time made a 1 GiB upload
        # take twice aws's time). Few files are this large, so the connection pool, sized for
        # the caller's thread pool, stays ahead of the threads this adds.
        transfer = TransferConfig(
            multipart_threshold=self._spec.multipart_threshold,
            multipart_chunksize=self._spec.multipart_threshold,
            use_threads=True,
            max_concurrency=_PARTS_AT_ONCE,
        )
        with self._errors(key):
            self._client.upload_file(
                str(path), self.bucket, full_key, ExtraArgs=self._headers(headers), Config=transfer
            )

    def put_bytes(
        self,
        key: str,
        data: bytes,
        headers: ObjectHeaders,
        *,
        if_absent: bool = False,
        if_match: str | None = None,
    ) -> None:
        check_write_conditions(if_absent, if_match)
        body = contextlib.nullcontext(data)
        self._put_object(key, lambda: body, headers, if_absent=if_absent, if_match=if_match)

    def _put_object(
        self,
        key: str,
        body: Callable[[], contextlib.AbstractContextManager[bytes | IO[bytes]]],
        headers: ObjectHeaders,
        *,
        if_absent: bool = False,
        if_match: str | None = None,
    ) -> None:
        """One PutObject, conditional if asked; `body` gives the bytes or an open file afresh
        for each attempt (a retried file body must start at its beginning)."""
        request: dict[str, Any] = {"Bucket": self.bucket, "Key": self._key(key)}
        request.update(self._headers(headers))
        if if_absent:
            request["IfNoneMatch"] = "*"
        if if_match is not None:
            request["IfMatch"] = '"' + if_match.strip('"') + '"'  # ETags are quoted strings

        def put() -> None:
            with body() as opened:
                self._client.put_object(**request, Body=opened)

        with self._errors(key):
            try:
                _retry_conflicts(put)
            except boto_errors.ClientError as exc:
                code = _code(exc)
                if if_absent and code in _PRECONDITION_FAILED:
                    raise AlreadyExistsError(key) from None
                # Some services answer If-Match on a missing key with 404 rather than 412.
                if if_match is not None and code in _PRECONDITION_FAILED | _MISSING:
                    raise PreconditionFailedError(key) from None
                raise

    def copy(self, source_key: str, key: str, headers: ObjectHeaders) -> str | None:
        source = {"Bucket": self.bucket, "Key": self._key(source_key)}
        request: dict[str, Any] = {"Bucket": self.bucket, "Key": self._key(key)}
        request.update(self._headers(headers), CopySource=source, MetadataDirective="REPLACE")
        with self._errors(key):
            try:
                response = self._client.copy_object(**request)
            except boto_errors.ClientError as exc:
                if _code(exc) in _MISSING:
                    raise OriginError(
                        f"cannot copy {source_key} to {key} on {self.url}: "
                        f"{source_key} does not exist"
                    ) from None
                if _code(exc) == "InvalidRequest" and "larger" in _message(exc):
                    self._multipart_copy(source_key, key, headers)
                    return None
                raise
        etag = response.get("CopyObjectResult", {}).get("ETag", "")
        return str(etag).strip('"') or None

    def _multipart_copy(self, source_key: str, key: str, headers: ObjectHeaders) -> None:
        """A source beyond CopyObject's 5 GiB: s3transfer's managed copy (a HEAD, then
        UploadPartCopy in parts; onto the source key itself too), headers replaced. Its ETag
        is a multipart one, no MD5, so none is returned."""
        transfer = TransferConfig(
            multipart_threshold=_COPY_LIMIT,
            multipart_chunksize=_COPY_PART,
            use_threads=True,
            max_concurrency=_PARTS_AT_ONCE,
        )
        source = {"Bucket": self.bucket, "Key": self._key(source_key)}
        extra = {**self._headers(headers), "MetadataDirective": "REPLACE"}
        with self._errors(key):
            try:
                self._client.copy(
                    source, self.bucket, self._key(key), ExtraArgs=extra, Config=transfer
                )
            except boto_errors.ClientError as exc:
                if _code(exc) in _MISSING:
                    raise OriginError(
                        f"cannot copy {source_key} to {key} on {self.url}: "
                        f"{source_key} does not exist"
                    ) from None
                raise

    def supports_conditional_writes(self) -> bool:
        """Probe once per origin object whether the endpoint enforces both conditions that
        the state's compare-and-swap relies on: a create-only write onto an existing probe
        object must be refused (If-None-Match: *), and so must a write naming a wrong ETag
        (If-Match). At most 4 requests: PUT, PUT, PUT, DeleteObjects. The state remembers the
        answer per endpoint (history/store.py), so later commands do not ask again."""
        with self._probe_lock:
            if self._conditional is None:
                self._conditional = self._probe()
            return self._conditional

    def _probe(self) -> bool:
        key = f"{PROBE_PREFIX}{secrets.token_hex(8)}"
        headers = ObjectHeaders("application/octet-stream", "no-store", _EMPTY_SHA256)
        self.put_bytes(key, b"", headers, if_absent=True)
        try:
            ignored = self._ignored_condition(key, headers)
        finally:
            self.delete([key])
        if ignored:
            # Info, not a warning: the state store warns once, where it falls back.
            log.info("%s (%s) ignores %s", self.url, self._endpoint, ignored)
            return False
        return True

    def _ignored_condition(self, key: str, headers: ObjectHeaders) -> str | None:
        """The first condition the endpoint ignores on the existing `key`, or None."""
        try:
            self.put_bytes(key, b"", headers, if_absent=True)
            return "If-None-Match"
        except AlreadyExistsError:
            pass
        # A service that honours If-None-Match may still ignore If-Match, and then two writers
        # of the state would silently overwrite each other. No real ETag is all zeros.
        try:
            self.put_bytes(key, b"", headers, if_match="0" * 32)
            return "If-Match"
        except PreconditionFailedError:
            return None

    def delete(self, keys: builtins.list[str]) -> None:
        full_keys = [self._key(key) for key in keys]
        for start in range(0, len(full_keys), BATCH_SIZE):
            batch = full_keys[start : start + BATCH_SIZE]
            if self._batch_delete:
                self._delete_batch(batch)
            else:
                self._delete_one_by_one(batch)

    def _delete_batch(self, full_keys: builtins.list[str]) -> None:
        with self._errors():
            try:
                response = self._client.delete_objects(
                    Bucket=self.bucket,
                    Delete={"Objects": [{"Key": key} for key in full_keys], "Quiet": True},
                )
            except boto_errors.ClientError as exc:
                if _code(exc) != "NotImplemented":
                    raise
                log.info("%s does not support DeleteObjects: deleting one key at a time", self.url)
                self._batch_delete = False
                self._delete_one_by_one(full_keys)
                return
        errors = response.get("Errors", [])
        if errors:
            first = errors[0]
            raise OriginError(
                f"could not delete {len(errors)} objects from {self.url}, e.g. {first.get('Key')}: "
                f"{first.get('Code')} {first.get('Message', '')}".rstrip()
            )

    def _delete_one_by_one(self, full_keys: builtins.list[str]) -> None:
        with self._errors():
            for key in full_keys:
                self._client.delete_object(Bucket=self.bucket, Key=key)

    def _key_prefix(self) -> str:
        """The origin prefix as a key prefix: 'site/' (so 'site2/x' stays out) or ''."""
        return f"{self.prefix}/" if self.prefix else ""

    def _headers(self, headers: ObjectHeaders) -> dict[str, Any]:
        extra: dict[str, Any] = {
            "ContentType": headers.content_type,
            "CacheControl": headers.cache_control,
            "Metadata": {
                SHA256_METADATA: headers.sha256,
                HEADERS_METADATA: headers.fingerprint,
            },
        }
        # S3 keeps no Vary header: docs/compression.md says why none is needed.
        if headers.content_encoding is not None:
            extra["ContentEncoding"] = headers.content_encoding
        if headers.decoded_sha256 is not None:
            extra["Metadata"][DECODED_SHA256_METADATA] = headers.decoded_sha256
        if self._spec.acl:
            extra["ACL"] = self._spec.acl
        return extra

    @contextlib.contextmanager
    def _errors(self, key: str | None = None) -> Iterator[None]:
        """Turn botocore's exceptions into one OriginError line that names the origin and says
        what to do. Messages never include credentials."""
        try:
            yield
        except boto3.exceptions.S3UploadFailedError as exc:
            # upload_file wraps the ClientError it got; unwrap it to say what went wrong.
            cause = exc.__cause__ or exc.__context__
            if isinstance(cause, boto_errors.ClientError):
                raise self._client_error(cause, key) from exc
            raise OriginError(f"upload to {self.url} failed: {exc}") from exc
        except boto_errors.ClientError as exc:
            raise self._client_error(exc, key) from exc
        except (boto_errors.NoCredentialsError, boto_errors.PartialCredentialsError) as exc:
            raise OriginError(
                f"no AWS credentials found for {self.url}: set AWS_ACCESS_KEY_ID and "
                "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE"
            ) from exc
        except boto_errors.ProfileNotFound as exc:
            raise OriginError(
                f"AWS profile {self._spec.profile!r} not found: check the profile setting, "
                "AWS_PROFILE and ~/.aws/config"
            ) from exc
        except boto_errors.ReadTimeoutError as exc:
            raise OriginError(
                f"{self._endpoint} accepted the connection but did not answer within "
                f"{self._spec.read_timeout:g} s ({self._spec.max_attempts} attempts) for "
                f"{self.url}: check the endpoint, or raise the origin's read_timeout"
            ) from exc
        except (boto_errors.ConnectionError, boto_errors.HTTPClientError) as exc:
            raise OriginError(
                f"cannot reach endpoint {self._endpoint} for {self.url} ({type(exc).__name__}): "
                "check endpoint_url / AWS_ENDPOINT_URL and the network"
            ) from exc

    def _client_error(self, exc: boto_errors.ClientError, key: str | None) -> OriginError:
        code = _code(exc)
        operation = exc.operation_name
        where = f"{self.url} ({operation} {key})" if key else f"{self.url} ({operation})"
        if code == "NoSuchBucket":
            return OriginError(
                f"bucket {self.bucket!r} does not exist ({self.url}): create it or fix the URL"
            )
        if code in ("AccessDenied", "403", "AllAccessDisabled"):
            return OriginError(
                f"access denied to {where}: the credentials need list, get, put and delete "
                "permissions on this bucket prefix"
            )
        if code in _BAD_CREDENTIALS:
            return OriginError(
                f"credentials rejected by {self._endpoint} ({code}) for {self.url}: check "
                "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE and the endpoint"
            )
        if code in ("NotImplemented", "501"):
            return OriginError(f"{self._endpoint} does not support {operation} ({self.url})")
        return OriginError(f"{operation} failed on {where}: {code} {_message(exc)}".rstrip())


_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _timestamp_as_text(value: str) -> str:
    return value


def _retry_conflicts(request: Callable[[], object]) -> None:
    """Send a conditional request, retrying with backoff while S3 answers 409
    ConditionalRequestConflict (another conditional write on the key was in flight)."""
    for attempt in range(1, _CONFLICT_ATTEMPTS + 1):
        try:
            request()
            return
        except boto_errors.ClientError as exc:
            if _code(exc) != "ConditionalRequestConflict" or attempt == _CONFLICT_ATTEMPTS:
                raise
            time.sleep(0.05 * 2**attempt)


def _code(exc: boto_errors.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _message(exc: boto_errors.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Message") or "")
