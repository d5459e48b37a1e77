"""The one dry-run convention: a command runs its real code path against this wrapper, which
reads through to the origin and keeps every write in an overlay instead of performing it.

Because later reads see the overlay, a dry run goes exactly where the real run would: a
publish commits its release to the state (in the overlay) and the switch that follows sees it;
a rollback restores, then converges on the state it just activated; a GC takes its lease,
deletes in batches and releases the lease. The origin stays byte-for-byte unchanged, and
`writes` lists what the real run would have written, in order.
"""

from __future__ import annotations

import builtins
import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from assetpub.errors import AlreadyExistsError, OriginError, PreconditionFailedError
from assetpub.origins.base import ObjectHeaders, ObjectInfo, Origin, RemoteObject, VersionedBytes
from assetpub.origins.checks import check_key, check_list_prefix, check_write_conditions


@dataclass(frozen=True)
class _Pending:
    """An object as the dry run left it. Bytes are kept only for put_bytes (small: records,
    state, entry files); a put_file keeps the path of the staged file, read only if asked."""

    size: int
    headers: ObjectHeaders | None
    data: bytes | None = None
    path: Path | None = None
    inner_key: str | None = None  # a copy of an object the dry run did not write

    def etag(self) -> str | None:
        # Like S3's single-part ETag where the bytes are at hand; unknown for a staged file,
        # which callers then settle by its digest (as on a folder origin).
        return hashlib.md5(self.data).hexdigest() if self.data is not None else None


class DryRunOrigin:
    """Reads go to `inner` unless the dry run wrote the key; writes go to an overlay and are
    recorded in `writes` as (operation, key).

    Keys and write conditions are checked as a real origin checks them: a bad key raises
    ValueError, a create-only write over an existing object AlreadyExistsError, a stale
    if_match PreconditionFailedError, a copy of a missing object OriginError.
    supports_conditional_writes() is True without asking `inner`: probing an S3 origin writes.
    """

    def __init__(self, inner: Origin) -> None:
        self.inner = inner
        self.url = inner.url
        self.stats = inner.stats
        self.service = inner.service
        self.keeps_headers = inner.keeps_headers
        self.writes: list[tuple[str, str]] = []
        self._overlay: dict[str, _Pending | None] = {}  # None: deleted by the dry run
        self._lock = threading.Lock()  # uploads run from a thread pool

    def check(self) -> None:
        self.inner.check()

    def list(self, prefix: str = "") -> Iterator[RemoteObject]:
        check_list_prefix(prefix)
        with self._lock:
            overlay = {k: v for k, v in self._overlay.items() if k.startswith(prefix)}
        for obj in self.inner.list(prefix):
            if obj.key not in overlay:
                yield obj
        for key in sorted(overlay):
            pending = overlay[key]
            if pending is not None:
                yield RemoteObject(key, pending.size, pending.etag())

    def sha256(self, key: str) -> str | None:
        info = self.head(key)
        return info.sha256 if info else None

    def get(self, key: str) -> bytes | None:
        found = self.read(key)
        return found.data if found else None

    def get_to(self, key: str, out: BinaryIO) -> bool:
        check_key(key)
        found, pending = self._pending(key)
        if not found:
            return self.inner.get_to(key, out)
        if pending is None:
            return False
        out.write(self._bytes_of(pending))
        return True

    def read(self, key: str) -> VersionedBytes | None:
        check_key(key)
        found, pending = self._pending(key)
        if not found:
            return self.inner.read(key)
        if pending is None:
            return None
        data = self._bytes_of(pending)
        return VersionedBytes(data, hashlib.md5(data).hexdigest())

    def head(self, key: str) -> ObjectInfo | None:
        check_key(key)
        found, pending = self._pending(key)
        if not found:
            return self.inner.head(key)
        if pending is None:
            return None
        headers = pending.headers
        if headers is None:
            return ObjectInfo(key, pending.size, None, None, None)
        return ObjectInfo.written(key, pending.size, headers)

    def put_file(
        self, key: str, path: Path, headers: ObjectHeaders, *, if_absent: bool = False
    ) -> None:
        check_key(key)
        if if_absent and self.head(key) is not None:
            raise AlreadyExistsError(key)
        self._write("put", key, _Pending(path.stat().st_size, headers, path=path))

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
        if if_absent and self.head(key) is not None:
            raise AlreadyExistsError(key)
        if if_match is not None:
            current = self.read(key)
            if current is None or current.etag != if_match:
                raise PreconditionFailedError(key)
        self._write("put", key, _Pending(len(data), headers, data=bytes(data)))

    def copy(self, source_key: str, key: str, headers: ObjectHeaders) -> str | None:
        check_key(source_key)
        check_key(key)
        found, pending = self._pending(source_key)
        if found and pending is not None:
            copied = _Pending(pending.size, headers, pending.data, pending.path, pending.inner_key)
        else:
            source = None if found else self.inner.head(source_key)
            if source is None:
                raise OriginError(f"cannot copy {source_key} to {key}: {source_key} does not exist")
            copied = _Pending(source.size, headers, inner_key=source_key)
        self._write("copy", key, copied)
        return None  # no ETag: the real copy's is unknown until it happens

    def supports_conditional_writes(self) -> bool:
        return True

    def delete(self, keys: builtins.list[str]) -> None:
        checked = [check_key(key) for key in keys]
        with self._lock:
            for key in checked:
                self._overlay[key] = None
                self.writes.append(("delete", key))

    def _write(self, operation: str, key: str, pending: _Pending) -> None:
        with self._lock:
            self._overlay[key] = pending
            self.writes.append((operation, key))

    def _pending(self, key: str) -> tuple[bool, _Pending | None]:
        with self._lock:
            return key in self._overlay, self._overlay.get(key)

    def _bytes_of(self, pending: _Pending) -> bytes:
        if pending.data is not None:
            return pending.data
        if pending.path is not None:
            return pending.path.read_bytes()
        assert pending.inner_key is not None
        data = self.inner.get(pending.inner_key)
        if data is None:
            raise OriginError(f"{self.url}: {pending.inner_key} vanished during the dry run")
        return data
