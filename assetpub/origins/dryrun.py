"""A wrapper that reads through and never writes, so a dry run takes the same code path as a
real publish and leaves the origin byte-for-byte unchanged."""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from pathlib import Path

from assetpub.origins.base import ObjectHeaders, ObjectInfo, Origin, RemoteObject, VersionedBytes
from assetpub.origins.checks import check_key, check_write_conditions


class DryRunOrigin:
    """Reads go to `inner`; writes are only recorded in `writes` as (operation, key).

    Keys and arguments are still validated, so a dry run fails on a bad key exactly where a real
    one would. A recorded write is not visible to later reads, and conditional writes never
    raise (no AlreadyExistsError, no PreconditionFailedError). supports_conditional_writes() is
    True without asking `inner`: probing an S3 origin would write, and a dry run never writes.
    """

    def __init__(self, inner: Origin) -> None:
        self.inner = inner
        self.url = inner.url
        self.stats = inner.stats
        self.writes: list[tuple[str, str]] = []

    def check(self) -> None:
        self.inner.check()

    def list(self, prefix: str = "") -> Iterator[RemoteObject]:
        return self.inner.list(prefix)

    def sha256(self, key: str) -> str | None:
        return self.inner.sha256(key)

    def get(self, key: str) -> bytes | None:
        return self.inner.get(key)

    def read(self, key: str) -> VersionedBytes | None:
        return self.inner.read(key)

    def head(self, key: str) -> ObjectInfo | None:
        return self.inner.head(key)

    def put_file(self, key: str, path: Path, headers: ObjectHeaders) -> None:
        self.writes.append(("put", check_key(key)))

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
        self.writes.append(("put", check_key(key)))

    def copy(self, source_key: str, key: str, headers: ObjectHeaders) -> None:
        check_key(source_key)
        self.writes.append(("copy", check_key(key)))

    def supports_conditional_writes(self) -> bool:
        return True

    def delete(self, keys: builtins.list[str]) -> None:
        checked = [check_key(key) for key in keys]
        self.writes.extend(("delete", key) for key in checked)
