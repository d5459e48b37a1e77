"""Every key assetpub owns on an origin, relative to the origin's prefix: one place to look,
and one place that keeps the reserved namespace reserved.

- `asset-manifest.json`: the live release's file map, switched with the pages;
- `_assetpub/`: assetpub's own records, never part of a build (a build that has it is refused):
  the state, the lock object of services without conditional writes, one record per release,
  and content-addressed blobs of plain files for rollback.
"""

from __future__ import annotations

import re

ASSET_MANIFEST_KEY = "asset-manifest.json"
RECORDS_PREFIX = "_assetpub/"
RESERVED_PREFIX = RECORDS_PREFIX
STATE_KEY = "_assetpub/state.json"
LOCK_KEY = "_assetpub/lock.json"
RELEASES_PREFIX = "_assetpub/releases/"
BLOBS_PREFIX = "_assetpub/blobs/"
# Written and deleted again by the one-time probe for conditional writes (S3 origins).
PROBE_PREFIX = "_assetpub/probe-"


def release_record_key(release_id: str) -> str:
    return f"{RELEASES_PREFIX}{release_id}.json"


def blob_key(sha256: str) -> str:
    return f"{BLOBS_PREFIX}{sha256}"


_LOWER_HEX = re.compile(r"[0-9a-f]*")


def is_lower_hex(text: str, length: int) -> bool:
    """`length` lowercase hex digits: a digest as assetpub writes it."""
    return len(text) == length and _LOWER_HEX.fullmatch(text) is not None


def is_sha256_hex(text: str) -> bool:
    """A SHA-256 digest as assetpub writes it: 64 lowercase hex digits."""
    return is_lower_hex(text, 64)


def is_blob_key(key: str) -> bool:
    return key.startswith(BLOBS_PREFIX) and is_sha256_hex(key[len(BLOBS_PREFIX) :])


def is_reserved(key: str) -> bool:
    """A key in assetpub's own namespace or its asset manifest, which no build file has.
    Compared without case: on a case-insensitive folder origin `_Assetpub/state.json` is the
    state file."""
    lower = key.lower()
    return lower.startswith(RESERVED_PREFIX) or lower == ASSET_MANIFEST_KEY
