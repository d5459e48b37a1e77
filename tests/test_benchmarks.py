"""The synthetic build the benchmarks publish is deterministic: the same seed gives the same
bytes, another seed or version gives other bytes. Local files only, no server."""

from __future__ import annotations

from pathlib import Path

from benchmarks import bench_watch
from benchmarks.bench_memory import SMOKE_FILES, run_all, tiny_build
from benchmarks.synthetic import Layout, build_files, generate_build, generate_one_gb


def _snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in build_files(root)}


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    first = _snapshot(generate_build(tmp_path / "one", files=50, seed=7))
    second = _snapshot(generate_build(tmp_path / "two", files=50, seed=7))
    assert len(first) == 50
    assert first == second


def test_another_seed_other_bytes(tmp_path: Path) -> None:
    first = _snapshot(generate_build(tmp_path / "one", files=50, seed=7))
    other = _snapshot(generate_build(tmp_path / "two", files=50, seed=8))
    assert first != other
    assert set(first) != set(other)  # content-hashed names follow the content


def test_a_version_changes_some_files_and_their_referrers(tmp_path: Path) -> None:
    base = _snapshot(generate_build(tmp_path / "v0", files=200, seed=3))
    changed = _snapshot(generate_build(tmp_path / "v1", files=200, seed=3, version=1, changed=6))
    plain = {name for name in base if name.startswith("img/") and base[name] != changed[name]}
    assert len(plain) == 3  # the images keep their names and change their bytes
    assert len(set(base) - set(changed)) == 3 * 2 + 2  # 3 chunks + maps, main + map renamed
    assert base["index.html"] != changed["index.html"]
    assert base["css/theme.css"] == changed["css/theme.css"]  # assetpub rewrites it, not us


def test_layout_adds_up() -> None:
    for files in (20, 50, 101, 2000, 20_000):
        layout = Layout.for_files(files)
        kinds = 2 * layout.chunks + layout.bundler_css + layout.media + layout.images
        assert kinds + layout.fonts + 2 == files


def test_one_gb_build_streams_the_requested_size(tmp_path: Path) -> None:
    root = generate_one_gb(tmp_path / "big", seed=1, size=3 * 1024 * 1024 + 5)
    assert (root / "media" / "intro.mp4").stat().st_size == 3 * 1024 * 1024 + 5
    again = generate_one_gb(tmp_path / "again", seed=1, size=3 * 1024 * 1024 + 5)
    assert _snapshot(root) == _snapshot(again)


def test_tiny_build_has_the_requested_files_of_every_kind(tmp_path: Path) -> None:
    root = tiny_build(tmp_path / "tiny", files=SMOKE_FILES)
    names = [str(p.relative_to(root)) for p in build_files(root)]
    assert len(names) == SMOKE_FILES
    assert {name.split("/")[0] for name in names} == {
        "index.html",
        "pages",
        "js",
        "img",
        "css",
        "data",
    }


def test_memory_benchmark_smoke(tmp_path: Path) -> None:
    """The script works end to end (its figures are reported, not asserted): three runs that
    exit 0, a peak RSS measured for each, and the unchanged publish made no second release."""
    runs = run_all(SMOKE_FILES, tmp_path)
    assert [run.label for run in runs] == ["publish cold", "unchanged", "verify"]
    assert all(run.exit_code == 0 for run in runs), [run.output for run in runs]
    assert all(run.peak_rss_mb > 1 and run.seconds > 0 for run in runs)
    records = list((tmp_path / "origin" / "_assetpub" / "releases").iterdir())
    assert len(records) == 1


def test_watch_benchmark_smoke(tmp_path: Path) -> None:
    """The script works end to end on its moto server (figures reported, not asserted): every
    rebuild went live in both modes, and the read cache changed nothing that was uploaded."""
    versions = bench_watch.generate_versions(bench_watch.SMOKE, tmp_path)
    modes = bench_watch.run_all(bench_watch.SMOKE, versions, tmp_path, folder=False)
    assert [mode.label for mode in modes] == ["s3, read cache", "s3, no cache"]
    for mode in modes:
        assert len(mode.cycles) == bench_watch.SMOKE.rebuilds
        assert all(c.latency > 0 and c.uploaded > 0 for c in mode.cycles)
    assert [c.uploaded for c in modes[0].cycles] == [c.uploaded for c in modes[1].cycles]
    assert len(bench_watch.local_phase(versions, tmp_path, bench_watch.SMOKE, cache=True)) == 2
