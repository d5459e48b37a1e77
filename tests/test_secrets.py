"""No command shows a credential, and nothing assetpub writes to an origin holds one, or a
local path, or the environment.

Every command `assetpub --help` lists runs against the moto server with recognisable fake
credentials (a secret access key, a session token, an access key id), plain, with --json, with
--debug (tracebacks and debug logs), -vv and --dry-run, and failing: a missing bucket, a closed
port, an unknown release, a missing build folder. Then every output, every object on the origin
(bytes and metadata), the read cache and every release record are searched for them.

The commands run in forked children of the crash runner's fork server (checkpoint `none`: no
kill), each a fresh `assetpub` process with its own logging set up, at a fraction of the
start-up a subprocess costs.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from backends import s3_backend
from fixture_types import MakeBucket, MakeBuild, S3Client
from test_crash import ForkRunner, Outcome, runner_env

from assetpub.cli.app import cli
from assetpub.keys import RELEASES_PREFIX

SECRET_ACCESS_KEY = "SECRET-canary-9f2c41d7e0b3a865"
SESSION_TOKEN = "TOKEN-canary-3e7a0c52b19d4f86"
ACCESS_KEY_ID = "AKIACANARY7Q2W9XZ4"
ENV_CANARY = "ENV-canary-5b8d1e6f"  # an unrelated variable: found only in an environment dump
CREDENTIALS = (SECRET_ACCESS_KEY, SESSION_TOKEN, ACCESS_KEY_ID)
CLOSED_PORT_ENDPOINT = "http://127.0.0.1:9"  # discard: nothing listens on loopback


def site(version: int) -> dict[str, str | bytes]:
    return {
        "index.html": f"<link rel=stylesheet href=css/site.css><img src=img/logo.png>v{version}",
        "about/index.html": "<link rel=stylesheet href=../css/site.css>about",
        "css/site.css": f"body{{background:url(../img/bg{version}.png)}}",
        "img/logo.png": b"logo",
        f"img/bg{version}.png": bytes([version]) * 300,
        "robots.txt": f"# v{version}\n",
        "chunk.js": f"// plain v{version}\n",
    }


@pytest.fixture(scope="module")
def places(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Local places a record must never name: a home, a read cache, a working folder."""
    root = tmp_path_factory.mktemp("secrets")
    return {name: root / name for name in ("home", "cache", "runs")}


@pytest.fixture(scope="module")
def canary_env(places: dict[str, Path]) -> dict[str, str]:
    """The environment every command runs in: the fake credentials, a home and a cache."""
    for place in places.values():
        place.mkdir()
    return {
        **runner_env(),
        "AWS_ACCESS_KEY_ID": ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
        "AWS_SESSION_TOKEN": SESSION_TOKEN,
        "HOME": str(places["home"]),
        "ASSETPUB_CACHE_DIR": str(places["cache"]),
        "ASSETPUB_TEST_CANARY": ENV_CANARY,
    }


@pytest.fixture(scope="module")
def runner(canary_env: dict[str, str], places: dict[str, Path]) -> Iterator[ForkRunner]:
    fork_runner = ForkRunner(canary_env, places["runs"])
    yield fork_runner
    fork_runner.close()


def leaks(text: str, what: tuple[str, ...] = CREDENTIALS) -> list[str]:
    return [word for word in what if word in text]


def objects(s3_client: S3Client, bucket: str) -> dict[str, tuple[bytes, dict[str, Any]]]:
    """Every object in the bucket: its bytes and what a HEAD returns (headers, metadata)."""
    found = {}
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            key = item["Key"]
            body = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
            head = s3_client.head_object(Bucket=bucket, Key=key)
            meta = {k: head.get(k) for k in ("ContentType", "CacheControl", "Metadata")}
            found[key] = (body, meta)
    return found


def strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def test_no_command_shows_or_stores_a_credential_a_local_path_or_the_environment(
    runner: ForkRunner,
    places: dict[str, Path],
    make_build: MakeBuild,
    make_bucket: MakeBucket,
    s3_client: S3Client,
    s3_endpoint: str,
) -> None:
    bucket = make_bucket()
    origin = s3_backend(s3_client, s3_endpoint, bucket).cli_args
    builds = [make_build(site(v)) for v in (1, 2, 3)]
    missing_bucket = ["--origin", "s3://no-such-bucket-here/site", "--endpoint-url", s3_endpoint]
    # A closed port from a config file, with one attempt per request: the default five, with
    # backoff, cost 15 s per command for nothing this test looks at.
    config = places["runs"] / "closed-port.toml"
    config.write_text(
        f'[[origins]]\nurl = "s3://{bucket}/site"\n'
        f'endpoint_url = "{CLOSED_PORT_ENDPOINT}"\nmax_attempts = 1\n'
    )
    closed_port = ["--config", str(config)]
    # (arguments, expected exit code); the commands that change the origin run in an order
    # that leaves something to roll back to and to collect.
    runs: list[tuple[list[str], int]] = [
        (["--version"], 0),
        (["--help"], 0),
        *(([name, "--help"], 0) for name in sorted(cli.commands)),
        (["publish", str(builds[0]), *origin, "--json", "-m", "first"], 0),
        (["--debug", "-vv", "publish", str(builds[1]), *origin], 0),
        (["--debug", "publish", str(builds[2]), *origin, "--dry-run"], 0),
        (["-v", "publish", str(builds[2]), *origin, "--json"], 0),
        (["--debug", "publish", str(builds[2]), *origin], 0),  # unchanged
        (["--debug", "releases", *origin], 0),
        (["releases", *origin, "--json"], 0),
        (["--debug", "-vv", "status", *origin], 0),
        (["status", *origin, "--json"], 0),
        (["--debug", "verify", *origin, "--deep"], 0),
        (["verify", *origin, "--json"], 0),
        (["--debug", "rollback", *origin, "--dry-run"], 0),
        (["--debug", "-vv", "rollback", *origin, "--json"], 0),
        (["--debug", "gc", *origin, "--keep", "1", "--grace", "0", "--dry-run"], 0),
        (["--debug", "-vv", "gc", *origin, "--keep", "1", "--grace", "0", "--force"], 0),
        (["gc", *origin, "--keep", "1", "--grace", "0", "--json"], 0),
        # delete-prefix takes its origin as an argument; a dry run, so the objects and records
        # are still there to be scanned below.
        (["--debug", "-v", "delete-prefix", *origin[1:], "--dry-run"], 0),
        (["delete-prefix", *origin[1:], "--dry-run", "--json"], 0),
        # Failing runs: one line without --debug, a traceback with it.
        (["publish", str(builds[0]), *missing_bucket], 1),
        (["--debug", "-vv", "publish", str(builds[0]), *missing_bucket], -1),
        (["--debug", *closed_port, "status"], -1),
        ([*closed_port, "verify", "--json"], 1),
        (["--debug", "releases", *missing_bucket], -1),
        (["--debug", "rollback", "20000101T000000000Z-00000000", *origin], -1),
        (["gc", *missing_bucket, "--grace", "0"], 1),
        (["--debug", "publish", str(places["home"] / "no-build"), *origin], -1),
        (["--debug", "-vv", "init", str(places["runs"])], 0),
        # watch runs until a signal (test_watch_shows_no_credential): here its refusal.
        (["watch", str(builds[0]), *origin, "--debounce", "0"], 2),
    ]
    ran: set[str] = set()
    outcomes: list[Outcome] = []
    for args, expected in runs:
        outcome = runner.run("none", 0, args, timeout=60)
        outcomes.append(outcome)
        ran |= {arg for arg in args if arg in cli.commands and "--help" not in args}
        if expected >= 0:
            assert outcome.status == expected, outcome.describe()
        else:  # --debug on a failure: the traceback, whichever exit code it comes with
            assert outcome.status != 0 and "Traceback" in outcome.stderr, outcome.describe()
        assert not leaks(outcome.stdout + outcome.stderr), outcome.describe()
    assert ran == set(cli.commands), f"commands never run: {sorted(set(cli.commands) - ran)}"
    # The failing runs failed for the reason meant, not for one that prints less.
    said = "\n".join(o.stderr for o in outcomes)
    assert "no-such-bucket-here" in said and "cannot reach endpoint" in said

    stored = objects(s3_client, bucket)
    records = {k: v for k, v in stored.items() if k.startswith(f"site/{RELEASES_PREFIX}")}
    assert records  # gc --keep 1 kept the live one's
    local = [str(b) for b in builds] + [str(p) for p in places.values()] + [os.getcwd()]
    for key, (body, meta) in stored.items():
        text = body.decode("utf-8", "replace") + json.dumps(meta)
        assert not leaks(text, (*CREDENTIALS, ENV_CANARY, *local)), key
    for key, (body, _) in records.items():
        record = json.loads(body)
        # The entry files and asset-manifest.json, as the record keeps them (base64).
        kept = [base64.b64decode(record.pop("manifest"))]
        kept += [base64.b64decode(v) for v in record.pop("entry_content").values()]
        absolute = [s for s in strings(record) if s.startswith(("/", "file:", "~"))]
        assert not absolute, f"{key} names local paths: {absolute}"
        text = b"".join(kept).decode("utf-8", "replace") + json.dumps(record)
        environment = (os.environ["PATH"], "AWS_", "HOME=", ENV_CANARY)
        assert not leaks(text, (*CREDENTIALS, *environment, *local)), key

    for path in places["cache"].rglob("*"):
        if path.is_file():
            assert not leaks(path.read_bytes().decode("utf-8", "replace")), path


def test_the_credentials_reach_the_wire_and_its_debug_log(
    monkeypatch: pytest.MonkeyPatch, s3_endpoint: str, make_bucket: MakeBucket
) -> None:
    """What makes the test above mean something: with these variables boto3 sends the token
    on every request, and botocore's own debug log (which assetpub keeps quiet) prints it."""
    import boto3

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_ACCESS_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
    bucket = make_bucket()
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    botocore_log = logging.getLogger("botocore")
    level = botocore_log.level
    botocore_log.addHandler(handler)
    botocore_log.setLevel(logging.DEBUG)
    try:
        client = boto3.session.Session().client("s3", endpoint_url=s3_endpoint)
        client.list_objects_v2(Bucket=bucket)
    finally:
        botocore_log.removeHandler(handler)
        botocore_log.setLevel(level)
    assert SESSION_TOKEN in leaks(log.getvalue())


def test_watch_shows_no_credential(
    canary_env: dict[str, str],
    make_build: MakeBuild,
    make_bucket: MakeBucket,
    s3_client: S3Client,
    s3_endpoint: str,
    tmp_path: Path,
) -> None:
    """watch runs until a signal, so it runs as a subprocess of its own, with the runner's
    environment: publishing with --debug -vv, and failing (a missing bucket: a traceback
    with every retry)."""
    from test_watch import WatchProcess

    origin = s3_backend(s3_client, s3_endpoint, make_bucket()).cli_args
    missing_bucket = ["--origin", "s3://no-such-bucket-here/site", "--endpoint-url", s3_endpoint]
    build = [str(make_build(site(1)))]
    published = WatchProcess(build + origin, tmp_path, canary_env, ("--debug", "-vv"))
    published.until_line("published")
    failing = WatchProcess(build + missing_bucket, tmp_path, canary_env, ("--debug",))
    failing.until_line("retrying in 1 s", stream="stderr")
    for watcher in (published, failing):
        code, err = watcher.stop(signal.SIGTERM)
        assert code == 0, err
        output = "\n".join(watcher.lines["stdout"]) + err
        assert not leaks(output, (*CREDENTIALS, ENV_CANARY)), output
    assert "Traceback" in err and "no-such-bucket-here" in err
