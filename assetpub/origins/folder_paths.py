"""How a folder origin is spelled: a path of this OS, or a file:// URL.

`/srv/www` and `file:///srv/www` on Linux and macOS; `C:\\site`, `C:/site` and `file:///C:/site`
on Windows. The standard library does the OS's part (pathlib's path types, url2pathname, and
Path.as_uri for the other way); which OS's rules apply is a parameter, so the Windows spellings
are tested on any system.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePath
from urllib.request import url2pathname

from assetpub.errors import ConfigError


@dataclass(frozen=True)
class PathRules:
    """One OS's rules: its path type, how a file URL's path becomes one of its paths, and how
    a path given on the command line becomes absolute (against the working directory)."""

    path_type: type[PurePath]
    url_to_path: Callable[[str], str]
    absolute: Callable[[str], str]


def _resolve(path: str) -> str:
    return str(Path(path).expanduser().resolve())


# PurePath is PurePosixPath or PureWindowsPath, whichever this OS uses; so is url2pathname.
NATIVE = PathRules(PurePath, url2pathname, _resolve)


def is_folder_path(url: str, rules: PathRules = NATIVE) -> bool:
    """Whether `url`, which starts like a URL scheme, is a path with a drive letter (C:\\site,
    C:/site) under `rules`: one letter before the colon is a drive, never a scheme assetpub
    knows."""
    return bool(rules.path_type(url).drive) and url[1:2] == ":"


def folder_from_path(text: str, url: str, rules: PathRules = NATIVE) -> str:
    """The absolute folder a path names (relative to the working directory), or ConfigError."""
    return _check_folder(rules.path_type(rules.absolute(text)), url)


def folder_from_file_url(host: str, url_path: str, url: str, rules: PathRules = NATIVE) -> str:
    """The folder a file:// URL names, from its host and (still %-encoded) path."""
    if host not in ("", "localhost"):
        raise ConfigError(f"bad origin URL {url!r}: file:// URLs cannot name a host")
    try:
        path = rules.path_type(rules.url_to_path(url_path))
    except OSError:  # Windows' url2pathname: a colon after something other than a drive letter
        raise ConfigError(f"bad origin URL {url!r}: not a folder path") from None
    if not path.is_absolute():
        raise ConfigError(f"bad origin URL {url!r}: use an absolute path (file:///abs/path)")
    return _check_folder(path, url)


def _check_folder(path: PurePath, url: str) -> str:
    # pathlib has already dropped '//' inside, '/./' and a trailing separator; '..' it keeps.
    if ".." in path.parts:
        raise ConfigError(f"bad origin URL {url!r}: '..' is not allowed in the folder path")
    if path.parent == path:
        raise ConfigError(f"refusing to publish to the filesystem root ({url!r})")
    return str(path)
