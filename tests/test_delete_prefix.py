"""delete-prefix over memory, folder and S3 (moto over HTTP): what goes, what stays, the order,
the lease, and the command line."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from checks import snapshot
from click.testing import CliRunner
from fixture_types import MakeBuild
from history_support import Published, ids, site

from assetpub.build.hashing import digest_bytes
from assetpub.cli import app
from assetpub.cli.app import cli
from assetpub.cli.render import Reporter
from assetpub.commands.delete_prefix import (
    NOT_NAMED,
    OTHER_BYTES,
    PHASES,
    DeletePrefixPlan,
    check_deletable,
    delete_prefix,
    holds_by_listing,
    plan_delete_prefix,
)
from assetpub.commands.gc import run_gc
from assetpub.commands.publish import publish
from assetpub.commands.verify import verify_origin
from assetpub.errors import ConfigError, NewerFormatError, NotConfirmedError, OriginError
from assetpub.history.state import GcLease, iso
from assetpub.history.store import StateStore
from assetpub.keys import STATE_KEY, release_record_key
from assetpub.origins import Origin
from assetpub.origins.base import ObjectHeaders, RemoteObject
from assetpub.origins.folder import LOCK_NAME
from assetpub.origins.memory import MemoryOrigin
from assetpub.settings import GcSettings, PublishSettings

ON_EVERY_ORIGIN = pytest.mark.parametrize("backend_kind", ["memory", "folder", "s3"])
_TEXT = ObjectHeaders("text/plain", "no-cache", "")


def put(origin: Origin, key: str, data: bytes) -> None:
    origin.put_bytes(key, data, ObjectHeaders("text/plain", "no-cache", digest_bytes(data).sha256))


def add_foreign_objects(origin: Origin) -> dict[str, bytes]:
    """An upload nobody recorded, and a page assetpub published that someone edited since."""
    put(origin, "uploads/user.png", b"user")
    put(origin, "about.html", b"edited by hand")
    put(origin, "_ASSETPUB/not-ours.txt", b"case matters on S3")
    return {
        "uploads/user.png": b"user",
        "about.html": b"edited by hand",
        "_ASSETPUB/not-ours.txt": b"case matters on S3",
    }


@ON_EVERY_ORIGIN
def test_deletes_everything_assetpub_owns_and_leaves_foreign_objects(published: Published) -> None:
    origin, results, _ = published
    foreign = add_foreign_objects(origin)
    before = snapshot(origin)

    dry = delete_prefix(origin, dry_run=True)
    assert snapshot(origin) == before  # a dry run changes nothing
    plan = dry.plan
    assert set(plan.delete_keys) == set(before) - set(foreign)
    assert {o.key: o.reason for o in plan.left} == {
        "uploads/user.png": NOT_NAMED,
        "about.html": OTHER_BYTES,
        "_ASSETPUB/not-ours.txt": NOT_NAMED,
    }
    assert set(plan.releases) == set(ids(results)) and plan.live == results[2].release.id
    assert dry.deleted == len(plan.delete_keys) and dry.appeared == ()

    result = delete_prefix(origin)
    assert snapshot(origin) == foreign  # the foreign objects, byte for byte, and nothing else
    assert result.plan == plan and result.deleted == dry.deleted and result.appeared == ()
    # A second run finds nothing of assetpub's and deletes nothing, the state included.
    again = delete_prefix(origin)
    assert again.plan.delete_keys == () and again.deleted == 0
    assert snapshot(origin) == foreign


@ON_EVERY_ORIGIN
def test_a_publish_after_it_starts_a_fresh_history(
    published: Published, make_build: MakeBuild
) -> None:
    origin, _, _ = published
    delete_prefix(origin)
    fresh = publish(PublishSettings(make_build(site(1)), ()), origins=[origin])
    state, _ = StateStore(origin).load()
    assert state.live == fresh.release.id and state.release_ids == {fresh.release.id}
    assert verify_origin(origin).healthy


def test_deletes_go_pages_first_and_state_last() -> None:
    listing = {
        k: RemoteObject(k, 1)
        for k in (
            "index.html",
            "about.html",
            "robots.txt",
            "asset-manifest.json",
            "chunk.js",
            "main.0123456789abcdef.js",
            "_assetpub/blobs/" + "a" * 64,
            "_assetpub/probe-x",
            release_record_key("r1"),
            "_assetpub/lock.json",
            STATE_KEY,
            "uploads/x.png",
        )
    }
    from history_support import recorded_release

    record = recorded_release(
        "r1",
        {
            "index.html": ("entry", b"i"),
            "about.html": ("entry", b"a"),
            "robots.txt": ("entry", b"r"),
            "chunk.js": ("plain", b"c"),
            "main.0123456789abcdef.js": ("bundler", b"m"),
        },
    )
    holding = set(listing) - {"robots.txt"}
    plan = plan_delete_prefix(listing, {"r1": record}, holding, live="r1")
    assert [phase for phase, _ in plan.groups] == list(PHASES)
    assert plan.groups[0] == ("entry files", ("index.html", "about.html", "asset-manifest.json"))
    assert dict(plan.groups)["blobs"] == ("_assetpub/blobs/" + "a" * 64, "_assetpub/probe-x")
    assert plan.groups[-1] == ("state", ("_assetpub/lock.json", STATE_KEY))
    assert {o.key: o.reason for o in plan.left} == {
        "robots.txt": OTHER_BYTES,
        "uploads/x.png": NOT_NAMED,
    }
    assert plan.releases == ("r1",) and plan.delete_bytes == len(plan.delete_keys)


def test_a_listing_proves_bytes_by_etag_or_leaves_it_to_the_digest() -> None:
    data = digest_bytes(b"abc")
    other = digest_bytes(b"xyz")
    assert holds_by_listing(RemoteObject("k", 3, data.md5), [other, data]) is True
    assert holds_by_listing(RemoteObject("k", 4, data.md5), [data]) is False
    assert holds_by_listing(RemoteObject("k", 3, None), [data]) is None  # folder: hash it
    assert holds_by_listing(RemoteObject("k", 3, "abc-2"), [data]) is None  # multipart


def test_a_run_that_stops_half_way_leaves_no_page_without_its_assets_and_a_rerun_finishes(
    make_build: MakeBuild,
) -> None:
    origin = MemoryOrigin()
    for version in (1, 2):
        publish(PublishSettings(make_build(site(version)), ()), origins=[origin])
    put(origin, "uploads/user.png", b"user")
    origin.fail = lambda operation, key: operation == "delete" and key.startswith("_assetpub/")
    with pytest.raises(OriginError):
        delete_prefix(origin)
    left = set(origin.objects)
    assert not {"index.html", "about.html", "asset-manifest.json"} & left  # pages went first
    assert any(k.startswith("_assetpub/releases/") for k in left) and STATE_KEY in left
    state, _ = StateStore(origin).load()
    assert state.gc_lease is None  # released: the rerun is not blocked
    origin.fail = None
    delete_prefix(origin)
    assert set(origin.objects) == {"uploads/user.png"}


def test_a_publish_committed_after_the_plan_is_planned_again_and_confirmed_again(
    make_build: MakeBuild,
) -> None:
    origin = MemoryOrigin()
    publish(PublishSettings(make_build(site(1)), ()), origins=[origin])
    plans: list[DeletePrefixPlan] = []

    def confirm(plan: DeletePrefixPlan) -> bool:
        plans.append(plan)
        if len(plans) == 1:  # a publish commits between the plan and the lease
            publish(PublishSettings(make_build(site(2)), ()), origins=[origin])
        return True

    result = delete_prefix(origin, confirm=confirm)
    assert len(plans) == 2 and len(plans[1].releases) == 2  # the new release seen, and asked
    assert result.plan == plans[1] and origin.objects == {}


def test_objects_written_while_it_deletes_are_reported(make_build: MakeBuild) -> None:
    origin = MemoryOrigin()
    publish(PublishSettings(make_build(site(1)), ()), origins=[origin])
    written: list[str] = []

    def write_once(operation: str, key: str) -> bool:
        if operation == "delete" and not written:
            written.append("late.txt")
            origin.objects["late.txt"] = b"late"
        return False

    origin.fail = write_once
    warnings: list[str] = []
    result = delete_prefix(origin, warn=warnings.append)
    assert result.appeared == ("late.txt",) and origin.objects == {"late.txt": b"late"}
    assert any("appeared while deleting" in w for w in warnings)


def test_it_refuses_while_a_gc_holds_the_lease(published: Published) -> None:
    origin, _, _ = published
    store = StateStore(origin)
    expires = iso(datetime.now(UTC) + timedelta(seconds=50))
    store.update(lambda s: s.take_gc_lease(GcLease("other", expires, (), "elsewhere:1")))
    before = snapshot(origin)
    with pytest.raises(OriginError, match="lease held by elsewhere:1"):
        delete_prefix(origin)
    assert snapshot(origin) == before
    # It is the lease GC takes, so a GC is refused while delete-prefix holds it.
    with pytest.raises(OriginError, match="another GC is running"):
        run_gc(origin, GcSettings(keep=1, grace=timedelta(0)))


def test_a_plan_not_confirmed_deletes_nothing(published: Published) -> None:
    origin, _, _ = published
    before = snapshot(origin)
    seen: list[DeletePrefixPlan] = []

    def decline(plan: DeletePrefixPlan) -> bool:
        seen.append(plan)
        return False

    with pytest.raises(NotConfirmedError, match="nothing deleted"):
        delete_prefix(origin, confirm=decline)
    assert snapshot(origin) == before and len(seen) == 1 and seen[0].delete_keys


def test_an_invalid_record_goes_and_what_it_names_stays(published: Published) -> None:
    origin, _, _ = published
    put(origin, release_record_key("20260101T000000000Z-deadbeef"), b"{not json")
    warnings: list[str] = []
    result = delete_prefix(origin, warn=warnings.append)
    assert any("is not a valid release record" in w for w in warnings)
    assert snapshot(origin) == {} and result.plan.invalid_records


def test_a_record_of_a_newer_format_stops_it(published: Published) -> None:
    origin, results, _ = published
    key = release_record_key(results[0].release.id)
    record = json.loads(origin.get(key) or b"")
    put(origin, key, json.dumps({**record, "format": 99}).encode())
    before = snapshot(origin)
    with pytest.raises(NewerFormatError):
        delete_prefix(origin)
    assert snapshot(origin) == before


def test_a_thousand_objects_go_in_batches_with_the_lease_renewed() -> None:
    origin = MemoryOrigin()
    origin.objects.update({f"_assetpub/blobs/{n:064x}": b"x" for n in range(2500)})
    result = delete_prefix(origin)
    assert result.deleted == 2500 and origin.objects == {}
    # 3 batches of blobs, then state.json; a lease renewal (a state write) before each batch.
    assert origin.stats.by_operation["delete"] == 4
    assert origin.stats.by_operation["put"] == 1 + 3  # take the lease, renew 3 times


def test_a_whole_bucket_is_refused() -> None:
    with pytest.raises(ConfigError, match="whole bucket"):
        check_deletable("s3://bucket")
    check_deletable("s3://bucket/pr-42")
    check_deletable("/tmp/preview")


# -- the command line ------------------------------------------------------------------------


def _invoke(args: list[str], input: str | None = None) -> tuple[int, str, str]:
    runner = CliRunner()
    result = runner.invoke(cli, args, obj=app.Context(Reporter()), input=input)
    return result.exit_code, result.stdout, result.stderr


def _published_folder(make_build: MakeBuild, tmp_path: Path) -> Path:
    folder = tmp_path / "preview"
    publish(PublishSettings(make_build(site(1)), ()), origins=[_folder_origin(folder)])
    (folder / "uploads").mkdir()
    (folder / "uploads" / "user.png").write_bytes(b"user")
    return folder


def _folder_origin(folder: Path) -> Origin:
    from assetpub.origins import OriginSpec, open_origins

    return open_origins([OriginSpec(url=str(folder))])[0]


def _files(folder: Path) -> set[str]:
    """The folder's objects: its files but the folder origin's own lock (no object)."""
    return {
        str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.name != LOCK_NAME
    }


def test_cli_off_a_terminal_needs_yes(make_build: MakeBuild, tmp_path: Path) -> None:
    folder = _published_folder(make_build, tmp_path)
    before = _files(folder)
    code = app.main(["delete-prefix", str(folder)])
    assert code == 2 and _files(folder) == before


def test_cli_dry_run_lists_what_goes_and_what_stays(
    make_build: MakeBuild, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _published_folder(make_build, tmp_path)
    before = _files(folder)
    assert app.main(["delete-prefix", str(folder), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"{folder}: would delete" in out and "  delete index.html (entry files)" in out
    assert "  delete _assetpub/state.json (state)" in out
    assert f"  leave uploads/user.png ({NOT_NAMED})" in out
    assert _files(folder) == before


def test_cli_yes_deletes_and_json_reports(
    make_build: MakeBuild, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _published_folder(make_build, tmp_path)
    assert app.main(["delete-prefix", str(folder), "--yes", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["left"] == [{"key": "uploads/user.png", "reason": NOT_NAMED}]
    assert data["deleted"] == sum(len(keys) for keys in data["delete"].values())
    assert list(data["delete"])[0] == "entry files" and list(data["delete"])[-1] == "state"
    assert _files(folder) == {"uploads/user.png"}


def test_cli_asks_on_a_terminal(
    make_build: MakeBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _published_folder(make_build, tmp_path)
    before = _files(folder)
    monkeypatch.setattr(app, "_stdin_is_terminal", lambda: True)
    code, _, err = _invoke(["delete-prefix", str(folder)], input="n\n")
    assert code == 1 and "This cannot be undone. Delete?" in err and _files(folder) == before
    code, out, _ = _invoke(["delete-prefix", str(folder)], input="y\n")
    assert code == 0 and "deleted" in out and _files(folder) == {"uploads/user.png"}


def test_cli_refuses_a_whole_bucket_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert app.main(["delete-prefix", "s3://bucket", "--yes"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "whole bucket" in err
