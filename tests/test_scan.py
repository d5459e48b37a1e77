import os
from pathlib import Path

import pytest
from fixture_types import MakeBuild

from assetpub.build.scan import FileSelection, glob_problem, scan_build
from assetpub.errors import BuildError


def paths(build: Path, **kwargs: tuple[str, ...]) -> list[str]:
    return [f.path for f in scan_build(build, FileSelection(**kwargs)).files]


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


# --------------------------------------------------------------------------------------------
# include / exclude: gitignore-style patterns choosing among the public files

SITE = {
    "index.html": "<p>",
    "about/index.html": "<p>",
    "assets/app.js": "x",
    "assets/app.js.map": "{}",
    "assets/deep/er/lib.js.map": "{}",
    "drafts/post.html": "<p>",
    "drafts/keep.html": "<p>",
    "docs/drafts/note.html": "<p>",
    ".well-known/security.txt": "Contact: x",
    ".env": "SECRET=1",
}


@pytest.mark.parametrize(
    ("include", "exclude", "expected"),
    [
        # `**` crosses folders; a pattern without '/' matches at any depth.
        (
            (),
            ("*.map",),
            [
                ".well-known/security.txt",
                "about/index.html",
                "assets/app.js",
                "docs/drafts/note.html",
                "drafts/keep.html",
                "drafts/post.html",
                "index.html",
            ],
        ),
        # A leading '/' anchors at the build root: docs/drafts/ stays.
        (
            (),
            ("/drafts/", "**/*.map", ".well-known/"),
            ["about/index.html", "assets/app.js", "docs/drafts/note.html", "index.html"],
        ),
        # As in git, a file under an excluded folder cannot be re-included.
        (
            (),
            ("drafts/", "!drafts/keep.html", "*.map", ".well-known/"),
            ["about/index.html", "assets/app.js", "index.html"],
        ),
        # ...but a file excluded by name can.
        (
            (),
            ("drafts/*", "!drafts/keep.html", "*.map", ".well-known/", "docs/"),
            ["about/index.html", "assets/app.js", "drafts/keep.html", "index.html"],
        ),
        # include: only what it matches (a folder pattern takes what is under it), minus
        # exclude ("drafts/" without a leading '/': at any depth); a dotfile still needs
        # include_dotfiles (.env stays out), .well-known/ does not.
        (
            ("*.html", "assets/", ".env", ".well-known/**"),
            ("*.map", "drafts/"),
            [".well-known/security.txt", "about/index.html", "assets/app.js", "index.html"],
        ),
    ],
)
def test_include_and_exclude_choose_what_is_published(
    make_build: MakeBuild, include: tuple[str, ...], exclude: tuple[str, ...], expected: list[str]
) -> None:
    assert paths(make_build(SITE), include=include, exclude=exclude) == expected


def test_what_is_excluded_is_never_read_nor_checked(make_build: MakeBuild) -> None:
    """An excluded folder is not entered, an excluded file not stat'ed: a FIFO (which would
    block a read), a name no origin takes and assetpub's reserved folder are left out without
    a word, where included they are refused."""
    build = make_build({"index.html": "<p>", "_assetpub/x.json": "{}", "bad\\name.txt": "x"})
    os.mkfifo(build / "pipe")
    (build / "unreadable").mkdir()
    (build / "unreadable" / "a.txt").write_text("x")
    (build / "unreadable").chmod(0)
    try:
        scanned = scan_build(
            build,
            FileSelection(exclude=("pipe", "/_assetpub/", "bad*", "unreadable/")),
        )
    finally:
        (build / "unreadable").chmod(0o755)
    assert [f.path for f in scanned.files] == ["index.html"]
    assert scanned.excluded == ("_assetpub/", "bad\\name.txt", "pipe", "unreadable/")
    with pytest.raises(BuildError, match="FIFO"):
        scan_build(build, FileSelection(exclude=("/_assetpub/", "bad*", "unreadable/")))


def test_a_selection_that_leaves_nothing_says_so(make_build: MakeBuild) -> None:
    build = make_build({"index.html": "<p>", "a.css": "x"})
    with pytest.raises(BuildError, match="include/exclude leave no file to publish"):
        scan_build(build, FileSelection(include=("*.js",)))
    with pytest.raises(BuildError, match="has no HTML file"):
        scan_build(build, FileSelection(exclude=("*.html",)))


def test_excluding_the_vite_folder_leaves_its_manifest_unread(make_build: MakeBuild) -> None:
    build = make_build({"index.html": "<p>", ".vite/manifest.json": "{}"})
    assert ".vite/manifest.json" in scan_build(build).bundler_manifests
    # `include` chooses what is published, and the manifest never is: it is still read.
    assert (
        ".vite/manifest.json"
        in scan_build(build, FileSelection(include=("*.html",))).bundler_manifests
    )
    for exclude in (".vite/", "manifest.json"):
        unread = scan_build(build, FileSelection(exclude=(exclude,)))
        assert unread.bundler_manifests == {}


@pytest.mark.parametrize(
    ("path", "selected"),
    [
        ("assets/app.js", True),
        ("assets/app.js.map", False),  # excluded by name
        ("drafts/keep.html", False),  # under an excluded folder, whatever '!' says
        ("img/logo.png", False),  # not included
        (".env", False),  # a private dotfile
        ("sub/.hidden/a.html", False),  # in a private dot-folder
        (".well-known/security.txt", True),
    ],
)
def test_selects_answers_as_the_scan_would(path: str, selected: bool) -> None:
    selection = FileSelection(
        include=("*.html", "assets/", ".well-known/", "*.map"),
        exclude=("*.map", "drafts/", "!drafts/keep.html"),
    )
    assert selection.selects(path) is selected


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("", "is no pattern"),
        ("   ", "is no pattern"),
        ("# a comment", "is no pattern"),
        ("[abc", "is no pattern"),
        ("!", "is not a valid pattern"),
        ("[z-a].js", "is not a valid pattern"),
        ("**/*.map", None),
        ("/drafts/", None),
        ("!keep.html", None),
    ],
)
def test_glob_problem(pattern: str, problem: str | None) -> None:
    found = glob_problem(pattern)
    assert (found is None) if problem is None else (found is not None and problem in found)
