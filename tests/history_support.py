"""Shared by the history tests: a small site in versions, and what a publish left live."""

from __future__ import annotations

from collections.abc import Mapping

from assetpub.build.hashing import digest_bytes, hashed_name
from assetpub.commands.publish import PublishResult
from assetpub.history.record import RecordedFile, ReleaseRecord
from assetpub.origins import Origin

# The published fixture: the origin, v1..v3's publish results, and what each left live.
Published = tuple[Origin, list[PublishResult], list[dict[str, bytes]]]


def site(version: int) -> dict[str, str | bytes]:
    """Version n of a small site: shared logo, per-version stylesheet, image and page text."""
    return {
        "index.html": f"<link rel=stylesheet href=css/site.css><img src=img/logo.png>v{version}",
        "about.html": f"<link rel=stylesheet href=css/site.css>about v{version}",
        "css/site.css": f"body{{background:url(../img/bg{version}.png)}}",
        f"img/bg{version}.png": f"bg{version}".encode(),
        "img/logo.png": b"logo",
        "chunk.js": f"// plain, named in JS: chunk v{version}",
        "main.0123456789abcdef.js": "import('./chunk.js')",
    }


def live_files(origin: Origin) -> dict[str, bytes]:
    return {
        k: origin.get(k) or b""
        for k in ("index.html", "about.html", "asset-manifest.json", "chunk.js")
    }


def ids(results: list[PublishResult]) -> list[str]:
    return [r.release.id for r in results]


def recorded_release(release_id: str, files: Mapping[str, tuple[str, bytes]]) -> ReleaseRecord:
    """A record as a publish writes it, from {path: (kind, bytes)}: each digest from the bytes,
    each key the one its kind and digest give, entry bytes in the record."""
    recorded = {}
    for path, (kind, data) in files.items():
        digests = digest_bytes(data)
        key = hashed_name(path, digests.sha256) if kind == "hashed" else path
        recorded[path] = RecordedFile.of(
            key, kind, digests.sha256, digests.size, "text/plain", "no-cache", digests.md5
        )
    return ReleaseRecord(
        id=release_id,
        created_at="2026-12-01T00:00:00.000Z",
        git_commit=None,
        message=None,
        tool_version="test",
        created_by="t@h",
        files=recorded,
        entry_content={path: data for path, (kind, data) in files.items() if kind == "entry"},
        stated_manifest=b"{}",
    )
