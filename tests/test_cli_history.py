"""releases, rollback, gc, status and verify through the command line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from fixture_types import MakeBuild
from test_cli import one_line_error, run, tree

from assetpub.origins import OriginSpec, open_origin

# The three_releases fixture: (origin folder, release ids oldest first).
ThreeReleases = tuple[str, list[str]]


def site(version: int) -> dict[str, str | bytes]:
    return {
        "index.html": f"<link rel=stylesheet href=site.css><p>v{version}",
        "site.css": f"body{{background:url(bg{version}.png)}}",
        f"bg{version}.png": f"bg{version}".encode(),
    }


@pytest.fixture
def three_releases(make_build: MakeBuild, tmp_path: Path) -> ThreeReleases:
    origin = str(tmp_path / "www")
    ids = []
    for version in (1, 2, 3):
        code, out, err = run(
            "publish",
            str(make_build(site(version))),
            "--origin",
            origin,
            "--json",
            "-m",
            f"v{version}",
        )
        assert code == 0, err
        ids.append(json.loads(out)["release"])
    return origin, ids


def test_releases_json_and_table(three_releases: ThreeReleases) -> None:
    origin, ids = three_releases
    code, out, _ = run("releases", "--origin", origin, "--json")
    data = json.loads(out)
    assert code == 0 and [r["id"] for r in data] == list(reversed(ids))
    assert [r["live"] for r in data] == [True, False, False]
    assert all(r["created_at"].endswith("Z") for r in data)
    code, out, _ = run("releases", "--origin", origin)
    assert f"* {ids[2]}" in out and "v2" in out and "(* live)" in out


def test_rollback_forward_and_status(three_releases: ThreeReleases) -> None:
    origin, ids = three_releases
    code, out, _ = run("rollback", "--origin", origin, "--dry-run")
    assert code == 0 and f"Would roll {Path(origin).as_uri()} from {ids[2]} to {ids[1]}" in out
    code, out, _ = run("rollback", "--origin", origin, "--json")
    assert code == 0 and json.loads(out)["release"] == ids[1]
    assert "<p>v2" in (Path(origin) / "index.html").read_text()
    code, out, _ = run("rollback", ids[2], "--origin", origin)
    assert code == 0 and f"to {ids[2]}" in out
    code, out, _ = run("status", "--origin", origin, "--json")
    assert code == 0 and json.loads(out)["origins"][0]["live"] == ids[2]


def test_gc_dry_run_lists_exactly_what_would_go(three_releases: ThreeReleases) -> None:
    origin, ids = three_releases
    before = sorted(p.name for p in Path(origin).rglob("*"))
    code, out_dry, _ = run("gc", "--origin", origin, "--keep", "2", "--grace", "0", "--dry-run")
    assert code == 0
    assert sorted(p.name for p in Path(origin).rglob("*")) == before
    assert f"delete _assetpub/releases/{ids[0]}.json" in out_dry
    assert "delete bg1." in out_dry and "bg2." not in out_dry
    code, out, _ = run("gc", "--origin", origin, "--keep", "2", "--grace", "0", "--json")
    data = json.loads(out)["origins"][0]
    # v1's image and v1's stylesheet (its hashed name differs from v2's and v3's).
    assert data["collected_releases"] == [ids[0]] and data["deleted_objects"] == 2
    assert len(data["delete_keys"]) == 2 and all(
        f"delete {k}" in out_dry for k in data["delete_keys"]
    )
    assert not any(p.name.startswith("bg1.") for p in Path(origin).iterdir())


def test_verify_and_status_exit_codes(
    three_releases: ThreeReleases, make_build: MakeBuild, tmp_path: Path
) -> None:
    origin, ids = three_releases
    assert run("verify", "--origin", origin)[0] == 0
    (Path(origin) / "index.html").write_text("tampered")
    code, out, _ = run("verify", "--origin", origin)
    assert code == 1 and "index.html: differs" in out
    data = json.loads(run("verify", "--origin", origin, "--json")[1])
    assert data["healthy"] is False and data["origins"][0]["problems"][0]["key"] == "index.html"
    # Two origins on different releases: status says so and exits 1.
    other = str(tmp_path / "other")
    assert run("publish", str(make_build(site(9))), "--origin", other)[0] == 0
    code, out, _ = run("status", "--origin", origin, "--origin", other)
    assert code == 1 and "DIVERGED" in out


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["rollback", "20200101T000000Z-00000000"], "not retained"),
        (["gc", "--keep", "0"], "keep must be at least 1"),
        (["gc", "--grace", "1w"], "invalid duration"),
        (["releases", "--origin", "a", "--origin", "b"], "one origin at a time"),
    ],
)
def test_history_errors_are_one_line(
    three_releases: ThreeReleases, args: list[str], expected: str
) -> None:
    origin, _ = three_releases
    if "--origin" not in args:
        args = [*args, "--origin", origin]
    snapshot = sorted(p.read_bytes() for p in Path(origin).rglob("*") if p.is_file())
    one_line_error(*run(*args), expected)
    assert sorted(p.read_bytes() for p in Path(origin).rglob("*") if p.is_file()) == snapshot


def test_rollback_without_history_is_one_line(tmp_path: Path) -> None:
    open_origin(OriginSpec(url=str(tmp_path / "empty"))).check()
    one_line_error(*run("rollback", "--origin", str(tmp_path / "empty")), "no release is live")


# --------------------------------------------------------------------------------------------
# A state or record this code cannot trust: every command refuses in one line and changes
# nothing on the origin.

NEWER = "was written by a newer assetpub (format 3, this one reads 1); upgrade assetpub"
NOT_STATE = "_assetpub/state.json is not an assetpub state file"


def _command(name: str, make_build: MakeBuild) -> list[str]:
    if name == "publish":
        return ["publish", str(make_build(site(4)))]
    return {"gc": ["gc", "--keep", "1", "--grace", "0"]}.get(name, [name])


def _newer_state(raw: bytes) -> bytes:
    return json.dumps({**json.loads(raw), "format": 3, "releases": "a newer shape"}).encode()


@pytest.mark.parametrize("command", ["publish", "rollback", "gc", "status", "verify", "releases"])
@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (_newer_state, f"_assetpub/state.json {NEWER}"),
        (lambda raw: b"[]", NOT_STATE + " (a JSON array, not an object)"),
        (lambda raw: b'"state"', NOT_STATE + " (a JSON string, not an object)"),
        (lambda raw: b"{not json", NOT_STATE + " (not JSON: "),
        (lambda raw: b'{"releases": [{"id": 7}]}', NOT_STATE),
    ],
    ids=["newer-format", "array", "string", "invalid-json", "wrong-types"],
)
def test_every_command_refuses_a_state_it_cannot_trust(
    three_releases: ThreeReleases,
    make_build: MakeBuild,
    command: str,
    content: Callable[[bytes], bytes],
    expected: str,
) -> None:
    origin, _ = three_releases
    state = Path(origin) / "_assetpub" / "state.json"
    state.write_bytes(content(state.read_bytes()))
    before = tree(Path(origin))
    one_line_error(*run(*_command(command, make_build), "--origin", origin), expected)
    assert tree(Path(origin)) == before


@pytest.mark.parametrize(
    ("command", "which"),
    [("rollback", 1), ("gc", 0), ("verify", 2)],
    ids=["rollback-target", "gc-doomed", "verify-live"],
)
def test_commands_that_read_a_record_refuse_a_newer_one(
    three_releases: ThreeReleases, make_build: MakeBuild, command: str, which: int
) -> None:
    origin, ids = three_releases
    record = Path(origin) / "_assetpub" / "releases" / f"{ids[which]}.json"
    record.write_bytes(json.dumps({**json.loads(record.read_bytes()), "format": 3}).encode())
    before = tree(Path(origin))
    expected = f"_assetpub/releases/{ids[which]}.json {NEWER}"
    one_line_error(*run(*_command(command, make_build), "--origin", origin), expected)
    assert tree(Path(origin)) == before


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"[1, 2]", b'{"format": 1, "id": "x"}'],
    ids=["invalid-json", "not-an-object", "fields-missing"],
)
def test_a_broken_record_is_named_in_one_line(
    three_releases: ThreeReleases, content: bytes
) -> None:
    origin, ids = three_releases
    folder = Path(origin) / "_assetpub" / "releases"
    for release_id in ids:
        (folder / f"{release_id}.json").write_bytes(content)
    before = tree(Path(origin))
    # rollback (to v2) and gc (v3 is live) refuse: one line naming the record, nothing changed.
    rollback_key = f"_assetpub/releases/{ids[1]}.json is not a valid release record"
    one_line_error(*run("rollback", "--origin", origin), rollback_key)
    gc_key = f"_assetpub/releases/{ids[2]}.json is not a valid release record"
    one_line_error(*run("gc", "--keep", "1", "--grace", "0", "--origin", origin), gc_key)
    # verify reports it as the live release's problem.
    code, out, err = run("verify", "--origin", origin)
    assert code == 1 and "Traceback" not in out + err
    assert f"  _assetpub/releases/{ids[2]}.json: not a valid release record (" in out
    assert tree(Path(origin)) == before


def test_gc_warns_once_about_a_broken_old_record_and_collects_the_rest(
    three_releases: ThreeReleases,
) -> None:
    origin, ids = three_releases
    record = Path(origin) / "_assetpub" / "releases" / f"{ids[0]}.json"
    record.write_bytes(b"[]")
    code, out, err = run("gc", "--keep", "1", "--grace", "0", "--json", "--origin", origin)
    assert code == 0, err
    warning = err.strip().splitlines()
    assert len(warning) == 1 and f"_assetpub/releases/{ids[0]}.json" in warning[0]
    data = json.loads(out)["origins"][0]
    assert data["collected_releases"] == [ids[1]] and data["deleted_objects"] > 0
    assert [u["release"] for u in data["untrusted"]] == [ids[0]] and record.read_bytes() == b"[]"
    assert run("verify", "--origin", origin)[0] == 0


def test_a_far_future_lease_fails_publish_at_once_until_gc_breaks_it(
    three_releases: ThreeReleases, make_build: MakeBuild
) -> None:
    from datetime import timedelta

    from assetpub.clock import SYSTEM_CLOCK
    from assetpub.history.state import GcLease, iso
    from assetpub.history.store import StateStore

    origin, _ = three_releases
    store = StateStore(open_origin(OriginSpec(origin)))
    far = GcLease("stuck", iso(SYSTEM_CLOCK.now() + timedelta(days=3)), (), "skewed-host:7")
    store.update(lambda s: s.take_gc_lease(far))
    build = str(make_build(site(4)))
    code, out, err = run("publish", build, "--origin", origin)
    one_line_error(code, out, err, "the GC lease held by skewed-host:7 expires at")
    assert "`assetpub gc --break-lease`" in err and store.load()[0].gc_lease == far

    before = tree(Path(origin))
    code, out, _ = run("gc", "--origin", origin, "--break-lease", "--dry-run")
    assert code == 0 and "would break the GC lease held by skewed-host:7" in out
    assert tree(Path(origin)) == before
    code, out, _ = run("gc", "--origin", origin, "--break-lease", "--json")
    assert code == 0 and json.loads(out)["origins"][0]["broken_lease"]["id"] == "stuck"
    assert store.load()[0].gc_lease is None
    code, out, _ = run("gc", "--origin", origin, "--break-lease")
    assert code == 0 and "no GC lease is held" in out
    code, _, err = run("publish", build, "--origin", origin)
    assert code == 0, err


@pytest.mark.parametrize(
    ("args", "doing"),
    [
        (["gc", "--grace", "0"], "there is nothing to collect"),
        (["gc", "--break-lease"], "there is nothing to collect"),
        (["rollback"], "no release is live to roll back"),
        (["rollback", "--dry-run"], "no release is live to roll back"),
        (["status"], "no release is live"),
    ],
)
def test_an_origin_without_history_is_an_error_not_a_clean_nothing(
    args: list[str], doing: str, tmp_path: Path
) -> None:
    """A cron job's mistyped origin must fail: exit 1 (the history stops the command), one
    line, and nothing made on the origin, not even the folder."""
    typo = tmp_path / "wwww"
    code, out, err = run(*args, "--origin", str(typo))
    one_line_error(
        code,
        out,
        err,
        f"{typo.as_uri()}: no assetpub history here (_assetpub/state.json is missing), so "
        f"{doing}; is the origin URL right?",
    )
    assert code == 1 and not typo.exists()


def test_status_names_the_origin_without_history_among_others(
    three_releases: ThreeReleases, tmp_path: Path
) -> None:
    origin, _ = three_releases
    code, out, err = run("status", "--origin", origin, "--origin", str(tmp_path / "new"))
    one_line_error(code, out, err, f"{(tmp_path / 'new').as_uri()}: no assetpub history here")
