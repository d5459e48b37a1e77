"""Origins: one contract run on memory, a local folder and S3 (moto over HTTP), then what each
backend adds (atomic files, S3 error messages, request counts), URL parsing and dry runs."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest
from backends import Backend
from fixture_types import MakeBucket, S3Client

from assetpub.errors import AlreadyExistsError, ConfigError, OriginError, PreconditionFailedError
from assetpub.origins import (
    ObjectHeaders,
    Origin,
    OriginSpec,
    RemoteObject,
    as_dry_run,
    open_origin,
    parse_origin_url,
)
from assetpub.origins.dryrun import DryRunOrigin
from assetpub.origins.folder import LOCK_NAME, TEMP_PREFIX, FolderOrigin
from assetpub.origins.memory import MemoryOrigin

if TYPE_CHECKING:
    from assetpub.origins.s3 import S3Origin

MiB = 1024 * 1024


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def headers_for(data: bytes, content_type: str = "text/plain") -> ObjectHeaders:
    return ObjectHeaders(content_type, "no-cache", sha256_hex(data))


def requests(origin: Origin, operation: str) -> int:
    return origin.stats.by_operation.get(operation, 0)


def cas_append(origin: Origin, key: str, item: str) -> int:
    """Append `item` to the JSON list at `key` by compare-and-swap, re-reading after each lost
    race; returns how many races were lost. (Also run by the child processes of a test.)"""
    for lost in range(500):
        current = origin.read(key)
        assert current is not None
        data = json.dumps([*json.loads(current.data), item]).encode()
        try:
            origin.put_bytes(
                key, data, headers_for(data, "application/json"), if_match=current.etag
            )
            return lost
        except PreconditionFailedError:
            continue
    raise AssertionError(f"{item}: lost 500 races in a row")


@pytest.fixture
def origin(backend: Backend) -> Origin:
    return backend.open()


# --- the contract every origin keeps --------------------------------------------------------


def test_put_get_round_trip(origin: Origin, tmp_path: Path) -> None:
    origin.check()
    origin.put_bytes("index.html", b"<h1>hi</h1>", headers_for(b"<h1>hi</h1>", "text/html"))
    source = tmp_path / "app.js"
    source.write_bytes(b"console.log(1)")
    origin.put_file("assets/app.1234.js", source, headers_for(b"console.log(1)"))

    assert origin.get("index.html") == b"<h1>hi</h1>"
    assert origin.get("assets/app.1234.js") == b"console.log(1)"
    assert origin.get("missing.html") is None
    assert origin.sha256("missing.html") is None
    listing = {obj.key: obj.size for obj in origin.list()}
    assert listing == {"index.html": 11, "assets/app.1234.js": 14}


def test_put_replaces_existing_object(origin: Origin) -> None:
    origin.put_bytes("index.html", b"old", headers_for(b"old"))
    origin.put_bytes("index.html", b"new!", headers_for(b"new!"))
    assert origin.get("index.html") == b"new!"
    assert origin.sha256("index.html") == hashlib.sha256(b"new!").hexdigest()


def test_bulk_list_and_delete_go_1000_keys_a_request(backend: Backend, origin: Origin) -> None:
    # One seeding for both checks: 1,500 tiny objects take seconds to create on moto.
    pages = [f"bulk/{i:04}.js" for i in range(1001)]
    rest = [f"old/{i:03}.js" for i in range(499)]
    backend.seed([*pages, *rest, "keep.js"])
    lists, deletes = requests(origin, "list"), requests(origin, "delete")

    listed = list(origin.list("bulk/"))

    assert sorted(obj.key for obj in listed) == pages
    assert all(obj.size == 1 for obj in listed)
    origin.delete([*pages, *rest, "never-existed.js"])
    assert [obj.key for obj in origin.list()] == ["keep.js"]
    if backend.kind != "folder":  # a folder has no pages, and unlinks file by file
        assert requests(origin, "list") - lists == 2 + 1
        assert requests(origin, "delete") - deletes == 2


def test_list_filters_by_key_prefix_not_folder(origin: Origin) -> None:
    for key in ("assets/main.js", "assets/main.css", "assets/vendor.js", "assets-old/x.js"):
        origin.put_bytes(key, b"x", headers_for(b"x"))
    assert sorted(obj.key for obj in origin.list("assets/main")) == [
        "assets/main.css",
        "assets/main.js",
    ]
    assert [obj.key for obj in origin.list("assets-old/")] == ["assets-old/x.js"]
    assert list(origin.list("nothing/")) == []


def test_a_listing_holds_each_key_once_in_no_promised_order(origin: Origin) -> None:
    """Callers index a listing by key: its order is the server's (SeaweedFS lists folder by
    folder, "a/b/c.js" before "a-b.js"; a folder origin as scandir finds the files)."""
    keys = ["a/b/c.js", "a-b.js", "a.c", "a/z.js", "a0", "ab/x.js", "a/b.js", "b", "a/b-c/d"]
    for key in keys:
        origin.put_bytes(key, b"x", headers_for(b"x"))
    assert sorted(obj.key for obj in origin.list()) == sorted(keys)
    under = sorted(obj.key for obj in origin.list("a/b"))
    assert under == sorted(k for k in keys if k.startswith("a/b"))


def test_objects_outside_the_prefix_are_never_listed(backend: Backend, origin: Origin) -> None:
    if backend.write_outside is None:
        pytest.skip("a memory origin has nothing outside it")
    origin.put_bytes("index.html", b"in", headers_for(b"in"))
    for name in ("site2/index.html", "sitemap.xml", "other/site/index.html"):
        backend.write_outside(name, b"out")

    assert [obj.key for obj in origin.list()] == ["index.html"]
    assert origin.get("index.html") == b"in"


def test_if_absent_refuses_to_replace(origin: Origin) -> None:
    origin.put_bytes("releases/r1.json", b"first", headers_for(b"first"), if_absent=True)
    with pytest.raises(AlreadyExistsError) as caught:
        origin.put_bytes("releases/r1.json", b"second", headers_for(b"second"), if_absent=True)
    assert caught.value.key == "releases/r1.json"
    assert origin.get("releases/r1.json") == b"first"
    assert origin.sha256("releases/r1.json") == hashlib.sha256(b"first").hexdigest()


def test_a_file_written_if_absent_refuses_to_replace_whatever_its_size(
    backend: Backend, tmp_path: Path
) -> None:
    """A release record is written from a file: create-only, in one request even above the
    multipart threshold (multipart checks no condition until the upload completes)."""
    origin = backend.open(multipart_threshold=5 * MiB)
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    first.write_bytes(b"1" * (6 * MiB))
    second.write_bytes(b"second")
    origin.put_file("releases/r1.json", first, headers_for(first.read_bytes()), if_absent=True)
    with pytest.raises(AlreadyExistsError):
        origin.put_file("releases/r1.json", second, headers_for(b"second"), if_absent=True)
    assert origin.get("releases/r1.json") == first.read_bytes()
    dry = backend.open(dry_run=True)
    with pytest.raises(AlreadyExistsError):
        dry.put_file("releases/r1.json", second, headers_for(b"second"), if_absent=True)


def test_get_to_streams_an_object_into_a_file(origin: Origin, tmp_path: Path) -> None:
    data = os.urandom(3 * MiB + 1)  # more than one chunk of S3's stream
    origin.put_bytes("releases/r1.json", data, headers_for(data))
    with (tmp_path / "out").open("w+b") as out:
        assert origin.get_to("releases/r1.json", out) is True
        out.seek(0)
        assert out.read() == data
        assert origin.get_to("releases/none.json", out) is False


def test_sha256_round_trips_through_metadata(origin: Origin) -> None:
    data = b"body { color: red }"
    origin.put_bytes("assets/site.css", data, headers_for(data, "text/css"))
    assert origin.sha256("assets/site.css") == hashlib.sha256(data).hexdigest()


def test_large_file_streams_and_keeps_its_digest(backend: Backend, tmp_path: Path) -> None:
    origin = backend.open(multipart_threshold=5 * MiB)
    data = os.urandom(6 * MiB)
    source = tmp_path / "big.wasm"
    source.write_bytes(data)
    origin.put_file("assets/big.wasm", source, headers_for(data, "application/wasm"))

    assert origin.sha256("assets/big.wasm") == hashlib.sha256(data).hexdigest()
    assert origin.get("assets/big.wasm") == data
    [listed] = origin.list("assets/")
    assert listed.size == len(data)
    if backend.is_s3:
        assert listed.etag is not None and "-" in listed.etag  # really a multipart upload


def test_delete_nothing_sends_nothing(origin: Origin) -> None:
    before = origin.stats.requests
    origin.delete([])
    assert origin.stats.requests == before


BAD_KEYS = ["../x", "/x", "a//b", "a/./b", "a/../b", "a/", "", "a\\b", "."]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_bad_keys_are_refused_everywhere(origin: Origin, key: str, tmp_path: Path) -> None:
    source = tmp_path / "f"
    source.write_bytes(b"x")
    for call in (
        lambda: origin.get(key),
        lambda: origin.sha256(key),
        lambda: origin.put_bytes(key, b"x", headers_for(b"x")),
        lambda: origin.put_file(key, source, headers_for(b"x")),
        lambda: origin.delete(["fine.js", key]),
    ):
        with pytest.raises(ValueError):
            call()
    assert list(origin.list()) == []


@pytest.mark.parametrize("prefix", ["../", "/assets", "a//", "..", "a\\"])
def test_bad_list_prefixes_are_refused(origin: Origin, prefix: str) -> None:
    with pytest.raises(ValueError):
        origin.list(prefix)  # refused when called, not when first iterated


def test_concurrent_puts_are_all_counted(origin: Origin) -> None:
    with ThreadPoolExecutor(16) as pool:
        for i in range(200):
            pool.submit(origin.put_bytes, f"a/{i}.js", b"x", headers_for(b"x")).add_done_callback(
                lambda future: future.result()
            )
    assert requests(origin, "put") == 200
    assert len(list(origin.list())) == 200


def test_if_match_replaces_only_the_version_that_was_read(origin: Origin) -> None:
    origin.put_bytes("state.json", b"v1", headers_for(b"v1"))
    gets = requests(origin, "get")
    first = origin.read("state.json")
    assert first is not None and first.data == b"v1"
    assert requests(origin, "get") == gets + 1

    origin.put_bytes("state.json", b"v2", headers_for(b"v2"), if_match=first.etag)
    second = origin.read("state.json")
    assert second is not None and second.data == b"v2"
    assert second.etag != first.etag

    # Another writer changes the object: the stale token loses and the winner's bytes stay.
    origin.put_bytes("state.json", b"other", headers_for(b"other"))
    with pytest.raises(PreconditionFailedError) as caught:
        origin.put_bytes("state.json", b"v3", headers_for(b"v3"), if_match=second.etag)
    assert caught.value.key == "state.json"
    assert origin.get("state.json") == b"other"
    assert origin.sha256("state.json") == hashlib.sha256(b"other").hexdigest()


def test_if_match_fails_on_a_missing_object(origin: Origin) -> None:
    origin.put_bytes("a.json", b"[]", headers_for(b"[]"))
    token = origin.read("a.json")
    assert token is not None
    assert origin.read("missing.json") is None
    with pytest.raises(PreconditionFailedError):
        origin.put_bytes("missing.json", b"x", headers_for(b"x"), if_match=token.etag)
    assert origin.get("missing.json") is None
    origin.delete(["a.json"])
    with pytest.raises(PreconditionFailedError):
        origin.put_bytes("a.json", b"x", headers_for(b"x"), if_match=token.etag)
    assert origin.get("a.json") is None


def test_if_absent_and_if_match_together_are_refused(origin: Origin) -> None:
    with pytest.raises(ValueError, match="not both"):
        origin.put_bytes("a.json", b"x", headers_for(b"x"), if_absent=True, if_match="abc")
    assert origin.get("a.json") is None


def test_compare_and_swap_loses_no_update_between_threads(origin: Origin) -> None:
    origin.put_bytes("state.json", b"[]", headers_for(b"[]"))
    start = threading.Barrier(8)

    def append_three(worker: int) -> int:
        start.wait()
        return sum(cas_append(origin, "state.json", f"{worker}-{i}") for i in range(3))

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(append_three, range(8)))
    found = origin.get("state.json")
    assert found is not None
    items = json.loads(found)
    assert sorted(items) == sorted(f"{w}-{i}" for w in range(8) for i in range(3))


def test_head_reports_size_headers_and_digest(backend: Backend, origin: Origin) -> None:
    data = b"body { color: red }"
    headers = ObjectHeaders(
        "text/css", "public, max-age=31536000, immutable", hashlib.sha256(data).hexdigest()
    )
    origin.put_bytes("assets/site.css", data, headers)
    heads = requests(origin, "head")

    info = origin.head("assets/site.css")

    assert requests(origin, "head") == heads + 1
    assert info is not None
    assert (info.key, info.size, info.sha256) == ("assets/site.css", len(data), headers.sha256)
    if backend.kind == "folder":  # a plain file has no headers
        assert (info.content_type, info.cache_control) == (None, None)
    else:
        assert (info.content_type, info.cache_control) == (
            headers.content_type,
            headers.cache_control,
        )
    assert origin.head("assets/missing.css") is None


def test_copy_replaces_headers_and_keeps_the_source(backend: Backend, origin: Origin) -> None:
    old = b"<h1>old about</h1>"
    blob_headers = ObjectHeaders("application/octet-stream", "no-store", sha256_hex(old))
    origin.put_bytes("_assetpub/blobs/b1", old, blob_headers)
    origin.put_bytes("about.html", b"<h1>new</h1>", headers_for(b"<h1>new</h1>", "text/html"))
    page_headers = ObjectHeaders("text/html", "no-cache", sha256_hex(old))
    copies, puts = requests(origin, "copy"), requests(origin, "put")

    origin.copy("_assetpub/blobs/b1", "about.html", page_headers)
    origin.copy("_assetpub/blobs/b1", "new/contact.html", page_headers)

    assert (requests(origin, "copy"), requests(origin, "put")) == (copies + 2, puts)
    assert origin.get("about.html") == old and origin.get("new/contact.html") == old
    assert origin.get("_assetpub/blobs/b1") == old
    for key, headers in (("about.html", page_headers), ("_assetpub/blobs/b1", blob_headers)):
        info = origin.head(key)
        assert info is not None and info.sha256 == headers.sha256
        if backend.kind != "folder":
            assert (info.content_type, info.cache_control) == (
                headers.content_type,
                headers.cache_control,
            )
    with pytest.raises(OriginError, match=r"cannot copy _assetpub/blobs/nope to x\.html.*exist"):
        origin.copy("_assetpub/blobs/nope", "x.html", page_headers)
    assert origin.get("x.html") is None


def test_conditional_writes_are_supported(origin: Origin) -> None:
    assert origin.supports_conditional_writes() is True
    assert origin.supports_conditional_writes() is True
    assert list(origin.list()) == []  # no probe left behind


def test_dry_run_leaves_the_origin_unchanged(
    backend: Backend, origin: Origin, tmp_path: Path
) -> None:
    for key in ("index.html", "assets/a.js", "assets/b.js"):
        origin.put_bytes(key, key.encode(), headers_for(key.encode()))

    def snapshot() -> dict[str, tuple[RemoteObject, bytes | None]]:
        return {obj.key: (obj, origin.get(obj.key)) for obj in origin.list()}

    before = snapshot()
    dry = backend.open(dry_run=True)
    assert isinstance(dry, DryRunOrigin)  # the one dry-run convention: open_origins' wrapper
    assert as_dry_run([dry]) == [dry]  # wrapped once, however many layers ask
    source = tmp_path / "new.js"
    source.write_bytes(b"new")
    dry.put_file("assets/new.js", source, headers_for(b"new"))
    dry.put_bytes("index.html", b"changed", headers_for(b"changed"))
    dry.put_bytes("release.json", b"{}", headers_for(b"{}"), if_absent=True)
    # Conditions hold against what the dry run sees, as they would on the origin.
    with pytest.raises(AlreadyExistsError):
        dry.put_bytes("release.json", b"{}", headers_for(b"{}"), if_absent=True)
    with pytest.raises(AlreadyExistsError):
        dry.put_bytes("assets/a.js", b"x", headers_for(b"x"), if_absent=True)
    with pytest.raises(PreconditionFailedError):
        dry.put_bytes("index.html", b"cas", headers_for(b"cas"), if_match="stale-token")
    current = dry.read("index.html")
    assert current is not None and current.data == b"changed"
    dry.put_bytes("index.html", b"cas", headers_for(b"cas"), if_match=current.etag)
    dry.copy("assets/a.js", "assets/b.js", headers_for(b"assets/a.js"))
    dry.copy("assets/new.js", "assets/c.js", headers_for(b"new"))
    with pytest.raises(OriginError, match="does not exist"):
        dry.copy("assets/missing.js", "assets/d.js", headers_for(b"x"))
    dry.delete(["assets/a.js"])
    requests_before = dry.stats.requests  # the inner client's count
    assert dry.supports_conditional_writes() is True  # without probing: a probe writes
    assert dry.stats.requests == requests_before

    assert snapshot() == before
    assert dry.writes == [
        ("put", "assets/new.js"),
        ("put", "index.html"),
        ("put", "release.json"),
        ("put", "index.html"),
        ("copy", "assets/b.js"),
        ("copy", "assets/c.js"),
        ("delete", "assets/a.js"),
    ]
    # Later reads see the dry run's writes; the rest reads through to the origin.
    reader: Origin = dry  # mypy checks DryRunOrigin keeps the protocol
    assert reader.get("index.html") == b"cas" and reader.get("assets/c.js") == b"new"
    assert reader.get("assets/b.js") == b"assets/a.js" and reader.get("assets/a.js") is None
    assert reader.head("assets/a.js") is None and reader.sha256("assets/new.js") == sha256_hex(
        b"new"
    )
    listed = {obj.key: obj.size for obj in reader.list()}
    assert listed == {
        "index.html": 3,
        "release.json": 2,
        "assets/b.js": len(b"assets/a.js"),
        "assets/c.js": 3,
        "assets/new.js": 3,
    }
    assert {obj.key for obj in reader.list("assets/")} == {
        "assets/b.js",
        "assets/c.js",
        "assets/new.js",
    }
    info = reader.head("index.html")
    assert info is not None and info.size == 3 and info.sha256 == sha256_hex(b"cas")
    assert dry.stats.requests > requests_before and dry.url == origin.url
    assert snapshot() == before
    with pytest.raises(ValueError):
        dry.put_bytes("../escape", b"x", headers_for(b"x"))
    with pytest.raises(ValueError):
        dry.copy("../escape", "a.js", headers_for(b"x"))
    with pytest.raises(ValueError):
        dry.put_bytes("a.js", b"x", headers_for(b"x"), if_absent=True, if_match="t")
    with pytest.raises(ValueError):
        list(dry.list("../"))


# --- origin URLs and specs ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("s3://my-bucket", ("s3", "my-bucket", "")),
        ("s3://my-bucket/", ("s3", "my-bucket", "")),
        ("s3://my-bucket/site/v1/", ("s3", "my-bucket", "site/v1")),
        ("s3://my.bucket-1//site", ("s3", "my.bucket-1", "site")),
        ("s3://gcs_style_bucket/a", ("s3", "gcs_style_bucket", "a")),
        ("file:///srv/www", ("file", "/srv/www", "")),
        ("file://localhost/srv/www/", ("file", "/srv/www", "")),
        ("file:///srv/my%20site", ("file", "/srv/my site", "")),
        ("memory://t1", ("memory", "t1", "")),
    ],
)
def test_parse_origin_url_accepts(url: str, expected: tuple[str, str, str]) -> None:
    assert parse_origin_url(url) == expected


def test_plain_paths_are_absolute_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert parse_origin_url("out/site") == ("file", str(tmp_path / "out" / "site"), "")
    origin = open_origin(OriginSpec("out/site"))
    assert isinstance(origin, FolderOrigin)
    assert origin.root == tmp_path / "out" / "site"
    assert origin.url == (tmp_path / "out" / "site").as_uri()


@pytest.mark.parametrize(
    "url",
    [
        "",
        "gs://bucket/site",
        "https://cdn.example.com/site",
        "s3://",
        "s3:///site",
        "s3://Uppercase",
        "s3://ab",
        "s3://-bucket",
        "s3://a..b",
        "s3://bucket:9000/site",
        "s3://user@bucket/site",
        "s3://bucket/../site",
        "s3://bucket/a/../b",
        "s3://bucket/a/./b",
        "s3://bucket/a//b",
        "s3://bucket/a\\b",
        "s3://bucket/site?versionId=1",
        "s3://bucket/site?",
        "s3://bucket/site#top",
        "s3:/bucket",
        "file://relative/path",
        "file:relative",
        "file:///",
        "file:///srv/../etc",
        "memory://",
        "memory://name/prefix",
        "/",
    ],
)
def test_parse_origin_url_rejects(url: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_origin_url(url)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "overrides",
    [
        {"checksums": "always"},
        {"addressing_style": "sideways"},
        {"multipart_threshold": 1024},
        {"max_connections": 0},
        {"max_attempts": 0},
        {"url": "ftp://host/x"},
    ],
)
def test_origin_spec_validates(overrides: dict[str, Any]) -> None:
    with pytest.raises(ConfigError):
        OriginSpec(**{"url": "s3://bucket/site", **overrides})


def test_memory_urls_share_one_store_per_name() -> None:
    first = open_origin(OriginSpec("memory://shared-test"))
    first.put_bytes("a.js", b"x", headers_for(b"x"))
    assert open_origin(OriginSpec("memory://shared-test")).get("a.js") == b"x"
    assert open_origin(OriginSpec("memory://other-test")).get("a.js") is None


# --- memory origin --------------------------------------------------------------------------


def test_memory_failure_injection() -> None:
    origin = MemoryOrigin(fail=lambda operation, key: key.endswith(".html"))
    origin.put_bytes("a.js", b"x", headers_for(b"x"))
    with pytest.raises(OriginError, match=r"injected failure: put index\.html"):
        origin.put_bytes("index.html", b"x", headers_for(b"x"))
    with pytest.raises(OriginError, match=r"injected failure: delete old\.html"):
        origin.delete(["old.html"])
    with pytest.raises(OriginError, match=r"injected failure: copy copy\.html"):
        origin.copy("a.js", "copy.html", headers_for(b"x"))
    assert origin.objects == {"a.js": b"x"}
    assert origin.headers["a.js"] == headers_for(b"x")


def test_memory_etag_is_md5_and_empty_listing_costs_a_request() -> None:
    origin = MemoryOrigin()
    assert list(origin.list()) == []
    assert requests(origin, "list") == 1
    origin.put_bytes("a.js", b"abc", headers_for(b"abc"))
    [listed] = origin.list()
    assert listed.etag == hashlib.md5(b"abc").hexdigest()


# --- folder origin --------------------------------------------------------------------------


def leftover_temp_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.name.startswith(TEMP_PREFIX)]


def test_folder_put_replaces_the_file_atomically(tmp_path: Path) -> None:
    origin = FolderOrigin(tmp_path / "www")
    origin.put_bytes("index.html", b"v1", headers_for(b"v1"))
    inode = (tmp_path / "www" / "index.html").stat().st_ino
    origin.put_bytes("index.html", b"v2", headers_for(b"v2"))

    target = tmp_path / "www" / "index.html"
    assert target.read_bytes() == b"v2"
    assert target.stat().st_ino != inode  # a new file renamed over the old, not rewritten
    with pytest.raises(AlreadyExistsError):
        origin.put_bytes("index.html", b"v3", headers_for(b"v3"), if_absent=True)
    assert target.read_bytes() == b"v2"
    assert leftover_temp_files(tmp_path) == []


def test_folder_reader_never_sees_a_partial_file(tmp_path: Path) -> None:
    origin = FolderOrigin(tmp_path / "www")
    versions = [b"a" * 300_000, b"b" * 600_000]
    origin.put_bytes("index.html", versions[0], headers_for(versions[0]))
    target = tmp_path / "www" / "index.html"
    done = threading.Event()
    seen: set[bytes] = set()

    def read_constantly() -> None:
        while not done.is_set():
            seen.add(target.read_bytes())

    reader = threading.Thread(target=read_constantly)
    reader.start()
    try:
        for i in range(40):
            data = versions[i % 2]
            origin.put_bytes("index.html", data, headers_for(data))
    finally:
        done.set()
        reader.join(timeout=30)
    assert not reader.is_alive(), "the reader thread did not stop"
    assert seen <= set(versions)


def test_folder_files_are_readable_by_the_web_server(tmp_path: Path) -> None:
    old_umask = os.umask(0o022)
    try:
        FolderOrigin(tmp_path / "www").put_bytes("a.js", b"x", headers_for(b"x"))
    finally:
        os.umask(old_umask)
    assert (tmp_path / "www" / "a.js").stat().st_mode & 0o777 == 0o644


def test_folder_list_skips_temp_files_and_symlinks_out(tmp_path: Path) -> None:
    root = tmp_path / "www"
    origin = FolderOrigin(root)
    origin.put_bytes("assets/a.js", b"x", headers_for(b"x"))
    (root / "assets" / f"{TEMP_PREFIX}half").write_bytes(b"partial")
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "key.pem").write_bytes(b"private")
    (root / "escape").symlink_to(tmp_path / "secret")
    (root / "escape.pem").symlink_to(tmp_path / "secret" / "key.pem")
    (root / "alias.js").symlink_to(root / "assets" / "a.js")

    assert sorted(obj.key for obj in origin.list()) == ["alias.js", "assets/a.js"]
    with pytest.raises(OriginError, match="outside"):
        origin.get("escape/key.pem")
    with pytest.raises(OriginError, match="outside"):
        origin.get("escape.pem")
    with pytest.raises(OriginError, match="outside"):
        origin.put_bytes("escape/new.txt", b"x", headers_for(b"x"))
    with pytest.raises(OriginError, match="outside"):
        origin.delete(["escape/key.pem"])
    assert (tmp_path / "secret" / "key.pem").read_bytes() == b"private"
    assert not (tmp_path / "secret" / "new.txt").exists()


def test_folder_delete_removes_empty_folders_up_to_root(tmp_path: Path) -> None:
    root = tmp_path / "www"
    origin = FolderOrigin(root)
    origin.put_bytes("a/b/c.js", b"x", headers_for(b"x"))
    origin.put_bytes("a/keep.js", b"x", headers_for(b"x"))
    origin.delete(["a/b/c.js"])
    assert not (root / "a" / "b").exists()
    assert (root / "a" / "keep.js").exists()
    origin.delete(["a/keep.js", "a"])  # 'a' is a folder, not an object: nothing to delete
    assert root.is_dir() and list(root.iterdir()) == [root / LOCK_NAME]


def test_folder_lock_file_is_never_an_object(tmp_path: Path) -> None:
    root = tmp_path / "www"
    origin = FolderOrigin(root)
    origin.put_bytes("a.js", b"x", headers_for(b"x"), if_absent=True)
    assert (root / LOCK_NAME).is_file()
    assert [obj.key for obj in origin.list()] == ["a.js"]
    assert list(origin.list(".assetpub")) == []
    writes: list[Callable[[], object]] = [
        lambda: origin.put_bytes(LOCK_NAME, b"x", headers_for(b"x")),
        lambda: origin.copy("a.js", LOCK_NAME, headers_for(b"x")),
        lambda: origin.delete([LOCK_NAME]),
        lambda: origin.put_bytes(LOCK_NAME.upper(), b"x", headers_for(b"x")),
    ]
    for call in writes:
        with pytest.raises(OriginError, match="reserved"):
            call()
    assert (root / LOCK_NAME).read_bytes() == b""


_HOLD_LOCK_CHILD = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from assetpub.origins.folder import FolderOrigin
with FolderOrigin(Path(sys.argv[2]))._locked():
    print("held", flush=True)
    sys.stdin.readline()
"""


def test_folder_conditional_write_waits_for_another_process_holding_the_lock(
    tmp_path: Path,
) -> None:
    root = tmp_path / "www"
    origin = FolderOrigin(root)
    origin.put_bytes("state.json", b"[]", headers_for(b"[]"))
    current = origin.read("state.json")
    assert current is not None and current.etag == sha256_hex(b"[]")
    writer = threading.Thread(
        target=origin.put_bytes,
        args=("state.json", b"[1]", headers_for(b"[1]")),
        kwargs={"if_match": current.etag},
    )
    checkout = str(Path(__file__).parent.parent)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK_CHILD, checkout, str(root)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        writer.start()
        writer.join(0.3)
        assert writer.is_alive() and origin.get("state.json") == b"[]"
        holder.communicate("release\n", timeout=30)
    finally:
        holder.kill()
        holder.wait()
    writer.join(10)
    assert not writer.is_alive() and origin.get("state.json") == b"[1]"
    assert [obj.key for obj in origin.list()] == ["state.json"]  # the lock file is no object


def test_folder_writes_wait_for_a_thread_holding_the_lock(tmp_path: Path) -> None:
    """Threads exclude each other whether they share one FolderOrigin (the uploader's pool) or
    each opened their own on the same root."""
    root = tmp_path / "www"
    origin = FolderOrigin(root)
    writers = [
        threading.Thread(
            target=target.put_bytes,
            args=(key, b"x", headers_for(b"x")),
            kwargs={"if_absent": True},
        )
        for target, key in [(origin, "same-object.js"), (FolderOrigin(root), "other-object.js")]
    ]
    with origin._locked():
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join(0.3)
        assert all(writer.is_alive() for writer in writers)
        assert list(origin.list()) == []
    for writer in writers:
        writer.join(10)
    assert not any(writer.is_alive() for writer in writers)
    assert sorted(obj.key for obj in origin.list()) == ["other-object.js", "same-object.js"]


_CAS_CHILD = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from test_origins import cas_append
from assetpub.origins.folder import FolderOrigin
origin = FolderOrigin(Path(sys.argv[2]))
print("ready", flush=True)
sys.stdin.readline()
print(sum(cas_append(origin, "state.json", f"{sys.argv[3]}-{i}") for i in range(20)))
"""


def test_folder_compare_and_swap_loses_no_update_between_processes(tmp_path: Path) -> None:
    root = tmp_path / "www"
    FolderOrigin(root).put_bytes("state.json", b"[]", headers_for(b"[]"))
    tests_dir = str(Path(__file__).parent)
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CAS_CHILD, tests_dir, str(root), str(n)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(4)
    ]
    try:
        for child in children:  # all imported: start them together
            assert child.stdout is not None and child.stdout.readline() == "ready\n"
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        lost = [int(child.communicate(timeout=120)[0]) for child in children]
    finally:
        for child in children:
            child.kill()
            child.wait()
    assert [child.returncode for child in children] == [0, 0, 0, 0], lost
    items = json.loads((root / "state.json").read_bytes())
    assert sorted(items) == sorted(f"{n}-{i}" for n in range(4) for i in range(20))


def test_folder_check_creates_the_root_or_explains(tmp_path: Path) -> None:
    FolderOrigin(tmp_path / "deep" / "www").check()
    assert (tmp_path / "deep" / "www").is_dir()
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(OriginError, match="file"):
        FolderOrigin(tmp_path / "file").check()


def test_folder_put_over_a_folder_is_an_origin_error(tmp_path: Path) -> None:
    origin = FolderOrigin(tmp_path / "www")
    origin.put_bytes("a/b.js", b"x", headers_for(b"x"))
    with pytest.raises(OriginError, match="cannot write"):
        origin.put_bytes("a", b"x", headers_for(b"x"))
    assert origin.get("a") is None and origin.sha256("a") is None
    assert leftover_temp_files(tmp_path) == []


# --- S3 origin ------------------------------------------------------------------------------


@pytest.fixture
def s3_origin(s3_endpoint: str, make_bucket: MakeBucket) -> Origin:
    return open_origin(OriginSpec(f"s3://{make_bucket()}/site", endpoint_url=s3_endpoint))


def bucket_of(origin: Origin) -> str:
    return origin.url.removeprefix("s3://").split("/")[0]


def test_s3_headers_and_metadata_reach_the_object(s3_origin: Origin, s3_client: S3Client) -> None:
    data = b"console.log(1)"
    headers = ObjectHeaders(
        "text/javascript", "public, max-age=31536000, immutable", hashlib.sha256(data).hexdigest()
    )
    s3_origin.put_bytes("assets/app.js", data, headers)
    head = s3_client.head_object(Bucket=bucket_of(s3_origin), Key="site/assets/app.js")
    assert head["ContentType"] == "text/javascript"
    assert head["CacheControl"] == "public, max-age=31536000, immutable"
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-meta-assetpub-sha256"] == headers.sha256
    [listed] = s3_origin.list()
    assert listed.etag == hashlib.md5(data).hexdigest()  # unquoted


def test_s3_multipart_upload_keeps_headers(
    s3_endpoint: str, make_bucket: MakeBucket, s3_client: S3Client, tmp_path: Path
) -> None:
    bucket = make_bucket()
    origin = open_origin(
        OriginSpec(f"s3://{bucket}", endpoint_url=s3_endpoint, multipart_threshold=5 * MiB)
    )
    source = tmp_path / "big.bin"
    source.write_bytes(b"z" * (6 * MiB))
    origin.put_file("big.bin", source, headers_for(b"z" * (6 * MiB), "application/octet-stream"))
    head = s3_client.head_object(Bucket=bucket, Key="big.bin")
    assert head["ETag"].strip('"').endswith("-2")
    assert head["ContentType"] == "application/octet-stream"
    assert head["Metadata"] == {
        "assetpub-sha256": hashlib.sha256(b"z" * (6 * MiB)).hexdigest(),
        "assetpub-headers": headers_for(b"", "application/octet-stream").fingerprint,
    }
    # create + 2 parts + complete, all counted, and no thread pool of s3transfer's own
    assert requests(origin, "put") == 4


def test_s3_acl_only_when_configured(
    s3_endpoint: str, make_bucket: MakeBucket, s3_client: S3Client
) -> None:
    bucket = make_bucket()
    plain = open_origin(OriginSpec(f"s3://{bucket}/a", endpoint_url=s3_endpoint))
    public = open_origin(
        OriginSpec(f"s3://{bucket}/b", endpoint_url=s3_endpoint, acl="public-read")
    )
    sent: list[dict[str, Any]] = []
    for origin in (plain, public):
        cast("S3Origin", origin)._client.meta.events.register(
            "before-send.s3.PutObject", lambda request, **_: sent.append(dict(request.headers))
        )
        origin.put_bytes("x.js", b"x", headers_for(b"x"))
    assert "x-amz-acl" not in {name.lower() for name in sent[0]}
    assert sent[1]["x-amz-acl"] == b"public-read"
    # boto3's default CRC checksum headers stay off unless asked for
    assert not any(name.lower().startswith("x-amz-checksum") for name in sent[0])


def test_s3_check_is_one_request(s3_origin: Origin) -> None:
    s3_origin.check()
    assert s3_origin.stats.by_operation == {"list": 1}


def test_s3_skips_folder_markers(s3_origin: Origin, s3_client: S3Client) -> None:
    s3_client.put_object(Bucket=bucket_of(s3_origin), Key="site/assets/", Body=b"")
    s3_origin.put_bytes("assets/a.js", b"x", headers_for(b"x"))
    assert [obj.key for obj in s3_origin.list()] == ["assets/a.js"]


def test_s3_missing_bucket_names_it(s3_endpoint: str) -> None:
    origin = open_origin(OriginSpec("s3://no-such-bucket-here/site", endpoint_url=s3_endpoint))
    for call in (origin.check, lambda: origin.put_bytes("a", b"x", headers_for(b"x"))):
        with pytest.raises(OriginError, match="bucket 'no-such-bucket-here' does not exist"):
            call()


def test_s3_unreachable_endpoint_fails_fast() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    endpoint = f"http://127.0.0.1:{port}"
    origin = open_origin(
        OriginSpec("s3://bucket/site", endpoint_url=endpoint, max_attempts=1, connect_timeout=1)
    )
    started = time.monotonic()
    with pytest.raises(OriginError) as caught:
        origin.check()
    assert f"cannot reach endpoint {endpoint}" in str(caught.value)
    assert time.monotonic() - started < 5


def test_s3_missing_credentials(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-metadata probing
    origin = open_origin(OriginSpec("s3://bucket/site", endpoint_url=s3_endpoint))
    with pytest.raises(OriginError, match="no AWS credentials found"):
        origin.check()


def test_s3_unknown_profile() -> None:
    with pytest.raises(OriginError, match="AWS profile 'nope' not found"):
        open_origin(OriginSpec("s3://bucket/site", profile="nope"))


def test_s3_endpoint_from_environment(
    s3_endpoint: str, make_bucket: MakeBucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = make_bucket()
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_endpoint)
    origin = open_origin(OriginSpec(f"s3://{bucket}/site"))
    origin.put_bytes("a.js", b"x", headers_for(b"x"))
    assert origin.get("a.js") == b"x"


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data


def answer_with_error(
    origin: Origin,
    operation: str,
    status: int,
    code: str,
    times: int,
    message: str = "injected",
) -> list[int]:
    """Make the next `times` requests of `operation` fail with an S3 error, before they leave;
    returns a list that grows by one per request of that operation."""
    from botocore.awsrequest import AWSResponse, HTTPHeaders

    calls: list[int] = []
    body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()

    def respond(request: Any, **_: Any) -> AWSResponse | None:
        calls.append(1)
        if len(calls) > times:
            return None
        return AWSResponse(request.url, status, HTTPHeaders(), _Body(body))

    cast("S3Origin", origin)._client.meta.events.register(f"before-send.s3.{operation}", respond)
    return calls


def test_s3_falls_back_to_single_deletes(
    s3_origin: Origin, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("assetpub.origins.s3.BATCH_SIZE", 2)
    keys = [f"k{i}" for i in range(5)]
    for key in keys:
        s3_origin.put_bytes(key, b"x", headers_for(b"x"))
    batch_calls = answer_with_error(s3_origin, "DeleteObjects", 501, "NotImplemented", times=99)

    s3_origin.delete(keys)

    assert list(s3_origin.list()) == []
    assert len(batch_calls) == 1  # remembered after the first refusal


def test_s3_retries_a_conditional_write_conflict(s3_origin: Origin) -> None:
    calls = answer_with_error(s3_origin, "PutObject", 409, "ConditionalRequestConflict", times=2)
    s3_origin.put_bytes("live.json", b"{}", headers_for(b"{}"), if_absent=True)
    assert len(calls) == 3
    assert s3_origin.get("live.json") == b"{}"


def test_s3_other_errors_name_origin_and_operation(s3_origin: Origin) -> None:
    answer_with_error(s3_origin, "GetObject", 403, "AccessDenied", times=1)
    with pytest.raises(OriginError, match=r"access denied to s3://.*/site \(GetObject a\.js\)"):
        s3_origin.get("a.js")


def sent_headers(origin: Origin, operation: str) -> list[dict[str, Any]]:
    """The headers of every `operation` request the origin sends from now on."""
    sent: list[dict[str, Any]] = []
    cast("S3Origin", origin)._client.meta.events.register(
        f"before-send.s3.{operation}", lambda request, **_: sent.append(dict(request.headers))
    )
    return sent


def test_s3_if_match_sends_the_quoted_etag_and_retries_conflicts(s3_origin: Origin) -> None:
    s3_origin.put_bytes("state.json", b"[]", headers_for(b"[]"))
    current = s3_origin.read("state.json")
    assert current is not None and current.etag == hashlib.md5(b"[]").hexdigest()
    sent = sent_headers(s3_origin, "PutObject")
    calls = answer_with_error(s3_origin, "PutObject", 409, "ConditionalRequestConflict", times=2)

    s3_origin.put_bytes("state.json", b"[1]", headers_for(b"[1]"), if_match=current.etag)

    assert len(calls) == 3
    assert [headers["If-Match"] for headers in sent] == [f'"{current.etag}"'.encode()] * 3
    assert s3_origin.get("state.json") == b"[1]"


def test_s3_if_match_on_a_404_is_a_lost_race(s3_origin: Origin) -> None:
    # moto answers 404 NoSuchKey for If-Match on a missing key (so do some services), AWS 412.
    answer_with_error(s3_origin, "PutObject", 412, "PreconditionFailed", times=1)
    with pytest.raises(PreconditionFailedError):
        s3_origin.put_bytes("a.json", b"x", headers_for(b"x"), if_match="abc")
    answer_with_error(s3_origin, "PutObject", 404, "NoSuchKey", times=1)
    with pytest.raises(PreconditionFailedError):
        s3_origin.put_bytes("a.json", b"x", headers_for(b"x"), if_match="abc")


def test_s3_copy_replaces_headers_and_metadata(s3_origin: Origin, s3_client: S3Client) -> None:
    bucket = bucket_of(s3_origin)
    data = b"console.log(2)"
    s3_origin.put_bytes("_assetpub/blobs/b", data, headers_for(data, "application/octet-stream"))
    headers = ObjectHeaders("text/javascript", "public, max-age=60", sha256_hex(data))

    s3_origin.copy("_assetpub/blobs/b", "app.js", headers)

    head = s3_client.head_object(Bucket=bucket, Key="site/app.js")
    assert head["ContentType"] == "text/javascript"
    assert head["CacheControl"] == "public, max-age=60"
    assert head["Metadata"] == {
        "assetpub-sha256": sha256_hex(data),
        "assetpub-headers": headers.fingerprint,
    }
    source = s3_client.head_object(Bucket=bucket, Key="site/_assetpub/blobs/b")
    assert source["ContentType"] == "application/octet-stream"
    assert s3_origin.stats.by_operation == {"put": 1, "copy": 1}


def test_s3_copy_onto_itself_changes_headers_and_keeps_bytes(
    s3_origin: Origin, s3_client: S3Client
) -> None:
    data = b"console.log(3)"
    s3_origin.put_bytes("app.js", data, headers_for(data, "text/javascript"))
    [before] = s3_origin.list()
    headers = ObjectHeaders("application/javascript", "public, max-age=600", sha256_hex(data))
    s3_origin.copy("app.js", "app.js", headers)
    info = s3_origin.head("app.js")
    assert info is not None and info.headers_fingerprint == headers.fingerprint
    assert (info.content_type, info.cache_control, info.sha256) == (
        "application/javascript",
        "public, max-age=600",
        sha256_hex(data),
    )
    assert s3_origin.get("app.js") == data and list(s3_origin.list()) == [before]


def test_s3_copy_of_a_source_over_5_gib_is_a_multipart_copy(
    s3_origin: Origin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CopyObject refuses a source over 5 GiB; s3transfer's managed copy then copies it in
    parts (UploadPartCopy), onto itself too. Shown at 6 MiB, with 5 MiB standing for the
    limit and the part size."""
    monkeypatch.setattr("assetpub.origins.s3._COPY_LIMIT", 5 * MiB)
    monkeypatch.setattr("assetpub.origins.s3._COPY_PART", 5 * MiB)
    data = b"q" * (6 * MiB)
    s3_origin.put_bytes("huge.bin", data, headers_for(data, "application/octet-stream"))
    message = "The specified copy source is larger than the maximum allowable size"
    answer_with_error(s3_origin, "CopyObject", 400, "InvalidRequest", times=1, message=message)
    headers = ObjectHeaders("video/mp4", "public, max-age=600", sha256_hex(data))
    before = dict(s3_origin.stats.by_operation)
    assert s3_origin.copy("huge.bin", "huge.bin", headers) is None
    info = s3_origin.head("huge.bin")
    assert info is not None and info.headers_fingerprint == headers.fingerprint
    assert (info.content_type, info.sha256) == ("video/mp4", sha256_hex(data))
    assert s3_origin.get("huge.bin") == data
    # The refused CopyObject, then create + 2 part copies + complete, after one HEAD.
    copies = s3_origin.stats.by_operation["copy"] - before.get("copy", 0)
    assert copies == 1 + 2
    with pytest.raises(OriginError, match=r"cannot copy gone\.bin to b\.bin .*does not exist"):
        answer_with_error(s3_origin, "CopyObject", 400, "InvalidRequest", times=1, message=message)
        s3_origin.copy("gone.bin", "b.bin", headers)


def all_keys(s3_client: S3Client, bucket: str) -> list[str]:
    return [item["Key"] for item in s3_client.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_s3_probe_costs_four_requests_once(s3_origin: Origin, s3_client: S3Client) -> None:
    sent = sent_headers(s3_origin, "PutObject")
    assert s3_origin.supports_conditional_writes() is True
    assert s3_origin.supports_conditional_writes() is True
    assert s3_origin.stats.by_operation == {"put": 3, "delete": 1}
    # Create, then both conditions on the existing probe object: a wrong ETag must be refused.
    assert [headers.get("If-None-Match") for headers in sent] == [b"*", b"*", None]
    assert sent[2]["If-Match"] == b'"' + b"0" * 32 + b'"'
    assert all_keys(s3_client, bucket_of(s3_origin)) == []


def ignore_conditions(origin: Origin, *headers: str) -> None:
    """Make `origin`'s client drop these condition headers from every PutObject, as an
    endpoint that ignores them would (moto enforces both)."""

    def drop(params: dict[str, Any], **_: Any) -> None:
        for header in headers:
            params["headers"].pop(header, None)

    cast("S3Origin", origin)._client.meta.events.register("before-call.s3.PutObject", drop)


def test_s3_probe_detects_an_endpoint_that_ignores_if_none_match(
    s3_origin: Origin, s3_client: S3Client
) -> None:
    ignore_conditions(s3_origin, "If-None-Match")
    assert s3_origin.supports_conditional_writes() is False
    assert s3_origin.supports_conditional_writes() is False
    assert s3_origin.stats.by_operation == {"put": 2, "delete": 1}  # If-Match is not asked
    assert all_keys(s3_client, bucket_of(s3_origin)) == []


def test_s3_probe_detects_an_endpoint_that_honours_if_none_match_but_ignores_if_match(
    s3_origin: Origin, s3_client: S3Client
) -> None:
    ignore_conditions(s3_origin, "If-Match")
    assert s3_origin.supports_conditional_writes() is False
    assert s3_origin.stats.by_operation == {"put": 3, "delete": 1}
    assert all_keys(s3_client, bucket_of(s3_origin)) == []


def test_s3_probe_errors_are_origin_errors(s3_origin: Origin) -> None:
    answer_with_error(s3_origin, "PutObject", 403, "AccessDenied", times=1)
    with pytest.raises(OriginError, match=r"access denied .*_assetpub/probe-"):
        s3_origin.supports_conditional_writes()
    assert s3_origin.supports_conditional_writes() is True  # a failed probe is not remembered
