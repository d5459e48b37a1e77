"""Release records: what one publish put live, kept on every origin so a release can be restored
without the build folder, and the one answer to "which objects does a release own".

A record is written once under _assetpub/releases/<id>.json with a create-only write and never
changed. It holds the full file map plus the exact bytes of the entry files and of
asset-manifest.json (small, and exactly what a rollback must put back), while plain files'
bytes live in content-addressed blobs under _assetpub/blobs/ because their names get reused.
"""

from __future__ import annotations

import base64
import getpass
import json
import os
import secrets
import socket
import subprocess
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from assetpub import __version__
from assetpub.build.classify import FileKind
from assetpub.build.prepare import PreparedBuild
from assetpub.errors import HistoryError
from assetpub.history.state import ReleaseEntry, iso
from assetpub.keys import ASSET_MANIFEST_KEY, RELEASES_PREFIX, blob_key, release_record_key
from assetpub.origins.base import ObjectHeaders, Origin, RemoteObject

RECORD_FORMAT = 1

# CI systems put the commit being built here; checked before asking git.
_COMMIT_VARIABLES = (
    "GITHUB_SHA",
    "CI_COMMIT_SHA",
    "BITBUCKET_COMMIT",
    "CIRCLE_SHA1",
    "BUILDKITE_COMMIT",
    "DRONE_COMMIT_SHA",
    "TRAVIS_COMMIT",
    "VERCEL_GIT_COMMIT_SHA",
    "COMMIT_REF",
    "GIT_COMMIT",
)


class Storage(StrEnum):
    """Where a recorded file's bytes live on an origin."""

    KEY = "key"  # immutable: under its own key, which only this content ever has
    BLOB = "blob"  # plain: its mutable key, and a content-addressed blob a rollback copies from
    RECORD = "record"  # entry: inside the release record, written back on a switch


@dataclass(frozen=True)
class MissingObject:
    key: str
    reason: str


@dataclass(frozen=True)
class RecordedFile:
    key: str
    kind: str
    sha256: str
    size: int
    content_type: str
    cache_control: str
    # Compared with a listing's ETag, it spares a request per object when restoring.
    md5: str = ""

    @property
    def storage(self) -> Storage:
        if self.kind == FileKind.ENTRY:
            return Storage.RECORD
        if self.kind == FileKind.PLAIN:
            return Storage.BLOB
        return Storage.KEY

    @property
    def owned_key(self) -> str | None:
        """The object only this content's upload creates, which the release needs on the
        origin and only GC ever deletes: the immutable key, or the plain file's blob. Mutable
        names (entry and plain keys) are shared by every release and never deleted."""
        if self.storage == Storage.KEY:
            return self.key
        if self.storage == Storage.BLOB:
            return blob_key(self.sha256)
        return None

    @property
    def headers(self) -> ObjectHeaders:
        return ObjectHeaders(self.content_type, self.cache_control, self.sha256)


@dataclass(frozen=True)
class ReleaseRecord:
    id: str
    created_at: str  # ISO 8601, UTC
    git_commit: str | None
    message: str | None
    tool_version: str
    created_by: str
    files: dict[str, RecordedFile]  # path in build -> what was published
    entry_content: dict[str, bytes]  # published key -> exact bytes, for entry files
    # The exact asset-manifest.json this release switched to ("manifest" in the record's JSON).
    asset_manifest: bytes
    format: int = RECORD_FORMAT
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def record_key(self) -> str:
        return release_record_key(self.id)

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files.values())

    def owned_keys(self) -> set[str]:
        """Every object this release cannot do without that only GC ever deletes."""
        return {key for f in self.files.values() if (key := f.owned_key) is not None}

    def missing_from(self, listing: Mapping[str, RemoteObject]) -> list[MissingObject]:
        """What this release needs that the origin's listing lacks, or holds at another size:
        its immutable objects and the blobs its plain files are restored from."""
        missing = []
        for path, file in sorted(self.files.items()):
            key = file.owned_key
            if key is None:
                continue  # restored from the record itself
            remote = listing.get(key)
            if remote is None:
                missing.append(MissingObject(key, f"missing (needed for {path})"))
            elif remote.size != file.size:
                missing.append(MissingObject(key, f"has {remote.size} bytes, expected {file.size}"))
        return missing

    def to_json(self) -> bytes:
        data = {
            "format": self.format,
            "id": self.id,
            "created_at": self.created_at,
            "git_commit": self.git_commit,
            "message": self.message,
            "tool_version": self.tool_version,
            "created_by": self.created_by,
            "files": {path: asdict(f) for path, f in sorted(self.files.items())},
            "entry_content": {k: _b64(v) for k, v in sorted(self.entry_content.items())},
            "manifest": _b64(self.asset_manifest),
            **self.extra,
        }
        return json.dumps(data, indent=1, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> ReleaseRecord:
        data = json.loads(raw)
        known = {
            "format",
            "id",
            "created_at",
            "git_commit",
            "message",
            "tool_version",
            "created_by",
            "files",
            "entry_content",
            "manifest",
        }
        return cls(
            id=data["id"],
            created_at=data["created_at"],
            git_commit=data.get("git_commit"),
            message=data.get("message"),
            tool_version=data.get("tool_version", "?"),
            created_by=data.get("created_by", "?"),
            files={p: RecordedFile(**f) for p, f in data["files"].items()},
            entry_content={k: base64.b64decode(v) for k, v in data["entry_content"].items()},
            asset_manifest=base64.b64decode(data["manifest"]),
            format=data.get("format", RECORD_FORMAT),
            extra={k: v for k, v in data.items() if k not in known},
        )


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def new_release_id(now: datetime) -> str:
    """UTC time first, to the millisecond, so ids sort by creation; a random tail so two
    publishes in the same instant still get distinct ids: '20261126T084653123Z-1a2b3c4d'."""
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S%f")[:-3]
    return f"{stamp}Z-{secrets.token_hex(4)}"


def asset_manifest_bytes(release_id: str, file_map: dict[str, str]) -> bytes:
    data = {"release": release_id, "files": dict(sorted(file_map.items()))}
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()


def detect_git_commit(build_dir: Path) -> str | None:
    for variable in _COMMIT_VARIABLES:
        value = os.environ.get(variable, "").strip()
        if value:
            return value
    try:
        result = subprocess.run(
            ["git", "-C", str(build_dir), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = result.stdout.strip()
    return commit if result.returncode == 0 and commit else None


def current_user() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


def build_release(
    prepared: PreparedBuild,
    *,
    release_id: str,
    created_at: datetime,
    git_commit: str | None,
    message: str | None,
) -> ReleaseRecord:
    file_map = prepared.file_map
    file_map[ASSET_MANIFEST_KEY] = ASSET_MANIFEST_KEY
    entry_content = {
        f.key: f.local_path.read_bytes() for f in prepared.files if f.kind == FileKind.ENTRY
    }
    return ReleaseRecord(
        id=release_id,
        created_at=iso(created_at),
        git_commit=git_commit,
        message=message,
        tool_version=__version__,
        created_by=current_user(),
        files={
            f.source: RecordedFile(
                f.key,
                str(f.kind),
                f.digests.sha256,
                f.digests.size,
                f.content_type,
                f.cache_control,
                f.digests.md5,
            )
            for f in prepared.files
        },
        entry_content=entry_content,
        asset_manifest=asset_manifest_bytes(release_id, file_map),
    )


def release_entry(release: ReleaseRecord) -> ReleaseEntry:
    """The summary the state keeps of a release (committed_at is set when it commits)."""
    return ReleaseEntry(
        id=release.id,
        created_at=release.created_at,
        committed_at=release.created_at,
        git_commit=release.git_commit,
        message=release.message,
        files=len(release.files),
        bytes=release.total_bytes,
    )


def load_record(origin: Origin, release_id: str) -> ReleaseRecord:
    raw = origin.get(release_record_key(release_id))
    if raw is None:
        raise HistoryError(f"{origin.url}: release {release_id} has no record on this origin")
    try:
        return ReleaseRecord.from_json(raw)
    except (ValueError, KeyError, TypeError) as exc:
        raise HistoryError(
            f"{origin.url}: release record {release_id} is not valid: {exc}"
        ) from None


def record_ids(keys: Iterator[str] | list[str]) -> set[str]:
    """Release ids of the record keys among `keys`."""
    return {
        key[len(RELEASES_PREFIX) : -len(".json")]
        for key in keys
        if key.startswith(RELEASES_PREFIX)
        and key.endswith(".json")
        and "/" not in key[len(RELEASES_PREFIX) :]
    }


def release_in_asset_manifest(origin: Origin) -> str | None:
    """The release the live asset-manifest.json names, or None (missing or unreadable)."""
    raw = origin.get(ASSET_MANIFEST_KEY)
    try:
        release = json.loads(raw)["release"] if raw else None
    except (ValueError, KeyError, TypeError):
        return None
    return release if isinstance(release, str) else None
