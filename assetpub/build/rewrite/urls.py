"""URLs: splitting off query and fragment, telling local ones apart, resolving them."""

from __future__ import annotations

import posixpath
import re
from urllib.parse import unquote

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_QUERY_OR_FRAGMENT = re.compile(r"[?#]")
_C0_CONTROL_OR_SPACE = "".join(map(chr, range(0x21)))
_TAB_OR_NEWLINE = str.maketrans("", "", "\t\n\r")
_DOT_SEGMENTS = {".", "%2e"}
_DOUBLE_DOT_SEGMENTS = {"..", ".%2e", "%2e.", "%2e%2e"}


def _clean_url(url: str) -> str:
    # What the URL standard does before parsing; browsers fetch " a.png" as "a.png".
    return url.strip(_C0_CONTROL_OR_SPACE).translate(_TAB_OR_NEWLINE)


def split_url(url: str) -> tuple[str, str]:
    """Split `url` into its path and the rest ('?query#fragment', as given, possibly '')."""
    match = _QUERY_OR_FRAGMENT.search(url)
    if match is None:
        return url, ""
    return url[: match.start()], url[match.start() :]


def is_local_url(url: str) -> bool:
    """True when `url` names a file of the same site by a relative or root-relative path."""
    url = _clean_url(url)
    if _SCHEME.match(url):  # http:, data:, mailto:, javascript:, ... and any other scheme
        return False
    # Browsers read a backslash as a slash in http(s) URLs, so "\\host" is protocol-relative.
    if url[:2].replace("\\", "/") == "//":
        return False
    path, _ = split_url(url)
    return path != ""  # '', '#top' and '?page=2' all point back at the document itself


def resolve_reference(referrer: str, url: str) -> str | None:
    """The build-relative path of the file `url` names, as seen from the file `referrer`.

    `referrer` is a build-relative, '/'-separated path such as "css/site.css". The result is
    percent-decoded and normalised. None when `url` is not local, names a folder, or climbs
    out of the build root ("../../etc/passwd").
    """
    if not is_local_url(url):
        return None
    path, _ = split_url(_clean_url(url))
    raw_segments = path.replace("\\", "/").split("/")
    if raw_segments[-1].lower() in {"", *_DOT_SEGMENTS, *_DOUBLE_DOT_SEGMENTS}:
        return None  # "img/", "." and ".." name folders, never a file we publish
    segments = [] if path.startswith(("/", "\\")) else _folder_segments(referrer)
    for raw in raw_segments:
        lowered = raw.lower()
        if raw == "" or lowered in _DOT_SEGMENTS:
            continue
        if lowered in _DOUBLE_DOT_SEGMENTS:
            if not segments:
                return None
            segments.pop()
            continue
        # surrogateescape mirrors how the build walk decodes file names that are not UTF-8.
        name = unquote(raw, errors="surrogateescape")
        if "/" in name:  # an encoded "%2F" cannot name one file of a folder tree
            return None
        segments.append(name)
    return "/".join(segments)


def _folder_segments(referrer: str) -> list[str]:
    folder = posixpath.dirname(referrer.strip("/"))
    return [segment for segment in folder.split("/") if segment not in {"", "."}]
