"""The command line: CliRunner for most cases, real subprocesses for a few."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from fixture_types import MakeBucket, MakeBuild, S3Client

from assetpub.cli.app import main
from assetpub.errors import OriginError

SITE: dict[str, str | bytes] = {
    "index.html": "<link rel=stylesheet href=site.css><img src=logo.png>",
    "site.css": "body{color:red}",
    "logo.png": b"png",
}


def run(*args: str) -> tuple[int, str, str]:
    """Run main() in-process, as the console script does, capturing both streams."""
    with CliRunner().isolation() as (out, err, *_):
        code = main(list(args))
    return code, out.getvalue().decode(), err.getvalue().decode()


def tree(folder: Path) -> dict[str, bytes]:
    if not folder.exists():
        return {}
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_publish_to_a_folder_and_json(make_build: MakeBuild, tmp_path: Path) -> None:
    build, origin = make_build(SITE), tmp_path / "www"
    code, out, _ = run("publish", str(build), "--origin", str(origin), "--json", "-m", "hello")
    assert code == 0
    data = json.loads(out)
    assert data["uploaded"] == 3 and data["skipped"] == 0
    assert data["origins"][0]["url"] == origin.as_uri()
    manifest = json.loads((origin / "asset-manifest.json").read_text())
    assert manifest["release"] == data["release"]
    assert (origin / manifest["files"]["site.css"]).read_text() == "body{color:red}"


def test_human_summary_names_release_counts_and_live_url(
    make_build: MakeBuild, tmp_path: Path
) -> None:
    origin = tmp_path / "www"
    code, out, _ = run("publish", str(make_build(SITE)), "--origin", str(origin))
    assert code == 0
    assert "Published release 2" in out
    assert f"{origin.as_uri()}: uploaded 3" in out
    assert f"live: {(origin / 'index.html').as_uri()}" in out
    code, out, _ = run(
        "publish",
        str(make_build(SITE)),
        "--origin",
        str(origin),
        "--public-url",
        "https://cdn.example.com",
    )
    assert "skipped 2 already there" in out and "live: https://cdn.example.com/" in out


def test_dry_run_prints_the_plan_and_writes_nothing(make_build: MakeBuild, tmp_path: Path) -> None:
    origin = tmp_path / "www"
    run("publish", str(make_build(SITE)), "--origin", str(origin))
    before = tree(origin)
    changed = {**SITE, "site.css": "body{color:blue}"}
    code, out, _ = run("publish", str(make_build(changed)), "--origin", str(origin), "--dry-run")
    assert code == 0
    assert tree(origin) == before
    assert "Would publish release" in out
    assert "assets   put  site." in out and "(not on origin)" in out
    assert "index    put  index.html  (switch)" in out


def test_dry_run_verbose_explains_every_decision(make_build: MakeBuild, tmp_path: Path) -> None:
    site = {
        **SITE,
        "app.js": 'load("logo.png")',
        "_next/static/chunks/0umf92h1sb77c.js": "1",
        "feed.xml": "<rss/>",
    }
    site["index.html"] = str(site["index.html"]) + '<link rel=alternate href="feed.xml">'
    origin = tmp_path / "www"
    code, out, _ = run("-v", "publish", str(make_build(site)), "--origin", str(origin), "--dry-run")
    assert code == 0 and tree(origin) == {}
    lines = out.splitlines()
    assert "detected: Next.js static export" in lines
    decisions = {
        line.split()[1]: line for line in lines if line.startswith(("  renamed", "  kept"))
    }
    assert set(decisions) == set(site)
    assert decisions["site.css"].startswith("  renamed site.css -> site.")
    assert decisions["site.css"].endswith("every mention is rewritten: index.html <link href>")
    assert (
        "logo.png (plain): named outside a reference assetpub rewrites: app.js:1"
        in (decisions["logo.png"])
    )
    assert (
        "Next.js documents _next/static/ as content-hashed"
        in (decisions["_next/static/chunks/0umf92h1sb77c.js"])
    )
    assert "feed.xml (plain): named outside a reference" in decisions["feed.xml"]
    # Without -v, only the detection line.
    code, out, _ = run("publish", str(make_build(site)), "--origin", str(origin), "--dry-run")
    assert "detected: Next.js static export" in out and "renamed" not in out


def test_default_origin_is_a_local_folder(
    make_build: MakeBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ASSETPUB_ORIGIN", raising=False)
    code, _, _ = run("publish", str(make_build(SITE)))
    assert code == 0
    assert (tmp_path / "assetpub-origin" / "index.html").is_file()


def test_config_file_and_flags(
    make_build: MakeBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text(
        '[tool.assetpub]\norigins = ["from-config"]\npublic_url = "https://cdn.example.com/"\n'
    )
    assert run("publish", str(make_build(SITE)))[0] == 0
    html = (tmp_path / "from-config" / "index.html").read_text()
    assert "href=https://cdn.example.com/site." in html
    # A flag wins over the config file.
    assert run("publish", str(make_build(SITE)), "--origin", "from-flag")[0] == 0
    assert (tmp_path / "from-flag" / "index.html").is_file()


def one_line_error(code: int, out: str, err: str, expected: str) -> None:
    assert code != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("assetpub: error: ") and expected in lines[0], err
    assert "Traceback" not in out + err


@pytest.fixture
def forbidding_endpoint() -> Iterator[str]:
    """A loopback HTTP server answering every S3 request as AWS does for an unknown key id."""

    class Handler(BaseHTTPRequestHandler):
        def _deny(self) -> None:
            body = (
                b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidAccessKeyId</Code>'
                b"<Message>The AWS Access Key Id you provided does not exist.</Message></Error>"
            )
            self.send_response(403)
            self.send_header("Content-Type", "application/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_PUT = do_HEAD = do_POST = _deny

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_bad_input_is_one_line_and_changes_nothing(
    make_build: MakeBuild,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    s3_endpoint: str,
    make_bucket: MakeBucket,
    s3_client: S3Client,
    forbidding_endpoint: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    good = make_build(SITE)
    origin = tmp_path / "www"
    bucket = make_bucket()
    empty = tmp_path / "empty"
    empty.mkdir()
    cases = [
        (["publish", str(tmp_path / "missing")], "does not exist"),
        (["publish", str(empty)], "is empty"),
        (["publish", str(good / "index.html")], "is not a folder"),
        (["publish", str(make_build({"app.js": "x"}))], "no HTML file"),
        (["publish", str(good), "--origin", "ftp://x/y"], "unknown origin scheme"),
        (["publish", str(good), "--origin", "s3://"], "bad origin URL"),
        (["publish", str(good), "--public-url", "cdn.example.com"], "absolute URL"),
        (
            [
                "publish",
                str(good),
                "--origin",
                "s3://no-such-bucket-here/site",
                "--endpoint-url",
                s3_endpoint,
            ],
            "no-such-bucket-here",
        ),
        (
            [
                "publish",
                str(good),
                "--origin",
                f"s3://{bucket}/site",
                "--endpoint-url",
                forbidding_endpoint,
            ],
            "credentials rejected",
        ),
        (
            [
                "publish",
                str(good),
                "--origin",
                f"s3://{bucket}/site",
                "--endpoint-url",
                f"http://127.0.0.1:{closed_port()}",
            ],
            "cannot reach",
        ),
        (
            [
                "publish",
                str(make_build({"index.html": "<img src=gone.png>"})),
                "--strict",
                "--origin",
                str(origin),
            ],
            "gone.png",
        ),
    ]
    for args, expected in cases:
        code, out, err = run(*args)
        one_line_error(code, out, err, expected)
    assert not origin.exists()
    assert "Contents" not in s3_client.list_objects_v2(Bucket=bucket)


@pytest.mark.parametrize(
    ("config", "expected"),
    [("colour = 'red'", "unknown config key 'colour'"), ("origins = [", "invalid TOML")],
)
def test_bad_config_is_one_line(
    make_build: MakeBuild,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    config: str,
    expected: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "assetpub.toml").write_text(config)
    one_line_error(*run("publish", str(make_build(SITE))), expected)
    assert not (tmp_path / "assetpub-origin").exists()


def test_missing_credentials(
    make_build: MakeBuild,
    s3_endpoint: str,
    make_bucket: MakeBucket,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bucket = make_bucket()
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    args = [
        "publish",
        str(make_build(SITE)),
        "--origin",
        f"s3://{bucket}/x",
        "--endpoint-url",
        s3_endpoint,
    ]
    one_line_error(*run(*args), "no AWS credentials")


def test_unreadable_file_is_named(
    make_build: MakeBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Tests run as root in CI, where chmod cannot make a file unreadable: fail the read instead.
    import assetpub.build.prepare
    from assetpub.build.hashing import Digests, digest_file

    real = digest_file  # the function assetpub.build.prepare imported (and calls) by that name

    def deny(path: Path) -> Digests:
        if path.name == "logo.png":
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(assetpub.build.prepare, "digest_file", deny)
    origin = tmp_path / "www"
    one_line_error(
        *run("publish", str(make_build(SITE)), "--origin", str(origin)),
        "cannot read logo.png: Permission denied",
    )
    assert not origin.exists()


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "assetpub", "--debug", "publish", str(tmp_path / "missing")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0 and "Traceback" in proc.stderr and "BuildError" in proc.stderr


def test_a_message_that_reads_debug_is_not_the_debug_flag(tmp_path: Path) -> None:
    # The group parses --debug; a "-m --debug" message must not turn tracebacks on.
    code, out, err = run("publish", str(tmp_path / "missing"), "-m", "--debug")
    assert code != 0 and "Traceback" not in err
    assert err.strip().splitlines() == [
        f"assetpub: error: build folder {tmp_path / 'missing'} does not exist "
        "(run your bundler first?)"
    ]


def test_real_subprocess_publish_to_s3(
    make_build: MakeBuild, s3_endpoint: str, make_bucket: MakeBucket, s3_client: S3Client
) -> None:
    bucket = make_bucket()
    env = {**os.environ, "AWS_ENDPOINT_URL_S3": s3_endpoint}  # boto3's own variable
    cmd = [
        sys.executable,
        "-m",
        "assetpub",
        "publish",
        str(make_build(SITE)),
        "--origin",
        f"s3://{bucket}/site",
        "--json",
    ]
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["uploaded"] == 3
    second = json.loads(
        subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    )
    assert second["unchanged"] is True and second["release"] == json.loads(first.stdout)["release"]
    assert second["skipped"] == 3 and second["uploaded"] == 0
    # LIST x2 (check, listing), GET x3 (the state before listing and to compare, the live
    # record): nothing per file, and no write at all.
    assert second["origins"][0]["requests"] == 5
    body = s3_client.get_object(Bucket=bucket, Key="site/index.html")["Body"].read()
    assert b"href=site." in body and b".css>" in body


def test_version_and_help() -> None:
    code, out, _ = run("--version")
    assert code == 0 and "assetpub" in out
    code, out, _ = run("publish", "--help")
    assert code == 0 and "--origin" in out and "--dry-run" in out


@pytest.mark.parametrize(
    ("shell", "says"),
    [("bash", "complete -o nosort -F _assetpub_completion assetpub"), ("zsh", "#compdef assetpub"),
     ("fish", "complete --no-files --command assetpub")],
)  # fmt: skip
def test_shell_completion_scripts(shell: str, says: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("_ASSETPUB_COMPLETE", f"{shell}_source")
    code, out, err = run()
    assert code == 0 and err == "" and says in out


@pytest.mark.parametrize(
    ("words", "cword", "expected"),
    [("assetpub pub", "1", "plain,publish"), ("assetpub gc --ke", "2", "plain,--keep")],
)
def test_bash_completion_completes_commands_and_options(
    words: str, cword: str, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in (("_ASSETPUB_COMPLETE", "bash_complete"), ("COMP_WORDS", words),
                        ("COMP_CWORD", cword)):  # fmt: skip
        monkeypatch.setenv(name, value)
    code, out, _ = run()
    assert code == 0 and out.split() == [expected]


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completion_through_the_installed_command(tmp_path: Path) -> None:
    """The documented line, in a real bash, with `assetpub` on PATH as the console script."""
    command = tmp_path / "bin" / "assetpub"
    command.parent.mkdir()
    command.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m assetpub "$@"\n')
    command.chmod(0o755)
    script = (
        'eval "$(_ASSETPUB_COMPLETE=bash_source assetpub)"\n'
        "COMP_WORDS=(assetpub pub); COMP_CWORD=1; _assetpub_completion assetpub\n"
        'echo "${COMPREPLY[@]}"\n'
    )
    root = str(Path(__file__).parent.parent)
    env = {**os.environ, "PATH": f"{command.parent}{os.pathsep}{os.environ['PATH']}"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))
    done = subprocess.run(
        ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["publish"]


_IMPORTS_PROBE = """
import sys
from assetpub.cli import main
code = main(sys.argv[1:])
heavy = sorted(m for m in ("boto3", "botocore", "assetpub.commands.publish") if m in sys.modules)
print(code, ",".join(heavy))
"""


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--help"], "0 "),  # a click program: no command module is imported
        (["-q", "publish", "BUILD", "--origin", "ORIGIN"], "0 assetpub.commands.publish"),
    ],
    ids=["help", "folder-publish"],
)
def test_start_up_never_imports_boto3_without_an_s3_origin(
    args: list[str], expected: str, make_build: MakeBuild, tmp_path: Path
) -> None:
    build = make_build({"index.html": "<img src=a.png>", "a.png": b"png"})
    filled = [
        str(build) if a == "BUILD" else str(tmp_path / "o") if a == "ORIGIN" else a for a in args
    ]
    done = subprocess.run(
        [sys.executable, "-c", _IMPORTS_PROBE, *filled],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.stdout.splitlines()[-1] == expected, done.stderr


def test_include_and_exclude_choose_what_is_published(
    make_build: MakeBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Patterns from the config and the flags together; what they leave out never reaches the
    origin, and a page's reference to it is a missing reference: one warning line, or with
    --strict one error line and nothing written."""
    build = make_build(
        {
            **SITE,
            "index.html": "<link rel=stylesheet href=site.css><script src=app.js.map></script>",
            "app.js.map": "{}",
            "drafts/post.html": "<p>draft",
            "notes.txt": "private",
        }
    )
    origin = tmp_path / "www"
    monkeypatch.chdir(tmp_path)
    (tmp_path / "assetpub.toml").write_text('exclude = ["*.map"]\n')
    args = ("publish", str(build), "--origin", str(origin), "--exclude", "drafts/")
    code, _, err = run(*args, "--strict")
    assert code != 0 and tree(origin) == {}
    assert err.strip().splitlines() == [
        "assetpub: error: index.html: <script src> 'app.js.map' refers to app.js.map, "
        "which is not in the build"
    ]
    code, out, err = run(*args, "--exclude", "notes.txt", "--json")
    assert code == 0, err
    assert "app.js.map' refers to app.js.map, which is not in the build" in err
    published = json.loads((origin / "asset-manifest.json").read_text())["files"]
    assert sorted(published) == ["asset-manifest.json", "index.html", "logo.png", "site.css"]
    assert not (origin / "drafts").exists() and not (origin / "notes.txt").exists()
    code, _, err = run(*args, "--include", "[z-a]")
    assert code == 2 and err.startswith("assetpub: error: --include: '[z-a]' is not a valid")


def test_a_rerun_says_the_release_is_live_already_and_allow_empty_records_one(
    make_build: MakeBuild, tmp_path: Path
) -> None:
    build, origin = make_build(SITE), tmp_path / "www"
    args = ("publish", str(build), "--origin", str(origin))
    code, out, _ = run(*args, "--json")
    first = json.loads(out)["release"]
    code, out, _ = run(*args)
    assert code == 0
    assert f"Unchanged: release {first} is live already with exactly these 3 files" in out
    code, out, _ = run(*args, "--allow-empty", "--json")
    data = json.loads(out)
    assert code == 0 and data["unchanged"] is False and data["release"] != first
    code, out, _ = run("releases", "--origin", str(origin), "--json")
    assert len(json.loads(out)) == 2


# --------------------------------------------------------------------------------------------
# CLI habits: global options anywhere, bare help, JSON errors, config found upward, init.


def test_global_options_mean_the_same_after_the_command(
    make_build: MakeBuild, tmp_path: Path
) -> None:
    build, origin = make_build(SITE), str(tmp_path / "www")
    for args in (["-q", "publish", str(build)], ["publish", str(build), "-q"]):
        code, out, err = run(*args, "--origin", origin, "--allow-empty")
        assert (code, out, err) == (0, "", "")
    before, after = (
        json.loads(run(*args)[1])
        for args in (
            ["--json", "releases", "--origin", origin],
            ["releases", "--origin", origin, "--json"],
        )
    )
    assert len(before) == 2 and before == after
    # --debug after the command: the error keeps its exception for the traceback.
    from assetpub.errors import BuildError

    with pytest.raises(BuildError):
        main(["publish", str(tmp_path / "missing"), "--debug"])
    # -v before and after add up: twice is debug logs.
    import logging

    run("-v", "status", "--origin", origin, "-v")
    assert logging.getLogger("assetpub").level == logging.DEBUG
    run("status", "--origin", origin)
    assert logging.getLogger("assetpub").level == logging.NOTSET


def test_bare_assetpub_prints_help_and_succeeds() -> None:
    code, out, err = run()
    assert code == 0 and err == ""
    assert out.startswith("Usage: assetpub") and "publish " in out and "init " in out


def test_every_command_shows_an_example() -> None:
    from assetpub.cli.app import cli

    for name in cli.commands:
        code, out, _ = run(name, "--help")
        assert code == 0 and f"assetpub {name} " in out.split("Examples:\n", 1)[1], name
        assert "-q, --quiet" in out and "--debug" in out and "--config" in out, name
        assert ("--json" in out) == (name != "watch"), name


def test_verbose_lists_every_upload_and_skip_of_a_real_publish(
    make_build: MakeBuild, tmp_path: Path
) -> None:
    origin = str(tmp_path / "www")
    run("publish", str(make_build(SITE)), "--origin", origin)
    changed = {**SITE, "site.css": "body{color:blue}"}
    code, out, _ = run("publish", str(make_build(changed)), "--origin", origin, "-v")
    assert code == 0 and "Published release" in out
    lines = out.splitlines()
    assert any(line.startswith("  assets   put  site.") for line in lines), out
    assert any(
        line.startswith("           skip logo.") and line.endswith(".png  (already on origin)")
        for line in lines
    ), out
    assert "  index    put  index.html  (switch)" in lines
    # Without -v: the summary only.
    code, out, _ = run("publish", str(make_build(SITE)), "--origin", origin)
    assert code == 0 and " skip " not in out and " put " not in out


@pytest.mark.parametrize(
    ("args", "exit_code", "says"),
    [
        (["publish", "{missing}", "--json"], 1, "does not exist"),
        (["--json", "publish", "{missing}"], 1, "does not exist"),
        (["publish", "{missing}", "--bogus", "--json"], 2, "No such option '--bogus'"),
        (["gc", "--keep", "0", "--origin", "{origin}", "--json"], 2, "keep must be at least 1"),
        (["status", "--origin", "{empty}", "--json"], 1, "no assetpub history here"),
        (["--json", "watch"], 2, "drop --json"),
        (["watch", "--json"], 2, "No such option '--json'"),
    ],
)
def test_json_errors_are_one_object_on_stdout_and_one_line_on_stderr(
    args: list[str], exit_code: int, says: str, make_build: MakeBuild, tmp_path: Path
) -> None:
    origin = tmp_path / "www"
    assert run("publish", str(make_build(SITE)), "--origin", str(origin))[0] == 0
    places = {"missing": tmp_path / "missing", "origin": origin, "empty": tmp_path / "empty"}
    code, out, err = run(*(a.format(**places) for a in args))
    one_line_error(code, out, err, says)
    assert json.loads(out) == {
        "schema": "assetpub.error/1",
        "error": err.strip().removeprefix("assetpub: error: "),
        "exit_code": exit_code,
    }
    assert code == exit_code


def test_a_failed_check_under_json_prints_only_the_result(
    make_build: MakeBuild, tmp_path: Path
) -> None:
    origin = str(tmp_path / "www")
    args = ("--origin", origin, "--json", "--check-cmd", "exit 1")
    code, out, err = run("publish", str(make_build(SITE)), *args)
    assert code == 3 and "check" in err
    data = json.loads(out)  # one object: the publish's, which says the check failed
    assert "error" not in data and data["check"]["passed"] is False


def test_config_is_found_upward_to_the_repository_root(
    make_build: MakeBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ASSETPUB_ORIGIN", raising=False)
    repo, www = tmp_path / "repo", tmp_path / "www"
    (repo / ".git").mkdir(parents=True)
    (repo / "web" / "src").mkdir(parents=True)
    # Above the repository: never read (its bad key would stop every command).
    (tmp_path / "assetpub.toml").write_text("colour = 'red'\n")
    # Another tool's pyproject.toml on the way up does not stop the search.
    (repo / "web" / "pyproject.toml").write_text("[tool.black]\n")
    (repo / "assetpub.toml").write_text(f"origins = [{json.dumps(str(www))}]\n")
    monkeypatch.chdir(repo / "web" / "src")
    code, _, err = run("publish", str(make_build(SITE)), "-v")
    assert code == 0, err
    assert (www / "index.html").is_file()
    assert f"assetpub: config: {repo / 'assetpub.toml'}" in err.splitlines()
    # An explicit --config wins over the one found.
    other = tmp_path / "other.toml"
    other.write_text(f"origins = [{json.dumps(str(tmp_path / 'elsewhere'))}]\n")
    assert run("publish", str(make_build(SITE)), "--config", str(other))[0] == 0
    assert (tmp_path / "elsewhere" / "index.html").is_file()
    # Outside the repository the search goes on up, and finds the bad one.
    monkeypatch.chdir(tmp_path)
    one_line_error(*run("status"), "unknown config key 'colour'")


@pytest.mark.parametrize(
    ("files", "bundler", "build_dir", "read"),
    [
        (
            {"vite.config.ts": "export default { build: { outDir: 'public_html' } }"},
            "Vite",
            "public_html",
            True,
        ),
        (
            {
                "webpack.config.js": "module.exports = {\n  output: {\n"
                "    path: path.resolve(__dirname, 'build'),\n  },\n}"
            },
            "webpack",
            "build",
            True,
        ),
        (
            {"webpack.config.js": "module.exports = { output: { path: outputFolder() } }"},
            "webpack",
            "dist",
            False,
        ),
        (
            {"vite.config.js": "export default { build: { outDir: '../outside' } }"},
            "Vite",
            "dist",
            False,
        ),
        ({}, None, "dist", False),
    ],
    ids=["vite-outdir", "webpack-path", "webpack-computed", "vite-outside", "none"],
)
def test_init_writes_a_starter_config_publish_accepts(
    files: dict[str, str],
    bundler: str | None,
    build_dir: str,
    read: bool,
    make_build: MakeBuild,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from assetpub.settings import load_file_config

    project = tmp_path / "project"
    project.mkdir()
    for name, text in files.items():
        (project / name).write_text(text)
    monkeypatch.chdir(project)
    code, out, err = run("init", "--json")
    assert code == 0, err
    assert json.loads(out) == {
        "schema": "assetpub.init/1",
        "config": str(project / "assetpub.toml"),
        "bundler": bundler,
        "build_dir": build_dir,
        "build_dir_read": read,
    }
    text = (project / "assetpub.toml").read_text()
    assert f"assetpub publish {build_dir}\n" in text
    assert ("check it" in text) == (bundler is not None and not read)
    config = load_file_config(None, project)
    assert config.source == str(project / "assetpub.toml")
    assert [o.url for o in config.origins] == ["assetpub-origin"]
    assert run("publish", str(make_build(SITE)))[0] == 0
    assert (project / "assetpub-origin" / "index.html").is_file()


def test_init_refuses_to_overwrite_and_its_commented_s3_origin_is_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assetpub.settings import parse_file_config

    monkeypatch.chdir(tmp_path)
    assert run("init")[0] == 0
    written = (tmp_path / "assetpub.toml").read_text()
    (tmp_path / "assetpub.toml").write_text("# mine\n")
    code, out, err = run("init")
    one_line_error(code, out, err, "assetpub.toml already exists; --force overwrites it")
    assert code == 2 and (tmp_path / "assetpub.toml").read_text() == "# mine\n"
    code, out, _ = run("init", "--force")
    assert code == 0 and (tmp_path / "assetpub.toml").read_text() == written
    assert "next: edit origins, then `assetpub publish dist --dry-run`" in out
    # Another folder, named: written there, not here.
    (tmp_path / "web").mkdir()
    assert run("init", str(tmp_path / "web"))[0] == 0
    assert (tmp_path / "web" / "assetpub.toml").read_text() == written
    # The S3 example, uncommented in place of the origins line, is a config assetpub takes.
    import tomllib

    s3 = "\n".join(
        line.removeprefix("# ") if line.startswith("# [[origins]]") or "= " in line else line
        for line in written.split("# [[origins]]", 1)[1].splitlines()
    )
    edited = written.replace('origins = ["assetpub-origin"]\n', "").split("# [[origins]]")[0]
    config = parse_file_config(tomllib.loads(edited + "[[origins]]" + s3), "assetpub.toml")
    assert config.origins[0].url == "s3://assets/site"
    assert config.origins[0].region == "auto"


def test_a_conflicting_immutable_name_exits_4(make_build: MakeBuild, tmp_path: Path) -> None:
    """Other bytes under a bundler-hashed name: a build problem, not one a rerun fixes."""
    origin = tmp_path / "www"
    site = {**SITE, "main.0123456789abcdef.js": "one()"}
    assert run("publish", str(make_build(site)), "--origin", str(origin))[0] == 0
    before = tree(origin)
    changed = {**site, "main.0123456789abcdef.js": "two()"}
    code, out, err = run("publish", str(make_build(changed)), "--origin", str(origin))
    assert code == 4 and out == ""
    assert err.startswith("assetpub: error: ") and err.count("\n") == 1
    assert "main.0123456789abcdef.js" in err and tree(origin) == before


def test_a_switch_that_fails_on_one_origin_of_two_exits_5(
    make_build: MakeBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first origin switched, the second did not: one line saying which serves what, and
    the code a script answers by running the same command again, which converges."""
    from assetpub.origins.folder import FolderOrigin

    first, second = tmp_path / "a", tmp_path / "b"
    real_put_file, failing = FolderOrigin.put_file, [True]

    def put_file(self: FolderOrigin, key: str, *args: Any, **kwargs: Any) -> None:
        if self.root == second and key == "asset-manifest.json" and failing[0]:
            raise OriginError(f"{self.url}: injected failure writing {key}")
        real_put_file(self, key, *args, **kwargs)

    monkeypatch.setattr(FolderOrigin, "put_file", put_file)
    build = make_build(SITE)
    argv = ["publish", str(build), "--origin", str(first), "--origin", str(second)]
    code, _, err = run(*argv)
    assert code == 5 and err.count("\n") == 1 and "injected failure" in err
    failing[0] = False
    assert run(*argv)[0] == 0
    assert tree(first)["index.html"] == tree(second)["index.html"]
