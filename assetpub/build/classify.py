"""Decide what each file of the build becomes. Pure: no I/O.

- entry: keeps its name, served no-cache, switched last (HTML, robots.txt, ...);
- bundler: the bundler already hashed the name; its runtime computes it, so it is kept;
- hashed: proven safe to rename (every place that names it is a reference assetpub rewrites),
  so it gets a content hash in its name;
- plain: anything else keeps its name with a short cache: never rename what you cannot rewrite.
"""

from __future__ import annotations

import fnmatch
import functools
import json
import posixpath
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from assetpub.build.evidence import Mention
from assetpub.build.frameworks import NOTHING_DETECTED, Detection

SOURCE_MAP_KIND = "sourceMappingURL"
# References that name a file without loading it: rewritten to follow a rename, but no reason
# to rename (a server looks names up in webpack's manifest.json; no page loads them from it).
NAMING_ONLY_KINDS = frozenset({"manifest value"})
REFERENCING_EXTENSIONS = (".html", ".htm", ".css", ".js", ".mjs", ".cjs")


# Names a bundler already made unique per content, so assetpub keeps them (its runtime computes
# them, e.g. webpack's lazy-chunk map): pattern -> the shape it recognises. Each demands more
# than a run of letters (a digit, a capital inside the hash, hex letters and digits together),
# so ordinary names like "polyfill-elements.js", "lib.deadbeef.js" or "report-20261201.pdf" are
# not taken for hashed: a mutable file called immutable is served stale for a year, while the
# opposite mistake costs only a shorter cache.
HASHED_NAME_SHAPES = {
    # webpack, Parcel, Docusaurus, Hugo: name.[contenthash].ext, 8 to 64 hex; below 16 hex it
    # must hold a letter too, so a date ("report.20261201.pdf") is not a hash
    r"^.+\.(?=[0-9a-f]*[0-9])(?:(?=[0-9a-f]*[a-f])[0-9a-f]{8,15}|[0-9a-f]{16,64})"
    r"\.[A-Za-z0-9]+(\.map)?$": "webpack [name].[contenthash]",
    # webpack [name]-[contenthash] (Next.js webpack chunks, Docusaurus images), 16 to 64 hex
    r"^.+-(?=[0-9a-f]*[0-9])(?=[0-9a-f]*[a-f])[0-9a-f]{16,64}\.[A-Za-z0-9]+(\.map)?$": (
        "webpack [name]-[contenthash]"
    ),
    # Vite, Rollup, esbuild, Angular: name-[hash].ext, 8 characters of base64url or base32
    # ('-' and '_' included), with a digit or a capital that does not merely start a word
    r"^.+-(?![A-Z][a-z]{7}\.)(?=[A-Za-z0-9_-]*[0-9A-Z])(?=[A-Za-z0-9_-]*[A-Za-z])"
    r"[A-Za-z0-9_-]{8}\.[A-Za-z0-9]+(\.map)?$": "Vite/Rollup/esbuild [name]-[hash]",
    # Turbopack chunks: 13 characters of [0-9a-z_-] with at least 3 digits (fewer are covered
    # by Next.js's _next/static/ folder rule)
    r"^(?=(?:[a-z_-]*[0-9]){3})(?=[0-9_-]*[a-z])[0-9a-z_-]{13}\.(js|css)(\.map)?$": (
        "Turbopack chunk"
    ),
}


class FileKind(StrEnum):
    ENTRY = "entry"
    BUNDLER = "bundler"
    HASHED = "hashed"
    PLAIN = "plain"


@dataclass(frozen=True, slots=True)
class Link:
    """A reference found in a file, resolved to a build path (None if it leaves the build)."""

    url: str
    kind: str
    target: str | None


@dataclass(frozen=True, slots=True)
class Decision:
    """What a file becomes, and the evidence for it (`publish --dry-run -v` prints it)."""

    kind: FileKind
    reason: str


@functools.lru_cache(maxsize=256)
def _shared(kind: FileKind, reason: str) -> Decision:
    """One Decision for every file decided the same way (a Decision each cost 7 MB at 100,000
    files)."""
    return Decision(kind, reason)


def is_entry(path: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(path, p) for p in patterns)


def bundler_renamed(bundler_manifests: Mapping[str, bytes], build_paths: set[str]) -> set[str]:
    """Build paths a bundler manifest shows were renamed by the bundler (source name differs).

    A manifest that maps a name to itself (webpack-manifest-plugin lists copied files that way)
    proves nothing about hashing, so such entries are ignored.
    """
    renamed: set[str] = set()
    for raw in bundler_manifests.values():
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


def decide_by_name(
    paths: Iterable[str],
    *,
    entry_patterns: Sequence[str],
    hashed_name_patterns: Sequence[str],
    bundler_renamed_paths: set[str],
    detection: Detection = NOTHING_DETECTED,
    shape_labels: Mapping[str, str] = HASHED_NAME_SHAPES,
) -> dict[str, Decision]:
    """Entry and bundler-hashed files: what names alone (and the bundler's manifest) decide.

    Framework entry patterns (Next.js route payloads) come first, so a per-release file inside
    a documented immutable folder still switches with the pages.
    """
    compiled = [
        (re.compile(p), shape_labels.get(p, f"hashed_name_patterns {p!r}"))
        for p in hashed_name_patterns
    ]
    entries = [*entry_patterns, *detection.entry_patterns]
    decisions: dict[str, Decision] = {}
    for path in sorted(paths):
        entry = next((p for p in entries if fnmatch.fnmatchcase(path, p)), None)
        if entry is not None:
            # Shared: the same few decisions for most of a large build's files.
            decisions[path] = _shared(FileKind.ENTRY, f"entry file (matches {entry!r})")
            continue
        framework = detection.immutable_folder(path)
        if framework is not None:
            folder = next(p for p in framework.immutable_prefixes if path.startswith(p))
            reason = f"{framework.name} documents {folder} as content-hashed"
            decisions[path] = _shared(FileKind.BUNDLER, reason)
            continue
        if path in bundler_renamed_paths:
            decisions[path] = _shared(FileKind.BUNDLER, "renamed by the bundler (its manifest)")
            continue
        basename = posixpath.basename(path)
        shape = next((label for rx, label in compiled if rx.match(basename)), None)
        if shape is not None:
            decisions[path] = _shared(FileKind.BUNDLER, f"bundler-hashed name ({shape})")
    return decisions


def bundler_by_name_alone(paths: Collection[str], detection: Detection) -> set[str]:
    """The paths whose names alone prove them bundler-hashed, as decide_by_name decides them
    with the default hash-name shapes and `detection`'s immutable folders (source maps beside
    them have the shape or the folder too): what a release record can prove again without the
    build, so GC deletes a bundler file only on this evidence. A bundler manifest,
    hashed_name_patterns from a config, or a map named only by a sourceMappingURL were seen by
    the publish alone."""
    decisions = decide_by_name(
        paths,
        entry_patterns=(),
        hashed_name_patterns=tuple(HASHED_NAME_SHAPES),
        bundler_renamed_paths=set(),
        detection=detection,
    )
    return {path for path, decision in decisions.items() if decision.kind == FileKind.BUNDLER}


def classify(
    paths: Collection[str],
    links: Mapping[str, Sequence[Link]],
    by_name: Mapping[str, Decision],
    mentions: Mapping[str, Mention],
) -> dict[str, Decision]:
    """Every file's decision. A file gets a content hash only when proven safe: some page or
    stylesheet loads it through a reference assetpub rewrites, no bundler output references
    it, and `mentions` (names written anywhere else in the build's text) has nothing for it.
    `paths`: a set, in a publish (each is asked for often; a copy is 4 MB at 100,000 files).
    """
    all_paths = sorted(paths)
    decisions = dict(by_name)
    # A bundler-hashed file's source map keeps the bundler's name too.
    for path in all_paths:
        if decisions.get(path, _UNDECIDED).kind != FileKind.BUNDLER:
            continue
        maps = [link.target for link in links.get(path, ()) if link.kind == SOURCE_MAP_KIND]
        for target in [*maps, path + ".map"]:
            if target is not None and target in paths and target not in decisions:
                decisions[target] = Decision(FileKind.BUNDLER, f"source map of {path}")

    pinned: dict[str, str] = {}  # assetpub never rewrites bundler output
    rewritten: dict[str, list[str]] = {}
    loaded: set[str] = set()
    for path in all_paths:
        is_bundler = decisions.get(path, _UNDECIDED).kind == FileKind.BUNDLER
        for link in links.get(path, ()):
            target = link.target
            if target is None or target not in paths:
                continue
            if is_bundler:
                pinned.setdefault(target, f"{path} {link.kind}")
            else:
                rewritten.setdefault(target, []).append(f"{path} {link.kind}")
                if link.kind not in NAMING_ONLY_KINDS:
                    loaded.add(target)
    for path in all_paths:
        if path in decisions:
            continue
        if path in pinned:
            reason = f"referenced by bundler output, which assetpub never changes: {pinned[path]}"
            decisions[path] = Decision(FileKind.PLAIN, reason)
        elif path in mentions:
            reason = f"named outside a reference assetpub rewrites: {mentions[path]}"
            decisions[path] = Decision(FileKind.PLAIN, reason)
        elif path in loaded:
            places = rewritten[path]
            shown = ", ".join(places[:3]) + (
                f" and {len(places) - 3} more" if len(places) > 3 else ""
            )
            # Shared: the images one stylesheet names all have the same reason.
            decisions[path] = _shared(FileKind.HASHED, f"every mention is rewritten: {shown}")
        else:
            reason = "no page or stylesheet loads it through a reference assetpub rewrites"
            decisions[path] = _shared(FileKind.PLAIN, reason)
    return decisions


_UNDECIDED = Decision(FileKind.PLAIN, "")


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
