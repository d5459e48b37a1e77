"""Walk the build folder into the list of files to publish.

Policy lives here: dotfiles and dot-folders stay private (a .env or .git/ must never reach a
public bucket) except .well-known/; bundler manifests in dot-folders are read, not published; a
symlink that leads outside the build folder is refused.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from assetpub.errors import BuildError
from assetpub.keys import ASSET_MANIFEST_KEY, RESERVED_PREFIX

log = logging.getLogger(__name__)
# Read for classification, never published.
BUNDLER_MANIFESTS_IN_DOTFOLDERS = (".vite/manifest.json",)
_PUBLIC_DOTFOLDERS = (".well-known",)


@dataclass(frozen=True, slots=True)
class FileIdentity:
    """The stat fields that change whenever a file's bytes can have changed."""

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int
    device: int

    @classmethod
    def of(cls, st: os.stat_result) -> FileIdentity:
        return cls(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev)

    def is_settled(self, now: float, racy_seconds: float) -> bool:
        """Last changed more than `racy_seconds` before `now` (wall-clock seconds), so that a
        later change must show in its times (see build/cache.py)."""
        return max(self.mtime_ns, self.ctime_ns) / 1e9 <= now - racy_seconds


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: str  # relative to the build root, '/'-separated
    abs_path: Path
    size: int
    identity: FileIdentity  # as stat saw it when the build was scanned


@dataclass(frozen=True)
class ScannedBuild:
    root: Path
    files: tuple[SourceFile, ...]
    # Bundler manifests found in private places (e.g. .vite/manifest.json): path -> bytes.
    bundler_manifests: dict[str, bytes]
    skipped_dotfiles: tuple[str, ...]
    replaced_manifest: bool  # the build had its own asset-manifest.json; ours replaces it


def scan_build(build_dir: Path, include_dotfiles: tuple[str, ...] = ()) -> ScannedBuild:
    if not build_dir.exists():
        raise BuildError(f"build folder {build_dir} does not exist (run your bundler first?)")
    if not build_dir.is_dir():
        raise BuildError(f"{build_dir} is not a folder")
    root = build_dir.resolve()
    files: list[SourceFile] = []
    skipped: list[str] = []
    bundler_manifests: dict[str, bytes] = {}
    _walk(root, root, "", files, skipped, bundler_manifests, include_dotfiles, {root})
    if not files:
        raise BuildError(f"build folder {build_dir} is empty")
    reserved = [f.path for f in files if f.path.startswith(RESERVED_PREFIX)]
    if reserved:
        raise BuildError(f"{reserved[0]}: {RESERVED_PREFIX} is reserved for assetpub's records")
    replaced = any(f.path == ASSET_MANIFEST_KEY for f in files)
    files = [f for f in files if f.path != ASSET_MANIFEST_KEY]
    if not any(f.path.lower().endswith((".html", ".htm")) for f in files):
        raise BuildError(f"build folder {build_dir} has no HTML file: is it really a site build?")
    files.sort(key=lambda f: f.path)
    return ScannedBuild(root, tuple(files), bundler_manifests, tuple(sorted(skipped)), replaced)


def _is_included(rel: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(rel, p) for p in patterns)


def _walk(
    root: Path,
    folder: Path,
    rel_folder: str,
    files: list[SourceFile],
    skipped: list[str],
    bundler_manifests: dict[str, bytes],
    include_dotfiles: tuple[str, ...],
    visited: set[Path],
) -> None:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        raise BuildError(f"cannot read folder {folder}: {exc.strerror}") from None
    for entry in entries:
        rel = f"{rel_folder}{entry.name}"
        path = Path(entry.path)
        is_link = entry.is_symlink()
        if is_link:
            target = path.resolve()
            if not target.is_relative_to(root):
                raise BuildError(
                    f"{rel} is a symlink to {target}, outside the build folder; refusing it"
                )
            if not target.exists():
                raise BuildError(f"{rel} is a broken symlink")
            path = target
        # scandir knows a plain entry's type without a stat; a symlink's target needs one.
        is_dir = path.is_dir() if is_link else entry.is_dir(follow_symlinks=False)
        if entry.name.startswith(".") and entry.name not in _PUBLIC_DOTFOLDERS:
            if is_dir and entry.name == ".vite":
                _read_bundler_manifests(root, rel, bundler_manifests)
            if not _is_included(rel, include_dotfiles):
                skipped.append(rel + ("/" if is_dir else ""))
                continue
        if is_dir:
            real = path.resolve()
            if real in visited:  # a symlink loop, or a second link to a folder already walked
                continue
            _walk(
                root,
                path,
                rel + "/",
                files,
                skipped,
                bundler_manifests,
                include_dotfiles,
                visited | {real},
            )
        else:
            st = path.stat() if is_link else entry.stat(follow_symlinks=False)
            if stat.S_ISREG(st.st_mode):
                files.append(SourceFile(rel, path, st.st_size, FileIdentity.of(st)))


def _read_bundler_manifests(root: Path, rel: str, bundler_manifests: dict[str, bytes]) -> None:
    for name in BUNDLER_MANIFESTS_IN_DOTFOLDERS:
        if name.startswith(rel + "/"):
            candidate = root / name
            if candidate.is_file() and candidate.resolve().is_relative_to(root):
                bundler_manifests[name] = candidate.read_bytes()
