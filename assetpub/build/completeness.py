"""Is a build folder complete enough to publish? For watch mode, where a bundler is still
writing it: webpack rewrites files one by one, some tools delete the folder and write it again.

Complete means: every local reference of every HTML page names a file of the build, and no
file changed within the quiet period (a change no event reported, e.g. a file still being
written). The answer is pure (`find_incomplete`); `inspect_build` reads the folder for it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from assetpub.build import rewrite
from assetpub.build.scan import (
    PUBLIC_FILES,
    FileSelection,
    ScannedBuild,
    SourceFile,
    scan_build,
)
from assetpub.errors import BuildError, and_more
from assetpub.keys import ASSET_MANIFEST_KEY

_HTML_SUFFIXES = (".html", ".htm")


@dataclass(frozen=True)
class Completeness:
    problems: tuple[str, ...] = ()  # what the build lacks, the first one worth showing
    # Files changed within the quiet period: check again once it has passed, where a missing
    # file needs an event (the bundler writing it) before a new check can tell anything else.
    is_changing: bool = False
    # What the folder held (paths, identities, bundler manifests) when it was read: equal
    # signatures mean nothing a publish reads has changed. None when there was no build.
    signature: tuple[object, ...] | None = None

    @property
    def is_complete(self) -> bool:
        return not self.problems

    @property
    def reason(self) -> str:
        return self.problems[0] + and_more(len(self.problems)) if self.problems else ""


def is_page(path: str) -> bool:
    return path.lower().endswith(_HTML_SUFFIXES)


def find_incomplete(
    files: Sequence[SourceFile],
    pages: Mapping[str, str],
    now: float,
    quiet_seconds: float,
    extra_paths: frozenset[str] = frozenset(),
    selection: FileSelection = PUBLIC_FILES,
) -> Completeness:
    """Why the build made of `files` (whose HTML pages read `pages`, path -> text) cannot be
    published yet at `now` (seconds since the epoch), if it cannot.

    A file counts as changing when its change time is less than `quiet_seconds` old. Only the
    change time: the kernel sets it on every write and rename, where a modification time can
    be copied from anywhere (tar, `cp -p`) and lie in the future. A change time in the future
    means the clock went back, not a write in progress. `extra_paths` are files the build has
    that `files` leaves out (assetpub's own asset-manifest.json). A reference to a path the
    `selection` never publishes (excluded, not included, a private dotfile) is no reason to
    wait: no write can make it resolve, and publish reports it as a missing reference.
    """
    paths = {f.path for f in files} | extra_paths
    changing = sorted(f.path for f in files if 0 <= now - f.identity.ctime_ns / 1e9 < quiet_seconds)
    problems = [f"{path} changed less than {quiet_seconds:g} s ago" for path in changing]
    for page, text in sorted(pages.items()):
        problems += _unresolved(page, text, paths, selection)
    return Completeness(tuple(problems), is_changing=bool(changing))


def _unresolved(page: str, text: str, paths: set[str], selection: FileSelection) -> list[str]:
    try:
        base = rewrite.resolving_from(page, text)
    except ValueError as exc:
        return [f"{page}: {exc}"]
    missing = []
    for ref in rewrite.find_html_references(text):
        target = rewrite.resolve_reference(base, ref.url)
        # A reference out of the build (target None), or to a file the selection leaves out,
        # is publish's warning to give: no file the bundler writes later can make it resolve.
        if target is not None and target not in paths and selection.selects(target):
            missing.append(f"{page}: {ref.kind} '{ref.url}' refers to {target}, not written yet")
    return missing


def signature_of(scanned: ScannedBuild) -> tuple[object, ...]:
    return (
        tuple((f.path, f.stat, f.target) for f in scanned.files),
        tuple(sorted(scanned.bundler_manifests.items())),
        scanned.replaced_manifest,
    )


def inspect_build(
    build_dir: Path, selection: FileSelection, now: float, quiet_seconds: float
) -> Completeness:
    """Scan the build folder and read its pages for `find_incomplete`. A folder that is missing,
    empty or has no page yet, and a file that vanishes while it is read, are incomplete too:
    a bundler in the middle of a rebuild."""
    try:
        scanned = scan_build(build_dir, selection)
        pages = {
            f.path: f.abs_path.read_bytes().decode("utf-8", "surrogateescape")
            for f in scanned.files
            if is_page(f.path)
        }
    except BuildError as exc:
        return Completeness((exc.message,))
    except OSError as exc:  # deleted between the walk and the read: the rebuild goes on
        return Completeness((f"{exc.filename}: {exc.strerror}",), is_changing=True)
    extra = frozenset({ASSET_MANIFEST_KEY}) if scanned.replaced_manifest else frozenset()
    found = find_incomplete(scanned.files, pages, now, quiet_seconds, extra, selection)
    return Completeness(found.problems, found.is_changing, signature_of(scanned))
