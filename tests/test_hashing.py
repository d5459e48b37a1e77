import hashlib
from pathlib import Path

import pytest

from assetpub.build.hashing import digest_bytes, digest_file, hashed_name, split_suffix


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("site.css", ("site", ".css")),
        ("jquery.min.js", ("jquery.min", ".js")),
        ("app.js.map", ("app", ".js.map")),
        ("site.css.map", ("site", ".css.map")),
        ("LICENSE", ("LICENSE", "")),
        (".htaccess", (".htaccess", "")),
        ("café.png", ("café", ".png")),
    ],
)
def test_split_suffix(name: str, expected: tuple[str, str]) -> None:
    assert split_suffix(name) == expected


def test_hashed_name_inserts_twelve_hex_digits_before_the_suffix() -> None:
    sha = hashlib.sha256(b"x").hexdigest()
    assert hashed_name("css/site.css", sha) == f"css/site.{sha[:12]}.css"
    assert hashed_name("app.js.map", sha) == f"app.{sha[:12]}.js.map"
    assert hashed_name("img/caf\u00e9.png", sha) == f"img/caf\u00e9.{sha[:12]}.png"


def test_file_and_bytes_digests_agree(tmp_path: Path) -> None:
    data = b"a" * (3 * 1024 * 1024 + 7)  # spans several read chunks
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    from_file, from_bytes = digest_file(path), digest_bytes(data)
    assert from_file == from_bytes
    assert from_file.sha256 == hashlib.sha256(data).hexdigest()
    assert from_file.md5 == hashlib.md5(data).hexdigest()
    assert from_file.size == len(data)
