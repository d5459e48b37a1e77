"""Header rules reach objects already on the origin: a changed [[headers]] rule updates the
headers of the objects that keep their bytes by a server-side copy onto themselves (no bytes
uploaded), on every origin that keeps headers; `--force` uploads everything again."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from backends import Backend
from checks import snapshot
from click.testing import CliRunner
from fixture_types import MakeBucket, MakeBuild, MakeOrigin

from assetpub.build.headers import HeaderRule
from assetpub.cli.app import main
from assetpub.commands import publish as publish_module
from assetpub.commands.publish import PublishResult, publish
from assetpub.commands.verify import verify_origin
from assetpub.errors import ConflictError
from assetpub.origins.base import ObjectHeaders, Origin
from assetpub.origins.dryrun import DryRunOrigin
from assetpub.settings import PublishSettings

SITE: dict[str, str | bytes] = {
    "index.html": "<!doctype html><link rel=stylesheet href=css/site.css>"
    "<script defer src=main.0123456789abcdef.js></script><img src=img/logo.png>",
    "about/index.html": '<link rel="stylesheet" href="../css/site.css">',
    "css/site.css": "body{background:url(../img/bg.png)}",
    "img/bg.png": b"\x89PNG bg",
    "img/logo.png": b"\x89PNG logo",
    "main.0123456789abcdef.js": "import('./480.js')",
    "480.js": "export default 1",
    "robots.txt": "User-agent: *",
}
# Two hashed images, the bundler's chunk and the plain 480.js: four objects that keep their
# bytes and change their headers.
RULES = (
    HeaderRule("img/*", cache_control="public, max-age=600"),
    HeaderRule("*.js", content_type="application/javascript"),
)
CHANGED = 4
ENTRIES = 3  # index.html, about/index.html, robots.txt: written at every switch anyway


def settings(build: Path, **overrides: Any) -> PublishSettings:
    return PublishSettings(build_dir=build, origins=(), **overrides)


def ops_during(origin: Origin, run: Any) -> tuple[Any, dict[str, int]]:
    before = dict(origin.stats.by_operation)
    result = run()
    after = origin.stats.by_operation
    return result, {k: v - before.get(k, 0) for k, v in after.items() if v - before.get(k, 0)}


def wanted(result: PublishResult) -> dict[str, tuple[str, str]]:
    return {f.key: (f.content_type, f.cache_control) for f in result.build.files}


def carried(origin: Origin, keys: Any) -> dict[str, tuple[str | None, str | None]]:
    found = {}
    for key in keys:
        info = origin.head(key)
        assert info is not None, key
        found[key] = (info.content_type, info.cache_control)
    return found


def assert_healthy(origin: Origin) -> None:
    for deep in (False, True):  # --deep checks the immutable objects' headers too
        health = verify_origin(origin, deep=deep)
        assert health.healthy, health.problems


def test_a_changed_header_rule_updates_objects_without_uploading_their_bytes(
    make_build: MakeBuild, make_origin: MakeOrigin
) -> None:
    origin = make_origin()
    build = make_build(SITE)
    publish(settings(build), origins=[origin])
    objects = snapshot(origin)

    second = publish(settings(build, header_rules=RULES), origins=[origin])
    assert not second.unchanged
    # The release record, the state, the manifest and the entry files are the only PUTs.
    assert second.uploaded == ENTRIES
    if origin.keeps_headers:
        assert second.headers_updated == CHANGED
        assert carried(origin, wanted(second)) == wanted(second)
    else:  # a folder: its web server decides the headers; nothing to update
        assert second.headers_updated == 0
    after = snapshot(origin)
    assert all(after[key] == data for key, data in objects.items() if key in wanted(second))
    assert_healthy(origin)


def test_header_updates_are_copies_and_cost_no_read_per_object(
    make_build: MakeBuild, make_origin: MakeOrigin
) -> None:
    origin = make_origin()
    build = make_build(SITE)
    publish(settings(build), origins=[origin])
    result, ops = ops_during(
        origin, lambda: publish(settings(build, header_rules=RULES), origins=[origin])
    )
    assert ops["put"] == 1 + 1 + 1 + ENTRIES  # record, state, manifest, entry files
    if origin.keeps_headers:
        assert ops["copy"] == CHANGED
        # The live record says which headers each object was given: no HEAD per object.
        assert ops.get("head", 0) == 0
    else:
        assert ops.get("copy", 0) == 0
    # Nothing changed since: an unchanged publish, as cheap as before.
    again, ops = ops_during(
        origin, lambda: publish(settings(build, header_rules=RULES), origins=[origin])
    )
    assert again.unchanged and again.release.id == result.release.id
    assert not {"put", "copy", "delete"} & set(ops)
    if origin.keeps_headers:
        assert ops.get("head", 0) == 0 and ops["list"] <= 2


def test_a_dry_run_shows_the_header_updates_and_changes_nothing(
    make_build: MakeBuild, backend: Backend
) -> None:
    origin = backend.open()
    build = make_build(SITE)
    first = publish(settings(build), origins=[origin])
    before = snapshot(origin)
    dry = backend.open(dry_run=True)
    assert isinstance(dry, DryRunOrigin)
    result = publish(settings(build, header_rules=RULES, dry_run=True), origins=[dry])
    copies = [key for operation, key in dry.writes if operation == "copy"]
    assert len(copies) == (CHANGED if origin.keeps_headers else 0)
    assert set(copies) <= set(wanted(result))
    assert snapshot(origin) == before
    if origin.keeps_headers:
        assert carried(origin, copies) == {k: v for k, v in wanted(first).items() if k in copies}


def test_force_uploads_every_file_again(make_build: MakeBuild, make_origin: MakeOrigin) -> None:
    origin = make_origin()
    build = make_build(SITE)
    publish(settings(build), origins=[origin])
    result, ops = ops_during(
        origin,
        lambda: publish(settings(build, header_rules=RULES, force=True), origins=[origin]),
    )
    assert not result.unchanged and result.uploaded == len(SITE) and result.skipped == 0
    assert result.headers_updated == 0 and "copy" not in ops
    # Every file, the plain file's blob, the record, the state and the manifest.
    assert ops["put"] == len(SITE) + 1 + 1 + 1 + 1
    if origin.keeps_headers:
        assert carried(origin, wanted(result)) == wanted(result)
    assert_healthy(origin)


def test_force_still_refuses_other_bytes_under_an_immutable_name(
    make_build: MakeBuild, make_origin: MakeOrigin
) -> None:
    origin = make_origin()
    build = make_build(SITE)
    publish(settings(build), origins=[origin])
    origin.put_bytes(
        "main.0123456789abcdef.js", b"other", ObjectHeaders("text/javascript", "x", "0" * 64)
    )
    before = snapshot(origin)
    with pytest.raises(ConflictError, match=r"main\.0123456789abcdef\.js holds different"):
        publish(settings(build, force=True), origins=[origin])
    assert snapshot(origin) == before


@pytest.mark.parametrize("backend_kind", ["memory", "s3"])
def test_headers_an_older_assetpub_left_behind_are_read_and_fixed(
    make_build: MakeBuild, make_origin: MakeOrigin, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An older assetpub recorded a new rule's headers without giving them to the objects
    already there (and so verify failed). Its record carries no headers_applied: the next
    publish reads each object's stored headers (one HEAD each, once) and updates them."""
    origin = make_origin()
    build = make_build(SITE)
    with monkeypatch.context() as old:
        old.setattr(publish_module, "HEADERS_APPLIED", "written_by_an_older_assetpub")
        old.setattr(publish_module, "_witnessed", lambda *_: publish_module._Witnessed(None))
        publish(settings(build), origins=[origin])
        stale = publish(settings(build, header_rules=RULES), origins=[origin])
    assert stale.headers_updated == 0
    assert not verify_origin(origin).healthy  # 480.js: the recorded headers are not its own

    fixed, ops = ops_during(
        origin, lambda: publish(settings(build, header_rules=RULES), origins=[origin])
    )
    assert fixed.headers_updated == CHANGED and ops["copy"] == CHANGED
    assert ops["head"] == len(SITE) - ENTRIES  # every object the record could not vouch for
    assert carried(origin, wanted(fixed)) == wanted(fixed)
    assert_healthy(origin)
    # Its own record vouches for them from now on.
    _, ops = ops_during(
        origin, lambda: publish(settings(build, header_rules=RULES), origins=[origin])
    )
    assert ops.get("head", 0) == 0


def test_after_a_rollback_the_next_publish_gives_every_object_its_headers(
    make_build: MakeBuild, make_origin: MakeOrigin
) -> None:
    """A rollback puts plain files and pages back with the old release's headers and leaves
    immutable objects as the newer release left them: the next publish trusts the newest
    record for the immutable objects only, and reads the plain files' headers."""
    from assetpub.commands.rollback import rollback

    origin = make_origin()
    build = make_build(SITE)
    publish(settings(build), origins=[origin])
    publish(settings(build, header_rules=RULES), origins=[origin])
    rollback([origin])
    assert verify_origin(origin).healthy  # the plain file got its old headers back
    result, ops = ops_during(origin, lambda: publish(settings(build), origins=[origin]))
    if origin.keeps_headers:
        # The immutable objects kept the rules' headers through the rollback.
        assert result.headers_updated == CHANGED - 1
        assert ops["head"] == 1  # 480.js
        assert carried(origin, wanted(result)) == wanted(result)
    assert_healthy(origin)


def test_cli_reports_header_updates_and_force(
    make_build: MakeBuild, tmp_path: Path, s3_endpoint: str, make_bucket: MakeBucket
) -> None:
    def run(*args: str) -> tuple[int, str]:
        with CliRunner().isolation() as (out, _err, *_):
            code = main(list(args))
        return code, out.getvalue().decode()

    build, origin = make_build(SITE), f"s3://{make_bucket()}/site"
    target = ("--origin", origin, "--endpoint-url", s3_endpoint)
    config = tmp_path / "assetpub.toml"
    config.write_text('[[headers]]\npattern = "img/*"\ncache_control = "public, max-age=600"\n')
    assert run("publish", str(build), *target)[0] == 0
    code, out = run("--config", str(config), "publish", str(build), *target, "--dry-run")
    assert code == 0
    copies = [
        line.split()[2] for line in out.splitlines() if line.split()[:2] == ["headers", "copy"]
    ]
    assert len(copies) == 2 and all(key.startswith("img/") for key in copies)
    code, out = run("--config", str(config), "publish", str(build), *target, "--json")
    data = json.loads(out)
    assert code == 0 and data["headers_updated"] == 2 and data["uploaded"] == ENTRIES
    code, out = run("publish", str(build), *target, "--force", "--json")
    data = json.loads(out)
    assert code == 0 and data["uploaded"] == len(SITE) and data["headers_updated"] == 0
