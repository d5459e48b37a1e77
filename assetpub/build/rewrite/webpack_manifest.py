"""A bundler's flat JSON manifest (webpack-manifest-plugin's `manifest.json`).

`{"static/theme.css": "static/theme.css", "main.js": "auto/main.4978….js"}`: keys are source
names a server looks up, values are the URLs it then serves. When assetpub renames a file, the
value must follow, or the server links a name that no longer exists; the key must not, or
the lookup fails. So values are references, and keys are names that need no rewrite.
"""

from __future__ import annotations

import json
import re

from assetpub.build.rewrite.text import Decoded, Reference

# A JSON string without escapes: a value with `\` is left alone (and so is its file's name).
_PAIR = re.compile(r'"([^"\\]*)"\s*:\s*"([^"\\]*)"')
# webpack's publicPath 'auto' shows up as an "auto/" prefix in the manifest's values.
_AUTO_PREFIX = "auto/"


def is_webpack_manifest(text: str) -> bool:
    """A JSON object whose every value is a string: webpack-manifest-plugin's shape, not a
    web app manifest (which has lists and objects)."""
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return isinstance(data, dict) and bool(data) and all(isinstance(v, str) for v in data.values())


def find_webpack_manifest_references(text: str) -> tuple[list[Reference], list[tuple[int, int]]]:
    """(references in the values, (start, end) of each key) of a flat manifest."""
    references: list[Reference] = []
    keys: list[tuple[int, int]] = []
    for pair in _PAIR.finditer(text):
        keys.append(pair.span(1))
        start, end = pair.span(2)
        if text.startswith(_AUTO_PREFIX, start):
            start += len(_AUTO_PREFIX)
        ref = Decoded.verbatim(text, start, end).reference(0, end - start, "manifest value")
        if ref is not None:
            references.append(ref)
    return references, keys
