"""The one model of what a release owns on an origin, as table tests of its pure answers
(what each file is stored as, the keys it needs, what a listing lacks) and of the one
predicate for "this listed object already holds these bytes"."""

import base64
import inspect
import io
import json
import re
from dataclasses import replace

import pytest
from history_support import recorded_release

from assetpub.build.hashing import digest_bytes, hashed_name
from assetpub.history.record import (
    MissingObject,
    RecordedFile,
    ReleaseRecord,
    Storage,
    asset_manifest_bytes,
)
from assetpub.history.state import NewerFormat
from assetpub.keys import blob_key
from assetpub.origins.base import RemoteObject

SHA = {name: name[0] * 64 for name in ("aaa", "bbb", "ccc", "ddd")}


def recorded(key: str, kind: str, sha: str, size: int = 10, md5: str = "") -> RecordedFile:
    return RecordedFile.of(key, kind, sha, size, "text/plain", "no-cache", md5)


RELEASE = ReleaseRecord(
    id="20261201T000000000Z-00000000",
    created_at="2026-12-01T00:00:00.000Z",
    git_commit=None,
    message=None,
    tool_version="test",
    created_by="t@h",
    files={
        "index.html": recorded("index.html", "entry", SHA["aaa"]),
        "css/site.css": recorded("css/site.0123456789ab.css", "hashed", SHA["bbb"]),
        "main.4978e1e1.js": recorded("main.4978e1e1.js", "bundler", SHA["ccc"]),
        "img/logo.png": recorded("img/logo.png", "plain", SHA["ddd"], size=7),
    },
    entry_content={"index.html": b"<p>"},
    stated_manifest=b"{}",
)


@pytest.mark.parametrize(
    ("path", "storage", "owned"),
    [
        ("index.html", Storage.RECORD, None),
        ("css/site.css", Storage.KEY, "css/site.0123456789ab.css"),
        ("main.4978e1e1.js", Storage.KEY, "main.4978e1e1.js"),
        ("img/logo.png", Storage.BLOB, blob_key(SHA["ddd"])),
    ],
)
def test_what_each_file_is_stored_as(path: str, storage: Storage, owned: str | None) -> None:
    file = RELEASE.files[path]
    assert file.storage == storage
    assert file.owned_key == owned
    assert file.headers.sha256 == file.sha256


def test_owned_keys_never_include_a_mutable_name() -> None:
    assert RELEASE.owned_keys() == {
        "css/site.0123456789ab.css",
        "main.4978e1e1.js",
        blob_key(SHA["ddd"]),
    }


@pytest.mark.parametrize(
    ("listing", "missing"),
    [
        pytest.param(
            {
                "css/site.0123456789ab.css": RemoteObject("css/site.0123456789ab.css", 10),
                "main.4978e1e1.js": RemoteObject("main.4978e1e1.js", 10),
                blob_key(SHA["ddd"]): RemoteObject(blob_key(SHA["ddd"]), 7),
            },
            [],
            id="whole",
        ),
        pytest.param(
            {"main.4978e1e1.js": RemoteObject("main.4978e1e1.js", 9)},
            [
                MissingObject("css/site.0123456789ab.css", "missing (needed for css/site.css)"),
                MissingObject(blob_key(SHA["ddd"]), "missing (needed for img/logo.png)"),
                # A script at another size may hold it in another encoding (compression
                # turned on or off since): not missing by the listing; verify's HEAD decides.
            ],
            id="missing-and-resized-script",
        ),
        pytest.param(
            # The plain file's mutable key being there is no substitute for its blob.
            {
                "img/logo.png": RemoteObject("img/logo.png", 7),
                "css/site.0123456789ab.css": RemoteObject("css/site.0123456789ab.css", 10),
                "main.4978e1e1.js": RemoteObject("main.4978e1e1.js", 10),
            },
            [MissingObject(blob_key(SHA["ddd"]), "missing (needed for img/logo.png)")],
            id="blob-missing",
        ),
    ],
)
def test_missing_from_a_listing(
    listing: dict[str, RemoteObject], missing: list[MissingObject]
) -> None:
    assert sorted(RELEASE.missing_from(listing), key=lambda m: m.key) == sorted(
        missing, key=lambda m: m.key
    )


MD5 = "0cc175b9c0f1b6a831c399e269772661"


@pytest.mark.parametrize(
    ("remote", "size", "md5", "holds"),
    [
        (RemoteObject("k", 1, MD5), 1, MD5, True),
        (RemoteObject("k", 1, MD5.upper()), 1, MD5, True),  # ETag case does not matter
        (RemoteObject("k", 2, MD5), 1, MD5, False),  # another size settles it
        (RemoteObject("k", 1, "f" * 32), 1, MD5, None),  # another ETag may be multipart/KMS
        (RemoteObject("k", 1, MD5 + "-2"), 1, MD5, None),  # multipart
        (RemoteObject("k", 1, None), 1, MD5, None),  # a folder origin has no ETag
        (RemoteObject("k", 1, MD5), 1, "", None),  # an old record without an MD5
    ],
)
def test_holds(remote: RemoteObject, size: int, md5: str, holds: bool | None) -> None:
    assert remote.holds(size, md5) is holds


# --------------------------------------------------------------------------------------------
# What GC may delete: only keys derived from a record's paths and digests, and nothing at all
# from a record no publish could have written.

HONEST = recorded_release(
    "20261201T000000000Z-00000001",
    {
        "index.html": ("entry", b"<p>"),
        "css/site.css": ("hashed", b"body{}"),
        "main.4978e1e1.js": ("bundler", b"js"),
        # Recorded as bundler on evidence only the build had (its bundler manifest).
        "vendor.js": ("bundler", b"vendor"),
        "img/logo.png": ("plain", b"logo"),
    },
)


def test_collectable_keys_are_derived_from_paths_and_digests() -> None:
    files = HONEST.files
    assert HONEST.problems(HONEST.id) == []
    assert HONEST.collectable_keys() == {
        hashed_name("css/site.css", files["css/site.css"].sha256),
        "main.4978e1e1.js",
        blob_key(files["img/logo.png"].sha256),
    }
    # Entry and plain names belong to whatever is live; vendor.js's evidence is gone.
    assert {"index.html", "img/logo.png", "vendor.js"}.isdisjoint(HONEST.collectable_keys())


NEXT_STATIC = ("_next/static/b1d/_buildManifest.js", "_next/static/chunks/app-0a1b2c3d4e5f6a7b.js")


@pytest.mark.parametrize(
    ("page", "files", "collectable"),
    [
        # Next.js documents _next/static/ as content-hashed: the record's own paths show it.
        ("<p>", NEXT_STATIC, set(NEXT_STATIC)),
        # The same names outside a detected framework's folder: only the hash shape counts.
        (
            "<p>",
            ("b1d/_buildManifest.js", "chunks/app-0a1b2c3d4e5f6a7b.js"),
            {"chunks/app-0a1b2c3d4e5f6a7b.js"},
        ),
        # Gatsby's static/ folder, known by the generator of the page in the record.
        (
            '<meta name="generator" content="Gatsby 5.13">',
            ("static/logo.png",),
            {"static/logo.png"},
        ),
        ("<p>", ("static/logo.png",), set()),
    ],
    ids=["next-folder", "no-framework", "gatsby-generator", "no-generator"],
)
def test_bundler_evidence_is_what_the_record_itself_proves(
    page: str, files: tuple[str, ...], collectable: set[str]
) -> None:
    recorded: dict[str, tuple[str, bytes]] = {"index.html": ("entry", page.encode())}
    recorded |= {path: ("bundler", path.encode()) for path in files}
    record = recorded_release("20261201T000000000Z-00000002", recorded)
    assert record.problems(record.id) == []
    assert record.collectable_keys() == collectable


def changed(file: RecordedFile, **changes: object) -> RecordedFile:
    """`file` with some of the fields a record holds for it changed (sha256 as any str)."""
    fields = {
        "key": file.key,
        "kind": file.kind,
        "sha256": file.sha256,
        "size": file.size,
        "content_type": file.content_type,
        "cache_control": file.cache_control,
        "md5": file.md5,
    }
    return RecordedFile.of(**{**fields, **changes})  # type: ignore[arg-type]


def _edit(
    path: str, record: ReleaseRecord = HONEST, rename: str | None = None, **changes: object
) -> ReleaseRecord:
    """HONEST with one recorded file changed (its fields, or the path it is recorded under)."""
    files = dict(record.files)
    file = changed(files.pop(path), **changes)
    files[rename or path] = file
    return replace(record, files=files)


@pytest.mark.parametrize(
    ("record", "problem"),
    [
        pytest.param(
            _edit("index.html", kind="hashed"), "is not its hashed name", id="kind-hashed"
        ),
        pytest.param(
            _edit("css/site.css", key="_assetpub/state.json"), "not its hashed", id="key-state"
        ),
        pytest.param(_edit("css/site.css", key="index.html"), "not its hashed", id="key-index"),
        pytest.param(
            _edit("css/site.css", key="uploads/avatar.png"), "not its hashed", id="key-foreign"
        ),
        pytest.param(
            _edit("css/site.css", key="../outside.css"), "not its hashed", id="key-outside"
        ),
        pytest.param(_edit("img/logo.png", key="img/other.png"), "plain name", id="plain-key"),
        pytest.param(_edit("img/logo.png", kind="asset"), "unknown kind", id="unknown-kind"),
        pytest.param(_edit("img/logo.png", sha256="zz"), "not a SHA-256", id="bad-digest"),
        pytest.param(
            _edit("img/logo.png", rename="../logo.png", key="../logo.png"),
            "not a relative path",
            id="dotdot-path",
        ),
        pytest.param(
            _edit("img/logo.png", rename="/img/logo.png", key="/img/logo.png"),
            "not a relative path",
            id="absolute-path",
        ),
        pytest.param(
            _edit(
                "main.4978e1e1.js",
                rename="_assetpub/releases/20261201T000000000Z-1a2b3c4d.json",
                key="_assetpub/releases/20261201T000000000Z-1a2b3c4d.json",
            ),
            "assetpub's own",
            id="reserved-path",
        ),
        pytest.param(
            replace(HONEST, entry_content={**HONEST.entry_content, "_assetpub/state.json": b"{}"}),
            "entry content and entry files differ",
            id="entry-content",
        ),
        pytest.param(replace(HONEST, id="20261201T000000000Z-ffffffff"), "its id", id="other-id"),
    ],
)
def test_a_record_no_publish_wrote_yields_nothing_to_collect(
    record: ReleaseRecord, problem: str
) -> None:
    problems = record.problems(HONEST.id)
    assert problems and problem in problems[0]
    if record.id == HONEST.id:
        assert record.collectable_keys() == set()


def test_a_consistent_record_naming_a_foreign_object_gets_no_key_deleted() -> None:
    # A bundler file's key is its path: consistent, but no hash shape proves it immutable.
    record = _edit("vendor.js", rename="uploads/avatar.png", key="uploads/avatar.png")
    assert record.problems(HONEST.id) == []
    assert "uploads/avatar.png" not in record.collectable_keys()


_A_FILE = {
    "key": "a.js",
    "kind": "plain",
    "sha256": SHA["aaa"],
    "size": 1,
    "content_type": "text/javascript",
    "cache_control": "no-cache",
}


def _record_json(**changes: object) -> bytes:
    data = json.loads(HONEST.to_json())
    data.update(changes)
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    ("raw", "error"),
    [
        (b"{not json", "not JSON"),
        (b"[]", "a JSON array, not an object"),
        (b'"record"', "a JSON string, not an object"),
        (_record_json(files=None), "'files' is a JSON null"),
        (_record_json(id=7), "'id' is a JSON number"),
        (_record_json(format="1"), "is not a format number"),
        (_record_json(manifest="%%%"), "not base64"),
        (_record_json(files={"a.js": {"key": "a.js"}}), "'kind' is missing"),
        (_record_json(files={"a.js": []}), "is a JSON array"),
        # Shaped like a recorded file, but where none belongs, or with a field of another type.
        (_record_json(manifest=_A_FILE), "'manifest' is a JSON object"),
        (_record_json(files={"a.js": {**_A_FILE, "size": True}}), "'size' is a JSON boolean"),
        (_record_json(files={"a.js": {**_A_FILE, "etag": ""}}), "unknown field 'etag'"),
        (json.dumps(_A_FILE).encode(), "'files' is missing"),
    ],
)
def test_a_record_that_is_no_record_is_refused_when_read(raw: bytes, error: str) -> None:
    with pytest.raises(ValueError, match=re.escape(error)) as caught:
        ReleaseRecord.from_json(raw)
    assert not isinstance(caught.value, NewerFormat)


def test_a_record_of_a_newer_format_is_refused_before_anything_else() -> None:
    with pytest.raises(NewerFormat) as caught:
        ReleaseRecord.from_json(b'{"format": 2, "files": "whatever a newer assetpub writes"}')
    assert (caught.value.found, caught.value.known) == (2, 1)
    assert ReleaseRecord.from_json(HONEST.to_json()) == HONEST


_ENCODING_FIELDS = {"content_encoding", "decoded_sha256"}


def test_a_record_round_trips_through_its_json_with_every_field() -> None:
    raw = RELEASE.to_json()
    assert ReleaseRecord.from_json(raw) == RELEASE
    written = json.loads(raw)["files"]
    # Every field a recorded file is made of (RecordedFile.of's parameters) is written, but
    # the encoding's two, which only a compressed file has (older readers know no others).
    fields_of_a_file = set(inspect.signature(RecordedFile.of).parameters) - _ENCODING_FIELDS
    assert all(set(entry) == fields_of_a_file for entry in written.values())
    encoded = replace(
        RELEASE.files["main.4978e1e1.js"], content_encoding="gzip", decoded_sha256=SHA["aaa"]
    )
    record = replace(RELEASE, files={**RELEASE.files, "main.4978e1e1.js": encoded})
    entry = json.loads(record.to_json())["files"]["main.4978e1e1.js"]
    assert set(entry) == fields_of_a_file | _ENCODING_FIELDS
    assert ReleaseRecord.from_json(record.to_json()) == record


def test_a_record_is_written_as_json_dumps_writes_it_and_read_back() -> None:
    """The record is written file by file; its bytes are still those of json.dumps over the
    whole record (sorted keys, compact), so every earlier reader reads it, and what the
    streaming reader makes of them is the record again."""
    files = {
        **RELEASE.files,
        'é/"quoted".js': recorded('é/"quoted".js', "plain", SHA["bbb"], md5="0" * 32),
    }
    record = replace(RELEASE, files=files, message="ünïcode ☃", extra={"zz": {"a": [1]}, "a": 2})
    written = {
        "format": record.format,
        "id": record.id,
        "created_at": record.created_at,
        "git_commit": record.git_commit,
        "message": record.message,
        "tool_version": record.tool_version,
        "created_by": record.created_by,
        "files": {
            path: {
                name: getattr(f, name)
                for name in inspect.signature(RecordedFile.of).parameters
                if name not in _ENCODING_FIELDS or getattr(f, name)
            }
            for path, f in files.items()
        },
        "entry_content": {"index.html": "PHA+"},
        "manifest": "e30=",
        **record.extra,
    }
    expected = json.dumps(written, sort_keys=True, separators=(",", ":")).encode()
    assert record.to_json() == expected
    assert ReleaseRecord.from_json(expected) == record
    assert ReleaseRecord.from_json(expected.decode()) == record


def test_a_record_is_read_with_the_files_it_is_compared_with_when_its_bytes_are_theirs() -> None:
    """How a publish asks "is the live release this build?" without a RecordedFile per file:
    the live record's files are compared as bytes, and the build's own files stand in."""
    record = replace(
        RELEASE,
        message='a "}{[" message\\ with what brackets and escapes look like',
        extra={"a_extra": {"files": {"x": [1, "}"]}}, "zz": None},
    )
    raw = record.to_json()
    files = dict(record.files)
    read = ReleaseRecord.from_json_with_files(raw, files)
    assert read == ReleaseRecord.from_json(raw) == record
    assert read is not None and read.files == files
    assert read.files["index.html"] is files["index.html"]
    # Spaces anywhere between the parts are JSON too.
    spaced = raw.replace(b'{"a_extra":', b' { "a_extra" : ', 1)
    spaced = spaced.replace(b',"files":', b' , "files" :')
    assert spaced != raw
    assert ReleaseRecord.from_json_with_files(spaced + b"\n", files) == record


@pytest.mark.parametrize(
    "files",
    [
        {**RELEASE.files, "img/logo.png": changed(RELEASE.files["img/logo.png"], size=8)},
        {**RELEASE.files, "img/logo.png": changed(RELEASE.files["img/logo.png"], md5="0" * 32)},
        {**RELEASE.files, "b.txt": recorded("b.txt", "plain", SHA["aaa"])},
        {p: f for p, f in RELEASE.files.items() if p != "img/logo.png"},
        {},
    ],
    ids=["size", "md5", "one more", "one fewer", "none"],
)
def test_a_record_with_other_files_is_not_read_as_one_with_these(
    files: dict[str, RecordedFile],
) -> None:
    assert ReleaseRecord.from_json_with_files(RELEASE.to_json(), files) is None


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 64, 1 << 20])
def test_a_record_is_compared_as_it_streams_whatever_its_chunks(chunk: int) -> None:
    """Read from a file in chunks of any size (a field name, a number, the base64 manifest
    and a file's JSON cut anywhere), the answer is the one for the whole bytes."""
    raw = RELEASE.to_json()
    same = ReleaseRecord.from_json_with_files(io.BytesIO(raw), RELEASE.files, chunk=chunk)
    assert same == RELEASE
    other = {**RELEASE.files, "b.txt": recorded("b.txt", "plain", SHA["aaa"])}
    assert ReleaseRecord.from_json_with_files(io.BytesIO(raw), other, chunk=chunk) is None
    with pytest.raises(ValueError, match="extra data"):
        ReleaseRecord.from_json_with_files(io.BytesIO(raw + b" {}"), RELEASE.files, chunk=chunk)


def test_the_same_files_written_another_way_count_as_other_files() -> None:
    """Equal JSON in other bytes (an older writer's spacing, a repeated field) is not
    proven equal: the answer is None, and the publish goes ahead (the safe side)."""
    data = json.loads(RELEASE.to_json())
    for raw in (
        json.dumps(data, sort_keys=True).encode(),
        json.dumps(data, sort_keys=True, indent=1).encode(),
        RELEASE.to_json()[:-1] + b',"id":"other"}',
    ):
        assert ReleaseRecord.from_json_with_files(raw, RELEASE.files) is None


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"{not json",
        b"[]",
        RELEASE.to_json()[:-1],
        RELEASE.to_json() + b"{}",
        RELEASE.to_json().replace(b'"created_by":', b'"created_by"'),
        RELEASE.to_json().replace(b'"id":"', b'"id":["'),
        RELEASE.to_json().replace(b'"tool_version":"test"', b'"tool_version":tru'),
        RELEASE.to_json().replace(b'"id":"20261201T000000000Z-00000000"', b'"id":7'),
    ],
    ids=["empty", "not json", "array", "cut", "extra data", "no colon", "open", "bad", "id"],
)
def test_what_is_no_record_is_refused_when_compared_too(raw: bytes) -> None:
    with pytest.raises(ValueError) as caught:
        ReleaseRecord.from_json_with_files(raw, RELEASE.files)
    assert not isinstance(caught.value, NewerFormat)


def test_a_newer_record_with_the_same_files_is_refused_as_newer() -> None:
    raw = RELEASE.to_json().replace(b'"format":1', b'"format":2')
    with pytest.raises(NewerFormat):
        ReleaseRecord.from_json_with_files(raw, RELEASE.files)


def test_a_large_asset_manifest_is_written_as_one_base64_string() -> None:
    """The manifest's base64 is written in slices; joined, they are the whole's base64."""
    manifest = bytes(range(256)) * 2000 + b"tail"  # several slices, and not a multiple of 3
    record = replace(RELEASE, stated_manifest=manifest)
    written = json.loads(record.to_json())
    assert written["manifest"] == base64.b64encode(manifest).decode()
    assert ReleaseRecord.from_json(record.to_json()) == record


@pytest.mark.parametrize(
    "file_map",
    [{}, {"b.js": "b.0123456789ab.js", 'a/é"\n\t.js': "x", "☃": "☃", "asset-manifest.json": "a"}],
)
def test_the_asset_manifest_is_written_as_json_dumps_writes_it(file_map: dict[str, str]) -> None:
    expected = {"release": 'r"é', "files": dict(sorted(file_map.items()))}
    written = asset_manifest_bytes('r"é', sorted(file_map.items()))
    assert written == (json.dumps(expected, indent=2, ensure_ascii=False) + "\n").encode()


@pytest.mark.parametrize("chunk", [1, 7, 1 << 20])
def test_a_record_states_no_manifest_when_its_files_make_it(chunk: int) -> None:
    """A publish's record makes its asset-manifest.json of its id and files when asked; read
    back to compare, a record holding exactly that manifest states none either (its bytes
    went by as digests), and all of them are the record written."""
    derived = replace(RELEASE, stated_manifest=None)
    pairs = sorted([*((p, f.key) for p, f in derived.files.items()), ("asset-manifest.json",) * 2])
    expected = asset_manifest_bytes(derived.id, pairs)
    assert derived.asset_manifest == expected and derived.asset_manifest_digests == digest_bytes(
        expected
    )
    assert json.loads(expected) == {"release": derived.id, "files": dict(pairs)}
    raw = derived.to_json()
    read = ReleaseRecord.from_json_with_files(io.BytesIO(raw), derived.files, chunk=chunk)
    assert read is not None and read.stated_manifest is None
    assert (
        read
        == derived
        == ReleaseRecord.from_json(raw)
        == replace(RELEASE, stated_manifest=expected)
    )
    assert read.asset_manifest == expected
    # A manifest one space apart, or the same under another id, is another: stated, as read.
    for other in (
        expected.replace(b'"files":', b'"files" :'),
        replace(derived, id="x").asset_manifest,
    ):
        record = replace(derived, stated_manifest=other)
        read = ReleaseRecord.from_json_with_files(
            io.BytesIO(record.to_json()), derived.files, chunk=chunk
        )
        assert read is not None and read.stated_manifest == other and read != derived


@pytest.mark.parametrize("chunk", [1, 5, 1 << 20])
def test_a_manifest_read_as_it_streams_is_the_manifest_written(chunk: int) -> None:
    """The manifest's base64 is decoded a chunk at a time: groups of four cut anywhere, the
    padding at the end, and a manifest larger than a chunk come out as the bytes written."""
    for manifest in (b"", b"a", b"ab", bytes(range(256)) * 40 + b"tail"):
        record = replace(RELEASE, stated_manifest=manifest)
        read = ReleaseRecord.from_json_with_files(
            io.BytesIO(record.to_json()), RELEASE.files, chunk=chunk
        )
        assert read is not None and read.asset_manifest == manifest


def test_a_manifest_with_escapes_is_not_shown_to_be_ours_and_bad_base64_is_no_record() -> None:
    raw = replace(RELEASE, stated_manifest=b"\xff\xff\xff" * 3).to_json()
    assert b"////" in raw
    # "\/" is JSON for "/": json.loads reads the same record, but no assetpub writes it.
    escaped = raw.replace(b"////", b"\\/\\/\\/\\/", 1)
    assert ReleaseRecord.from_json(escaped) == ReleaseRecord.from_json(raw)
    assert ReleaseRecord.from_json_with_files(escaped, RELEASE.files) is None
    with pytest.raises(ValueError, match="'manifest' is not base64"):
        ReleaseRecord.from_json_with_files(raw.replace(b"////", b"//=/", 1), RELEASE.files)
    cut = raw[: raw.index(b'"manifest":"') + 14]
    with pytest.raises(ValueError, match="not closed"):
        ReleaseRecord.from_json_with_files(io.BytesIO(cut), RELEASE.files, chunk=4)


@pytest.mark.parametrize("chunk", [1, 7, 64, 1 << 20])
def test_a_record_parsed_as_it_streams_is_the_record_json_loads_reads(chunk: int) -> None:
    """load_record parses a record a file at a time from its spool: the same record as a
    whole parse, whatever the chunks, spaces between the parts, a repeated file path (the
    last wins, as in json.loads) or field (read again whole); and what is no record is
    refused with the same kind of error."""
    record = replace(RELEASE, message='a "}{" message', extra={"z": {"files": [1]}})
    raw = record.to_json()
    assert ReleaseRecord.from_stream(io.BytesIO(raw), chunk=chunk) == record
    spaced = raw.replace(b'"files":{', b' "files" : { ', 1).replace(b'},"img', b'} ,\n"img', 1)
    assert spaced != raw
    assert ReleaseRecord.from_stream(io.BytesIO(spaced), chunk=chunk) == record
    twice = raw.replace(b'"files":{', b'"files":{"index.html":{},', 1)
    assert ReleaseRecord.from_stream(io.BytesIO(twice), chunk=chunk) == record
    repeated = raw[:-1] + b',"message":"again"}'
    assert ReleaseRecord.from_stream(io.BytesIO(repeated), chunk=chunk).message == "again"
    for broken in (raw[:-1], raw.replace(b'"files":{', b'"files":{"a"', 1), b"[]"):
        with pytest.raises(ValueError):
            ReleaseRecord.from_stream(io.BytesIO(broken), chunk=chunk)
    listed = json.dumps({**json.loads(raw), "files": [1]}).encode()
    with pytest.raises(ValueError, match="files"):
        ReleaseRecord.from_stream(io.BytesIO(listed), chunk=chunk)
