"""Precompression (opt-in, `compress = ["gzip"]`): one encoding per object.

The object under a file's key holds its encoded bytes and says so with Content-Encoding, so
a plain S3 origin serves it to every client without edge logic (docs/compression.md). Names
never change: a hashed name is of the decoded bytes, so turning compression on or off keeps
every URL; the digests a publish compares and records are of the bytes stored.
"""

from __future__ import annotations

import gzip
import importlib
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from assetpub.errors import ConfigError

ENCODINGS = ("gzip", "br")
# Kept only when the encoded bytes are at least this much smaller: below it, the CPU a client
# spends decoding (and a CDN's recompression rules) buy next to nothing.
MIN_SAVING = 0.05
# Compressed variants are staged under assetpub's own namespace, which no build key can use.
_STAGING = "_assetpub/compressed"
_BROTLI_MODULES = ("brotli", "brotlicffi")


def is_compressible(content_type: str) -> bool:
    """Text and wasm: what compresses well and what browsers decode. Images, fonts (woff2 is
    brotli inside), video and archives are compressed already."""
    media = content_type.split(";", 1)[0].strip().lower()
    return (
        media.startswith("text/")
        or media in ("application/json", "application/xml", "application/wasm", "image/svg+xml")
        or media.endswith(("+json", "+xml"))
    )


def _brotli() -> ModuleType | None:
    for name in _BROTLI_MODULES:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def check_encodings(encodings: Sequence[str], where: str = "compress") -> tuple[str, ...]:
    """The configured encodings, checked before anything is written: known, each once, and
    brotli only where a brotli module is installed (assetpub[brotli])."""
    checked: list[str] = []
    for encoding in encodings:
        if encoding not in ENCODINGS:
            raise ConfigError(f"{where}: unknown encoding {encoding!r}; use 'gzip' or 'br'")
        if encoding in checked:
            raise ConfigError(f"{where}: {encoding!r} is listed twice")
        if encoding == "br" and _brotli() is None:
            raise ConfigError(
                f"{where}: 'br' needs the brotli package: pip install 'assetpub[brotli]', "
                'or use compress = ["gzip"]'
            )
        checked.append(encoding)
    return tuple(checked)


def encode(data: bytes, encoding: str) -> bytes:
    """The same bytes on every machine and every run: gzip without a timestamp or file name
    (mtime 0, level 9), brotli at quality 11."""
    if encoding == "gzip":
        return gzip.compress(data, compresslevel=9, mtime=0)
    if encoding == "br":
        brotli = _brotli()
        if brotli is None:  # check_encodings refused this before any write
            raise ConfigError("'br' needs the brotli package: pip install 'assetpub[brotli]'")
        encoded: bytes = brotli.compress(data, quality=11)
        return encoded
    raise ConfigError(f"unknown encoding {encoding!r}")


def decode(data: bytes, encoding: str | None) -> bytes:
    """The bytes an encoded object stands for (b"" if they do not decode, or need brotli
    where none is installed): for reading a stored page, never for publishing."""
    try:
        if encoding == "gzip":
            return gzip.decompress(data)
        if encoding == "br" and (brotli := _brotli()) is not None:
            decoded: bytes = brotli.decompress(data)
            return decoded
    except Exception:  # noqa: BLE001 (any codec's error: the page is unreadable)
        return b""
    return b"" if encoding else data


def best_encoding(data: bytes, encodings: Sequence[str]) -> tuple[str, bytes] | None:
    """The first of `encodings` that saves at least MIN_SAVING, with its bytes; None if none
    does (tiny files, or bytes that are compressed already)."""
    for encoding in encodings:
        encoded = encode(data, encoding)
        if len(encoded) <= len(data) * (1 - MIN_SAVING):
            return encoding, encoded
    return None


def staged_path(staging_dir: Path, encoding: str, key: str) -> Path:
    """Where a key's encoded copy is staged: apart from the rewritten files keyed by path."""
    return staging_dir / _STAGING / encoding / key
