"""The read cache (build/cache.py): an untouched file is not read again, and a cache hit is
taken only on proof that the file is the one that was read."""

from __future__ import annotations

import json
import os
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from checks import Reads
from fixture_types import MakeBuild

from assetpub.build import prepare as prepare_module
from assetpub.build.cache import RACY_SECONDS, ReadCache
from assetpub.build.prepare import PreparedBuild, PrepareOptions, prepare_build
from assetpub.build.scan import scan_build
from assetpub.clock import FakeClock
from assetpub.errors import BuildError
from assetpub.settings import DEFAULT_ENTRY_PATTERNS, DEFAULT_HASHED_NAME_PATTERNS

SITE: dict[str, str | bytes] = {
    "index.html": "<link rel=stylesheet href=css/site.css><script src=app.js></script>",
    "css/site.css": "body{background:url(../img/bg.png)}",
    "img/bg.png": b"\x89PNG one",
    "app.js": "fetch('data/list.json')",
    "data/list.json": "[1, 2]",
    "main.0123456789abcdef.js": "console.log('bundled')\n//# sourceMappingURL=main.js.map",
}


def prepare(
    build: Path,
    cache_dir: Path,
    read_cache: bool = True,
    seconds_later: float = 10.0,
    public_url: str | None = None,
) -> PreparedBuild:
    """prepare_build with the read cache, run `seconds_later` after the files were written
    (the cache trusts no reading of a file changed less than RACY_SECONDS before)."""
    later = FakeClock(datetime.now(UTC) + timedelta(seconds=seconds_later))
    options = PrepareOptions(
        DEFAULT_ENTRY_PATTERNS,
        DEFAULT_HASHED_NAME_PATTERNS,
        read_cache=read_cache,
        cache_dir=cache_dir,
        clock=later,
        public_url=public_url,
    )
    return prepare_build(scan_build(build), options, Path(tempfile.mkdtemp()))


def outcome(result: PreparedBuild) -> dict[str, tuple[str, str, str, str]]:
    return {
        f.source: (f.key, f.kind.value, f.digests.sha256, f.local_path.read_bytes().hex())
        for f in result.files
    }


@pytest.fixture
def site(make_build: MakeBuild) -> Path:
    return make_build(SITE)


def test_an_untouched_build_is_not_read_again(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = Reads(monkeypatch)
    first = prepare(site, tmp_path)
    assert reads.take() == sorted([*SITE, "index.html", "css/site.css"])  # + the rewrites
    second = prepare(site, tmp_path)
    # Only the files whose references are rewritten are read again, to rewrite them.
    assert reads.take() == ["css/site.css", "index.html"]
    assert outcome(second) == outcome(first)
    assert second.decisions == first.decisions and second.warnings == first.warnings


def test_a_new_public_url_is_applied_to_cached_readings(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reading holds what the file says, never how it is rewritten: the public URL is
    applied after it, so changing it needs no fresh reading and is never missed."""
    cdn = "https://cdn.example/pr-7/"
    prepare(site, tmp_path)
    reads = Reads(monkeypatch)
    preview = prepare(site, tmp_path, public_url=cdn)
    assert "app.js" not in reads.take()  # from the cache
    assert outcome(preview) == outcome(prepare(site, tmp_path, read_cache=False, public_url=cdn))
    page = next(f for f in preview.files if f.source == "index.html").local_path.read_text()
    assert f"src={cdn}{preview.file_map['app.js']}>" in page
    assert outcome(prepare(site, tmp_path)) == outcome(prepare(site, tmp_path, read_cache=False))


def test_a_file_changed_with_its_mtime_restored_is_read_again(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same size, same modification time: only the change time tells, and it does."""
    first = prepare(site, tmp_path)
    image = site / "img/bg.png"
    before = image.stat()
    image.write_bytes(b"\x89PNG two")  # same length
    os.utime(image, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert image.stat().st_mtime_ns == before.st_mtime_ns
    assert image.stat().st_size == before.st_size
    reads = Reads(monkeypatch)
    second = prepare(site, tmp_path)
    assert "img/bg.png" in reads.take()
    assert second.file_map["img/bg.png"] != first.file_map["img/bg.png"]
    assert outcome(second) == outcome(prepare(site, tmp_path, read_cache=False))


def test_a_file_replaced_by_another_with_the_same_times_is_read_again(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rename over the file (as many build tools write) gives it a new inode."""
    first = prepare(site, tmp_path)
    script = site / "app.js"
    before = script.stat()
    replacement = site / "app.js.new"
    replacement.write_text("fetch('data/list.JSON')")  # same length, names no file now
    os.utime(replacement, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(replacement, script)
    reads = Reads(monkeypatch)
    second = prepare(site, tmp_path)
    assert "app.js" in reads.take()
    assert outcome(first)["app.js"] != outcome(second)["app.js"]
    # data/list.json is no longer named in code: the reason it keeps its name changed too.
    assert "app.js" in first.decisions["data/list.json"].reason
    assert "app.js" not in second.decisions["data/list.json"].reason
    assert outcome(second) == outcome(prepare(site, tmp_path, read_cache=False))


def test_a_file_changed_just_now_is_never_trusted(
    make_build: MakeBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reading of a file changed within RACY_SECONDS is not stored: its times could stay
    the same through a second change inside one tick of the filesystem's clock."""
    build = make_build(SITE)
    prepare(build, tmp_path, seconds_later=RACY_SECONDS / 2)
    reads = Reads(monkeypatch)
    prepare(build, tmp_path)
    assert reads.take() == sorted([*SITE, "index.html", "css/site.css"])


def test_when_the_build_changes_readings_are_redone_and_digests_kept(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new file may be named anywhere: every text file is searched again. A binary's reading
    depends on its bytes alone and is reused."""
    prepare(site, tmp_path)
    (site / "img/new.png").write_bytes(b"new")
    reads = Reads(monkeypatch)
    result = prepare(site, tmp_path)
    read = reads.take()
    assert "img/bg.png" not in read and "img/new.png" in read
    assert {"app.js", "data/list.json", "index.html", "css/site.css"} <= set(read)
    assert outcome(result) == outcome(prepare(site, tmp_path, read_cache=False))


def test_a_rebuild_that_renames_only_bundler_chunks_reads_only_what_changed(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """webpack --watch: a new content hash for the bundle and the page that loads it. The
    names searched for are the same (bundler-hashed names are never renamed), so every other
    text file's references and mentions still hold: only the changed files are read, and the
    result is the one without a cache."""
    prepare(site, tmp_path)
    (site / "main.0123456789abcdef.js").unlink()
    (site / "main.fedcba9876543210.js").write_text("console.log('rebuilt')")
    index = (site / "index.html").read_text()
    (site / "index.html").write_text(index + "<script src=main.fedcba9876543210.js></script>")
    os.utime(site / "index.html", (time.time() - 60, time.time() - 60))  # settled
    reads = Reads(monkeypatch)
    result = prepare(site, tmp_path)
    # The new bundle and the page (read, then rewritten), and the stylesheet that is only
    # rewritten (its reference to the image gets the hashed name, as on every run).
    assert reads.take() == ["css/site.css", "index.html", "index.html", "main.fedcba9876543210.js"]
    assert outcome(result) == outcome(prepare(site, tmp_path, read_cache=False))


def test_a_reference_whose_target_appears_is_read_again(
    make_build: MakeBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page's link to a file the build did not have explained nothing; once the file is
    there (a bundler chunk, so the names searched stay the same), the page is read again."""
    build = make_build({"index.html": "<script src=chunk.0123456789abcdef.js></script>"})
    prepare(build, tmp_path)
    (build / "chunk.0123456789abcdef.js").write_text("1")
    reads = Reads(monkeypatch)
    result = prepare(build, tmp_path)
    assert reads.take() == ["chunk.0123456789abcdef.js", "index.html"]
    assert outcome(result) == outcome(prepare(build, tmp_path, read_cache=False))


def test_a_new_mention_is_found_when_only_other_files_changed(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """app.js names data/more.json before that file exists; once it exists, the cached
    reading of app.js (made when no such name was searched for) must not hide the mention."""
    (site / "app.js").write_text("fetch('data/list.json');fetch('data/more.json')")
    prepare(site, tmp_path)
    (site / "data/more.json").write_text("[3]")
    # The page preloads it through a reference assetpub would rewrite: only the mention in
    # app.js keeps its name.
    page = site / "index.html"
    page.write_text(page.read_text() + "<link rel=preload href=data/more.json as=fetch>")
    result = prepare(site, tmp_path)
    assert "app.js" in result.decisions["data/more.json"].reason
    assert result.file_map["data/more.json"] == "data/more.json"  # named in code: kept
    assert result.decisions["data/more.json"].kind.value == "plain"


def test_a_corrupt_or_unwritable_cache_only_costs_reads(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected = outcome(prepare(site, tmp_path, read_cache=False))
    prepare(site, tmp_path)
    [cache_file] = tmp_path.glob("reads-*.json")
    cache_file.write_bytes(b'{"format": 2, "tool": "0.1.0"}\n"app.js" without a tab\n')
    assert outcome(prepare(site, tmp_path)) == expected
    cache_file.write_text('{"format": 2, "tool": "0.1.0"}\n"app.js"\t{"id": "x"}\n')
    assert outcome(prepare(site, tmp_path)) == expected
    cache_file.write_text('{"format": 2, "tool": "0.1.0"}\n"app.js"\t[1, 2\n')
    assert outcome(prepare(site, tmp_path)) == expected
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would be")
    assert outcome(prepare(site, blocked)) == expected


def test_an_entry_with_bad_fields_is_a_miss(site: Path, tmp_path: Path) -> None:
    from assetpub.build.scan import FileIdentity

    cache = ReadCache(None, "fingerprint", now=time.time())
    identity = FileIdentity.of((site / "app.js").stat())
    cache._ahead = {
        "app.js": json.dumps({"id": [identity.size], "digests": ["a", "b", 1]}).encode()
    }
    assert cache.get("app.js", identity) is None
    ids = [identity.size, identity.mtime_ns, identity.ctime_ns, identity.inode, identity.device]
    cache._ahead = {"app.js": json.dumps({"id": ids, "digests": ["a"]}).encode()}
    assert cache.get("app.js", identity) is None


def test_a_file_identity_keeps_every_stat_field_it_is_made_of(site: Path) -> None:
    from assetpub.build.scan import FileIdentity

    st = (site / "app.js").stat()
    identity = FileIdentity.of(st)
    assert identity.fields == (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)
    assert (identity.size, identity.mtime_ns, identity.ctime_ns) == identity.fields[:3]
    assert (identity.inode, identity.device) == (st.st_ino, st.st_dev)
    assert identity == FileIdentity.of((site / "app.js").stat())
    os.utime(site / "app.js", ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    assert identity != FileIdentity.of((site / "app.js").stat())


def test_readings_used_from_the_cache_stay_in_it_for_the_next_run(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = Reads(monkeypatch)
    prepare(site, tmp_path)
    reads.take()
    for _ in range(2):  # a warm run once wrote back only what it had read
        prepare(site, tmp_path)
        assert reads.take() == ["css/site.css", "index.html"]


def test_a_failed_prepare_leaves_the_cache_as_it_was(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache_dir = tmp_path / "cache"
    prepare(site, cache_dir)
    [cache_file] = cache_dir.glob("reads-*.json")
    before = cache_file.read_bytes()
    (site / "css/site.css").write_text("body{color:red}")  # so read again, mid-run

    def broken(path: str, text: str, paths: object) -> None:
        raise BuildError(f"{path}: stop")

    monkeypatch.setattr(prepare_module, "_references", broken)
    with pytest.raises(BuildError, match="css/site.css: stop"):
        prepare(site, cache_dir)
    assert cache_file.read_bytes() == before
    assert [p.name for p in cache_dir.iterdir()] == [cache_file.name]  # no temporary left


def test_the_cache_is_read_in_step_with_a_build_of_many_batches(
    make_build: MakeBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lines are sorted by path, the scan's order, and read as the lookups reach them: with
    four readers on batches of 256 files, every unchanged file is still a hit, and a file
    added or deleted between runs (sorting among the others) costs only its own read. (Images:
    what a text file says depends on the whole build, which an added file changes.)"""
    files: dict[str, str | bytes] = {f"img/{i:04}.png": b"%d" % i for i in range(1200)}
    build = make_build({**files, "index.html": "<h1>data</h1>"})
    cache_dir = tmp_path / "cache"
    reads = Reads(monkeypatch)
    prepare(build, cache_dir)
    assert len(reads.take()) == 1201
    [cache_file] = cache_dir.glob("reads-*.json")
    paths = [json.loads(line.split(b"\t")[0]) for line in cache_file.read_bytes().splitlines()[1:]]
    assert paths == sorted([*files, "index.html"])
    (build / "img/0500.png").unlink()
    (build / "img/0700a.png").write_bytes(b"new")
    prepare(build, cache_dir)
    assert reads.take() == ["img/0700a.png", "index.html"]


def test_a_cache_whose_lines_are_out_of_order_is_used_only_up_to_there(
    make_build: MakeBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files: dict[str, str | bytes] = {f"{name}.json": "[]" for name in "abcd"}
    build = make_build({**files, "index.html": "<h1>abcd</h1>"})
    cache_dir = tmp_path / "cache"
    reads = Reads(monkeypatch)
    prepare(build, cache_dir)
    reads.take()
    [cache_file] = cache_dir.glob("reads-*.json")
    header, a, b, c, d, index = cache_file.read_bytes().splitlines(keepends=True)
    cache_file.write_bytes(header + a + c + b + d + index)
    prepare(build, cache_dir)
    # a.json is a hit, and c.json (read past while looking for b.json); b.json's line, out of
    # order, ends the reading: what follows is read from the build
    assert reads.take() == ["b.json", "d.json", "index.html"]
    prepare(build, cache_dir)
    assert reads.take() == []  # and the cache is whole again
