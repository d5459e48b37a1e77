"""Walk the build folder into the list of files to publish.

Policy lives here: dotfiles and dot-folders stay private (a .env or .git/ must never reach a
public bucket) except .well-known/; bundler manifests in dot-folders are read, not published; a
symlink that leads outside the build folder is refused.
"""

from __future__ import annotations

import errno
import fnmatch
import logging
import os
import stat
import struct
from dataclasses import dataclass
from pathlib import Path

from assetpub.errors import BuildError
from assetpub.keys import ASSET_MANIFEST_KEY, RESERVED_PREFIX
from assetpub.origins.checks import CONTROL_CHARACTER

log = logging.getLogger(__name__)
# Read for classification, never published.
BUNDLER_MANIFESTS_IN_DOTFOLDERS = (".vite/manifest.json",)
_PUBLIC_DOTFOLDERS = (".well-known",)


# size, mtime_ns, ctime_ns, inode, device: 40 bytes, where five ints cost about 150.
_IDENTITY = struct.Struct("<qqqQQ")


@dataclass(frozen=True, slots=True)
class FileIdentity:
    """The stat fields that change whenever a file's bytes can have changed, packed: a scan
    keeps one per file."""

    packed: bytes

    @classmethod
    def of(cls, st: os.stat_result) -> FileIdentity:
        return cls(_IDENTITY.pack(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev))

    @property
    def fields(self) -> tuple[int, int, int, int, int]:
        """(size, mtime_ns, ctime_ns, inode, device)."""
        size, mtime_ns, ctime_ns, inode, device = _IDENTITY.unpack(self.packed)
        return size, mtime_ns, ctime_ns, inode, device

    @property
    def size(self) -> int:
        return self.fields[0]

    @property
    def mtime_ns(self) -> int:
        return self.fields[1]

    @property
    def ctime_ns(self) -> int:
        return self.fields[2]

    @property
    def inode(self) -> int:
        return self.fields[3]

    @property
    def device(self) -> int:
        return self.fields[4]

    def is_settled(self, now: float, racy_seconds: float) -> bool:
        """Last changed more than `racy_seconds` before `now` (wall-clock seconds), so that a
        later change must show in its times (see build/cache.py)."""
        return max(self.mtime_ns, self.ctime_ns) / 1e9 <= now - racy_seconds


@dataclass(frozen=True, slots=True)
class SourceFile:
    path: str  # relative to the build root, '/'-separated
    root: str  # the build root, one str shared by a folder's files
    # FileIdentity.packed as stat saw the file when the build was scanned: the bytes alone,
    # where a FileIdentity and a size of their own cost 80 bytes more a file.
    stat: bytes
    # Where the file is on disk when that is not root/path (a symlink's target, a file in a
    # linked folder): a location of its own for every file cost about 80 bytes a file.
    target: str | None = None

    @property
    def identity(self) -> FileIdentity:
        return FileIdentity(self.stat)

    @property
    def size(self) -> int:
        size: int = _IDENTITY.unpack_from(self.stat)[0]
        return size

    @property
    def location(self) -> str:
        """The file on disk: a str, as a Path costs 400 bytes more a file."""
        return self.target if self.target is not None else os.path.join(self.root, self.path)

    @property
    def abs_path(self) -> Path:
        return Path(self.location)


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
    root_text = str(root)
    for entry in entries:
        rel = f"{rel_folder}{entry.name}"
        path = Path(entry.path)
        location = entry.path
        is_link = entry.is_symlink()
        private = (
            entry.name.startswith(".")
            and entry.name not in _PUBLIC_DOTFOLDERS
            and not _is_included(rel, include_dotfiles)
        )
        if is_link and not private:  # a private one is skipped: where it leads does not matter
            path = _follow(root, rel, path, include_dotfiles)
            location = str(path)
        # scandir knows a plain entry's type without a stat; a symlink's target needs one.
        is_dir = path.is_dir() if is_link else entry.is_dir(follow_symlinks=False)
        if private:
            if is_dir and entry.name == ".vite":
                _read_bundler_manifests(root, rel, bundler_manifests)
            skipped.append(rel + ("/" if is_dir else ""))
            continue
        check_name(rel)
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
            try:
                st = path.stat() if is_link else entry.stat(follow_symlinks=False)
            except OSError as exc:  # deleted since the folder was listed (a rebuild)
                raise BuildError(f"cannot read {rel}: {exc.strerror}") from None
            if not stat.S_ISREG(st.st_mode):
                # Never skipped without a word, never read (a FIFO would block the read).
                raise BuildError(
                    f"{rel} is a {_special_kind(st.st_mode)}, not a regular file: "
                    "remove it from the build folder"
                )
            target = None if location == os.path.join(root_text, rel) else location
            files.append(SourceFile(rel, root_text, FileIdentity.of(st).packed, target))


def _follow(root: Path, rel: str, link: Path, include_dotfiles: tuple[str, ...]) -> Path:
    """Where the symlink `rel` leads, if it may be published: inside the build folder, not
    broken, not a loop, and not a private dotfile (config.txt -> .env would publish .env's
    contents under a public name)."""
    try:
        target = link.resolve(strict=True)
    except (RuntimeError, OSError) as exc:  # 3.11 raises RuntimeError on a loop, 3.13 OSError
        if isinstance(exc, RuntimeError) or getattr(exc, "errno", None) == errno.ELOOP:
            raise BuildError(f"{rel} is a symlink loop") from None
        if not link.resolve().is_relative_to(root):
            raise BuildError(
                f"{rel} is a symlink to {link.resolve()}, outside the build folder; refusing it"
            ) from None
        raise BuildError(f"{rel} is a broken symlink") from None
    if not target.is_relative_to(root):
        raise BuildError(f"{rel} is a symlink to {target}, outside the build folder; refusing it")
    parts = target.relative_to(root).parts  # () for the build folder itself
    inside = "/".join(parts)
    private = any(part.startswith(".") and part not in _PUBLIC_DOTFOLDERS for part in parts)
    if private and not _is_included(inside, include_dotfiles):
        raise BuildError(
            f"{rel} is a symlink to {inside}, a private dotfile: refusing to publish its "
            "contents under a public name (list it in include_dotfiles to publish it)"
        )
    return target


def _special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special file"


def check_name(rel: str) -> str:
    """`rel` if it can be a published name on every origin, else BuildError naming the file.

    Refused before anything is written: a backslash (path syntax on a folder origin, a
    different key than the browser asks for on S3), control characters, and names that are
    not UTF-8 (S3 keys are UTF-8; os.fsdecode keeps such bytes as lone surrogates)."""
    shown = repr(rel.encode("utf-8", "surrogateescape").decode("utf-8", "replace"))
    if "\\" in rel:
        raise BuildError(f"{shown}: a backslash in a file name cannot be published")
    if CONTROL_CHARACTER.search(rel):
        raise BuildError(f"{shown}: a control character in a file name cannot be published")
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        raise BuildError(f"{shown}: the file name is not UTF-8; rename it") from None
    return rel


def _read_bundler_manifests(root: Path, rel: str, bundler_manifests: dict[str, bytes]) -> None:
    for name in BUNDLER_MANIFESTS_IN_DOTFOLDERS:
        if name.startswith(rel + "/"):
            candidate = root / name
            if candidate.is_file() and candidate.resolve().is_relative_to(root):
                bundler_manifests[name] = candidate.read_bytes()
