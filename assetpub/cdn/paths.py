"""Which URL paths a switch made stale on a CDN (pure).

Only mutable names can be stale in a cache: an entry file, a plain file or asset-manifest.json
whose bytes differ from the release that was live before. Hashed and bundler-hashed names
hold one content forever and need no invalidation. A name the release before did not have is
invalidated too: the CDN may have cached the error the origin answered for it. A name the new
release no longer has needs none: the origin keeps serving the old bytes under it (no switch
deletes a mutable name), which is what the CDN has cached.
"""

from __future__ import annotations

from urllib.parse import quote

from assetpub.history.record import ReleaseRecord, Storage
from assetpub.keys import ASSET_MANIFEST_KEY

# CloudFront: up to 3,000 file paths per distribution in progress at once (one request may
# carry them all); past that, one wildcard path instead.
MAX_PATHS = 3000
EVERYTHING = "/*"
INDEX = "index.html"
# Left as they are; everything else (non-ASCII, RFC 1738's unsafe characters, '%', '?', '#',
# '*', which CloudFront would read as a wildcard) is percent-encoded, as CloudFront asks.
_SAFE = "/-_.!'()$+,;:@=&"


def _mutable(record: ReleaseRecord) -> dict[str, tuple[str, bytes | str]]:
    """Each mutable key of `record` with what identifies its bytes: the bytes themselves
    (entry files, asset-manifest.json, kept in the record) or the SHA-256 (plain files)."""
    found: dict[str, tuple[str, bytes | str]] = {
        f.key: ("sha256", f.sha256) for f in record.files.values() if f.storage == Storage.BLOB
    }
    found.update({key: ("bytes", data) for key, data in record.entry_content.items()})
    found[ASSET_MANIFEST_KEY] = ("bytes", record.asset_manifest)
    return found


def changed_keys(before: ReleaseRecord | None, after: ReleaseRecord) -> list[str]:
    """The mutable keys whose bytes `after` changed against `before` (None: nothing was
    live), sorted."""
    old = _mutable(before) if before is not None else {}
    return sorted(key for key, held in _mutable(after).items() if old.get(key) != held)


def url_path(key: str) -> str:
    """The URL path a visitor requests for `key` (relative to the origin prefix, which the
    distribution's origin path maps to /), encoded as CloudFront wants it."""
    return "/" + quote(key, safe=_SAFE).replace("~", "%7E")


def key_paths(key: str, pretty_urls: bool) -> list[str]:
    """`key`'s path, and with pretty URLs a page `dir/index.html` also as `dir/` (the root
    page as `/`): a CDN caches each URL a visitor used apart."""
    paths = [url_path(key)]
    if pretty_urls and (key == INDEX or key.endswith("/" + INDEX)):
        paths.append(url_path(key[: -len(INDEX)]))
    return paths


def invalidation_paths(
    keys: list[str], *, pretty_urls: bool = True, limit: int = MAX_PATHS
) -> tuple[str, ...]:
    """The paths to invalidate for `keys`, sorted and each once; one `/*` when there are
    more than `limit`, and none for no keys."""
    paths = sorted({path for key in keys for path in key_paths(key, pretty_urls)})
    if len(paths) > limit:
        return (EVERYTHING,)
    return tuple(paths)
