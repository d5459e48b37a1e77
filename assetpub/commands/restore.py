"""Put a recorded release's mutable names back: plain files from their blobs (a server-side
copy), then asset-manifest.json, the entry files, and index.html last — the same order as a
publish, from the release record alone: no build folder, nothing uploaded from disk.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import partial

from assetpub.commands.apply import write_upload
from assetpub.commands.parallel import run_parallel
from assetpub.commands.plan import Upload, asset_manifest_upload, switch_order
from assetpub.errors import HistoryError
from assetpub.history.record import RecordedFile, ReleaseRecord, Storage, load_record
from assetpub.history.store import StateStore
from assetpub.keys import blob_key
from assetpub.origins import list_all
from assetpub.origins.base import Origin, RemoteObject


def restore_release(
    origin: Origin, record: ReleaseRecord, listing: Mapping[str, RemoteObject], workers: int
) -> list[str]:
    """Switch `origin` to `record`'s release; returns the keys written, in the order written."""
    plain = [file for file in record.files.values() if file.storage == Storage.BLOB]
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(plain) or 1))) as pool:
        there = list(pool.map(partial(_already_there, origin, listing), plain))
    copies = [file for file, held in zip(plain, there, strict=True) if not held]

    def copy(file: RecordedFile) -> None:
        etag = origin.copy(blob_key(file.sha256), file.key, file.headers)
        if _names_other_bytes(etag, file.md5):
            # The service says the copy holds other bytes than the blob's: s3rver keeps a key's
            # old ETag when CopyObject replaces its bytes. Its listings would then tell later
            # publishes that the key still holds the old bytes, so write the bytes themselves,
            # whose ETag the service computes from them.
            data = origin.get(blob_key(file.sha256))
            if data is None:
                raise HistoryError(f"{origin.url}: {blob_key(file.sha256)} vanished during restore")
            origin.put_bytes(file.key, data, file.headers)

    run_parallel(copies, copy, workers)
    written = [file.key for file in copies]

    # Entry files keep their build path as their key, so each has a recorded file.
    recorded = {f.key: f for f in record.files.values()}
    entry_uploads = {
        key: Upload(
            key,
            recorded[key].headers,
            "restore",
            len(data),
            data=data,
            from_build=False,
        )
        for key, data in record.entry_content.items()
    }
    entries, index = switch_order(entry_uploads)
    groups = [
        [asset_manifest_upload(record)],
        [entry_uploads[k] for k in entries],
        [entry_uploads[k] for k in index],
    ]
    for group in groups:
        run_parallel(group, partial(write_upload, origin), workers)
        written += [upload.key for upload in group]
    return written


def _names_other_bytes(etag: str | None, md5: str) -> bool:
    """A reported ETag that is a plain MD5 (not multipart "…-N", not absent) and not this one."""
    return etag is not None and "-" not in etag and len(etag) == 32 and etag.lower() != md5.lower()


def _already_there(origin: Origin, listing: Mapping[str, RemoteObject], file: RecordedFile) -> bool:
    """The key holds this release's bytes by the digest assetpub stored with them, and its
    headers (another release may have put the same bytes there with other headers). A listing
    can only rule that out (missing, another size): its ETag is the endpoint's word, and some
    keep a key's old ETag when CopyObject replaces its bytes (s3rver), so a matching ETag costs
    one HEAD to confirm. When in doubt, copy: a copy of the right bytes is harmless."""
    remote = listing.get(file.key)
    if remote is None or remote.holds(file.size, file.md5) is False:
        return False
    info = origin.head(file.key)
    if info is None or info.sha256 != file.sha256:
        return False
    return not origin.keeps_headers or info.has_headers(file.headers) is True


def converge_to_live(store: StateStore, release_id: str, workers: int) -> None:
    """After switching to `release_id`: if another publish or rollback committed meanwhile,
    its files may have been overwritten by ours, so put the state's live release back.
    Whoever switches last runs this last, so the origin ends on the state's live release."""
    state, _ = store.load()
    if state.live is None or state.live == release_id:
        return
    origin = store.origin
    listing = list_all(origin)
    restore_release(origin, load_record(origin, state.live), listing, workers)
