"""Find and replace asset references in HTML, CSS and sourceMappingURL comments.

Pure functions over `str`, no I/O. Every offset points into the text exactly as given, so a
rewrite changes the bytes of the references it replaces and nothing else: no document is ever
re-serialised.

The finders return *local* references only (see `is_local_url`): a `https:` or `data:` URL is
never something assetpub can rename.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence

from assetpub.build.rewrite.css import find_css_references
from assetpub.build.rewrite.html import find_base_href, find_html_references
from assetpub.build.rewrite.sourcemap import find_sourcemap_reference
from assetpub.build.rewrite.text import Reference
from assetpub.build.rewrite.urls import is_local_url, resolve_reference, split_url
from assetpub.build.rewrite.webpack_manifest import (
    find_webpack_manifest_references,
    is_webpack_manifest,
)

__all__ = [
    "Reference",
    "find_base_href",
    "find_css_references",
    "find_html_references",
    "find_webpack_manifest_references",
    "find_references",
    "find_sourcemap_reference",
    "is_webpack_manifest",
    "is_local_url",
    "replace_references",
    "resolve_reference",
    "resolving_from",
    "split_url",
]


# --------------------------------------------------------------------------------------------
# Entry points


_HTML_SUFFIXES = {".html", ".htm"}
_JS_SUFFIXES = {".js", ".mjs", ".cjs"}


def find_references(name: str, text: str) -> list[Reference]:
    """Local references in the file `name` (chosen by extension), sorted by start."""
    suffix = posixpath.splitext(name)[1].lower()
    if suffix in _HTML_SUFFIXES:
        return find_html_references(text)
    if suffix == ".css":
        return find_css_references(text)
    if suffix in _JS_SUFFIXES:
        ref = find_sourcemap_reference(text)
        return [] if ref is None else [ref]
    return []


_BASE_PLACEHOLDER = "_"


def resolving_from(name: str, text: str) -> str:
    """The referrer relative references in the file `name` resolve from: `name` itself, or for
    a page with a <base href>, a file in the folder that base names (browsers resolve every
    relative URL of the page from it: Angular writes <base href="/"> into every page).

    ValueError when the base is not a folder of this build (another host, or above the root):
    then no relative reference in the page can be tied to a file, so none can be rewritten.
    """
    if posixpath.splitext(name)[1].lower() not in _HTML_SUFFIXES:
        return name
    base = find_base_href(text)
    if not base:  # no <base>, or an empty href: the document's own URL
        return name
    path, _ = split_url(base)
    folder = path.rpartition("/")[0] + "/" if "/" in path else ""
    resolved = resolve_reference(name, folder + _BASE_PLACEHOLDER) if is_local_url(base) else None
    if resolved is None:
        raise ValueError(
            f"<base href={base!r}> does not name a folder of this build, so its relative "
            "references cannot be tied to files; remove the <base> element or make it local"
        )
    return resolved


def replace_references(text: str, replacements: Sequence[tuple[Reference, str]]) -> str:
    """Put each new path in place of its reference's path; query and fragment stay as written.

    The new path is inserted as given: it must already suit the reference's context
    (hashed names made of letters, digits, '-', '_', '.' and '/' always do).
    """
    pieces: list[str] = []
    pos = previous_end = 0
    for ref, new_path in sorted(replacements, key=lambda pair: pair[0].start):
        if not 0 <= ref.start <= ref.path_end <= ref.end <= len(text):
            raise ValueError(f"reference {ref.url!r} at {ref.start}-{ref.end} is outside the text")
        if ref.start < previous_end:
            raise ValueError(f"reference {ref.url!r} at {ref.start} overlaps the one before it")
        pieces += [text[pos : ref.start], new_path]
        pos, previous_end = ref.path_end, ref.end
    pieces.append(text[pos:])
    return "".join(pieces)
