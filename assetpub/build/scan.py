"""Walk the build folder into the list of files to publish.

Policy lives here: dotfiles and dot-folders stay private (a .env or .git/ must never reach a
public bucket) except .well-known/; bundler manifests in dot-folders are read, not published; a
symlink that leads outside the build folder is refused; `include` and `exclude` (FileSelection)
choose among the rest, and what they leave out is never read.
"""

from __future__ import annotations

import errno
import fnmatch
import logging
import os
import re
import stat
import struct
from dataclasses import dataclass, field
from pathlib import Path

from pathspec import GitIgnoreSpec

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


def glob_problem(pattern: str) -> str | None:
    """Why `pattern` is not a gitignore-style pattern `include`/`exclude` accept, or None. A
    pattern git would read as no pattern at all (blank, a comment, an unclosed '[') is refused
    too: in a list of patterns it is a typo, never a wish to match nothing."""
    try:
        compiled = GitIgnoreSpec.from_lines([pattern])
    except (ValueError, re.error) as exc:
        return f"is not a valid pattern ({exc})"
    if not any(p.include is not None for p in compiled.patterns):
        return "is no pattern (blank, a '#' comment or an unclosed '['): it would match nothing"
    return None


@dataclass(frozen=True)
class FileSelection:
    """Which of the build folder's files a publish considers. First the dotfile rule (private
    unless .well-known/ or listed in `include_dotfiles`, fnmatch patterns); then, when
    `include` is given, only paths it matches; then `exclude` removes paths. Both are
    gitignore-style pattern lists (pathspec's GitIgnoreSpec): `**` crosses folders, a
    trailing `/` names a folder, a leading `/` anchors at the build root, `!` re-includes,
    the last matching pattern wins. An excluded folder is not entered, so, as in git, a file
    under it cannot be re-included."""

    include_dotfiles: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    _include: GitIgnoreSpec | None = field(init=False, repr=False, compare=False)
    _exclude: GitIgnoreSpec | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for pattern in (*self.include, *self.exclude):
            problem = glob_problem(pattern)
            if problem:  # settings say where it came from; this is the last line of defence
                raise ValueError(f"{pattern!r} {problem}")
        compiled = [
            GitIgnoreSpec.from_lines(p) if p else None for p in (self.include, self.exclude)
        ]
        object.__setattr__(self, "_include", compiled[0])
        object.__setattr__(self, "_exclude", compiled[1])

    def is_private(self, name: str, rel: str) -> bool:
        """The file or folder `name` at `rel` is a dotfile kept out of every publish."""
        return (
            name.startswith(".")
            and name not in _PUBLIC_DOTFOLDERS
            and not _is_included(rel, self.include_dotfiles)
        )

    def excludes_folder(self, rel: str) -> bool:
        return self._exclude is not None and self._exclude.match_file(rel + "/")

    def excludes_file(self, rel: str) -> bool:
        if self._include is not None and not self._include.match_file(rel):
            return True
        return self._exclude is not None and self._exclude.match_file(rel)

    def is_excluded(self, path: str) -> bool:
        """`exclude` (alone, not `include`) matches the file at `path` or a folder above it."""
        if self._exclude is None:
            return False
        parts = path.split("/")
        folders = ("/".join(parts[:depth]) for depth in range(1, len(parts)))
        return any(self.excludes_folder(f) for f in folders) or self._exclude.match_file(path)

    def selects(self, path: str) -> bool:
        """Whether a scan would publish a file at `path` (a build path) if it existed: no
        private dotfile or dot-folder on the way, no excluded folder, the file included and
        not excluded. For references to files a build lacks (watch's completeness)."""
        parts = path.split("/")
        for depth, name in enumerate(parts, start=1):
            if self.is_private(name, "/".join(parts[:depth])):
                return False
        return not self.is_excluded(path) and not self.excludes_file(path)


# The default: every file but the private dotfiles.
PUBLIC_FILES = FileSelection()


@dataclass(frozen=True)
class ScannedBuild:
    root: Path
    files: tuple[SourceFile, ...]
    # Bundler manifests found in private places (e.g. .vite/manifest.json): path -> bytes.
    bundler_manifests: dict[str, bytes]
    skipped_dotfiles: tuple[str, ...]
    replaced_manifest: bool  # the build had its own asset-manifest.json; ours replaces it
    # What include/exclude left out, never read: files, and folders (ending in '/') not entered.
    excluded: tuple[str, ...] = ()


def scan_build(build_dir: Path, selection: FileSelection = PUBLIC_FILES) -> ScannedBuild:
    if not build_dir.exists():
        raise BuildError(f"build folder {build_dir} does not exist (run your bundler first?)")
    if not build_dir.is_dir():
        raise BuildError(f"{build_dir} is not a folder")
    root = build_dir.resolve()
    files: list[SourceFile] = []
    skipped: list[str] = []
    excluded: list[str] = []
    bundler_manifests: dict[str, bytes] = {}
    walk = _Walk(root, selection, files, skipped, excluded, bundler_manifests)
    walk.folder(root, "", {root})
    if not files and excluded:
        raise BuildError(
            f"build folder {build_dir}: include/exclude leave no file to publish "
            f"({len(excluded)} left out, e.g. {excluded[0]})"
        )
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
    return ScannedBuild(
        root,
        tuple(files),
        bundler_manifests,
        tuple(sorted(skipped)),
        replaced,
        tuple(sorted(excluded)),
    )


def _is_included(rel: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch.fnmatchcase(rel, p) for p in patterns)


@dataclass
class _Walk:
    """One walk of the build folder, collecting into the lists it was given."""

    root: Path
    selection: FileSelection
    files: list[SourceFile]
    skipped: list[str]
    excluded: list[str]
    bundler_manifests: dict[str, bytes]

    def folder(self, folder: Path, rel_folder: str, visited: set[Path]) -> None:
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            raise BuildError(f"cannot read folder {folder}: {exc.strerror}") from None
        for entry in entries:
            self.entry(entry, f"{rel_folder}{entry.name}", visited)

    def entry(self, entry: os.DirEntry[str], rel: str, visited: set[Path]) -> None:
        root, selection = self.root, self.selection
        path = Path(entry.path)
        location = entry.path
        is_link = entry.is_symlink()
        private = selection.is_private(entry.name, rel)
        if is_link and not private:  # a private one is skipped: where it leads does not matter
            path = _follow(root, rel, path, selection.include_dotfiles)
            location = str(path)
        # scandir knows a plain entry's type without a stat; a symlink's target needs one.
        is_dir = path.is_dir() if is_link else entry.is_dir(follow_symlinks=False)
        if private:
            if is_dir and entry.name == ".vite":
                _read_bundler_manifests(root, rel, self.bundler_manifests, selection)
            self.skipped.append(rel + ("/" if is_dir else ""))
            return
        # Before the name is checked or the file stat'ed: what is left out is never looked at,
        # so a name no origin takes or a FIFO can be excluded instead of removed.
        if selection.excludes_folder(rel) if is_dir else selection.excludes_file(rel):
            self.excluded.append(rel + ("/" if is_dir else ""))
            return
        check_name(rel)
        if is_dir:
            real = path.resolve()
            if real in visited:  # a symlink loop, or a second link to a folder already walked
                return
            self.folder(path, rel + "/", visited | {real})
            return
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
        root_text = str(root)
        target = None if location == os.path.join(root_text, rel) else location
        self.files.append(SourceFile(rel, root_text, FileIdentity.of(st).packed, target))


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


def _read_bundler_manifests(
    root: Path, rel: str, bundler_manifests: dict[str, bytes], selection: FileSelection
) -> None:
    for name in BUNDLER_MANIFESTS_IN_DOTFOLDERS:
        # Never published, so `include` does not concern it; `exclude` still means unread.
        if name.startswith(rel + "/") and not selection.is_excluded(name):
            candidate = root / name
            if candidate.is_file() and candidate.resolve().is_relative_to(root):
                bundler_manifests[name] = candidate.read_bytes()
