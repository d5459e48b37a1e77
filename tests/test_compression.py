"""Precompression (compress = ["gzip"]): one encoding per object, Content-Encoding on it, names
of the decoded bytes, digests of the stored ones; a build's own .gz files served as what they
hold."""

from __future__ import annotations

import gzip
import hashlib
import random
from pathlib import Path
from typing import Any

import pytest
from backends import Backend
from click.testing import CliRunner
from fixture_types import MakeBuild

from assetpub.build import compress
from assetpub.build.headers import content_encoding_for, content_type_for
from assetpub.cli.app import main
from assetpub.commands.publish import publish
from assetpub.commands.rollback import rollback
from assetpub.commands.verify import verify_origin
from assetpub.errors import ConfigError
from assetpub.health.fetch import _gunzip
from assetpub.history.record import ReleaseRecord
from assetpub.origins.base import Origin
from assetpub.origins.memory import MemoryOrigin
from assetpub.settings import PublishSettings, parse_file_config

CSS = "body{margin:0;padding:0}\n" * 200
JS = "export function hello(){return 'hello world';}\n" * 200
SITE: dict[str, str | bytes] = {
    "index.html": "<!doctype html><title>t</title><link rel=stylesheet href=css/site.css>"
    + "<p>hello</p>" * 100
    + "<script type=module src=js/app.js></script>",
    "css/site.css": CSS,
    "js/app.js": JS,
    "img/logo.png": b"\x89PNG" + b"\0" * 4000,  # compresses well, but is an image
    "tiny.txt": "x",  # saves nothing
}


def settings(build: Path, **overrides: Any) -> PublishSettings:
    return PublishSettings(build_dir=build, origins=(), **overrides)


def test_gzip_is_deterministic_and_kept_only_when_it_saves_five_percent() -> None:
    data = CSS.encode()
    first = compress.encode(data, "gzip")
    assert first == compress.encode(data, "gzip")
    assert first[4:8] == b"\0\0\0\0"  # mtime 0
    assert gzip.decompress(first) == data
    assert compress.best_encoding(data, ["gzip"]) == ("gzip", first)
    assert compress.best_encoding(b"x", ["gzip"]) is None
    # Saves a little, under 5 %: not kept.
    barely = random.Random(0).randbytes(2000) + b"a" * 100
    encoded = compress.encode(barely, "gzip")
    assert len(barely) * 0.95 < len(encoded) < len(barely)
    assert compress.best_encoding(barely, ["gzip"]) is None


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("text/javascript; charset=utf-8", True),
        ("text/css; charset=utf-8", True),
        ("text/html; charset=utf-8", True),
        ("image/svg+xml", True),
        ("application/json; charset=utf-8", True),
        ("application/manifest+json; charset=utf-8", True),
        ("application/wasm", True),
        ("image/png", False),
        ("font/woff2", False),
        ("application/octet-stream", False),
        ("application/zip", False),
    ],
)
def test_which_types_are_compressed(content_type: str, expected: bool) -> None:
    assert compress.is_compressible(content_type) is expected


def test_bad_encodings_are_refused_in_one_line() -> None:
    with pytest.raises(ConfigError, match="unknown encoding 'zstd'"):
        parse_file_config({"compress": ["zstd"]}, "assetpub.toml")
    with pytest.raises(ConfigError, match="listed twice"):
        parse_file_config({"compress": ["gzip", "gzip"]}, "assetpub.toml")
    assert parse_file_config({"compress": ["gzip"]}, "assetpub.toml").compress == ("gzip",)


def test_br_without_brotli_is_refused_before_any_write(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(compress, "_brotli", lambda: None)
    with pytest.raises(ConfigError, match=r"pip install 'assetpub\[brotli\]'"):
        parse_file_config({"compress": ["br", "gzip"]}, "assetpub.toml")


def test_br_is_used_first_when_brotli_is_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeBrotli:  # stands for brotli's module API: compress(data, quality=11)
        @staticmethod
        def compress(data: bytes, quality: int) -> bytes:
            return b"BR" + gzip.compress(data, mtime=0)

    monkeypatch.setattr(compress, "_brotli", lambda: FakeBrotli)
    assert compress.check_encodings(["br", "gzip"]) == ("br", "gzip")
    found = compress.best_encoding(CSS.encode(), ["br", "gzip"])
    assert found is not None and found[0] == "br"


def test_a_builds_own_gz_and_br_files_get_the_inner_type_and_their_encoding() -> None:
    assert content_type_for("js/app.js.gz") == "text/javascript; charset=utf-8"
    assert content_encoding_for("js/app.js.gz") == "gzip"
    assert content_type_for("css/site.css.br") == "text/css; charset=utf-8"
    assert content_encoding_for("css/site.css.br") == "br"
    # An archive is a download, not encoded content: no Content-Encoding.
    assert content_encoding_for("dist/site.tar.gz") is None
    assert content_type_for("dist/site.tar.gz") == "application/octet-stream"
    assert content_encoding_for("js/app.js") is None


def heads(origin: Origin, keys: Any) -> dict[str, tuple[str | None, str | None]]:
    found = {}
    for key in keys:
        info = origin.head(key)
        assert info is not None, key
        found[key] = (info.content_type, info.content_encoding)
    return found


def test_publish_with_gzip_stores_encoded_bytes_verify_passes_and_turning_it_off_updates(
    make_build: MakeBuild, backend: Backend
) -> None:
    origin = backend.open()
    build = make_build(SITE)
    if not origin.keeps_headers:
        with pytest.raises(ConfigError, match="cannot store Content-Encoding"):
            publish(settings(build, compress=("gzip",)), origins=[origin])
        assert list(origin.list()) == []  # refused before any write
        return
    plain = publish(settings(build), origins=[origin])
    names = {f.source: f.key for f in plain.build.files}

    result = publish(settings(build, compress=("gzip",)), origins=[origin])
    assert not result.unchanged
    files = {f.source: f for f in result.build.files}
    assert {s: f.key for s, f in files.items()} == names  # names never change
    encoded = {s for s, f in files.items() if f.content_encoding == "gzip"}
    assert encoded == {"index.html", "css/site.css", "js/app.js"}
    for source, file in files.items():
        stored = origin.get(file.key)
        assert stored is not None
        original = (build / source).read_bytes()
        if source in encoded:
            info = origin.head(file.key)
            assert info is not None and info.content_encoding == "gzip"
            assert len(stored) < len(original)
            decoded = gzip.decompress(stored)
            # index.html's references are rewritten; the others are the build's bytes.
            assert decoded == original or source == "index.html"
            assert file.decoded is not None and file.digests.size == len(stored)
        else:
            assert heads(origin, [file.key])[file.key][1] is None
    page = gzip.decompress(origin.get("index.html") or b"").decode()
    assert files["css/site.css"].key in page and files["js/app.js"].key in page
    assert verify_origin(origin).healthy
    assert verify_origin(origin, deep=True).healthy

    # The record holds the encoding and what the name is of: rollback puts it back as it was.
    record = ReleaseRecord.from_json(result.release.to_json())
    assert record.files["js/app.js"].content_encoding == "gzip"
    assert record.problems(record.id) == []

    off = publish(settings(build), origins=[origin])
    assert not off.unchanged
    for file in off.build.files:
        assert file.content_encoding is None and file.decoded is None
        assert hashlib.sha256(origin.get(file.key) or b"").hexdigest() == file.digests.sha256
        info = origin.head(file.key)
        assert info is not None and info.content_encoding is None, file.key
    assert verify_origin(origin, deep=True).healthy

    # Rolling back to the compressed release restores its encoded entry page and headers.
    rollback([origin], result.release.id)
    page_info = origin.head("index.html")
    assert page_info is not None and page_info.content_encoding == "gzip"
    assert origin.get("index.html") == result.release.entry_content["index.html"]
    assert verify_origin(origin, deep=True).healthy


def test_a_folder_origin_url_with_compress_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "assetpub.toml").write_text('compress = ["gzip"]\n')
    build = tmp_path / "dist"
    build.mkdir()
    (build / "index.html").write_text("<p>hi</p>")
    out = tmp_path / "out"
    with CliRunner().isolation() as (_, err, *_rest):
        code = main(["publish", str(build), "--origin", f"file://{out}"])
    assert code != 0
    assert "cannot store Content-Encoding" in err.getvalue().decode()
    assert not out.exists() or not any(out.iterdir())


def test_a_builds_own_gz_file_is_published_encoded_and_never_compressed_again(
    make_build: MakeBuild,
) -> None:
    origin = MemoryOrigin("gz")
    packed = gzip.compress(JS.encode(), mtime=0)
    build = make_build({"index.html": "<p>hi</p>", "js/app.js": JS, "js/app.js.gz": packed})
    result = publish(settings(build, compress=("gzip",)), origins=[origin])
    info = origin.head("js/app.js.gz")
    assert info is not None
    assert (info.content_type, info.content_encoding) == ("text/javascript; charset=utf-8", "gzip")
    assert origin.get("js/app.js.gz") == packed  # as the build made it
    assert verify_origin(origin, deep=True).healthy
    assert result.release.files["js/app.js.gz"].decoded_sha256 == ""


def test_health_fetch_reads_gzip_as_a_browser_does() -> None:
    assert _gunzip(gzip.compress(b"<p>page</p>", mtime=0)) == b"<p>page</p>"
    assert _gunzip(b"not gzip") == b""
