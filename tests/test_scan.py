import os
from pathlib import Path

import pytest
from fixture_types import MakeBuild

from assetpub.build.scan import scan_build
from assetpub.errors import BuildError


def paths(build: Path, **kwargs: tuple[str, ...]) -> list[str]:
    return [f.path for f in scan_build(build, **kwargs).files]


def test_dotfiles_and_dotfolders_are_never_published(make_build: MakeBuild) -> None:
    build = make_build(
        {
            "index.html": "<p>",
            ".env": "SECRET=1",
            ".git/config": "[core]",
            "sub/.DS_Store": "x",
            ".well-known/security.txt": "Contact: x",
            ".vite/manifest.json": '{"src/a.js": {"file": "assets/a-AbCd1234.js"}}',
            "assets/a-AbCd1234.js": "x",
        }
    )
    scanned = scan_build(build)
    assert [f.path for f in scanned.files] == [
        ".well-known/security.txt",
        "assets/a-AbCd1234.js",
        "index.html",
    ]
    assert set(scanned.skipped_dotfiles) == {".env", ".git/", "sub/.DS_Store", ".vite/"}
    assert ".vite/manifest.json" in scanned.bundler_manifests


def test_include_dotfiles_opts_in(make_build: MakeBuild) -> None:
    build = make_build({"index.html": "<p>", ".htaccess": "x", ".env": "y"})
    assert paths(build, include_dotfiles=(".htaccess",)) == [".htaccess", "index.html"]


def test_symlink_out_of_the_build_is_refused(make_build: MakeBuild, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("key")
    build = make_build({"index.html": "<p>"})
    os.symlink(secret, build / "innocent.txt")
    with pytest.raises(BuildError, match="innocent.txt is a symlink to .*outside the build"):
        scan_build(build)


def test_symlink_inside_the_build_is_followed_and_loops_end(make_build: MakeBuild) -> None:
    build = make_build({"index.html": "<p>", "real/a.css": "x"})
    os.symlink(build / "real", build / "alias")
    os.symlink(build, build / "real" / "loop")
    assert paths(build) == ["alias/a.css", "index.html", "real/a.css"]


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ({"app.js": "x"}, "no HTML file"),
        ({"index.html": "x", "_assetpub/releases/x.json": "{}"}, "reserved"),
    ],
)
def test_bad_builds(make_build: MakeBuild, files: dict[str, str], message: str) -> None:
    with pytest.raises(BuildError, match=message):
        scan_build(make_build(files))


def test_missing_empty_and_file_build_dirs(tmp_path: Path) -> None:
    with pytest.raises(BuildError, match="does not exist"):
        scan_build(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BuildError, match="is empty"):
        scan_build(tmp_path / "empty")
    (tmp_path / "file").write_text("x")
    with pytest.raises(BuildError, match="is not a folder"):
        scan_build(tmp_path / "file")


def test_own_asset_manifest_is_replaced(make_build: MakeBuild) -> None:
    scanned = scan_build(make_build({"index.html": "<p>", "asset-manifest.json": "{}"}))
    assert scanned.replaced_manifest
    assert [f.path for f in scanned.files] == ["index.html"]


def test_a_file_is_found_where_it_is_without_a_location_of_its_own(
    make_build: MakeBuild,
) -> None:
    build = make_build({"index.html": "<p>", "real/a.css": "x", "b.css": "y"})
    os.symlink(build / "real", build / "alias")
    os.symlink(build / "b.css", build / "c.css")
    files = {f.path: f for f in scan_build(build).files}
    root = build.resolve()
    assert {p: f.target for p, f in files.items()} == {
        "alias/a.css": str(root / "real" / "a.css"),
        "b.css": None,
        "c.css": str(root / "b.css"),
        "index.html": None,
        "real/a.css": None,
    }
    assert {p: f.abs_path.read_text() for p, f in files.items()} == {
        "alias/a.css": "x",
        "b.css": "y",
        "c.css": "y",
        "index.html": "<p>",
        "real/a.css": "x",
    }
    assert files["real/a.css"].location == str(root / "real" / "a.css")


def test_a_file_deleted_while_the_folder_is_walked_is_one_build_error(
    make_build: MakeBuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bundler rebuilding (watch mode) deletes files between the listing and the stat."""
    build = make_build({"index.html": "<h1>hi</h1>", "gone.js": "x()"})
    real_scandir = os.scandir

    def scandir_then_delete(path: str) -> list[os.DirEntry[str]]:
        entries = list(real_scandir(path))
        (build / "gone.js").unlink(missing_ok=True)
        return entries

    monkeypatch.setattr("assetpub.build.scan.os.scandir", scandir_then_delete)
    with pytest.raises(BuildError, match="cannot read gone.js: No such file or directory"):
        scan_build(build)
