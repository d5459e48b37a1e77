"""Decide what each file of the build becomes. Pure: no I/O.

- entry: keeps its name, served no-cache, switched last (HTML, robots.txt, ...);
- bundler: the bundler already hashed the name; its runtime computes it, so it is kept;
- hashed: assetpub can rewrite every reference to it, so it gets a content hash in its name;
- plain: anything else keeps its name with a short cache: never rename what you cannot rewrite.
"""

from __future__ import annotations

import fnmatch
import json
import posixpath
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

SOURCE_MAP_KIND = "sourceMappingURL"
TEXT_EXTENSIONS = (".html", ".htm", ".css", ".js", ".mjs", ".cjs")
JS_EXTENSIONS = (".js", ".mjs", ".cjs")
# Bytes that can be part of a file name written in JS source (webpack writes r.p+"logo.png");
# bytes >= 0x80 keep UTF-8 encoded names whole.
_NAME_BYTES = frozenset(
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.~@+%-"
    + bytes(range(128, 256))
)
_ALNUM = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


class FileKind(StrEnum):
    ENTRY = "entry"
    BUNDLER = "bundler"
    HASHED = "hashed"
    PLAIN = "plain"


@dataclass(frozen=True)
class Link:
    """A reference found in a file, resolved to a build path (None if it leaves the build)."""

    url: str
    kind: str
    target: str | None


def is_entry(path: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(path, p) for p in patterns)


def names_in_js(data: bytes, suffixes: Iterable[str]) -> set[str]:
    """File names ending in one of `suffixes` ('.png') written anywhere in JS source.

    Searches for the suffixes (few, and bytes.find is fast) instead of tokenising the whole
    bundle, which keeps a 100 MB build's scan well under a second.
    """
    names: set[str] = set()
    for suffix in suffixes:
        needle = suffix.encode()
        start = 0
        while (found := data.find(needle, start)) != -1:
            end = found + len(needle)
            start = end
            if end < len(data) and data[end] in _ALNUM:  # ".png" inside ".pngx"
                continue
            begin = found
            while begin > 0 and data[begin - 1] in _NAME_BYTES:
                begin -= 1
            names.add(data[begin:end].decode("utf-8", "surrogateescape"))
    return names


def bundler_renamed(manifests: Mapping[str, bytes], build_paths: set[str]) -> set[str]:
    """Build paths a bundler manifest shows were renamed by the bundler (source name differs).

    A manifest that maps a name to itself (webpack-manifest-plugin lists copied files that way)
    proves nothing about hashing, so such entries are ignored.
    """
    renamed: set[str] = set()
    for raw in manifests.values():
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            continue
        if not isinstance(data, dict):
            continue
        for key, value in data.items():
            if isinstance(value, dict):  # Vite: {"src/main.js": {"file": "assets/main-x.js"}}
                value = value.get("file")
            if not isinstance(value, str):
                continue
            published = _manifest_path(value, build_paths)
            source_base = posixpath.basename(key)
            if published and posixpath.basename(published) != source_base:
                renamed.add(published)
    return renamed


def _manifest_path(value: str, build_paths: set[str]) -> str | None:
    """Map a manifest value ('/main.1a2b.js', 'auto/main.1a2b.js', 'https://cdn/x.js') to a path."""
    path = re.sub(r"^[a-z][a-z0-9+.-]*://[^/]+", "", value).split("?")[0].split("#")[0]
    path = path.lstrip("/")
    if path.startswith("auto/"):
        path = path[len("auto/") :]
    return path if path in build_paths else None


def classify(
    paths: Iterable[str],
    links: Mapping[str, Sequence[Link]],
    *,
    entry_patterns: Sequence[str],
    hashed_name_patterns: Sequence[str],
    bundler_renamed_paths: set[str],
    js_names: set[str],
) -> dict[str, FileKind]:
    all_paths = sorted(paths)
    path_set = set(all_paths)
    compiled = [re.compile(p) for p in hashed_name_patterns]
    kinds: dict[str, FileKind] = {}
    for path in all_paths:
        if is_entry(path, entry_patterns):
            kinds[path] = FileKind.ENTRY
        elif path in bundler_renamed_paths or any(
            rx.match(posixpath.basename(path)) for rx in compiled
        ):
            kinds[path] = FileKind.BUNDLER
    # A bundler-hashed file's source map keeps the bundler's name too.
    for path in all_paths:
        if kinds.get(path) == FileKind.BUNDLER:
            for link in links.get(path, ()):
                if link.kind == SOURCE_MAP_KIND and link.target in path_set:
                    kinds.setdefault(link.target, FileKind.BUNDLER)
            if path + ".map" in path_set:
                kinds.setdefault(path + ".map", FileKind.BUNDLER)

    # assetpub never rewrites bundler output, so whatever it points at must keep its name.
    pinned = {
        link.target
        for path in all_paths
        if kinds.get(path) == FileKind.BUNDLER
        for link in links.get(path, ())
        if link.target
    }
    rewritable_targets = {
        link.target
        for path in all_paths
        if kinds.get(path) != FileKind.BUNDLER
        for link in links.get(path, ())
        if link.target in path_set
    }
    for path in all_paths:
        if path in kinds:
            continue
        if (
            path in rewritable_targets
            and path not in pinned
            and posixpath.basename(path) not in js_names
        ):
            kinds[path] = FileKind.HASHED
        else:
            kinds[path] = FileKind.PLAIN
    return kinds


def hashing_order(kinds: Mapping[str, FileKind], links: Mapping[str, Sequence[Link]]) -> list[str]:
    """Hashed files in dependency order: a file comes after every hashed file it references,
    since its final bytes (and so its hash) contain their hashed names.

    Raises ValueError naming the cycle when references loop.
    """
    order: list[str] = []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    stack: list[str] = []

    def visit(path: str) -> None:
        state[path] = 1
        stack.append(path)
        for target in sorted({link.target for link in links.get(path, ()) if link.target}):
            if kinds.get(target) != FileKind.HASHED:
                continue
            if state.get(target) == 1:
                cycle = stack[stack.index(target) :] + [target]
                raise ValueError(" -> ".join(cycle))
            if target not in state:
                visit(target)
        stack.pop()
        state[path] = 2
        order.append(path)

    for path in sorted(kinds):
        if kinds[path] == FileKind.HASHED and path not in state:
            visit(path)
    return order
