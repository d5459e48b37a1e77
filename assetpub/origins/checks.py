"""Key and prefix validation shared by every origin: the one place that keeps writes inside the
origin's prefix (or folder), whatever key a caller passes."""

from __future__ import annotations

import re

_FORBIDDEN_SEGMENTS = frozenset({"", ".", ".."})
# C0 controls and DEL: refused in names and URLs alike. A newline splits log lines and HTTP
# headers, urlsplit silently drops tabs and newlines, and S3 lists some of them back mangled.
CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")


def check_key(key: str) -> str:
    """Return `key` if it is a safe relative key, else raise ValueError.

    Refused: empty keys, a leading '/', backslashes and NUL (a folder origin would read them as
    path syntax), and empty, '.' or '..' segments ('a//b', 'a/./b', '../x', 'a/').
    """
    if not isinstance(key, str) or not key:
        raise ValueError(f"invalid key {key!r}: keys are non-empty strings")
    if key.startswith("/") or "\\" in key or "\0" in key:
        raise ValueError(f"invalid key {key!r}: no leading '/', backslash or NUL allowed")
    if any(segment in _FORBIDDEN_SEGMENTS for segment in key.split("/")):
        raise ValueError(f"invalid key {key!r}: empty, '.' and '..' segments are not allowed")
    return key


def check_list_prefix(prefix: str) -> str:
    """Return `prefix` if it is a valid argument to `Origin.list`, else raise ValueError.

    A list prefix is a key prefix, not a folder: '' (everything), 'assets/' and 'assets/ma' are
    all fine; it may end with '/' but must not escape the origin.
    """
    if prefix:
        check_key(prefix.removesuffix("/"))
    return prefix


def check_write_conditions(if_absent: bool, if_match: str | None) -> None:
    """Refuse a write that is both create-only and compare-and-swap: no object satisfies both."""
    if if_absent and if_match is not None:
        raise ValueError("pass if_absent or if_match, not both")


S3_MAX_KEY_BYTES = 1024  # S3's limit on a key, in UTF-8 bytes
FOLDER_MAX_NAME_BYTES = 255  # NAME_MAX: a folder origin's limit on one path segment


def key_limit_problem(key: str, scheme: str, prefix: str) -> str | None:
    """Why the origin (`scheme`, with keys under `prefix`) would refuse `key`, or None: said
    before the first write, since a refused upload part-way through a publish leaves the
    origin with a record and objects of a release that never goes live."""
    if scheme == "s3":
        size = len((f"{prefix}/{key}" if prefix else key).encode("utf-8"))
        if size > S3_MAX_KEY_BYTES:
            return (
                f"is {size:,} bytes long with the origin's prefix; S3 keys are at most 1,024 bytes"
            )
    elif scheme == "file":
        longest = max(len(part.encode("utf-8")) for part in key.split("/"))
        if longest > FOLDER_MAX_NAME_BYTES:
            return f"has a name of {longest} bytes; a folder allows at most 255"
    return None
