"""Pure planning: (prepared build, release, what an origin holds) -> what to write, in what order,
and why. No I/O, so every decision is testable without storage.

Order is the whole point: immutable assets first on every origin, then the mutable names, then
asset-manifest.json, then the entry files, with the root index.html last, because it is the one
file a visitor fetches without a hash and everything it references must already be there.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from assetpub.build.classify import FileKind
from assetpub.build.compress import is_compressible
from assetpub.build.hashing import Digests, digest_bytes
from assetpub.build.headers import NO_CACHE, PRIVATE
from assetpub.build.prepare import PreparedBuild, PreparedFile
from assetpub.history.record import RecordedFile, ReleaseRecord, record_ids
from assetpub.history.state import State
from assetpub.keys import ASSET_MANIFEST_KEY, RELEASES_PREFIX, blob_key
from assetpub.origins.base import ObjectHeaders, RemoteObject

ROOT_INDEX = "index.html"
# Set (true) in the record of every release whose publish made each of its objects carry the
# headers the record names: updating them where they differed. A record without it (an older
# assetpub's) says which headers were wanted, not which the objects kept.
HEADERS_APPLIED = "headers_applied"


@dataclass(frozen=True, slots=True)
class Upload:
    key: str
    stated_headers: ObjectHeaders | None  # None: the build file's (`source`)
    reason: str
    size: int
    # Stream from this file (a str: a Path costs 400 bytes more)... (None: `source`'s bytes)
    stated_path: str | None = None
    data: bytes | None = None  # ...or write these bytes
    create_only: bool = False
    from_build: bool = True  # counts as an uploaded build file in the summary
    # The build file whose bytes and headers these are: its location and headers are made
    # when written, not kept per upload (a str and an ObjectHeaders each, 26 MB at 130,000
    # uploads).
    source: PreparedFile | None = None
    # Written as a server-side copy of this key (the key itself: new headers, same bytes),
    # nothing uploaded.
    copy_of: str | None = None

    @property
    def headers(self) -> ObjectHeaders:
        if self.stated_headers is not None:
            return self.stated_headers
        assert self.source is not None, "an upload states its headers or has a source"
        return _headers(self.source)

    @property
    def path(self) -> str | None:
        if self.stated_path is None and self.source is not None:
            return self.source.local
        return self.stated_path


def skip_reason(file: PreparedFile) -> str:
    """Why a file the plan skips needs no upload (a plan keeps the skipped files themselves:
    an object a file saying so cost 5 MB at 100,000 files)."""
    return "already on origin" if file.is_immutable else "unchanged"


@dataclass(frozen=True)
class Conflict:
    key: str
    reason: str


class RecordUpload:
    """The release record's write, and asset-manifest.json's, each made on first use and
    then shared by every origin's plan: a publish that finds nothing changed never makes
    them (40 and 7 MB at 100,000 files), and several origins hold one copy."""

    def __init__(self, release: ReleaseRecord) -> None:
        self.release = release
        self._upload: Upload | None = None
        self._manifest: Upload | None = None
        self._lock = threading.Lock()  # plans are read from the uploaders' threads too

    def __call__(self) -> Upload:
        with self._lock:
            if self._upload is None:
                self._upload = self._make(self.release)
            return self._upload

    def manifest(self) -> Upload:
        with self._lock:
            if self._manifest is None:
                self._manifest = self._make_manifest(self.release)
            return self._manifest

    def _make(self, release: ReleaseRecord) -> Upload:
        """The record's JSON in memory; publish writes it to a file instead (StagedRecord)."""
        data = release.to_json()
        return record_write(release, digest_bytes(data), data=data)

    def _make_manifest(self, release: ReleaseRecord) -> Upload:
        """asset-manifest.json in memory; publish writes it to a file instead."""
        return asset_manifest_upload(release)


def record_write(
    release: ReleaseRecord, digests: Digests, *, data: bytes | None = None, path: str | None = None
) -> Upload:
    """The create-only write of a release record whose JSON has these digests."""
    headers = ObjectHeaders("application/json; charset=utf-8", PRIVATE, digests.sha256)
    return Upload(
        release.record_key,
        headers,
        "release record",
        digests.size,
        stated_path=path,
        data=data,
        create_only=True,
        from_build=False,
    )


@dataclass(frozen=True)
class OriginPlan:
    url: str
    record_upload: RecordUpload = field(repr=False)
    assets: tuple[Upload, ...]  # immutable names and content-addressed blobs
    plain: tuple[Upload, ...]  # names we keep but cannot hash: replaced in place
    entries: tuple[Upload, ...]  # entry files except the root index.html
    index: tuple[Upload, ...]  # the root index.html, alone and last
    skipped: tuple[PreparedFile, ...]
    conflicts: tuple[Conflict, ...]
    # Objects that hold the file's bytes but not its headers: each copied onto itself with the
    # new ones, alongside the assets (before the commit, so a committed release's record is
    # what its objects carry).
    headers: tuple[Upload, ...] = ()

    @property
    def record(self) -> Upload:
        """The release record: the intent, written before anything else."""
        return self.record_upload()

    @property
    def asset_manifest(self) -> Upload:
        """asset-manifest.json's write, made when the switch needs it: a publish that finds
        the build live never makes its bytes (7 MB at 100,000 files)."""
        return self.record_upload.manifest()

    @property
    def switch_groups(self) -> list[tuple[str, tuple[Upload, ...]]]:
        """The switch, in order; each group finishes before the next starts."""
        return [
            ("plain", self.plain),
            ("manifest", (self.asset_manifest,)),
            ("entries", self.entries),
            ("index", self.index),
        ]

    @property
    def object_uploads(self) -> list[Upload]:
        """Every write but the release record: what a progress bar counts."""
        return [*self.assets, *self.headers, *(u for _, g in self.switch_groups for u in g)]

    @property
    def all_uploads(self) -> list[Upload]:
        return [self.record, *self.object_uploads]


def _headers(file: PreparedFile) -> ObjectHeaders:
    return file.headers


def _upload(file: PreparedFile, reason: str) -> Upload:
    return Upload(file.key, None, reason, file.digests.size, source=file)


def _headers_update(file: PreparedFile) -> Upload:
    return Upload(
        file.key,
        None,
        "headers changed",
        file.digests.size,
        from_build=False,
        source=file,
        copy_of=file.key,
    )


@dataclass(frozen=True)
class HeaderEvidence:
    """What one origin's history says, without a request per object, about the headers the
    objects already there carry: the record of its witness release (header_witness). A key
    it does not speak for costs a HEAD, which reads the fingerprint stored with the object."""

    # Key -> the witness release's file there (empty: no witness, every object is read).
    recorded: Mapping[str, RecordedFile] = field(default_factory=dict)
    # The witness is also live. A rollback since puts plain files back from their blobs with
    # another release's headers, and leaves immutable objects as they were.
    live: bool = False

    def carries(self, file: PreparedFile) -> bool | None:
        """Whether the object at file.key (holding the file's bytes) carries its headers, as
        far as the record tells; None when only the object can say."""
        recorded = self.recorded.get(file.key)
        if recorded is None or recorded.sha256 != file.digests.sha256:
            return None
        if not (file.is_immutable or self.live):
            return None
        return (recorded.content_type, recorded.cache_control, recorded.content_encoding) == (
            file.content_type,
            file.cache_control,
            file.content_encoding,
        )


def header_witness(state: State, listing: Mapping[str, RemoteObject]) -> str | None:
    """The release whose record tells which headers the objects on the origin carry: the
    newest committed one, because its publish set every header it records before it
    committed, and only its successors change headers. None when a newer record than its
    lies uncommitted in the listing: a publish that failed (or is running) may have updated
    headers its record alone speaks for."""
    newest = state.newest_first()
    if not newest:
        return None
    witness = newest[0].id
    committed = state.release_ids
    records = record_ids([key for key in listing if key.startswith(RELEASES_PREFIX)])
    if any(other > witness for other in records - committed):
        return None
    return witness


def files_to_verify(
    build: PreparedBuild,
    listing: Mapping[str, RemoteObject],
    headers: HeaderEvidence | None = None,
) -> list[PreparedFile]:
    """Files whose key exists but whose content the listing cannot settle, or (given
    `headers`: the origin keeps headers) whose headers the evidence cannot: only these cost a
    request each, which asks the origin for the digest and the headers it holds."""
    return [
        file
        for file in build.files
        if file.kind != FileKind.ENTRY
        and (remote := listing.get(file.key)) is not None
        and (
            (held := remote.holds(file.digests.size, file.digests.md5)) is None
            or (held and headers is not None and headers.carries(file) is None)
            # Other bytes under an immutable name: the same content, encoded otherwise?
            or (held is False and file.is_immutable and is_compressible(file.content_type))
        )
    ]


def switch_order(keys: Iterable[str]) -> tuple[list[str], list[str]]:
    """Entry keys in switch order, split into (everything else, the root index.html).

    Non-HTML entry files first, then HTML pages, deepest first, so a page's links to shallower
    pages point at pages already switched; the root index.html alone and last."""

    def rank(key: str) -> tuple[int, int, str]:
        return (int(key.lower().endswith((".html", ".htm"))), -key.count("/"), key)

    ordered = sorted(keys, key=rank)
    return [k for k in ordered if k != ROOT_INDEX], [k for k in ordered if k == ROOT_INDEX]


def asset_manifest_upload(
    release: ReleaseRecord, staged: tuple[str, Digests] | None = None
) -> Upload:
    """asset-manifest.json's write: its bytes, or `staged`, a file holding them and their
    digests."""
    path, digests = staged or (None, release.asset_manifest_digests)
    return Upload(
        ASSET_MANIFEST_KEY,
        ObjectHeaders("application/json; charset=utf-8", NO_CACHE, digests.sha256),
        "switch",
        digests.size,
        stated_path=path,
        data=None if staged else release.asset_manifest,
        from_build=False,
    )


def plan_origin(
    url: str,
    build: PreparedBuild,
    release: ReleaseRecord,
    listing: Mapping[str, RemoteObject],
    holds_digest: Collection[str],
    record: RecordUpload | None = None,
    *,
    headers: HeaderEvidence | None = None,
    carrying: Collection[str] = (),
    force: bool = False,
    same_content: Collection[str] = (),
) -> OriginPlan:
    """`holds_digest`: the keys among files_to_verify's whose stored SHA-256 is the build
    file's (a key not in it is not proven to hold the file's bytes). `record`: the release
    record's write, shared between the plans of one publish. `headers`: what the origin's
    history says of its objects' headers (None: the origin keeps none, as a folder);
    `carrying`: the keys among files_to_verify's whose stored headers are the file's. With
    `force`, every file is uploaded again, bytes and headers, whatever the origin holds; an
    immutable name holding other bytes is still a conflict, unless `same_content` has its
    key: the object holds the same content encoded otherwise (compression turned on or off),
    which is replaced: every version a cache holds decodes to the same bytes."""
    assets: list[Upload] = []
    plain: list[Upload] = []
    updates: list[Upload] = []
    skipped: list[PreparedFile] = []
    conflicts: list[Conflict] = []

    def same_bytes(file: PreparedFile, remote: RemoteObject) -> bool:
        decided = remote.holds(file.digests.size, file.digests.md5)
        if decided is None:
            return file.key in holds_digest
        return decided

    def keep(file: PreparedFile, remote: RemoteObject) -> None:
        """The object holds the file's bytes: skip it, or update its headers only."""
        carried = None
        if headers is not None and remote.holds(file.digests.size, file.digests.md5):
            carried = headers.carries(file)
        if headers is not None and not (file.key in carrying if carried is None else carried):
            updates.append(_headers_update(file))
        else:
            skipped.append(file)

    for file in build.files:
        remote = listing.get(file.key)
        if file.kind == FileKind.ENTRY:
            continue
        if file.is_immutable:
            if remote is None:
                assets.append(_upload(file, "not on origin"))
            elif same_bytes(file, remote):
                if force:
                    assets.append(_upload(file, "forced"))
                else:
                    keep(file, remote)
            elif file.key in same_content:
                assets.append(_upload(file, "encoding changed"))
            else:
                conflicts.append(
                    Conflict(
                        file.key,
                        "holds different bytes under an immutable name (older releases and CDN "
                        "caches depend on it); is the bundler's output deterministic?",
                    )
                )
            continue
        # Plain files: a copy of the bytes goes to a content-addressed blob so a rollback can
        # restore this release's version after a later release replaced it.
        blob = blob_key(file.digests.sha256)
        if force or blob not in listing:
            assets.append(
                Upload(
                    blob,
                    None,
                    "forced blob for rollback" if blob in listing else "blob for rollback",
                    file.digests.size,
                    from_build=False,
                    source=file,
                )
            )
        if remote is None:
            plain.append(_upload(file, "not on origin"))
        elif force:
            plain.append(_upload(file, "forced"))
        elif same_bytes(file, remote):
            keep(file, remote)
        else:
            plain.append(_upload(file, "changed"))

    by_key = {f.key: f for f in build.by_kind(FileKind.ENTRY)}
    entry_keys, index_keys = switch_order(by_key)
    entries = [_upload(by_key[k], "switch") for k in entry_keys]
    index = [_upload(by_key[k], "switch") for k in index_keys]
    return OriginPlan(
        url=url,
        record_upload=record or RecordUpload(release),
        assets=tuple(assets),
        plain=tuple(plain),
        entries=tuple(entries),
        index=tuple(index),
        skipped=tuple(skipped),
        conflicts=tuple(conflicts),
        headers=tuple(updates),
    )
