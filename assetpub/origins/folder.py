"""A local folder as an origin, e.g. the document root nginx serves.

Every write goes to a temp file in the target's own directory, is fsynced, then renamed into
place (rename is atomic within one filesystem), so a reader sees the old file or the new one,
never a part. Every change to the tree (rename, link, unlink) happens under an exclusive lock on
`.assetpub-lock` in the root (flock on Linux and macOS, LockFileEx on Windows, through
filelock), so conditional writes (if_absent, if_match) are atomic across threads and processes
on this machine: check and rename happen in one critical section.
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import io
import os
import secrets
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import filelock

from assetpub.errors import AlreadyExistsError, OriginError, PreconditionFailedError
from assetpub.origins.base import (
    ObjectHeaders,
    ObjectInfo,
    OriginStats,
    RemoteObject,
    VersionedBytes,
)
from assetpub.origins.checks import check_key, check_list_prefix, check_write_conditions

TEMP_PREFIX = ".assetpub-tmp-"
LOCK_NAME = ".assetpub-lock"  # in the root; never listed, written or deleted as an object
_CHUNK = 1024 * 1024
# Flags the standard library has on some systems only: Windows needs O_BINARY (or its C runtime
# turns each "\n" written into "\r\n") and has no O_NOFOLLOW. os.open's descriptors are not
# inherited by child processes anyway (PEP 446), so O_CLOEXEC is not needed.
_BINARY = getattr(os, "O_BINARY", 0)
_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)
# How often a writer retries a lock another process holds: filelock polls, and the critical
# sections are a rename or a mkdir long, so a waiter is let in soon after the holder is done.
_LOCK_POLL_SECONDS = 0.002


class FolderOrigin:
    """A folder whose files are the objects; keys are paths relative to `root`.

    Plain files cannot carry headers: content type and cache control are ignored here and the
    web server's configuration decides them. Symlinks are never followed out of `root`. Stats
    count one operation per call, and one "delete" per key (each is its own unlink). The version
    token (read(), if_match) is the SHA-256 hex of the file's bytes.
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(os.path.abspath(root))
        self.url = self.root.as_uri()
        self.stats = OriginStats()
        self.service = "folder"
        self.keeps_headers = False
        self._stats_lock = threading.Lock()  # stats are counted from the uploader's thread pool
        # This object's threads queue here for the file lock, so only other processes (and other
        # FolderOrigin objects on the same root) are waited for by polling it.
        self._thread_lock = threading.Lock()
        self._lock_path = self.root / LOCK_NAME

    def check(self) -> None:
        with self._os_errors("create", self.root):
            self.root.mkdir(parents=True, exist_ok=True)
        if not self.root.is_dir():
            raise OriginError(f"{self.root} is not a directory ({self.url})")
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise OriginError(f"{self.root} is not writable: fix its permissions or owner")

    def list(self, prefix: str = "") -> Iterator[RemoteObject]:
        check_list_prefix(prefix)
        self._count("list")
        # Walk only the deepest folder the prefix names; filter the rest by name.
        folders = prefix.split("/")[:-1]
        start = self.root.joinpath(*folders)
        walked = self._walk(start, "".join(f"{name}/" for name in folders))
        return (obj for obj in walked if obj.key.startswith(prefix))

    def _walk(self, folder: Path, rel: str) -> Iterator[RemoteObject]:
        """The files under `folder` (whose keys start with `rel`) as scandir finds them, one
        entry in memory at a time: a folder of 30,000 blobs held as DirEntry objects, or a
        whole listing sorted, was 10 to 20 MB more at 100,000 files."""
        if not self._is_inside_root(folder):
            return
        try:
            found = os.scandir(folder)
        except (FileNotFoundError, NotADirectoryError):
            return
        with found:
            for entry in found:
                if entry.name.startswith(TEMP_PREFIX) or (not rel and entry.name == LOCK_NAME):
                    continue
                # A symlinked folder is never entered (escapes and cycles); a symlinked file
                # counts only when it points inside root.
                if entry.is_dir(follow_symlinks=False):
                    yield from self._walk(folder / entry.name, f"{rel}{entry.name}/")
                elif entry.is_file() and (
                    not entry.is_symlink() or self._is_inside_root(Path(entry.path))
                ):
                    try:
                        size = entry.stat().st_size
                    except FileNotFoundError:  # deleted since scandir (a concurrent GC): gone
                        continue
                    yield RemoteObject(rel + entry.name, size, None)

    def sha256(self, key: str) -> str | None:
        info = self.head(key)
        return info.sha256 if info else None

    def head(self, key: str) -> ObjectInfo | None:
        path = self._path(key, follow=True)
        self._count("head")
        with self._open_existing(path) as file:
            if file is None:
                return None
            size = os.fstat(file.fileno()).st_size
            digest = _sha256(file, size)
        return ObjectInfo(key, size, None, None, digest)

    def get(self, key: str) -> bytes | None:
        found = self.read(key)
        return found.data if found else None

    def get_to(self, key: str, out: BinaryIO) -> bool:
        path = self._path(key, follow=True)
        self._count("get")
        with self._open_existing(path) as file:
            if file is None:
                return False
            shutil.copyfileobj(file, out, _CHUNK)
        return True

    def read(self, key: str) -> VersionedBytes | None:
        path = self._path(key, follow=True)
        self._count("get")
        with self._open_existing(path) as file:
            data = None if file is None else file.read()
        return None if data is None else VersionedBytes(data, hashlib.sha256(data).hexdigest())

    def put_file(
        self, key: str, path: Path, headers: ObjectHeaders, *, if_absent: bool = False
    ) -> None:
        target = self._path(key, follow=False)
        self._count("put")
        with path.open("rb") as source:
            self._write(key, target, lambda out: shutil.copyfileobj(source, out, _CHUNK), if_absent)

    def put_bytes(
        self,
        key: str,
        data: bytes,
        headers: ObjectHeaders,
        *,
        if_absent: bool = False,
        if_match: str | None = None,
    ) -> None:
        check_write_conditions(if_absent, if_match)
        target = self._path(key, follow=False)
        self._count("put")
        self._write(key, target, lambda out: out.write(data), if_absent, if_match)

    def copy(self, source_key: str, key: str, headers: ObjectHeaders) -> str | None:
        source = self._path(source_key, follow=True)
        target = self._path(key, follow=False)
        self._count("copy")
        with self._open_existing(source) as file:
            if file is None:
                raise OriginError(
                    f"cannot copy {source_key} to {key}: {source_key} does not exist in {self.url}"
                )
            self._write(key, target, lambda out: shutil.copyfileobj(file, out, _CHUNK))
        return None  # a folder has no ETags

    def supports_conditional_writes(self) -> bool:
        return True

    def delete(self, keys: builtins.list[str]) -> None:
        targets = [self._path(key, follow=False) for key in keys]
        for target in targets:
            self._count("delete")
            with self._os_errors("delete", target), self._locked():
                # A folder or a file in place of a parent folder is no object: nothing to delete.
                with contextlib.suppress(FileNotFoundError, IsADirectoryError, NotADirectoryError):
                    target.unlink()
                self._remove_empty_parents(target.parent)

    def _write(
        self,
        key: str,
        target: Path,
        fill: Callable[[BinaryIO], object],
        if_absent: bool = False,
        if_match: str | None = None,
    ) -> None:
        with self._os_errors("write", target):
            temp = target.parent / f"{TEMP_PREFIX}{secrets.token_hex(8)}"
            # Locked so a concurrent delete cannot remove the new, still empty folder before the
            # temp file is in it. O_EXCL on a fresh random name; mode 0o666 lets the umask
            # decide, as for any file (a mkstemp file would be 0600, unreadable to the server).
            with self._locked():
                target.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _BINARY, 0o666)
            try:
                with os.fdopen(fd, "wb") as out:
                    fill(out)
                    out.flush()
                    os.fsync(out.fileno())
                # The check and the rename form one critical section; the copy above does not
                # hold the lock.
                with self._locked():
                    if if_match is not None and self._token(key) != if_match:
                        raise PreconditionFailedError(key)
                    if if_absent:
                        # link() fails if the target exists: atomic even against a writer that
                        # does not take the lock.
                        try:
                            os.link(temp, target)
                        except FileExistsError:
                            raise AlreadyExistsError(key) from None
                    else:
                        os.replace(temp, target)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp)
            _fsync_directory(target.parent)

    def _token(self, key: str) -> str | None:
        """The current version token of `key`, read without counting a request."""
        with self._open_existing(self._path(key, follow=True)) as file:
            return None if file is None else hashlib.file_digest(file, "sha256").hexdigest()

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Hold the origin's exclusive lock: threads and processes alike wait for it.

        The lock is on a descriptor of our own (filelock's lock_descriptor: flock, or LockFileEx
        on Windows), opened read-only: neither needs write access, so users who may write the
        root can share an origin whoever created the lock file. Each critical section opens its
        own descriptor, so two FolderOrigin objects on one root exclude each other as two
        processes do. (filelock's FileLock opens the file read-write, and lets every thread of
        a process in at once unless it is made thread-local.)
        """
        flags = os.O_RDONLY | os.O_CREAT | _BINARY | _NO_FOLLOW
        with self._thread_lock:
            try:
                fd = os.open(self._lock_path, flags, 0o666)
            except FileNotFoundError:  # no root yet (a delete before any write)
                self.root.mkdir(parents=True, exist_ok=True)
                fd = os.open(self._lock_path, flags, 0o666)
            try:
                filelock.lock_descriptor(fd, poll_interval=_LOCK_POLL_SECONDS)
                try:
                    yield
                finally:
                    filelock.unlock_descriptor(fd)
            finally:
                os.close(fd)

    def _remove_empty_parents(self, folder: Path) -> None:
        while folder != self.root and self.root in folder.parents:
            try:
                folder.rmdir()
            except OSError:  # not empty (or already gone): stop climbing
                return
            folder = folder.parent

    def _path(self, key: str, *, follow: bool) -> Path:
        """The file for `key`, refused when a symlink leads it out of root: reads follow the
        final symlink, writes and deletes replace it, so only its folder must stay inside."""
        path = self.root.joinpath(*check_key(key).split("/"))
        # Any case: on macOS and Windows .ASSETPUB-LOCK is the lock file itself.
        if path.parent == self.root and path.name.casefold() == LOCK_NAME:
            raise OriginError(f"{key} is reserved for the lock of the folder origin {self.url}")
        if not self._is_inside_root(path if follow else path.parent):
            raise OriginError(f"{key} leads outside {self.root} through a symlink: refusing it")
        return path

    def _is_inside_root(self, path: Path) -> bool:
        real_root = os.path.realpath(self.root)
        real = os.path.realpath(path)
        return real == real_root or real.startswith(os.path.join(real_root, ""))

    @contextlib.contextmanager
    def _open_existing(self, path: Path) -> Iterator[io.BufferedReader | None]:
        """The file opened for reading, or None when there is no object at `path`."""
        try:
            file = path.open("rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            yield None
            return
        with self._os_errors("read", path), file:
            yield file

    @contextlib.contextmanager
    def _os_errors(self, action: str, path: Path) -> Iterator[None]:
        try:
            yield
        except OSError as exc:
            raise OriginError(f"cannot {action} {path}: {exc.strerror or exc}") from exc

    def _count(self, operation: str) -> None:
        with self._stats_lock:
            self.stats.count(operation)


def _fsync_directory(folder: Path) -> None:
    """Make the rename itself durable, not just the file's bytes. Windows cannot open a folder
    as a file (its NTFS journals the rename itself): there this does nothing."""
    if os.name == "nt":
        return
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256(file: BinaryIO, size: int) -> str:
    """The file's SHA-256, read in pieces no larger than the file: a tiny file's piece is then
    a small object, where hashlib.file_digest's 256 KiB buffer, freed in a worker thread,
    stays in that thread's malloc arena (8 MB over a publish's eight workers)."""
    digest = hashlib.sha256()
    while piece := file.read(max(1, min(size, _CHUNK))):
        digest.update(piece)
    return digest.hexdigest()
