"""Release records: what one publish put live, kept on every origin so a release can be restored
without the build folder, and the one answer to "which objects does a release own".

A record is written once under _assetpub/releases/<id>.json with a create-only write and never
changed. It holds the full file map plus the exact bytes of the entry files and of
asset-manifest.json (small, and exactly what a rollback must put back), while plain files'
bytes live in content-addressed blobs under _assetpub/blobs/ because their names get reused.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import getpass
import io
import json
import os
import re
import secrets
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import UTC, datetime
from enum import StrEnum
from functools import cached_property
from json.encoder import encode_basestring as _json_text
from json.encoder import encode_basestring_ascii as _json_str
from pathlib import Path
from typing import Any, BinaryIO, Protocol, TypeVar

from assetpub import __version__
from assetpub.build.classify import FileKind, bundler_by_name_alone
from assetpub.build.compress import ENCODINGS, decode, is_compressible
from assetpub.build.frameworks import detect, generator_of
from assetpub.build.hashing import Digester, Digests, digest_bytes, digest_parts, hashed_name
from assetpub.build.prepare import PreparedBuild, PreparedFile
from assetpub.errors import (
    ConfigError,
    InvalidRecordError,
    MissingRecordError,
    NewerFormatError,
    and_more,
)
from assetpub.history.state import (
    NewerFormat,
    ReleaseEntry,
    check_format,
    iso,
    json_kind,
)
from assetpub.keys import (
    ASSET_MANIFEST_KEY,
    RELEASES_PREFIX,
    RESERVED_PREFIX,
    blob_key,
    is_sha256_hex,
    release_record_key,
)
from assetpub.origins.base import ObjectHeaders, Origin, RemoteObject
from assetpub.origins.checks import check_key

RECORD_FORMAT = 1
_B64_SLICE = 3 * 64 * 1024  # a multiple of 3: the slices' base64 joins into the whole's
_STREAM_CHUNK = 1024 * 1024  # a record compared as it is read goes by in pieces this large
_KINDS = frozenset(kind.value for kind in FileKind)

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


@dataclass(frozen=True, slots=True)
class RecordedFile:
    key: str
    kind: str
    content_type: str
    cache_control: str
    # The SHA-256, the MD5 (compared with a listing's ETag, it spares a request per object
    # when restoring) and the size; a publish's record shares its build's Digests.
    digests: Digests
    # A record's sha256 and md5 as read when they are not lowercase hex (or there is no MD5,
    # as in early records): `problem` says so, and the record writes back as it was read.
    odd_hex: tuple[str, str] | None = None
    # Precompressed (docs/compression.md): the digests above are of the encoded bytes stored,
    # decoded_sha256 of the build's bytes, which a hashed name is of. A build's own .gz file
    # has an encoding and no decoded_sha256: its name is of the bytes stored.
    content_encoding: str | None = None
    decoded_sha256: str = ""

    @classmethod
    def of(
        cls,
        key: str,
        kind: str,
        sha256: str,
        size: int,
        content_type: str,
        cache_control: str,
        md5: str = "",
        content_encoding: str | None = None,
        decoded_sha256: str = "",
    ) -> RecordedFile:
        try:
            digests, odd = Digests.of(sha256, md5, size), None
        except ValueError:
            digests, odd = Digests(b"", size), (sha256, md5)
        return cls(
            key, kind, content_type, cache_control, digests, odd, content_encoding, decoded_sha256
        )

    @property
    def sha256(self) -> str:
        return self.odd_hex[0] if self.odd_hex else self.digests.sha256

    @property
    def md5(self) -> str:
        return self.odd_hex[1] if self.odd_hex else self.digests.md5

    @property
    def size(self) -> int:
        return self.digests.size

    @property
    def name_sha256(self) -> str:
        """The digest a hashed name carries: of the decoded bytes when assetpub compressed."""
        return self.decoded_sha256 or self.sha256

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
    def may_be_reencoded(self) -> bool:
        """Whether the immutable object may hold this content in another encoding: a publish
        since turned compression on or off (an immutable name never holds other content;
        publish refuses that, so another size there is another encoding of it)."""
        return self.storage == Storage.KEY and is_compressible(self.content_type)

    @property
    def headers(self) -> ObjectHeaders:
        return ObjectHeaders(
            self.content_type,
            self.cache_control,
            self.sha256,
            self.content_encoding,
            self.decoded_sha256 or None,
        )

    def derived_key(self, path: str) -> str:
        """The key a publish gives the file at `path` with these bytes: the content-hashed
        name for a file assetpub renames, the path itself for every other kind."""
        return hashed_name(path, self.name_sha256) if self.kind == FileKind.HASHED else path

    def problem(self, path: str) -> str | None:
        """Why no publish could have recorded this file at `path`, or None."""
        try:
            check_key(path)
        except ValueError:
            return f"path {path!r} is not a relative path inside the origin"
        # What the scan refuses: assetpub's namespace, and the build's own asset manifest.
        if path.startswith(RESERVED_PREFIX) or path == ASSET_MANIFEST_KEY:
            return f"path {path!r} is assetpub's own"
        if self.kind not in _KINDS:
            return f"{path}: unknown kind {self.kind!r}"
        if not is_sha256_hex(self.sha256):
            return f"{path}: sha256 {self.sha256!r} is not a SHA-256 digest"
        if self.size < 0:
            return f"{path}: size {self.size} is negative"
        if self.content_encoding is not None and self.content_encoding not in ENCODINGS:
            return f"{path}: unknown content_encoding {self.content_encoding!r}"
        if self.decoded_sha256 and not (
            self.content_encoding and is_sha256_hex(self.decoded_sha256)
        ):
            return f"{path}: decoded_sha256 {self.decoded_sha256!r} without a valid encoding"
        if self.key != (derived := self.derived_key(path)):
            return f"{path}: key {self.key!r} is not its {self.kind} name {derived!r}"
        return None


def _file_json(file: RecordedFile) -> bytes:
    """The file's JSON object, byte for byte as json.dumps(sort_keys=True) in compact form
    writes it, so a record never needs a dict per file in memory first."""
    encoding = (
        f'"content_encoding":{_json_str(file.content_encoding)},'
        if file.content_encoding is not None
        else ""
    )
    decoded = f'"decoded_sha256":{_json_str(file.decoded_sha256)},' if file.decoded_sha256 else ""
    return (
        f'{{"cache_control":{_json_str(file.cache_control)},{encoding}'
        f'"content_type":{_json_str(file.content_type)},{decoded}'
        f'"key":{_json_str(file.key)},"kind":{_json_str(file.kind)},'
        f'"md5":{_json_str(file.md5)},"sha256":{_json_str(file.sha256)},"size":{int(file.size)}}}'
    ).encode("ascii")


@dataclass(frozen=True, eq=False)
class ReleaseRecord:
    id: str
    created_at: str  # ISO 8601, UTC
    git_commit: str | None
    message: str | None
    tool_version: str
    created_by: str
    # Path in build -> what was published (a publish's own record: PreparedFiles).
    files: Mapping[str, RecordedFile]
    entry_content: dict[str, bytes]  # published key -> exact bytes, for entry files
    # The exact asset-manifest.json this release switched to ("manifest" in the record's JSON),
    # or None: the one asset_manifest_bytes makes of the id and files, made when first asked
    # for (see asset_manifest), so that a publish that finds the build live never makes it.
    stated_manifest: bytes | None
    format: int = RECORD_FORMAT
    extra: dict[str, Any] = field(default_factory=dict)

    def __eq__(self, other: object) -> bool:
        """Field for field, the manifest by what it is, stated or made from the files."""
        if not isinstance(other, ReleaseRecord):
            return NotImplemented
        return self._compared() == other._compared()

    def _compared(self) -> tuple[Any, ...]:
        named = [
            getattr(self, f.name) for f in dataclass_fields(self) if f.name != "stated_manifest"
        ]
        return (*named, self.asset_manifest_digests)

    @cached_property
    def asset_manifest(self) -> bytes:
        """The bytes of this release's asset-manifest.json (7 MB at 100,000 files)."""
        if self.stated_manifest is not None:
            return self.stated_manifest
        return asset_manifest_bytes(self.id, _manifest_pairs(self.files))

    @cached_property
    def asset_manifest_digests(self) -> Digests:
        """The digests of asset_manifest, made as its lines go by when it is not stated:
        what a publish compares with the origin's object without making the bytes."""
        if self.stated_manifest is not None:
            return digest_bytes(self.stated_manifest)
        return digest_parts(_manifest_parts(self.id, _manifest_pairs(self.files)))

    def asset_manifest_parts(self) -> Iterator[bytes]:
        """asset_manifest in slices: made a line at a time from the files when it is not
        stated, so that writing it to a file never holds it whole."""
        if self.stated_manifest is None:
            yield from _manifest_parts(self.id, _manifest_pairs(self.files))
            return
        for start in range(0, len(self.stated_manifest), _B64_SLICE):
            yield self.stated_manifest[start : start + _B64_SLICE]

    @property
    def record_key(self) -> str:
        return release_record_key(self.id)

    @property
    def total_bytes(self) -> int:
        return sum(f.size for f in self.files.values())

    def owned_keys(self) -> set[str]:
        """Every object this release cannot do without that only GC ever deletes."""
        return {key for f in self.files.values() if (key := f.owned_key) is not None}

    def needed_keys(self) -> set[str]:
        """Every key this release is made of on the origin while it is live: its owned keys,
        every file's key (entry and plain names included) and asset-manifest.json."""
        return (
            self.owned_keys()
            | {f.key for f in self.files.values()}
            | set(self.entry_content)
            | {ASSET_MANIFEST_KEY}
        )

    def problems(self, release_id: str) -> list[str]:
        """Why this is not a record a publish of `release_id` wrote (empty when it is one):
        an id that is not its key's, a file that no publish could have recorded (see
        RecordedFile.problem), entry bytes that are not exactly its entry files'."""
        found = [] if self.id == release_id else [f"its id is {self.id!r}"]
        # Sorted paths, not items: a tuple a file would be 6 MB more at 100,000 files.
        found += [p for path in sorted(self.files) if (p := self.files[path].problem(path))]
        entry_keys = {f.key for f in self.files.values() if f.kind == FileKind.ENTRY}
        if set(self.entry_content) != entry_keys:
            odd = sorted(set(self.entry_content) ^ entry_keys)[0]
            found.append(f"entry content and entry files differ at {odd!r}")
        return found

    def collectable_keys(self) -> set[str]:
        """What GC may delete when this release is collected, derived from the record's paths
        and digests alone, never a key taken from the record: the content-hashed name of each
        file assetpub renamed, each bundler-hashed path whose name the record's own evidence
        still proves hashed (the hash-name shapes, a detected framework's immutable folder),
        and the blob of each plain file. Entry and plain names belong to whatever is live, and
        a record with any problem yields nothing."""
        if self.problems(self.id):
            return set()
        bundler = self._bundler_paths()
        keys = set()
        for path, file in self.files.items():
            if file.kind == FileKind.HASHED:
                keys.add(hashed_name(path, file.name_sha256))
            elif file.kind == FileKind.BUNDLER and path in bundler:
                keys.add(path)
            elif file.kind == FileKind.PLAIN:
                keys.add(blob_key(file.sha256))
        return keys

    def named_files(self) -> dict[str, RecordedFile]:
        """The entry and plain files this release wrote under their own names, by key (their
        build path): what GC may delete once no kept release has the name any more and the
        object still holds what a collected release put there (commands/gc.py,
        removed_names). Derived from the paths, as collectable_keys; a record with any
        problem yields nothing."""
        if self.problems(self.id):
            return {}
        return {path: f for path, f in self.files.items() if f.storage != Storage.KEY}

    def _bundler_paths(self) -> set[str]:
        """The paths the evidence in this record proves bundler-hashed, as the publish decided
        them: the build's paths and its root page's generator are both in the record. What
        only the build proved (a bundler manifest, hashed_name_patterns from the config) is
        not re-proved, so such files stay on the origin: the safe side."""
        paths = set(self.files)
        index = self.files.get("index.html")
        encoding = index.content_encoding if index and index.kind == FileKind.ENTRY else None
        generator = generator_of(decode(self.entry_content.get("index.html", b""), encoding))
        return bundler_by_name_alone(paths, detect(paths, generator))

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
            elif remote.size != file.size and not file.may_be_reencoded:
                missing.append(MissingObject(key, f"has {remote.size} bytes, expected {file.size}"))
        return missing

    def to_json(self) -> bytes:
        out = io.BytesIO()
        self.write_json(out)
        return out.getvalue()

    def write_json(self, out: BinaryIO) -> None:
        """Compact JSON with sorted keys (the C encoder writes every part), the same bytes as
        json.dumps(sort_keys=True) of the whole, but streamed file by file: no dict per file
        and no str of the whole; written to a file, not even the bytes (about 400 bytes a
        file) are in memory."""
        fields: dict[str, Any] = {
            "format": self.format,
            "id": self.id,
            "created_at": self.created_at,
            "git_commit": self.git_commit,
            "message": self.message,
            "tool_version": self.tool_version,
            "created_by": self.created_by,
            "entry_content": {k: _b64(v) for k, v in self.entry_content.items()},
            **self.extra,
        }
        separator = b"{"
        for name in sorted([*fields, "files", "manifest"]):
            out.write(separator + _json_str(name).encode("ascii") + b":")
            separator = b","
            if name == "files":
                for part in _files_json(self.files):
                    out.write(part)
            elif name == "manifest":
                # Base64 needs no escaping in JSON: written in slices, the 7 MB manifest of
                # 100,000 files is not also a 10 MB str, its JSON and their bytes at once (nor,
                # when the files make it, the manifest itself).
                out.write(b'"')
                _write_base64(self.asset_manifest_parts(), out)
                out.write(b'"')
            else:
                out.write(_compact_json(fields[name]).encode("ascii"))
        out.write(b"}")

    @classmethod
    def from_json(cls, raw: bytes | str) -> ReleaseRecord:
        """Raises NewerFormat for a record a newer assetpub wrote, ValueError for anything that
        is not a record: not JSON, not an object, a field missing or of the wrong type. Whether
        its content is consistent is `problems`' question."""
        return cls._from_fields(_parse_record(raw))

    @classmethod
    def from_stream(cls, source: BinaryIO, *, chunk: int = _STREAM_CHUNK) -> ReleaseRecord:
        """from_json of the record `source` holds, read `chunk` bytes at a time and parsed a
        file at a time: neither its text (30 MB at 100,000 files) nor a dict per file is ever
        whole in memory. `source` must be seekable: a record with a repeated field, whose
        answer is json.loads' rule, is read again whole for from_json."""
        start = source.tell()
        parsed: dict[str, Any] = {}
        data = _fields_but_files(_JsonStream(source, chunk), _parses_files_into(parsed))
        if data is None:
            source.seek(start)
            return cls.from_json(source.read())
        if "files" in data:  # else _from_fields says it is missing
            data["files"] = parsed["files"]
        return cls._from_fields(data)

    @classmethod
    def from_json_with_files(
        cls,
        raw: bytes | BinaryIO,
        files: Mapping[str, RecordedFile],
        *,
        chunk: int = _STREAM_CHUNK,
    ) -> ReleaseRecord | None:
        """The record `raw` (its bytes, or a file read `chunk` bytes at a time) holds if its
        "files" are byte for byte what to_json writes for `files`, with `files` itself
        standing in for them; None if they are not (or a field is repeated). Parsing a
        record's files costs about 450 bytes a file, comparing them as they stream by
        nothing: this is how a publish asks "is the live release this build?". Raises as
        from_json does for what is no record."""
        source = io.BytesIO(raw) if isinstance(raw, bytes) else raw
        start = source.tell()

        def read(manifest_sink: Callable[[], _Sink]) -> dict[str, Any] | None:
            source.seek(start)
            files_match = _takes_all(_files_json(files))
            found = _fields_but_files(_JsonStream(source, chunk), files_match, manifest_sink)
            if found is not None:
                found["files"] = files
            return found

        # The manifest goes by as its digests (7 MB not made at 100,000 files): when they are
        # those of the manifest the id and files make, the record states none.
        found = read(Digester)
        if found is None:
            return None
        manifest = found.get("manifest")
        if isinstance(manifest, Digester):
            record = cls._from_fields({**found, "manifest": _DERIVED})
            if record.asset_manifest_digests == manifest.digests:  # now cached on the record
                return record
            found = read(io.BytesIO)  # another manifest (an older writer's): keep its bytes
            if found is None:
                return None
        return cls._from_fields(found)

    @classmethod
    def _from_fields(cls, data: dict[str, Any]) -> ReleaseRecord:
        check_format(data, RECORD_FORMAT)
        # A dict as parsed, or the files compared with the record's (from_json_with_files).
        found = data.get("files")
        files: Mapping[str, Any] = (
            found if isinstance(found, Mapping) else _field(data, "files", dict)
        )
        entry_content: dict[str, Any] = _field(data, "entry_content", dict)
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
            id=_field(data, "id", str),
            created_at=_field(data, "created_at", str),
            git_commit=_optional(data, "git_commit"),
            message=_optional(data, "message"),
            tool_version=_field(data, "tool_version", str, "?"),
            created_by=_field(data, "created_by", str, "?"),
            files=(
                files  # the files compared with the record's: the same dict, not a copy
                if all(isinstance(file, RecordedFile) for file in files.values())
                else {path: _recorded_file(path, file) for path, file in files.items()}
            ),
            entry_content={k: _unb64(_field(entry_content, k, str), k) for k in entry_content},
            stated_manifest=(
                None  # proven to be the one the id and files make (from_json_with_files)
                if (manifest := data.get("manifest")) is _DERIVED
                else manifest  # decoded already as it streamed by (JSON itself holds no bytes)
                if isinstance(manifest, bytes)
                else _unb64(_field(data, "manifest", str), "manifest")
            ),
            format=_field(data, "format", int, RECORD_FORMAT),
            extra={k: _plain(v) for k, v in data.items() if k not in known},
        )


_T = TypeVar("_T")
_REQUIRED: Any = object()
_DERIVED: Any = object()  # "manifest" when from_json_with_files proved it the derived one
_FILE_FIELDS = frozenset(
    {
        "key",
        "kind",
        "sha256",
        "size",
        "content_type",
        "cache_control",
        "md5",
        "content_encoding",
        "decoded_sha256",
    }
)
_FILE_FIELDS_REQUIRED = _FILE_FIELDS - {"md5", "content_encoding", "decoded_sha256"}
_TEXT_FIELDS = (
    "key",
    "kind",
    "sha256",
    "content_type",
    "cache_control",
    "md5",
    "content_encoding",
    "decoded_sha256",
)


def _field(data: dict[str, Any], name: str, kind: type[_T], default: _T = _REQUIRED) -> _T:
    """data[name], which must be a `kind` (a bool is no number here)."""
    if name not in data:
        if default is _REQUIRED:
            raise ValueError(f"{name!r} is missing")
        return default
    value = _plain(data[name])
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ValueError(f"{name!r} is a JSON {json_kind(value)}")
    return value


def _optional(data: dict[str, Any], name: str) -> str | None:
    value = _plain(data.get(name))
    if not isinstance(value, str | None):
        raise ValueError(f"{name!r} is a JSON {json_kind(value)}")
    return value


def _recorded_file(path: str, data: object) -> RecordedFile:
    if not isinstance(data, dict):
        raise ValueError(f"file {path!r} is a JSON {json_kind(data)}, not an object")
    unknown = sorted(set(data) - _FILE_FIELDS)
    if unknown:
        raise ValueError(f"file {path!r} has an unknown field {unknown[0]!r}")
    try:
        return RecordedFile.of(
            key=_field(data, "key", str),
            kind=_field(data, "kind", str),
            sha256=_field(data, "sha256", str),
            size=_field(data, "size", int),
            content_type=_field(data, "content_type", str),
            cache_control=_field(data, "cache_control", str),
            md5=_field(data, "md5", str, ""),
            content_encoding=_optional(data, "content_encoding"),
            decoded_sha256=_field(data, "decoded_sha256", str, ""),
        )
    except ValueError as exc:
        raise ValueError(f"file {path!r}: {exc}") from None


def _parse_record(raw: bytes | str) -> dict[str, Any]:
    """parse_json_object's answer, with each well-formed file object already a RecordedFile."""
    try:
        data = _plain(json.loads(raw, object_pairs_hook=_FileReader().object))
    except ValueError as exc:  # not UTF-8, or not JSON
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"a JSON {json_kind(data)}, not an object")
    return data


def _plain(value: Any) -> Any:
    """A RecordedFile the parser made where no file belongs back as the object it was read
    from, so a message names what the JSON holds and `extra` stays plain JSON."""
    if isinstance(value, RecordedFile):
        return json.loads(_file_json(value))
    return value


class _FileReader:
    """Turns each JSON object shaped like a well-formed recorded file into a RecordedFile as
    the parser meets it, so a record is never a dict per file in memory, and shares the few
    distinct kinds and header values between files instead of a copy of each per file.
    Anything else stays a dict, for from_json to check and explain (a misspelt field, a wrong
    type)."""

    def __init__(self) -> None:
        self._shared: dict[str, str] = {}

    def object(self, pairs: list[tuple[str, Any]]) -> Any:
        data = dict(pairs)
        if not (_FILE_FIELDS_REQUIRED <= data.keys() <= _FILE_FIELDS):
            return data
        texts = [data[name] for name in _TEXT_FIELDS if name in data]
        size = data["size"]
        if not all(type(text) is str for text in texts) or type(size) is not int:
            return data
        share = self._shared.setdefault
        return RecordedFile.of(
            key=data["key"],
            kind=share(data["kind"], data["kind"]),
            sha256=data["sha256"],
            size=size,
            content_type=share(data["content_type"], data["content_type"]),
            cache_control=share(data["cache_control"], data["cache_control"]),
            md5=data.get("md5", ""),
            content_encoding=data.get("content_encoding"),
            decoded_sha256=data.get("decoded_sha256", ""),
        )


def _files_json(files: Mapping[str, RecordedFile]) -> Iterator[bytes]:
    """The record's "files" object in to_json's bytes, a file at a time."""
    yield b"{"
    for index, path in enumerate(sorted(files)):
        yield (b"," if index else b"") + _json_str(path).encode("ascii") + b":"
        yield _file_json(files[path])
    yield b"}"


_JSON_SPACE = re.compile(rb"[ \t\n\r]*")
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
# A string (whose brackets do not count) or a bracket: enough to find where a value ends.
_JSON_NESTING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
_JSON_SCALAR = re.compile(rb"[^ \t\n\r,\]}]+")


def _skip_space(raw: bytes | bytearray, at: int) -> int:
    space = _JSON_SPACE.match(raw, at)
    return space.end() if space else at


def _value_end(raw: bytes | bytearray, start: int) -> int:
    """Where the JSON value at `start` ends, found without building it. Only an end: the
    caller parses raw[start:end], which refuses anything that is not one whole value."""
    first = raw[start : start + 1]
    if first in (b"{", b"["):
        depth = 0
        for token in _JSON_NESTING.finditer(raw, start):
            bracket = raw[token.start()]
            if bracket in b"{[":
                depth += 1
            elif bracket in b"}]":
                depth -= 1
                if depth == 0:
                    return token.end()
        raise ValueError("not JSON: an object or array is not closed")
    found = (_JSON_STRING if first == b'"' else _JSON_SCALAR).match(raw, start)
    if found is None:
        raise ValueError(f"not JSON: no value at offset {start}")
    return found.end()


class _Sink(Protocol):
    def write(self, data: bytes, /) -> object: ...


class _JsonStream:
    """JSON text read in chunks, for the field scanner: what it has not consumed yet, and no
    more than the value it is looking at (a record's files are compared as they go by, so a
    40 MB record is never whole in memory)."""

    def __init__(self, source: BinaryIO, chunk: int = _STREAM_CHUNK) -> None:
        self._source = source
        self._chunk = chunk
        self.buffer = bytearray()
        self.at = 0  # where the unconsumed text starts in buffer
        self._consumed = 0  # bytes dropped from the buffer's front, for offsets in messages
        self._ended = False

    @property
    def offset(self) -> int:
        return self._consumed + self.at

    def more(self) -> bool:
        """Read the next chunk (dropping what was consumed); False at the end of the text."""
        if self._ended:
            return False
        chunk = self._source.read(self._chunk)
        if not chunk:
            self._ended = True
            return False
        del self.buffer[: self.at]
        self._consumed += self.at
        self.at = 0
        self.buffer += chunk
        return True

    def skip_space(self) -> None:
        while True:
            self.at = _skip_space(self.buffer, self.at)
            if self.at < len(self.buffer) or not self.more():
                return

    def next_byte(self) -> bytes:
        if self.at >= len(self.buffer):
            self.more()
        return bytes(self.buffer[self.at : self.at + 1])

    def take(self, part: bytes) -> bool:
        """Consume `part` if the text goes on with it."""
        while len(self.buffer) - self.at < len(part) and self.more():
            pass
        if not self.buffer.startswith(part, self.at):
            return False
        self.at += len(part)
        return True

    def value_end(self) -> int:
        """Where the JSON value at `at` ends in buffer, reading as far as it goes (a number
        at the end of a chunk may go on in the next)."""
        while True:
            try:
                end = _value_end(self.buffer, self.at)
                if end < len(self.buffer):
                    return end
            except ValueError:
                pass  # not whole yet, or not JSON: the rest of the text decides
            if not self.more():
                return _value_end(self.buffer, self.at)

    def base64_string(self, what: str, decoded: _Sink) -> bool:
        """The JSON string at `at`, decoded from base64 a chunk at a time into `decoded`, so
        that neither its text nor a copy of it is ever whole in memory; False if it holds
        escapes (the string is then left half consumed: the caller gives up on the text)."""
        self.at += 1  # the opening quote
        pending = b""  # base64 is decoded in groups of 4: a group cut by a chunk waits here
        while True:
            quote = self.buffer.find(b'"', self.at)
            stop = len(self.buffer) if quote == -1 else quote
            if self.buffer.find(b"\\", self.at, stop) != -1:
                return False
            text = pending + bytes(self.buffer[self.at : stop])
            whole = len(text) if quote != -1 else len(text) - len(text) % 4
            try:
                decoded.write(binascii.a2b_base64(text[:whole], strict_mode=True))
            except ValueError:
                raise ValueError(f"{what!r} is not base64") from None
            pending = text[whole:]
            if quote != -1:
                self.at = quote + 1
                return True
            self.at = stop
            if not self.more():
                raise ValueError(f"not JSON: {what!r} is not closed")

    def json_value(self, **loads: Any) -> Any:
        """The JSON value at `at`, parsed (json.loads with `loads`) and consumed."""
        end = self.value_end()
        found = json.loads(bytes(self.buffer[self.at : end]), **loads)
        self.at = end
        return found

    def member_name(self, what: str) -> Any:
        """An object member's name, consumed with its ':' and the spaces around it."""
        if self.next_byte() != b'"':
            raise ValueError(f"not JSON: no {what} at offset {self.offset}")
        name = self.json_value()
        self.skip_space()
        if not self.take(b":"):
            raise ValueError(f"not JSON: no ':' at offset {self.offset}")
        self.skip_space()
        return name

    def member_end(self) -> bool:
        """The ',' or '}' after an object member, consumed with the spaces around it: whether
        it was the '}'."""
        self.skip_space()
        separator = self.next_byte()
        if separator not in (b",", b"}"):
            raise ValueError(f"not JSON: no ',' or '}}' at offset {self.offset}")
        self.at += 1
        self.skip_space()
        return separator == b"}"

    def at_end(self) -> bool:
        self.skip_space()
        return self.at >= len(self.buffer) and not self.more()


def _fields_but_files(
    text: _JsonStream,
    files_match: Callable[[_JsonStream], bool],
    manifest_sink: Callable[[], _Sink] = io.BytesIO,
) -> dict[str, Any] | None:
    """Each top-level field of a record's JSON object parsed, but "files", which
    `files_match` compares as it consumes them (False: they differ, and so does this answer:
    None), and a base64 "manifest", decoded into a `manifest_sink()` (a BytesIO: the field is
    its bytes; else the sink itself). Every value is parsed on its own or matched byte for
    byte, and the separators between them are checked, so a text that is not one JSON object
    is refused as json.loads would."""
    fields: dict[str, Any] = {}
    text.skip_space()
    if not text.take(b"{"):
        raise ValueError("not JSON: not an object")
    text.skip_space()
    closed = text.take(b"}")
    while not closed:
        name = text.member_name("field name")
        if name in fields:
            return None  # which of the two counts is json.loads' rule: leave it to that
        if name == "files":
            if not files_match(text):
                return None
            fields[name] = None
        else:
            if name == "manifest" and text.next_byte() == b'"':
                # Decoded as it streams by: whole, the base64 of the 10 MB manifest of 100,000
                # files was 13 MB more in the buffer (and 26 MB more as a str and its JSON).
                sink = manifest_sink()
                if not text.base64_string(name, sink):
                    return None  # escapes, which no assetpub writes: not shown to be ours
                # getvalue() hands over the BytesIO's buffer: the bytes are not copied.
                fields[name] = sink.getvalue() if isinstance(sink, io.BytesIO) else sink
            else:
                fields[name] = text.json_value()
        closed = text.member_end()
    if not text.at_end():
        raise ValueError(f"not JSON: extra data at offset {text.offset}")
    return fields


def _parses_files_into(parsed: dict[str, Any]) -> Callable[[_JsonStream], bool]:
    """A files_match that parses the record's "files" into parsed["files"] a file at a time
    (each well-formed file a RecordedFile, as from_json makes them), never failing to match:
    what is no JSON raises, and what is JSON but no files is _from_fields' to explain."""
    reader = _FileReader()

    def parse(text: _JsonStream) -> bool:
        if text.next_byte() != b"{":
            parsed["files"] = _plain(text.json_value(object_pairs_hook=reader.object))
            return True
        files = parsed["files"] = {}
        text.at += 1
        text.skip_space()
        closed = text.take(b"}")
        while not closed:
            path = text.member_name("file path")
            # The last of a repeated path wins, as in json.loads.
            files[path] = text.json_value(object_pairs_hook=reader.object)
            closed = text.member_end()
        return True

    return parse


def _takes_all(parts: Iterator[bytes]) -> Callable[[_JsonStream], bool]:
    """A files_match that consumes `parts`, one after the other, if the text holds them."""
    return lambda text: all(text.take(part) for part in parts)


def _unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise ValueError(f"{what!r} is not base64") from None


def _compact_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


_RELEASE_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,127}")


def check_release_id(text: str) -> str:
    """`text` if it can be a release id (what new_release_id makes, or an older id of letters,
    digits, '.', '_' and '-'), else ConfigError: an id becomes part of a key, so '../state' or
    an empty string must never reach one."""
    if not _RELEASE_ID.fullmatch(text):
        shown = "an empty string" if not text.strip() else repr(text)
        raise ConfigError(
            f"{shown} is not a release id (e.g. 20261126T084653123Z-1a2b3c4d); "
            "see `assetpub releases`"
        )
    return text


def new_release_id(now: datetime) -> str:
    """UTC time first, to the millisecond, so ids sort by creation; a random tail so two
    publishes in the same instant still get distinct ids: '20261126T084653123Z-1a2b3c4d'."""
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S%f")[:-3]
    return f"{stamp}Z-{secrets.token_hex(4)}"


def asset_manifest_bytes(release_id: str, pairs: Iterable[tuple[str, str]]) -> bytes:
    """The bytes of json.dumps({"release": ..., "files": dict(pairs)}, indent=2,
    ensure_ascii=False) and a newline for (path, key) pairs sorted by path, written a line at
    a time: at 100,000 files the whole as a str and its bytes would be 40 MB at once."""
    out = io.BytesIO()
    for part in _manifest_parts(release_id, pairs):
        out.write(part)
    return out.getvalue()


def _manifest_parts(release_id: str, pairs: Iterable[tuple[str, str]]) -> Iterator[bytes]:
    """asset_manifest_bytes' bytes a line at a time, of (path, key) pairs sorted by path."""
    yield f'{{\n  "release": {_json_text(release_id)},\n  "files": {{'.encode()
    separator = ""
    for path, key in pairs:
        yield f"{separator}\n    {_json_text(path)}: {_json_text(key)}".encode()
        separator = ","
    yield b"\n  }\n}\n" if separator else b"}\n}\n"


def _manifest_pairs(files: Mapping[str, RecordedFile]) -> Iterator[tuple[str, str]]:
    """(build path, key) of every file, and asset-manifest.json's own, sorted by path: what
    the manifest of a release with these files lists."""
    paths = sorted(files)  # a list, not a set with the manifest's key (4 MB more)
    if ASSET_MANIFEST_KEY not in files:  # always: no build file may have that name
        bisect.insort(paths, ASSET_MANIFEST_KEY)
    for path in paths:
        yield path, (path if path == ASSET_MANIFEST_KEY else files[path].key)


def _write_base64(parts: Iterable[bytes], out: BinaryIO) -> None:
    """The base64 of the parts joined, written in slices of about _B64_SLICE bytes."""
    pending = bytearray()
    for part in parts:
        pending += part
        if len(pending) >= _B64_SLICE:
            whole = len(pending) - len(pending) % 3  # whole groups: the slices' base64 joins
            out.write(base64.b64encode(pending[:whole]))
            del pending[:whole]
    out.write(base64.b64encode(pending))


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
        files=PreparedFiles(prepared.files),
        entry_content=entry_content,
        stated_manifest=None,  # the one its files make: made when a write needs it
    )


class PreparedFiles(Mapping[str, RecordedFile]):
    """A publish's record's files, each made from the build's file when asked for: held as
    RecordedFiles in a dict, they said again what the PreparedFiles say (13 MB at 100,000
    files, for the whole publish)."""

    def __init__(self, files: Sequence[PreparedFile]) -> None:
        # Found by bisection: prepare_build makes its files in the order of their paths (a
        # build made otherwise, as in a test, is sorted here).
        if any(a.source >= b.source for a, b in zip(files, files[1:], strict=False)):
            files = sorted(files, key=_source)
            if any(a.source == b.source for a, b in zip(files, files[1:], strict=False)):
                raise ValueError("a build with two files of one path")
        self._files = files

    def __getitem__(self, path: str) -> RecordedFile:
        at = bisect.bisect_left(self._files, path, key=_source)
        if at == len(self._files) or self._files[at].source != path:
            raise KeyError(path)
        return _recorded(self._files[at])

    def __iter__(self) -> Iterator[str]:
        return (f.source for f in self._files)

    def __len__(self) -> int:
        return len(self._files)

    def __contains__(self, path: object) -> bool:
        if not isinstance(path, str):
            return False
        at = bisect.bisect_left(self._files, path, key=_source)
        return at < len(self._files) and self._files[at].source == path


def _source(file: PreparedFile) -> str:
    return file.source


def _recorded(f: PreparedFile) -> RecordedFile:
    return RecordedFile(
        f.key,
        f.kind.value,
        f.content_type,
        f.cache_control,
        f.digests,
        content_encoding=f.content_encoding,
        decoded_sha256=f.decoded.sha256 if f.decoded else "",
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


def load_record(origin: Origin, release_id: str, *, check: bool = True) -> ReleaseRecord:
    """The record of `release_id`. Raises NewerFormatError for a record a newer assetpub wrote,
    InvalidRecordError for one this code cannot read or (with `check`, the default) one whose
    content no publish could have written: nothing acts on what such a record names.
    GC passes check=False to see what an inconsistent record claims, so it can keep it."""
    key = release_record_key(release_id)
    try:
        # Spooled to a file and parsed from there a file at a time: its text, and a dict per
        # file, were 75 MB more at 100,000 files.
        with tempfile.TemporaryFile(prefix="assetpub-record-") as spool:
            if not origin.get_to(key, spool):
                raise MissingRecordError(origin.url, release_id)
            spool.seek(0)
            record = ReleaseRecord.from_stream(spool)
    except NewerFormat as exc:
        raise NewerFormatError(origin.url, key, exc.found, exc.known) from None
    except UnicodeDecodeError as exc:
        raise InvalidRecordError(origin.url, key, f"not JSON: {exc}") from None
    except ValueError as exc:
        raise InvalidRecordError(origin.url, key, str(exc)) from None
    problems = record.problems(release_id) if check else []
    if problems:
        raise InvalidRecordError(origin.url, key, problems[0] + and_more(len(problems)))
    return record


def load_record_if_files(
    origin: Origin, release_id: str, files: Mapping[str, RecordedFile]
) -> ReleaseRecord | None:
    """The record of `release_id` if its files are exactly `files` and load_record would
    accept it; else None (missing, unreadable, of a newer format, or other files)."""
    record, same = read_record_comparing(origin, release_id, files, parse_other=False)
    return record if same else None


def read_record_comparing(
    origin: Origin,
    release_id: str,
    files: Mapping[str, RecordedFile],
    *,
    parse_other: bool = True,
) -> tuple[ReleaseRecord | None, bool]:
    """The record of `release_id` (None: missing, unreadable, of a newer format, or no record
    a publish wrote) and whether its files are exactly `files`. The record goes to a
    temporary file and is compared from there a chunk at a time; only when its files differ,
    and `parse_other`, is it parsed whole (450 bytes a file)."""
    with tempfile.TemporaryFile(prefix="assetpub-record-") as spool:
        if not origin.get_to(release_record_key(release_id), spool):
            return None, False
        spool.seek(0)
        try:
            record = ReleaseRecord.from_json_with_files(spool, files)
            same = record is not None
            if record is None and parse_other:
                spool.seek(0)
                record = ReleaseRecord.from_stream(spool)
        except ValueError:  # NewerFormat and UnicodeDecodeError included: not comparable
            return None, False
    if record is None or record.problems(release_id):
        return None, False
    return record, same


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
    return release_named_by(origin.get(ASSET_MANIFEST_KEY))


def release_named_by(asset_manifest: bytes | None) -> str | None:
    """The release an asset-manifest.json's bytes name, or None (missing or unreadable)."""
    try:
        release = json.loads(asset_manifest)["release"] if asset_manifest else None
    except (ValueError, KeyError, TypeError):
        return None
    return release if isinstance(release, str) else None


def keys_in_asset_manifest(asset_manifest: bytes | None) -> set[str]:
    """Every key an asset-manifest.json's bytes make part of the live site: the manifest
    itself, each file it maps and each key it maps to (build paths are the entry, plain and
    bundler files' keys). Read from the origin, never assumed: whatever it names, GC keeps."""
    keys = {ASSET_MANIFEST_KEY}
    try:
        files = json.loads(asset_manifest)["files"] if asset_manifest else {}
    except (ValueError, KeyError, TypeError):
        return keys
    if isinstance(files, dict):
        keys |= {k for k in files if isinstance(k, str)}
        keys |= {v for v in files.values() if isinstance(v, str)}
    return keys
