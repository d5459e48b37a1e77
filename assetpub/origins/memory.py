"""An origin in a dict, for fast tests: S3-like request counts, ETags and failure injection."""

from __future__ import annotations

import builtins
import hashlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from assetpub.errors import AlreadyExistsError, OriginError, PreconditionFailedError
from assetpub.origins.base import (
    ObjectHeaders,
    ObjectInfo,
    OriginStats,
    RemoteObject,
    VersionedBytes,
)
from assetpub.origins.checks import check_key, check_list_prefix, check_write_conditions

# S3's page size for ListObjectsV2 and batch size for DeleteObjects, so request counts match.
PAGE_SIZE = 1000

FailurePredicate = Callable[[str, str], bool]


class MemoryOrigin:
    """Objects kept in `objects` (bytes) and `headers` (ObjectHeaders) for tests to inspect.

    `fail(operation, key)` is asked before each write ("put", "copy", "delete"); when it returns
    True the write raises OriginError instead, e.g. to fail an upload phase half way. Stats count
    like S3: one "list" per 1,000 keys listed, one "delete" per 1,000 keys deleted, one per other
    call. The version token (read(), if_match) is the MD5 hex of the bytes, like the listing ETag.
    """

    def __init__(
        self, name: str = "mem", *, fail: FailurePredicate | None = None, page_size: int = PAGE_SIZE
    ) -> None:
        self.url = f"memory://{name}"
        self.stats = OriginStats()
        self.service = "memory"
        self.keeps_headers = True
        self.objects: dict[str, bytes] = {}
        self.headers: dict[str, ObjectHeaders] = {}
        self.fail = fail
        self.page_size = page_size
        # Uploads run from a thread pool; the lock keeps stats and conditional writes consistent.
        self._lock = threading.Lock()

    def check(self) -> None:
        pass

    def list(self, prefix: str = "") -> Iterator[RemoteObject]:
        check_list_prefix(prefix)
        return self._list(prefix)

    def _list(self, prefix: str) -> Iterator[RemoteObject]:
        with self._lock:
            keys = sorted(key for key in self.objects if key.startswith(prefix))
        # S3 answers an empty listing with one request too.
        for start in range(0, max(len(keys), 1), self.page_size):
            self._count("list")
            for key in keys[start : start + self.page_size]:
                data = self.objects.get(key)
                if data is not None:
                    yield RemoteObject(key, len(data), _etag(data))

    def sha256(self, key: str) -> str | None:
        info = self.head(key)
        return info.sha256 if info else None

    def head(self, key: str) -> ObjectInfo | None:
        check_key(key)
        with self._lock:
            self.stats.count("head")
            data, headers = self.objects.get(key), self.headers.get(key)
        if data is None:
            return None
        if headers is None:  # seeded straight into `objects` by a test
            return ObjectInfo(key, len(data), None, None, None)
        return ObjectInfo.written(key, len(data), headers)

    def get(self, key: str) -> bytes | None:
        found = self.read(key)
        return found.data if found else None

    def get_to(self, key: str, out: BinaryIO) -> bool:
        data = self.get(key)
        if data is None:
            return False
        out.write(data)
        return True

    def read(self, key: str) -> VersionedBytes | None:
        check_key(key)
        self._count("get")
        data = self.objects.get(key)
        return VersionedBytes(data, _etag(data)) if data is not None else None

    def put_file(
        self, key: str, path: Path, headers: ObjectHeaders, *, if_absent: bool = False
    ) -> None:
        self.put_bytes(key, path.read_bytes(), headers, if_absent=if_absent)

    def put_bytes(
        self,
        key: str,
        data: bytes,
        headers: ObjectHeaders,
        *,
        if_absent: bool = False,
        if_match: str | None = None,
    ) -> None:
        check_key(key)
        check_write_conditions(if_absent, if_match)
        self._maybe_fail("put", key)
        with self._lock:
            self.stats.count("put")
            current = self.objects.get(key)
            if if_absent and current is not None:
                raise AlreadyExistsError(key)
            if if_match is not None and (current is None or _etag(current) != if_match):
                raise PreconditionFailedError(key)
            self.objects[key] = bytes(data)
            self.headers[key] = headers

    def copy(self, source_key: str, key: str, headers: ObjectHeaders) -> str | None:
        check_key(source_key)
        check_key(key)
        self._maybe_fail("copy", key)
        with self._lock:
            self.stats.count("copy")
            data = self.objects.get(source_key)
            if data is None:
                raise OriginError(f"cannot copy {source_key} to {key}: {source_key} does not exist")
            self.objects[key] = data
            self.headers[key] = headers
        return None  # memory keeps no ETags

    def supports_conditional_writes(self) -> bool:
        return True

    def delete(self, keys: builtins.list[str]) -> None:
        for key in keys:
            check_key(key)
        for start in range(0, len(keys), self.page_size):
            self._count("delete")
            for key in keys[start : start + self.page_size]:
                self._maybe_fail("delete", key)
                with self._lock:
                    self.objects.pop(key, None)
                    self.headers.pop(key, None)

    def _count(self, operation: str) -> None:
        with self._lock:
            self.stats.count(operation)

    def _maybe_fail(self, operation: str, key: str) -> None:
        if self.fail is not None and self.fail(operation, key):
            raise OriginError(f"injected failure: {operation} {key}")


def _etag(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


_shared: dict[str, MemoryOrigin] = {}
_shared_lock = threading.Lock()


def shared_memory_origin(name: str) -> MemoryOrigin:
    """The process-wide origin for memory://name: every open of one name sees the same objects,
    so a test can publish through the CLI and then inspect what arrived."""
    with _shared_lock:
        return _shared.setdefault(name, MemoryOrigin(name))
