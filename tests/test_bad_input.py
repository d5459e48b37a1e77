"""The bad-input catalogue: every case gets one clear line on stderr, its documented exit code
(docs/configuration.md, "Exit codes"), no traceback, and changes nothing on any origin.

Each case runs the CLI in-process against a folder origin and an S3 bucket (the moto server)
that already serve a release, so "nothing changed" is checked against a live site: both are
snapshotted, bytes and all, before and after.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fixture_types import MakeBucket, MakeBuild, S3Client
from test_cli import run, tree

SITE: dict[str, str | bytes] = {
    "index.html": "<!doctype html><link rel=stylesheet href=site.css><img src=logo.png>",
    "site.css": "body{background:url(logo.png)}",
    "logo.png": b"\x89PNG-logo",
    "about/index.html": "<!doctype html><link rel=stylesheet href=../site.css>",
}
CONFIG_ERROR, FAILURE = 2, 1


@dataclass(frozen=True)
class Case:
    """One bad input. `args` may name {build}, {origin} (a folder origin), {s3} (an S3 origin)
    and {endpoint} (the moto server); `config` is written to ./assetpub.toml."""

    id: str
    args: tuple[str, ...]
    says: str  # a fragment of the one line, so the message is the clear one
    code: int = FAILURE
    files: Mapping[str, str | bytes] = field(default_factory=dict)
    config: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    setup: Callable[[Path], None] | None = None  # given the build folder
    build_in_origin: bool = False  # a copy of the build at {origin}/sub (made by the test)


def publish(*extra: str) -> tuple[str, ...]:
    return ("publish", "{build}", "--origin", "{origin}", *extra)


def publish_s3(*extra: str) -> tuple[str, ...]:
    return ("publish", "{build}", "--origin", "{s3}", "--endpoint-url", "{endpoint}", *extra)


def s3(command: str, *extra: str) -> tuple[str, ...]:
    return (command, "--origin", "{s3}", "--endpoint-url", "{endpoint}", *extra)


def config_case(id: str, toml: str, says: str, *extra: str) -> Case:
    return Case(id, publish(*extra), says, CONFIG_ERROR, config=toml)


def _symlink(name: str, target: str) -> Callable[[Path], None]:
    def make(build: Path) -> None:
        (build / name).parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, build / name)

    return make


def _write(name: str | bytes, content: bytes = b"x") -> Callable[[Path], None]:
    def make(build: Path) -> None:
        path = os.path.join(os.fsencode(build), os.fsencode(name))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(content)

    return make


def _fifo(build: Path) -> None:
    os.mkfifo(build / "pipe.js")


def _socket(build: Path) -> None:
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(build / "dev.sock"))
    sock.close()


def _empty(build: Path) -> None:
    for path in sorted(build.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()


def _only_a_script(build: Path) -> None:
    _empty(build)
    (build / "a.js").write_text("1")


def _only_dotfiles(build: Path) -> None:
    _empty(build)
    (build / ".env").write_text("SECRET=1")


def _symlink_loop(build: Path) -> None:
    os.symlink("b.js", build / "a.js")
    os.symlink("a.js", build / "b.js")


def _deep_name(build: Path) -> None:
    folder = build
    for _ in range(5):
        folder = folder / ("d" * 200)
    folder.mkdir(parents=True)
    (folder / ("f" * 100 + ".png")).write_bytes(b"deep")


def _nested_origin(build: Path) -> None:
    (build / "out").mkdir()


CASES = [
    # The build folder.
    Case("build-missing", ("publish", "{build}/nope", "--origin", "{origin}"), "does not exist"),
    Case(
        "build-is-a-file", ("publish", "{build}/site.css", "--origin", "{origin}"), "not a folder"
    ),
    Case("build-empty", publish(), "is empty", setup=_empty),
    Case("build-only-dotfiles", publish(), "is empty", setup=_only_dotfiles),
    Case(
        "build-without-html",
        publish(),
        "no HTML file",
        setup=_only_a_script,
    ),
    Case("reserved-prefix", publish(), "reserved", files={"_assetpub/x.json": "{}"}),
    Case(
        "symlink-outside",
        publish(),
        "outside the build folder",
        setup=_symlink("x.js", "/etc/hostname"),
    ),
    Case("symlink-broken", publish(), "broken symlink", setup=_symlink("x.js", "missing.js")),
    Case("symlink-loop", publish(), "symlink loop", setup=_symlink_loop),
    Case(
        "symlink-to-dotfile",
        publish(),
        ".env",
        files={".env": "SECRET=1"},
        setup=_symlink("config.txt", ".env"),
    ),
    Case(
        "symlink-into-dotfolder",
        publish(),
        ".git",
        files={".git/config": "[core]"},
        setup=_symlink("git.txt", ".git/config"),
    ),
    Case("fifo", publish(), "pipe.js", setup=_fifo),
    Case("socket", publish(), "dev.sock", setup=_socket),
    Case("name-with-backslash", publish(), "backslash", setup=_write("a\\b.png")),
    Case("name-with-newline", publish(), "control character", setup=_write("a\nb.png")),
    Case("name-with-control-char", publish(), "control character", setup=_write("a\x01b.png")),
    Case("name-with-del", publish(), "control character", setup=_write("a\x7fb.png")),
    Case("name-not-utf8", publish(), "UTF-8", setup=_write(b"caf\xe9.png")),
    Case("name-too-long-for-s3", publish_s3(), "1,024 bytes", setup=_deep_name),
    Case(
        "strict-missing-reference",
        publish("--strict"),
        "missing.png",
        files={"index.html": "<img src=missing.png>"},
    ),
    Case(
        "reference-escapes-the-build",
        publish("--strict"),
        "../../etc/passwd",
        files={"index.html": "<img src=../../etc/passwd>"},
    ),
    # Flags.
    Case("unknown-option", publish("--bogus"), "--bogus", CONFIG_ERROR),
    Case("unknown-command", ("pubish",), "pubish", CONFIG_ERROR),
    Case("missing-argument", ("publish",), "BUILD_DIR", CONFIG_ERROR),
    Case("concurrency-zero-flag", publish("--concurrency", "0"), "--concurrency", CONFIG_ERROR),
    Case(
        "concurrency-not-a-number", publish("--concurrency", "many"), "--concurrency", CONFIG_ERROR
    ),
    Case(
        "public-url-relative",
        publish("--public-url", "cdn.example.com"),
        "--public-url",
        CONFIG_ERROR,
    ),
    Case(
        "public-url-javascript",
        publish("--public-url", "javascript:alert(1)//"),
        "--public-url",
        CONFIG_ERROR,
    ),
    Case("config-file-missing", ("--config", "nope.toml", *publish()), "nope.toml", CONFIG_ERROR),
    # Origin URLs.
    Case("origin-empty", ("publish", "{build}", "--origin", ""), "empty", CONFIG_ERROR),
    Case(
        "origin-ftp",
        ("publish", "{build}", "--origin", "ftp://host/x"),
        "unknown origin scheme",
        CONFIG_ERROR,
    ),
    Case(
        "origin-no-bucket",
        ("publish", "{build}", "--origin", "s3://"),
        "bucket name is empty",
        CONFIG_ERROR,
    ),
    Case(
        "origin-bad-bucket",
        ("publish", "{build}", "--origin", "s3://Bad_Bucket"),
        "not a valid bucket",
        CONFIG_ERROR,
    ),
    Case(
        "origin-dotdot-prefix",
        ("publish", "{build}", "--origin", "s3://site/../x"),
        "prefix",
        CONFIG_ERROR,
    ),
    Case(
        "origin-newline",
        ("publish", "{build}", "--origin", "s3://site/a\nb"),
        "control character",
        CONFIG_ERROR,
    ),
    Case(
        "origin-tab",
        ("publish", "{build}", "--origin", "s3://site/a\tb"),
        "control character",
        CONFIG_ERROR,
    ),
    Case(
        "origin-query", ("publish", "{build}", "--origin", "s3://site/x?y=1"), "query", CONFIG_ERROR
    ),
    Case(
        "origin-memory-from-cli",
        ("publish", "{build}", "--origin", "memory://x"),
        "memory://",
        CONFIG_ERROR,
    ),
    Case(
        "origin-file-host",
        ("publish", "{build}", "--origin", "file://host/x"),
        "host",
        CONFIG_ERROR,
    ),
    Case("origin-root", ("publish", "{build}", "--origin", "/"), "root", CONFIG_ERROR),
    Case(
        "origin-twice-slash",
        (
            "publish",
            "{build}",
            "--origin",
            "{s3}",
            "--origin",
            "{s3}/",
            "--endpoint-url",
            "{endpoint}",
        ),
        "twice",
        CONFIG_ERROR,
    ),
    Case(
        "origin-twice-path-and-url",
        ("publish", "{build}", "--origin", "{origin}", "--origin", "file://{origin}"),
        "twice",
        CONFIG_ERROR,
    ),
    Case(
        "origin-is-the-build",
        ("publish", "{build}", "--origin", "{build}"),
        "build folder",
        CONFIG_ERROR,
    ),
    Case(
        "origin-inside-the-build",
        ("publish", "{build}", "--origin", "{build}/out"),
        "build folder",
        CONFIG_ERROR,
        setup=_nested_origin,
    ),
    Case(
        "build-inside-the-origin",
        ("publish", "{origin}/sub", "--origin", "{origin}"),
        "build folder",
        CONFIG_ERROR,
        build_in_origin=True,
    ),
    Case(
        "origin-env-bad",
        ("publish", "{build}"),
        "ASSETPUB_ORIGIN",
        CONFIG_ERROR,
        env={"ASSETPUB_ORIGIN": "ftp://x"},
    ),
    Case(
        "endpoint-not-a-url",
        publish_s3()[:-2] + ("--endpoint-url", "not a url"),
        "endpoint",
        CONFIG_ERROR,
    ),
    Case(
        "endpoint-ftp",
        publish_s3()[:-2] + ("--endpoint-url", "ftp://127.0.0.1:1"),
        "endpoint",
        CONFIG_ERROR,
    ),
    Case(
        "endpoint-closed-port",
        publish_s3()[:-2] + ("--endpoint-url", "http://127.0.0.1:9"),
        "127.0.0.1:9",
    ),
    Case(
        "bucket-missing",
        (
            "publish",
            "{build}",
            "--origin",
            "s3://no-such-bucket-here",
            "--endpoint-url",
            "{endpoint}",
        ),
        "no-such-bucket-here",
    ),
    # The config file.
    config_case("toml-invalid", "origins = [", "invalid TOML"),
    config_case("toml-unknown-key", "concurency = 4", "concurency"),
    config_case("concurrency-zero", "concurrency = 0", "concurrency"),
    config_case("concurrency-negative", "concurrency = -3", "concurrency"),
    config_case("concurrency-huge", "concurrency = 100000", "concurrency"),
    config_case("concurrency-string", 'concurrency = "8"', "concurrency"),
    config_case("concurrency-bool", "concurrency = true", "concurrency"),
    config_case("strict-string", 'strict = "yes"', "strict"),
    config_case("entry-patterns-empty", "entry_patterns = []", "entry_patterns"),
    config_case("entry-patterns-not-strings", "entry_patterns = [1]", "entry_patterns"),
    config_case(
        "hashed-patterns-not-a-list", 'hashed_name_patterns = "[a-f0-9]{8}"', "hashed_name_patterns"
    ),
    config_case(
        "hashed-patterns-bad-regex", 'hashed_name_patterns = ["("]', "hashed_name_patterns"
    ),
    config_case(
        "headers-content-type-int",
        '[[headers]]\npattern = "*.css"\ncontent_type = 5',
        "content_type",
    ),
    config_case(
        "headers-cache-control-crlf",
        '[[headers]]\npattern = "*.css"\ncache_control = "max-age=1\\r\\nX-Evil: 1"',
        "cache_control",
    ),
    config_case(
        "headers-content-type-newline",
        '[[headers]]\npattern = "*.html"\ncontent_type = "text/html\\n"',
        "content_type",
    ),
    config_case(
        "headers-cache-control-non-ascii",
        '[[headers]]\npattern = "*"\ncache_control = "max-age=1 \u00e9"',
        "cache_control",
    ),
    config_case("headers-pattern-int", "[[headers]]\npattern = 5", "pattern"),
    config_case("headers-no-pattern", '[[headers]]\ncache_control = "no-cache"', "pattern"),
    config_case("headers-unknown-key", '[[headers]]\npattern = "*"\nexpires = "1d"', "expires"),
    config_case("headers-not-a-table", 'headers = ["*.css"]', "headers"),
    config_case("origins-not-a-list", 'origins = "s3://site"', "origins"),
    config_case("origin-without-url", '[[origins]]\nregion = "eu-west-1"', "url"),
    config_case("origin-unknown-key", '[[origins]]\nurl = "s3://site"\nbukket = "x"', "bukket"),
    config_case(
        "origin-max-attempts-zero",
        '[[origins]]\nurl = "s3://site"\nmax_attempts = 0',
        "max_attempts",
    ),
    config_case(
        "origin-small-parts",
        '[[origins]]\nurl = "s3://site"\nmultipart_threshold = 1024',
        "multipart_threshold",
    ),
    config_case(
        "origin-bad-checksums", '[[origins]]\nurl = "s3://site"\nchecksums = "always"', "checksums"
    ),
    config_case(
        "origin-bad-addressing",
        '[[origins]]\nurl = "s3://site"\naddressing_style = "dns"',
        "addressing_style",
    ),
    config_case(
        "origin-bad-region", '[[origins]]\nurl = "s3://site"\nregion = "bad region!"', "region"
    ),
    config_case("origin-bad-acl", '[[origins]]\nurl = "s3://site"\nacl = "world-writable"', "acl"),
    config_case(
        "origin-bad-endpoint",
        '[[origins]]\nurl = "s3://site"\nendpoint_url = "localhost:9000"',
        "endpoint",
    ),
    config_case("public-url-in-config", 'public_url = "cdn"', "public_url"),
    # gc.
    Case("gc-keep-zero", ("gc", "--origin", "{origin}", "--keep", "0"), "keep", CONFIG_ERROR),
    Case(
        "gc-grace-word", ("gc", "--origin", "{origin}", "--grace", "forever"), "grace", CONFIG_ERROR
    ),
    Case(
        "gc-grace-negative", ("gc", "--origin", "{origin}", "--grace", "-5m"), "grace", CONFIG_ERROR
    ),
    Case(
        "gc-grace-overflow",
        ("gc", "--origin", "{origin}", "--grace", "99999999999999999d"),
        "grace",
        CONFIG_ERROR,
    ),
    Case(
        "gc-max-deletes-negative",
        ("gc", "--origin", "{origin}", "--max-deletes", "-1"),
        "max_deletes",
        CONFIG_ERROR,
    ),
    Case(
        "gc-config-keep-string",
        ("gc", "--origin", "{origin}"),
        "keep",
        CONFIG_ERROR,
        config='keep = "all"',
    ),
    # rollback.
    Case("rollback-empty-id", ("rollback", "", "--origin", "{origin}"), "release id", CONFIG_ERROR),
    Case(
        "rollback-blank-id", ("rollback", "  ", "--origin", "{origin}"), "release id", CONFIG_ERROR
    ),
    Case(
        "rollback-unknown-id",
        ("rollback", "20200101T000000Z-deadbeef", "--origin", "{origin}"),
        "20200101T000000Z-deadbeef",
    ),
    Case(
        "rollback-path-id",
        ("rollback", "../../state", "--origin", "{origin}"),
        "release id",
        CONFIG_ERROR,
    ),
    Case("rollback-nothing-before", s3("rollback"), "no previous release"),
    # Health checks: refused before the build is read, so nothing is written.
    Case(
        "check-url-relative",
        publish("--check-url", "www.example.com/"),
        "--check-url",
        CONFIG_ERROR,
    ),
    Case(
        "check-url-ftp", publish("--check-url", "ftp://example.com/"), "--check-url", CONFIG_ERROR
    ),
    Case(
        "check-url-space",
        publish("--check-url", "https://example.com/a b"),
        "--check-url",
        CONFIG_ERROR,
    ),
    Case(
        "check-url-newline",
        publish("--check-url", "https://example.com/\nX-Evil: 1"),
        "--check-url",
        CONFIG_ERROR,
    ),
    Case(
        "check-timeout-negative",
        publish("--check-cmd", "true", "--check-timeout", "-5s"),
        "--check-timeout",
        CONFIG_ERROR,
    ),
    Case(
        "check-timeout-zero",
        publish("--check-cmd", "true", "--check-timeout", "0"),
        "--check-timeout",
        CONFIG_ERROR,
    ),
    Case(
        "check-timeout-word",
        publish("--check-cmd", "true", "--check-timeout", "soon"),
        "--check-timeout",
        CONFIG_ERROR,
    ),
    Case("check-cmd-empty", publish("--check-cmd", " "), "--check-cmd", CONFIG_ERROR),
    config_case("check-urls-not-a-list", 'check_urls = "https://x.example/"', "check_urls"),
    config_case("check-urls-relative", 'check_urls = ["/index.html"]', "check_urls"),
    config_case("check-cmd-not-a-string", "check_cmd = ['npx', 'playwright']", "check_cmd"),
    config_case("check-timeout-negative-in-config", "check_timeout = -30", "check_timeout"),
    Case(
        "rollback-check-url-bad",
        ("rollback", "--origin", "{origin}", "--check-url", "javascript:alert(1)"),
        "--check-url",
        CONFIG_ERROR,
    ),
    Case(
        "rollback-check-timeout-negative",
        ("rollback", "--origin", "{origin}", "--check-cmd", "true", "--check-timeout", "-1"),
        "--check-timeout",
        CONFIG_ERROR,
    ),
    Case("verify-url-relative", ("verify", "--url", "index.html"), "--url", CONFIG_ERROR),
    # The other commands.
    Case(
        "releases-two-origins",
        ("releases", "--origin", "{origin}", "--origin", "{origin}2"),
        "one origin",
        CONFIG_ERROR,
    ),
    Case(
        "verify-unknown-option",
        ("verify", "--origin", "{origin}", "--deeep"),
        "--deeep",
        CONFIG_ERROR,
    ),
]


@pytest.fixture
def live_origins(
    make_build: MakeBuild, make_bucket: MakeBucket, s3_endpoint: str, tmp_path: Path
) -> Iterator[tuple[Path, str]]:
    """A folder origin and an S3 origin, each serving one release of SITE."""
    folder, bucket = tmp_path / "www", make_bucket()
    build = make_build(SITE)
    for target in (str(folder), f"s3://{bucket}/site"):
        code, _, err = run("publish", str(build), "--origin", target, "--endpoint-url", s3_endpoint)
        assert code == 0, err
    yield folder, f"s3://{bucket}/site"


def snapshot(
    folder: Path, client: S3Client, s3_url: str
) -> tuple[dict[str, bytes], dict[str, bytes]]:
    bucket = s3_url.removeprefix("s3://").split("/")[0]
    objects = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for obj in page.get("Contents", []):
            objects[obj["Key"]] = client.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
    return tree(folder), objects


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_bad_input_gets_one_line_its_exit_code_and_changes_nothing(
    case: Case,
    live_origins: tuple[Path, str],
    make_build: MakeBuild,
    s3_client: S3Client,
    s3_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder, s3_url = live_origins
    build = make_build({**SITE, **case.files})
    if case.setup:
        case.setup(build)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    if case.config is not None:
        (cwd / "assetpub.toml").write_text(case.config)
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)
    places = {"build": str(build), "origin": str(folder), "s3": s3_url, "endpoint": s3_endpoint}
    args = [a.format(**places) if "{" in a else a for a in case.args]
    if case.build_in_origin:
        shutil.copytree(build, folder / "sub")
    before = snapshot(folder, s3_client, s3_url)

    code, out, err = run(*args)

    lines = err.strip().splitlines()
    assert "Traceback" not in err + out
    assert len(lines) == 1, f"expected one line, got: {err!r}"
    assert lines[0].startswith("assetpub: error: "), lines[0]
    assert case.says in lines[0], lines[0]
    assert code == case.code, (code, lines[0])
    assert snapshot(folder, s3_client, s3_url) == before


def test_the_catalogue_is_large_enough_and_its_ids_unique() -> None:
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)
