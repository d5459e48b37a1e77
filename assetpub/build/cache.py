"""What an earlier publish learnt from reading each file of a build folder, so that a file
nobody touched since is not read, hashed and searched again (a re-run, every watch cycle).

A cached reading is used only on evidence that the file is the one that was read, the rule git's
index uses: the same size, modification time, change time, inode and device, all to the
nanosecond. Rewriting a file changes its change time, which no tool can set back (restoring the
modification time with `touch -d` or `os.utime` does not help it), and replacing it gives it a new
inode. A file changed within RACY_SECONDS of being read could still carry the same times (a
filesystem's clock ticks coarsely), so such a reading is never stored: the next run reads it again.

The digests of a file depend on its bytes alone. Its references and mentions also depend on the
rest of the build (which paths exist, which names may be renamed): they are kept under a
fingerprint of that, and when it differs only the digests are reused.

The cache lives outside the build folder, in ASSETPUB_CACHE_DIR or the user's cache folder
(XDG_CACHE_HOME/assetpub, ~/.cache/assetpub), one file per build folder. It is a convenience:
an unreadable, corrupt or unwritable cache means reading everything, never a failure.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from assetpub import __version__
from assetpub.build.classify import Link
from assetpub.build.evidence import Mention
from assetpub.build.hashing import Digests
from assetpub.build.rewrite import Reference
from assetpub.build.scan import FileIdentity

log = logging.getLogger(__name__)

# 2: a header line, then a line per file (its path and its entry, each JSON), kept as one
# bytes object a file and decoded when the file is looked up, where format 1 was one JSON
# object parsed whole into dicts and lists per file before any of it was used.
# Also 2: a page's references resolve from its <base href>, so format 1's links are stale.
# 3: the lines are sorted by path, the scan's order, so a run reads the cache as it goes, in
# step with the scan, instead of holding every line (50 MB at 100,000 files) before the first
# lookup.
# 4: a reading says what it depended on in the rest of the build besides the names searched
# (its context), and the header holds a fingerprint of those names apart from the whole's, so
# a rebuild that renamed only bundler-hashed chunks reuses every other reading.
CACHE_FORMAT = 4
RACY_SECONDS = 2.0


@dataclass(frozen=True, slots=True)
class FileReading:
    """What one read of a file told: its digests and, for text, references and mentions."""

    digests: Digests
    references: list[Reference] | None = None  # None: not a file whose references count
    links: list[Link] | None = None
    mentions: list[tuple[str, Mention]] = field(default_factory=list)
    # Whether the references or mentions found depend on the rest of the build (a text file
    # searched for names, a file whose references count); a binary's reading never does.
    depends_on_build: bool = False
    # What of the rest of the build besides the names searched it depended on, as prepare's
    # reader states it (bundler output or not, which references had a target): the reading
    # holds while the same names are searched and this is still so.
    context: str = ""


@dataclass(frozen=True, slots=True)
class CachedReading:
    reading: FileReading  # its digests hold; its references and mentions, see ReadCache.get
    entry: bytes  # the stored line's entry, written back as it is when the reading is used


def build_fingerprint(parts: Iterable[str]) -> str:
    """A digest of what every file's reading depends on besides its own bytes."""
    digest = hashlib.sha256(f"{CACHE_FORMAT}\0{__version__}".encode())
    for part in parts:
        digest.update(b"\0" + part.encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


def default_cache_dir() -> Path:
    explicit = os.environ.get("ASSETPUB_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "assetpub"


class ReadCache:
    """Readings of one build folder's files, looked up by path and identity."""

    def __init__(
        self, file: Path | None, fingerprint: str, now: float, names_fingerprint: str = ""
    ) -> None:
        self.file = file
        self.fingerprint = fingerprint
        self.names_fingerprint = names_fingerprint
        self.now = now
        self.hits = 0
        # The earlier run's build was this one (its paths and what names decided), or at
        # least searched the same names: see get.
        self.same_build = False
        self.same_names = False
        # The earlier run's lines, read in step with the lookups: readers on several threads
        # look up files of neighbouring batches, so lines read past while looking for one
        # file wait in _ahead for their own lookup (a few batches' worth, plus the lines of
        # files deleted since).
        self._lines: IO[bytes] | None = None
        self._ahead: dict[str, bytes] = {}
        self._last_read = ""  # lines are sorted by path: every one read so far sorts <= this
        # This run's readings go to a temporary file in the scan's order, sorted by path (the
        # caller writes them as it takes the readings in order), not kept for the save: at
        # 100,000 files kept readings cost about 15 MB.
        self._lock = threading.Lock()
        self._out: IO[bytes] | None = None
        self._failed = False

    @classmethod
    def open(
        cls,
        build_root: Path,
        fingerprint: str,
        now: float,
        cache_dir: Path | None = None,
        names_fingerprint: str = "",
    ) -> ReadCache:
        folder = cache_dir or default_cache_dir()
        name = hashlib.sha256(str(build_root).encode("utf-8", "surrogateescape")).hexdigest()
        cache = cls(folder / f"reads-{name[:24]}.json", fingerprint, now, names_fingerprint)
        cache._open_lines()
        return cache

    def _open_lines(self) -> None:
        assert self.file is not None
        try:
            lines = self.file.open("rb")
        except OSError:
            return
        try:
            header = json.loads(lines.readline() or b"{}")
            if header.get("format") != CACHE_FORMAT or header.get("tool") != __version__:
                lines.close()
                return
            self.same_build = header.get("fingerprint") == self.fingerprint
            names = header.get("names")
            self.same_names = bool(names) and names == self.names_fingerprint
        except (ValueError, AttributeError) as exc:
            log.debug("ignoring the read cache %s: %s", self.file, exc)
            lines.close()
            return
        self._lines = lines

    def _entry(self, path: str) -> bytes | None:
        """The earlier run's line for `path`, read up to it; None when it has none. Lines are
        sorted by path (scan_build's order, in which they were written), so reading stops at
        the first line past `path`."""
        with self._lock:
            raw = self._ahead.pop(path, None)  # each file is looked up once: free it as it goes
            if raw is not None or self._lines is None:
                return raw
            if path <= self._last_read:
                return None  # passed: in the cache it would have been read already
            try:
                for line in self._lines:
                    name_json, tab, entry = line.rstrip(b"\n").partition(b"\t")
                    name = json.loads(name_json)
                    if not tab or not isinstance(name, str):
                        raise ValueError("a line without its path")
                    if name <= self._last_read:
                        raise ValueError("lines out of order")
                    self._last_read = name
                    if name == path:
                        return entry
                    self._ahead[name] = entry
                    if name > path:
                        return None
            except (OSError, ValueError) as exc:
                log.debug("ignoring the rest of the read cache %s: %s", self.file, exc)
                self._ahead.clear()
            self._close_lines()
            return None

    def _close_lines(self) -> None:
        lines, self._lines = self._lines, None
        if lines is not None:
            lines.close()

    def get(self, path: str, identity: FileIdentity) -> CachedReading | None:
        """What is stored for this path if the file is provably the one read, else None. Its
        digests hold. Its references and mentions hold unless they depend on the build
        (depends_on_build) and the build has changed since (not same_build): then only if
        the same names were searched (same_names) and its context is still what it was,
        which the caller judges, else the file must be read again for them."""
        raw = self._entry(path)
        if raw is None:
            return None
        try:
            entry = json.loads(raw)
            if entry.get("id") != _identity_list(identity):
                return None
            reading = _decode(entry)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError):
            return None
        self.hits += 1
        return CachedReading(reading, raw)

    def keep(self, path: str, cached: CachedReading) -> None:
        """A reading used as it was stays for the next run, as it was stored. Called in scan
        order, like put."""
        self._write(path, cached.entry)

    def put(self, path: str, identity: FileIdentity, reading: FileReading) -> None:
        """Store a new reading (called in scan order), unless the file changed too recently
        for its times to prove a later change."""
        if identity.is_settled(self.now, RACY_SECONDS):
            self._write(path, _compact(_encode(identity, reading)))

    def _write(self, path: str, entry: bytes) -> None:
        # JSON escapes every control character, so neither part holds a tab or a newline.
        line = _compact(path) + b"\t" + entry + b"\n"
        with self._lock:
            out = self._opened()
            if out is None:
                return
            try:
                out.write(line)
            except OSError as exc:
                self._fail(exc)

    def _opened(self) -> IO[bytes] | None:
        """The temporary file this run's readings go to, opened with its header line on first
        use; None once writing it has failed (or with no cache file)."""
        if self._out is not None or self._failed or self.file is None:
            return self._out
        header = {
            "format": CACHE_FORMAT,
            "tool": __version__,
            "fingerprint": self.fingerprint,
            "names": self.names_fingerprint,
        }
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            # Open across calls: save or discard closes it.
            self._out = tempfile.NamedTemporaryFile(  # noqa: SIM115
                "wb", dir=self.file.parent, prefix=".reads-", delete=False
            )
            self._out.write(_compact(header) + b"\n")
        except OSError as exc:
            self._fail(exc)
        return self._out

    def _fail(self, exc: OSError) -> None:
        log.debug("not saving the read cache %s: %s", self.file, exc)
        self._failed = True
        self.discard()

    def save(self) -> None:
        """Replace the cache with the readings of this run (only this build's current files),
        atomically."""
        with self._lock:
            self._close_lines()
            out = self._opened()
            if out is None:
                return
            try:
                out.close()
                assert self.file is not None
                os.replace(out.name, self.file)
            except OSError as exc:
                self._fail(exc)
            self._out = None

    def discard(self) -> None:
        """Drop this run's readings (the run failed): the cache file stays as it was."""
        self._close_lines()
        out, self._out = self._out, None
        if out is not None:
            out.close()
            with contextlib.suppress(OSError):
                os.unlink(out.name)


def _compact(value: object) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _identity_list(identity: FileIdentity) -> list[int]:
    return list(identity.fields)


def _encode(identity: FileIdentity, reading: FileReading) -> dict[str, Any]:
    d = reading.digests
    entry: dict[str, Any] = {"id": _identity_list(identity), "digests": [d.sha256, d.md5, d.size]}
    if reading.references is not None:
        entry["refs"] = [[r.start, r.path_end, r.end, r.url, r.kind] for r in reading.references]
    if reading.links is not None:
        entry["links"] = [[link.url, link.kind, link.target] for link in reading.links]
    if reading.mentions:
        entry["mentions"] = [[p, m.file, m.line, m.excerpt] for p, m in reading.mentions]
    if reading.depends_on_build:
        entry["depends"] = True
    if reading.context:
        entry["context"] = reading.context
    return entry


def _decode(entry: dict[str, Any]) -> FileReading:
    sha256, md5, size = entry["digests"]
    refs = entry.get("refs")
    links = entry.get("links")
    return FileReading(
        Digests.of(str(sha256), str(md5), int(size)),
        None if refs is None else [Reference(*ref) for ref in refs],
        None if links is None else [Link(*link) for link in links],
        [(p, Mention(f, int(line), excerpt)) for p, f, line, excerpt in entry.get("mentions", [])],
        depends_on_build=bool(entry.get("depends", False)),
        context=str(entry.get("context", "")),
    )
