"""Is a build complete enough to publish (build/completeness.py): a pure function of the files,
the pages' text and `now`, table-tested; then inspect_build on real folders mid-rebuild."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from fixture_types import MakeBuild

from assetpub.build.completeness import find_incomplete, inspect_build
from assetpub.build.scan import FileIdentity, FileSelection, SourceFile

NOW = 1_800_000_000.0


def source(path: str, changed_seconds_ago: float = 60.0) -> SourceFile:
    ctime_ns = int((NOW - changed_seconds_ago) * 1e9)
    # mtime far in the future: copied by tar from a machine whose clock ran ahead, say.
    identity = FileIdentity.of(
        os.stat_result((0o100644, 1, 1, 1, 0, 0, 10, 0, 0, 0, 0.0, 0.0, 0.0, 0, 2**62, ctime_ns))
    )
    return SourceFile(path, "/build", identity.packed)


@pytest.mark.parametrize(
    ("files", "pages", "problems"),
    [
        (["index.html", "a.css"], {"index.html": "<link rel=stylesheet href=a.css>"}, []),
        (
            ["index.html"],
            {"index.html": "<script defer src=main.js></script>"},
            ["index.html: <script src> 'main.js' refers to main.js, not written yet"],
        ),
        # Relative to the page's folder, and from its <base href>.
        (
            ["docs/index.html", "docs/img/a.png"],
            {"docs/index.html": "<img src=img/a.png><img srcset='img/b.png 2x'>"},
            ["docs/index.html: srcset 'img/b.png' refers to docs/img/b.png, not written yet"],
        ),
        (
            ["app/index.html", "main.js"],
            {"app/index.html": '<base href="/"><script src="main.js"></script>'},
            [],
        ),
        # Navigation, other hosts, data: and references out of the build are no file to wait
        # for (publish warns about the last).
        (
            ["index.html"],
            {
                "index.html": "<a href=next.html>n</a><img src=https://cdn.example/x.png>"
                "<img src=data:image/png;base64,AA><img src=../../up.png>"
            },
            [],
        ),
        (
            ["index.html", "asset-manifest.json"],
            {"index.html": "<link rel=preload href=/asset-manifest.json>"},
            [],
        ),
        (
            ["index.html"],
            {"index.html": '<base href="https://elsewhere.example/"><img src=a.png>'},
            ["index.html: <base href='https://elsewhere.example/'> does not name a folder"],
        ),
    ],
    ids=["complete", "missing-script", "relative", "base-href", "not-files", "extra", "bad-base"],
)
def test_every_local_reference_of_every_page_must_resolve(
    files: list[str], pages: dict[str, str], problems: list[str]
) -> None:
    listed = [source(p) for p in files if p != "asset-manifest.json"]
    extra = frozenset(p for p in files if p == "asset-manifest.json")
    found = find_incomplete(listed, pages, NOW, quiet_seconds=1.0, extra_paths=extra)
    assert [p[: len(want)] for p, want in zip(found.problems, problems, strict=False)] == problems
    assert len(found.problems) == len(problems)
    assert found.is_complete is (not problems)
    assert not found.is_changing


@pytest.mark.parametrize(
    ("ago", "changing"),
    [(0.0, True), (0.999, True), (1.0, False), (30.0, False), (-5.0, False)],
    ids=["now", "inside", "edge", "old", "future"],
)
def test_a_file_changed_within_the_quiet_period_is_still_being_written(
    ago: float, changing: bool
) -> None:
    files = [source("index.html"), source("big.js", changed_seconds_ago=ago)]
    found = find_incomplete(files, {"index.html": "<h1>hi</h1>"}, NOW, quiet_seconds=1.0)
    assert found.is_changing is changing
    assert found.is_complete is not changing
    if changing:
        assert found.reason == "big.js changed less than 1 s ago"


def test_the_reason_names_the_first_problem_and_counts_the_rest() -> None:
    page = "<script src=a.js></script><script src=b.js></script><script src=c.js></script>"
    found = find_incomplete([source("index.html")], {"index.html": page}, NOW, 1.0)
    assert found.reason == (
        "index.html: <script src> 'a.js' refers to a.js, not written yet (and 2 more)"
    )


def _settled() -> float:
    """A `now` well after every file of a test was written, so none counts as changing."""
    return time.time() + 60


def test_a_missing_empty_or_pageless_folder_is_incomplete(tmp_path: Path) -> None:
    build = tmp_path / "dist"
    assert "does not exist" in inspect_build(build, FileSelection(), _settled(), 1.0).reason
    build.mkdir()
    assert "is empty" in inspect_build(build, FileSelection(), _settled(), 1.0).reason
    (build / "main.js").write_text("x()")
    assert "has no HTML file" in inspect_build(build, FileSelection(), _settled(), 1.0).reason


def test_inspect_reads_the_pages_and_signs_what_it_saw(make_build: MakeBuild) -> None:
    build = make_build({"index.html": "<script src=main.js></script>"})
    missing = inspect_build(build, FileSelection(), _settled(), 1.0)
    assert missing.reason == "index.html: <script src> 'main.js' refers to main.js, not written yet"
    (build / "main.js").write_text("x()")
    complete = inspect_build(build, FileSelection(), _settled(), 1.0)
    assert complete.is_complete and complete.signature is not None
    assert inspect_build(build, FileSelection(), _settled(), 1.0).signature == complete.signature
    (build / "main.js").write_text("x()")  # the same bytes, written again: another file
    assert inspect_build(build, FileSelection(), _settled(), 1.0).signature != complete.signature


def test_a_file_just_written_is_changing(make_build: MakeBuild) -> None:
    build = make_build({"index.html": "<h1>hi</h1>"})
    found = inspect_build(build, FileSelection(), time.time(), quiet_seconds=30.0)
    assert found.is_changing and found.reason == "index.html changed less than 30 s ago"


def test_a_reference_to_a_file_the_selection_leaves_out_is_no_reason_to_wait(
    make_build: MakeBuild,
) -> None:
    """Excluded (here the source maps and a drafts folder, never read), not included, or a
    private dotfile: no write makes such a reference resolve, so watch publishes, and publish
    reports it as a missing reference. A file the selection would take is still waited for."""
    page = (
        "<script src=app.js.map></script><a href=x><img src=drafts/a.png></a>"
        "<link rel=stylesheet href=.hidden.css><img src=img/late.png>"
    )
    build = make_build({"index.html": page, "app.js.map": "{}", "drafts/a.png": "x"})
    selection = FileSelection(exclude=("*.map", "drafts/"))
    found = inspect_build(build, selection, _settled(), 1.0)
    assert found.problems == (
        "index.html: <img src> 'img/late.png' refers to img/late.png, not written yet",
    )
    only_pages = FileSelection(include=("*.html",))
    (build / "img").mkdir()
    (build / "img" / "late.png").write_text("x")
    assert inspect_build(build, only_pages, _settled(), 1.0).is_complete
    assert inspect_build(build, selection, _settled(), 1.0).is_complete
