"""Folder origins as Windows and POSIX spell them, tested on any OS through their path rules."""

from __future__ import annotations

import warnings
from pathlib import Path, PurePosixPath, PureWindowsPath
from urllib.parse import unquote

import pytest

from assetpub.errors import ConfigError
from assetpub.origins import OriginSpec, parse_origin_url
from assetpub.origins.folder_paths import NATIVE, PathRules

with warnings.catch_warnings():  # deprecated in Python 3.14, where url2pathname is the same
    warnings.simplefilter("ignore", DeprecationWarning)
    import nturl2path  # what urllib.request.url2pathname is on Windows

# A working directory of C:\work, so relative paths are tested without the real filesystem.
WINDOWS = PathRules(
    PureWindowsPath, nturl2path.url2pathname, lambda path: str(PureWindowsPath("C:/work", path))
)
POSIX = PathRules(PurePosixPath, unquote, lambda path: str(PurePosixPath("/work", path)))


@pytest.mark.parametrize(
    ("url", "folder"),
    [
        ("C:\\site", "C:\\site"),
        ("C:/site/", "C:\\site"),
        ("c:\\Users\\me\\site", "c:\\Users\\me\\site"),
        ("site\\www", "C:\\work\\site\\www"),
        ("\\\\server\\share\\site", "\\\\server\\share\\site"),
        ("file:///C:/site", "C:\\site"),
        ("file:///C:/site/", "C:\\site"),
        ("file://localhost/C:/my%20site", "C:\\my site"),
        ("file:///C|/site", "C:\\site"),  # the old spelling of a drive in a URL
        (PureWindowsPath("D:/my site/www").as_uri(), "D:\\my site\\www"),
    ],
)
def test_windows_folders(url: str, folder: str) -> None:
    assert parse_origin_url(url, WINDOWS) == ("file", folder, "")


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///srv/www", "absolute path"),  # no drive: not absolute on Windows
        ("file://server/share/site", "cannot name a host"),
        ("file:///a:b:c", "not a folder path"),
        ("file:///C:/site/../etc", "'..'"),
        ("C:\\", "filesystem root"),
        ("file:///C:/", "filesystem root"),
        ("\\\\server\\share", "filesystem root"),
        ("s3:\\bucket", "expected scheme://"),  # two letters: a scheme, never a drive
    ],
)
def test_windows_folders_refused(url: str, reason: str) -> None:
    with pytest.raises(ConfigError, match=reason):
        parse_origin_url(url, WINDOWS)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/srv/www/", ("file", "/srv/www", "")),
        ("site/www", ("file", "/work/site/www", "")),
        ("file:///srv/my%20site", ("file", "/srv/my site", "")),
        ("s3://bucket/site", ("s3", "bucket", "site")),
    ],
)
def test_posix_folders(url: str, expected: tuple[str, str, str]) -> None:
    assert parse_origin_url(url, POSIX) == expected


def test_a_drive_letter_is_a_scheme_on_posix() -> None:
    with pytest.raises(ConfigError, match="expected scheme://"):
        parse_origin_url("C:\\site", POSIX)


def test_a_windows_path_and_its_file_url_are_one_origin() -> None:
    path = PureWindowsPath("C:/Users/me/my site")
    assert parse_origin_url(str(path), WINDOWS) == parse_origin_url(path.as_uri(), WINDOWS)


def test_the_native_rules_are_this_systems(tmp_path: Path) -> None:
    spec = OriginSpec(str(tmp_path / "www"))
    assert spec.identity == parse_origin_url((tmp_path / "www").as_uri(), NATIVE)
