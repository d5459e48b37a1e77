"""Health checks: `status` (what is live where, cheaply) and `verify` (is the live release
whole: entry files and asset-manifest.json as recorded, every object present with its headers;
with deep=True every object's bytes re-hashed).

verify costs one listing per 1,000 keys plus a GET and a HEAD per entry file (and per plain
file's headers), so it can run every minute; deep verification reads every object.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial

from assetpub.build.compress import decode
from assetpub.commands.parallel import run_parallel
from assetpub.errors import AssetpubError, InvalidRecordError, NewerFormatError
from assetpub.history.record import RecordedFile, Storage, load_record
from assetpub.history.state import State
from assetpub.history.store import StateStore
from assetpub.keys import ASSET_MANIFEST_KEY, RECORDS_PREFIX, STATE_KEY, blob_key
from assetpub.origins import list_all
from assetpub.origins.base import Origin, request_counter


@dataclass(frozen=True)
class Problem:
    key: str
    message: str


@dataclass
class OriginHealth:
    url: str
    live: str | None
    problems: list[Problem] = field(default_factory=list)
    checked: int = 0
    requests: int = 0

    @property
    def healthy(self) -> bool:
        return not self.problems


def _check_headers(origin: Origin, file: RecordedFile, *, digest: bool = True) -> list[Problem]:
    info = origin.head(file.key)
    if info is None:
        return [Problem(file.key, "missing")]
    # The same content in another encoding (compression turned on or off since): it carries
    # its own Content-Encoding, so it serves what the release published.
    if (
        file.may_be_reencoded
        and info.sha256 != file.sha256
        and info.content_sha256 == file.name_sha256
    ):
        return []
    problems = []
    if info.size != file.size:
        problems.append(Problem(file.key, f"has {info.size} bytes, expected {file.size}"))
    # A folder origin stores no headers: its web server sets them.
    if info.content_type is not None and info.content_type != file.content_type:
        problems.append(
            Problem(file.key, f"Content-Type {info.content_type!r}, expected {file.content_type!r}")
        )
    if info.cache_control is not None and info.cache_control != file.cache_control:
        problems.append(
            Problem(
                file.key, f"Cache-Control {info.cache_control!r}, expected {file.cache_control!r}"
            )
        )
    # An origin that keeps headers reports the encoding (none is None): compressed bytes
    # served without it, or plain bytes with it, are unreadable to a browser.
    if info.content_type is not None and info.content_encoding != file.content_encoding:
        problems.append(
            Problem(
                file.key,
                f"Content-Encoding {info.content_encoding!r}, expected {file.content_encoding!r}",
            )
        )
    # The digest stored with the object, not the ETag: an ETag is no MD5 once multipart or
    # KMS-encrypted, so comparing it would report healthy objects as changed.
    if digest and info.sha256 is not None and info.sha256 != file.sha256:
        problems.append(Problem(file.key, "bytes differ from the live release"))
    return problems


def _check_bytes(origin: Origin, file: RecordedFile) -> list[Problem]:
    key = file.key
    data = origin.get(key)
    if data is None:
        return [Problem(key, "missing")]
    if hashlib.sha256(data).hexdigest() == file.sha256:
        return []
    if file.may_be_reencoded:  # the same content in another encoding?
        info = origin.head(key)
        encoding = info.content_encoding if info else None
        if hashlib.sha256(decode(data, encoding)).hexdigest() == file.name_sha256:
            return []
    return [Problem(key, "bytes differ from the release record (sha256 mismatch)")]


def verify_origin(origin: Origin, *, deep: bool = False, workers: int = 8) -> OriginHealth:
    requests = request_counter(origin)
    state, _ = StateStore(origin).load()
    health = OriginHealth(origin.url, state.live)
    try:
        _verify_live(origin, state, health, deep, workers)
    except NewerFormatError:
        raise  # this code cannot judge what a newer assetpub wrote
    except InvalidRecordError as exc:
        health.problems.append(Problem(exc.key, f"not a valid release record ({exc.reason})"))
    except AssetpubError as exc:
        health.problems.append(Problem(RECORDS_PREFIX, exc.message))
    health.requests = requests()
    return health


def _verify_live(
    origin: Origin, state: State, health: OriginHealth, deep: bool, workers: int
) -> None:
    if state.live is None:
        health.problems.append(Problem(STATE_KEY, "no live release recorded"))
        return
    record = load_record(origin, state.live)
    listing = list_all(origin)

    def checks() -> Iterator[Callable[[], list[Problem]]]:
        """The requests to make, made as the pool takes them (a closure per plain file made up
        front cost 10 MB at 100,000 files); what the listing shows is found on the way."""
        for path, file in sorted(record.files.items()):
            if file.storage == Storage.RECORD:
                yield partial(_check_headers, origin, file)
                content = record.entry_content.get(file.key)
                yield partial(_check_entry_bytes, origin, file.key, content)
                continue
            remote = listing.get(file.key)
            if remote is None:
                health.problems.append(Problem(file.key, f"missing (live file {path})"))
                continue
            if remote.size != file.size and file.may_be_reencoded:
                yield partial(_check_headers, origin, file)  # its stored digests tell
                continue
            if remote.size != file.size:
                health.problems.append(
                    Problem(file.key, f"has {remote.size} bytes, expected {file.size}")
                )
            if file.storage == Storage.BLOB and (blob := blob_key(file.sha256)) not in listing:
                health.problems.append(Problem(blob, f"missing (copy of {path})"))
            if deep or file.storage == Storage.BLOB:
                # --deep re-hashes the bytes below, so the stored digest adds nothing there.
                yield partial(_check_headers, origin, file, digest=not deep)
            if deep:
                yield partial(_check_bytes, origin, file)
        yield partial(_check_entry_bytes, origin, ASSET_MANIFEST_KEY, record.asset_manifest)

    found: list[tuple[int, list[Problem]]] = []  # only checks that found something

    def run(numbered: tuple[int, Callable[[], list[Problem]]]) -> None:
        number, check = numbered
        problems = check()
        if problems:
            found.append((number, problems))  # list.append is atomic

    run_parallel(enumerate(checks()), run, workers)
    for _, problems in sorted(found, key=lambda numbered: numbered[0]):
        health.problems.extend(problems)
    health.checked = len(record.files) + 1


def _check_entry_bytes(origin: Origin, key: str, expected: bytes | None) -> list[Problem]:
    data = origin.get(key)
    if data is None:
        return [Problem(key, "missing")]
    if expected is not None and data != expected:
        return [Problem(key, "differs from what the live release published")]
    return []
