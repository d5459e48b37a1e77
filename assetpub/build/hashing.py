"""Content digests and the hashed-name format.

The name carries the first 12 hex digits of the SHA-256 of the file's final bytes (after its own
references were rewritten), so the same bytes get the same name on every machine.
"""

from __future__ import annotations

import hashlib
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from assetpub.keys import is_lower_hex

HASH_LENGTH = 12
_CHUNK = 1024 * 1024
# Suffixes kept together after the hash: "app.js.map" -> "app.<hash>.js.map".
_COMPOUND_SUFFIXES = (".js.map", ".css.map", ".mjs.map")


@dataclass(frozen=True, slots=True)
class Digests:
    """A file's SHA-256 and MD5, kept as their 48 bytes (one object: as two hex strs they cost
    194 bytes a file, 19 MB at 100,000 files), shown as hex."""

    packed: bytes  # the SHA-256's 32 bytes, then the MD5's 16
    size: int

    @classmethod
    def of(cls, sha256: str, md5: str, size: int) -> Digests:
        """From hex digests; ValueError unless they are a SHA-256 and an MD5 in lowercase hex
        (what .sha256 and .md5 give back)."""
        if not (is_lower_hex(sha256, 64) and is_lower_hex(md5, 32)):
            raise ValueError(f"not a SHA-256 and an MD5: {sha256!r}, {md5!r}")
        return cls(bytes.fromhex(sha256 + md5), size)

    @property
    def sha256(self) -> str:
        return self.packed[:32].hex()

    @property
    def md5(self) -> str:
        """Only to compare with an S3 ETag from a listing (a single-part ETag is the MD5),
        which saves a HEAD per object; never the content's identity."""
        return self.packed[32:].hex()


class Digester:
    """The Digests of bytes written to it a part at a time, without keeping them (a sink for
    anything that writes to a file object)."""

    def __init__(self) -> None:
        self._sha256, self._md5, self._size = hashlib.sha256(), hashlib.md5(), 0

    def write(self, data: bytes) -> None:
        self._sha256.update(data)
        self._md5.update(data)
        self._size += len(data)

    @property
    def digests(self) -> Digests:
        return Digests(self._sha256.digest() + self._md5.digest(), self._size)


def digest_bytes(data: bytes) -> Digests:
    return Digests(hashlib.sha256(data).digest() + hashlib.md5(data).digest(), len(data))


def digest_parts(parts: Iterable[bytes]) -> Digests:
    digester = Digester()
    for part in parts:
        digester.write(part)
    return digester.digests


def digest_file(path: Path) -> Digests:
    with path.open("rb") as f:
        return digest_parts(iter(partial(f.read, _CHUNK), b""))


def split_suffix(basename: str) -> tuple[str, str]:
    """Split a file name into stem and the suffix the hash goes in front of."""
    lower = basename.lower()
    for compound in _COMPOUND_SUFFIXES:
        if lower.endswith(compound) and len(basename) > len(compound):
            return basename[: -len(compound)], basename[-len(compound) :]
    stem, dot, ext = basename.rpartition(".")
    if not dot or not stem:  # "LICENSE", ".htaccess"
        return basename, ""
    return stem, dot + ext


def hashed_name(path: str, sha256: str) -> str:
    """'css/site.css' + digest -> 'css/site.3f2a1b9c0d4e.css'."""
    folder, basename = posixpath.split(path)
    stem, suffix = split_suffix(basename)
    return posixpath.join(folder, f"{stem}.{sha256[:HASH_LENGTH]}{suffix}")
