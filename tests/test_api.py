"""The Python API (assetpub/api.py): the CLI's commands as functions, over a folder origin."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fixture_types import MakeBuild

import assetpub
from assetpub import gc, load_config, publish, rollback, verify
from assetpub.api import FileConfig, OriginSpec
from assetpub.errors import BuildError, ConfigError, RollbackError

SITE_A = {
    "index.html": "<!doctype html><link rel=stylesheet href=site.css><h1>A</h1>",
    "site.css": "body{color:red}",
}
SITE_B = {
    "index.html": "<!doctype html><link rel=stylesheet href=site.css><h1>B</h1>",
    "site.css": "body{color:blue}",
}


@pytest.fixture(autouse=True)
def _no_ambient_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test's working directory is its own: no config file or origin from elsewhere."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ASSETPUB_ORIGIN", raising=False)
    monkeypatch.delenv("ASSETPUB_PUBLIC_URL", raising=False)


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` with its bytes ({} for a folder that does not exist)."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def live_release(origin: Path) -> str:
    return str(json.loads((origin / "asset-manifest.json").read_text())["release"])


def test_publish_rollback_gc_and_verify(make_build: MakeBuild, tmp_path: Path) -> None:
    origin = tmp_path / "www"
    warnings: list[str] = []

    dry = publish(make_build(SITE_A), origin, dry_run=True, warn=warnings.append)
    assert dry.dry_run and dry.uploaded == 2 and tree(origin) == {}

    first = publish(make_build(SITE_A), origin, message="first", warn=warnings.append)
    assert first.uploaded == 2 and first.release.message == "first"
    assert live_release(origin) == first.release.id
    published_a = (origin / "index.html").read_bytes()
    assert b"<h1>A</h1>" in published_a

    # An OriginSpec is an origin too; the same build again writes nothing.
    again = publish(make_build(SITE_A), OriginSpec(url=str(origin)), warn=warnings.append)
    assert again.unchanged and again.release.id == first.release.id

    second = publish(make_build(SITE_B), [origin], warn=warnings.append)
    assert live_release(origin) == second.release.id
    assert second.previous_live == {origin.as_uri(): first.release.id}

    back = rollback(origins=origin, warn=warnings.append)
    assert back.release == first.release.id and not back.dry_run
    assert back.origins == [(origin.as_uri(), second.release.id)]
    assert (origin / "index.html").read_bytes() == published_a

    [health] = verify(origin)
    assert health.healthy and health.live == first.release.id and health.checked > 0

    # keep=1 right after a rollback: the live release alone; B's record and files go.
    [collected] = gc(origin, keep=1, grace=timedelta(0), warn=warnings.append)
    assert collected.deleted_records == 1 and collected.deleted_objects >= 1
    [health] = verify(origin, deep=True)
    assert health.healthy, health.problems
    before = tree(origin)
    with pytest.raises(RollbackError, match=f"{second.release.id} is not retained"):
        rollback(second.release.id, origin, warn=warnings.append)
    assert tree(origin) == before
    assert warnings == []


def test_load_config_reads_the_file_the_cli_would(make_build: MakeBuild, tmp_path: Path) -> None:
    origin = tmp_path / "configured"
    (tmp_path / "assetpub.toml").write_text(
        f"origins = [{json.dumps(str(origin))}]\nconcurrency = 3\nexclude = ['*.map']\nkeep = 2\n"
    )
    config = load_config()
    assert config == load_config(tmp_path / "assetpub.toml") == load_config(cwd=tmp_path)
    assert config.concurrency == 3 and config.keep == 2 and config.exclude == ("*.map",)
    assert [spec.url for spec in config.origins] == [str(origin)]

    build = make_build({**SITE_A, "site.css.map": "{}"})
    result = publish(build, config=config)
    assert [o.url for o in result.origins] == [origin.as_uri()]
    assert live_release(origin) == result.release.id
    assert not any(name.endswith(".map") for name in tree(origin))
    # With no config given, the working directory's is read, as by the CLI.
    assert publish(build).unchanged
    # FileConfig() is no config: the default origin, ./assetpub-origin.
    publish(build, config=FileConfig())
    assert (tmp_path / "assetpub-origin" / "index.html").is_file()


def test_pyproject_section_and_bad_config(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.assetpub]\nkeep = 7\n")
    assert load_config().keep == 7
    (tmp_path / "assetpub.toml").write_text("colour = 'red'\n")
    with pytest.raises(ConfigError, match="unknown config key 'colour'"):
        load_config()
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "missing.toml")


def test_one_string_is_one_value_not_its_characters(make_build: MakeBuild, tmp_path: Path) -> None:
    origin = tmp_path / "www"
    publish(make_build({**SITE_A, "app.js.map": "{}", "notes.txt": "x"}), origin, exclude="*.map")
    published = tree(origin)
    assert "app.js.map" not in published and "notes.txt" in published


BadCall = Callable[[Path, Path], Any]


def untyped(value: object) -> Any:
    """A value of the wrong type, as an untyped build script may pass one."""
    return value


BAD_CALLS: list[tuple[str, BadCall, str]] = [
    ("concurrency", lambda b, o: publish(b, o, concurrency=0), "between 1 and 64"),
    (
        "concurrency-type",
        lambda b, o: publish(b, o, concurrency=untyped("8")),
        "must be an integer",
    ),
    ("include", lambda b, o: publish(b, o, include=["[z-a].js"]), "not a valid pattern"),
    ("public-url", lambda b, o: publish(b, o, public_url="cdn.example.com"), "absolute URL"),
    ("check-url", lambda b, o: publish(b, o, check_url="example.com"), "absolute http"),
    ("origin-scheme", lambda b, o: publish(b, "ftp://x/y"), "unknown origin scheme"),
    ("origin-type", lambda b, o: publish(b, [o, untyped(42)]), "must be a URL"),
    (
        "config-type",
        lambda b, o: publish(b, o, config=untyped({"keep": 1})),
        "must be a FileConfig",
    ),
    ("lease-wait", lambda b, o: publish(b, o, lease_wait="soon"), "invalid duration"),
    ("twice", lambda b, o: publish(b, [o, str(o)]), "given twice"),
    (
        "compress-folder",
        lambda b, o: publish(b, o, config=FileConfig(compress=("gzip",))),
        "cannot store Content-Encoding",
    ),
    ("keep", lambda b, o: gc(o, keep=0), "at least 1"),
    ("grace", lambda b, o: gc(o, grace=timedelta(seconds=-5)), "non-negative"),
    ("release-id", lambda b, o: rollback("", o), "an empty string is not a release id"),
    ("check-timeout", lambda b, o: rollback(origins=o, check_timeout=0), "more than 0"),
]


@pytest.mark.parametrize(
    ("call", "expected"), [c[1:] for c in BAD_CALLS], ids=[c[0] for c in BAD_CALLS]
)
def test_bad_input_raises_config_error_and_writes_nothing(
    make_build: MakeBuild, tmp_path: Path, call: BadCall, expected: str
) -> None:
    build, origin = make_build(SITE_A), tmp_path / "www"
    publish(make_build(SITE_B), origin)
    before = tree(tmp_path)
    with pytest.raises(ConfigError, match=expected):
        call(build, origin)
    assert tree(tmp_path) == before


def test_a_missing_build_is_a_build_error(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="does not exist"):
        publish(tmp_path / "missing", tmp_path / "www")
    assert not (tmp_path / "www").exists()


def test_nothing_is_printed(
    make_build: MakeBuild, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    warnings: list[str] = []
    publish(
        make_build({"index.html": "<img src=gone.png>"}), tmp_path / "www", warn=warnings.append
    )
    assert any("gone.png" in w for w in warnings)
    assert capfd.readouterr() == ("", "")


def test_import_assetpub_loads_the_api_only_when_used() -> None:
    probe = (
        "import sys, assetpub\n"
        "print('assetpub.api' in sys.modules, 'assetpub.settings' in sys.modules)\n"
        "assetpub.publish\n"
        "print('assetpub.api' in sys.modules, 'boto3' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=Path(assetpub.__file__).parents[1],  # the checkout, where assetpub imports from
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert done.stdout.split() == ["False", "False", "True", "False"]
    assert assetpub.publish is publish
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        assetpub.nope  # noqa: B018
