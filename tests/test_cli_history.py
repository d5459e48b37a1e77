"""releases, rollback, gc, status and verify through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fixture_types import MakeBuild
from test_cli import one_line_error, run

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
