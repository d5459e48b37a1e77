"""The one model of what a release owns on an origin, as table tests of its pure answers
(what each file is stored as, the keys it needs, what a listing lacks) and of the one
predicate for "this listed object already holds these bytes"."""

import pytest

from assetpub.history.record import MissingObject, RecordedFile, ReleaseRecord, Storage
from assetpub.keys import blob_key
from assetpub.origins.base import RemoteObject

SHA = {name: name[0] * 64 for name in ("aaa", "bbb", "ccc", "ddd")}


def recorded(key: str, kind: str, sha: str, size: int = 10, md5: str = "") -> RecordedFile:
    return RecordedFile(key, kind, sha, size, "text/plain", "no-cache", md5)


RELEASE = ReleaseRecord(
    id="20261201T000000000Z-00000000",
    created_at="2026-12-01T00:00:00.000Z",
    git_commit=None,
    message=None,
    tool_version="test",
    created_by="t@h",
    files={
        "index.html": recorded("index.html", "entry", SHA["aaa"]),
        "css/site.css": recorded("css/site.0123456789ab.css", "hashed", SHA["bbb"]),
        "main.4978e1e1.js": recorded("main.4978e1e1.js", "bundler", SHA["ccc"]),
        "img/logo.png": recorded("img/logo.png", "plain", SHA["ddd"], size=7),
    },
    entry_content={"index.html": b"<p>"},
    asset_manifest=b"{}",
)


@pytest.mark.parametrize(
    ("path", "storage", "owned"),
    [
        ("index.html", Storage.RECORD, None),
        ("css/site.css", Storage.KEY, "css/site.0123456789ab.css"),
        ("main.4978e1e1.js", Storage.KEY, "main.4978e1e1.js"),
        ("img/logo.png", Storage.BLOB, blob_key(SHA["ddd"])),
    ],
)
def test_what_each_file_is_stored_as(path: str, storage: Storage, owned: str | None) -> None:
    file = RELEASE.files[path]
    assert file.storage == storage
    assert file.owned_key == owned
    assert file.headers.sha256 == file.sha256


def test_owned_keys_never_include_a_mutable_name() -> None:
    assert RELEASE.owned_keys() == {
        "css/site.0123456789ab.css",
        "main.4978e1e1.js",
        blob_key(SHA["ddd"]),
    }


@pytest.mark.parametrize(
    ("listing", "missing"),
    [
        pytest.param(
            {
                "css/site.0123456789ab.css": RemoteObject("css/site.0123456789ab.css", 10),
                "main.4978e1e1.js": RemoteObject("main.4978e1e1.js", 10),
                blob_key(SHA["ddd"]): RemoteObject(blob_key(SHA["ddd"]), 7),
            },
            [],
            id="whole",
        ),
        pytest.param(
            {"main.4978e1e1.js": RemoteObject("main.4978e1e1.js", 9)},
            [
                MissingObject("css/site.0123456789ab.css", "missing (needed for css/site.css)"),
                MissingObject(blob_key(SHA["ddd"]), "missing (needed for img/logo.png)"),
                MissingObject("main.4978e1e1.js", "has 9 bytes, expected 10"),
            ],
            id="missing-and-truncated",
        ),
        pytest.param(
            # The plain file's mutable key being there is no substitute for its blob.
            {
                "img/logo.png": RemoteObject("img/logo.png", 7),
                "css/site.0123456789ab.css": RemoteObject("css/site.0123456789ab.css", 10),
                "main.4978e1e1.js": RemoteObject("main.4978e1e1.js", 10),
            },
            [MissingObject(blob_key(SHA["ddd"]), "missing (needed for img/logo.png)")],
            id="blob-missing",
        ),
    ],
)
def test_missing_from_a_listing(
    listing: dict[str, RemoteObject], missing: list[MissingObject]
) -> None:
    assert sorted(RELEASE.missing_from(listing), key=lambda m: m.key) == sorted(
        missing, key=lambda m: m.key
    )


MD5 = "0cc175b9c0f1b6a831c399e269772661"


@pytest.mark.parametrize(
    ("remote", "size", "md5", "holds"),
    [
        (RemoteObject("k", 1, MD5), 1, MD5, True),
        (RemoteObject("k", 1, MD5.upper()), 1, MD5, True),  # ETag case does not matter
        (RemoteObject("k", 2, MD5), 1, MD5, False),  # another size settles it
        (RemoteObject("k", 1, "f" * 32), 1, MD5, None),  # another ETag may be multipart/KMS
        (RemoteObject("k", 1, MD5 + "-2"), 1, MD5, None),  # multipart
        (RemoteObject("k", 1, None), 1, MD5, None),  # a folder origin has no ETag
        (RemoteObject("k", 1, MD5), 1, "", None),  # an old record without an MD5
    ],
)
def test_holds(remote: RemoteObject, size: int, md5: str, holds: bool | None) -> None:
    assert remote.holds(size, md5) is holds
