"""Turn a scanned build into the exact bytes and names to publish.

Hashing happens after rewriting and in dependency order, so a file's name covers the names it
references (an image's new name changes the CSS that uses it, which changes the HTML's link).
Rewritten files are staged on disk, not held in memory, so memory stays bounded by the largest
text file whatever the build size.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from assetpub import rewrite
from assetpub.classify import (
    JS_EXTENSIONS,
    SOURCE_MAP_KIND,
    TEXT_EXTENSIONS,
    FileKind,
    Link,
    bundler_renamed,
    classify,
    hashing_order,
    names_in_js,
)
from assetpub.errors import BuildError
from assetpub.hashing import Digests, digest_bytes, digest_file, hashed_name, split_suffix
from assetpub.headers import IMMUTABLE, NO_CACHE, SHORT_CACHE, HeaderRule, resolve_headers
from assetpub.scan import ScannedBuild, SourceFile

log = logging.getLogger(__name__)

_DEFAULT_CACHE = {
    FileKind.ENTRY: NO_CACHE,
    FileKind.BUNDLER: IMMUTABLE,
    FileKind.HASHED: IMMUTABLE,
    FileKind.PLAIN: SHORT_CACHE,
}
_WEBPACK_MANIFEST = "manifest.json"
_SAFE_URL_CHARS = "/-._~!$&*+,;=:@"


@dataclass(frozen=True)
class PreparedFile:
    source: str  # path in the build folder
    key: str  # published path, relative to the origin prefix
    kind: FileKind
    local_path: Path  # the bytes to upload: the original file or its rewritten copy
    digests: Digests
    content_type: str
    cache_control: str

    @property
    def is_immutable(self) -> bool:
        return self.kind in (FileKind.HASHED, FileKind.BUNDLER)


@dataclass(frozen=True)
class PreparedBuild:
    files: tuple[PreparedFile, ...]
    warnings: tuple[str, ...]
    skipped_dotfiles: tuple[str, ...]

    def by_kind(self, kind: FileKind) -> list[PreparedFile]:
        return [f for f in self.files if f.kind == kind]

    @property
    def file_map(self) -> dict[str, str]:
        return {f.source: f.key for f in self.files}


@dataclass(frozen=True)
class PrepareOptions:
    entry_patterns: Sequence[str]
    hashed_name_patterns: Sequence[str]
    header_rules: Sequence[HeaderRule] = ()
    public_url: str | None = None
    strict: bool = False
    workers: int = 4


def _read_bytes(file: SourceFile) -> bytes:
    try:
        return file.abs_path.read_bytes()
    except OSError as exc:
        raise BuildError(f"cannot read {file.path}: {exc.strerror}") from None


def _read_text(file: SourceFile) -> str:
    return _read_bytes(file).decode("utf-8", "surrogateescape")


def _is_text(path: str) -> bool:
    return path.lower().endswith(TEXT_EXTENSIONS)


def _find_links(scanned: ScannedBuild) -> tuple[dict[str, list[Link]], set[str]]:
    """References of every HTML/CSS/JS file, and the build's file names that appear in JS."""
    links: dict[str, list[Link]] = {}
    js_names: set[str] = set()
    suffixes = {posixpath.splitext(f.path)[1] for f in scanned.files} - {""}
    for file in scanned.files:
        if not _is_text(file.path):
            continue
        data = _read_bytes(file)
        is_js = file.path.lower().endswith(JS_EXTENSIONS)
        # A bundle without a sourceMappingURL comment has no reference to find: skip decoding.
        refs = []
        if not is_js or b"sourceMappingURL" in data:
            text = data.decode("utf-8", "surrogateescape")
            refs = rewrite.find_references(file.path, text)
        links[file.path] = [
            Link(ref.url, ref.kind, rewrite.resolve_reference(file.path, ref.url)) for ref in refs
        ]
        if is_js:
            for ref in refs:  # the map's own name in its comment is not a JS string literal
                if ref.kind == SOURCE_MAP_KIND:
                    cut = text[: ref.start] + text[ref.end :]
                    data = cut.encode("utf-8", "surrogateescape")
            js_names |= names_in_js(data, suffixes)
    return links, js_names


def _missing_reference_messages(links: Mapping[str, Sequence[Link]], paths: set[str]) -> list[str]:
    messages = []
    for path, file_links in sorted(links.items()):
        for link in file_links:
            if link.target is None:
                messages.append(f"{path}: {link.kind} '{link.url}' points outside the build folder")
            elif link.target not in paths:
                messages.append(
                    f"{path}: {link.kind} '{link.url}' refers to {link.target}, "
                    "which is not in the build"
                )
    return messages


def _plain_files_warning(plain: list[str]) -> str | None:
    if not plain:
        return None
    shown = ", ".join(plain[:5]) + (f" and {len(plain) - 5} more" if len(plain) > 5 else "")
    return (
        f"{len(plain)} file(s) keep their names with a short cache because assetpub cannot "
        f"rewrite every reference to them: {shown}. Give them content hashes in the bundler "
        "(webpack: [name].[contenthash] in output.filename, chunkFilename and "
        "assetModuleFilename; Vite does it by default)"
    )


def _new_reference(raw_path: str, target: str, final_key: str, public_url: str | None) -> str:
    """The reference as it should now read: only the hash is inserted, so relative,
    root-relative and percent-encoded forms stay as the author wrote them."""
    if public_url:
        return public_url + quote(final_key, safe=_SAFE_URL_CHARS)
    stem, suffix = split_suffix(posixpath.basename(target))
    new_base = posixpath.basename(final_key)
    inserted = new_base[len(stem) : len(new_base) - len(suffix)]
    if raw_path.endswith(suffix):
        return raw_path[: len(raw_path) - len(suffix)] + inserted + suffix
    folder = raw_path.rpartition("/")[0]
    return (folder + "/" if folder else "") + quote(new_base, safe=_SAFE_URL_CHARS)


class _Stager:
    """Writes rewritten files under a staging folder, keyed by their published path."""

    def __init__(self, staging_dir: Path) -> None:
        self.root = staging_dir

    def write(self, key: str, data: bytes) -> Path:
        target = self.root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return target


def prepare_build(
    scanned: ScannedBuild, options: PrepareOptions, staging_dir: Path
) -> PreparedBuild:
    by_path = {f.path: f for f in scanned.files}
    paths = set(by_path)
    links, js_names = _find_links(scanned)

    warnings: list[str] = []
    missing = _missing_reference_messages(links, paths)
    if missing and options.strict:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise BuildError(missing[0] + more)
    warnings += missing

    manifests = dict(scanned.private_manifests)
    if _WEBPACK_MANIFEST in by_path:
        manifests[_WEBPACK_MANIFEST] = by_path[_WEBPACK_MANIFEST].abs_path.read_bytes()
    kinds = classify(
        paths,
        links,
        entry_patterns=options.entry_patterns,
        hashed_name_patterns=options.hashed_name_patterns,
        bundler_renamed_paths=bundler_renamed(manifests, paths),
        js_names=js_names,
    )
    try:
        order = hashing_order(kinds, links)
    except ValueError as exc:
        raise BuildError(f"reference cycle between files to hash: {exc}") from None

    final_key: dict[str, str] = {}
    staged: dict[str, tuple[Path, Digests]] = {}
    stager = _Stager(staging_dir)

    def rewritten_bytes(path: str) -> bytes | None:
        """The file's bytes with references to hashed files renamed, or None if unchanged."""
        if kinds[path] == FileKind.BUNDLER or not any(
            link.target and kinds.get(link.target) == FileKind.HASHED
            for link in links.get(path, ())
        ):
            return None
        text = _read_text(by_path[path])
        replacements = []
        for ref in rewrite.find_references(path, text):
            target = rewrite.resolve_reference(path, ref.url)
            if target is not None and kinds.get(target) == FileKind.HASHED:
                raw = text[ref.start : ref.path_end]
                replacements.append(
                    (ref, _new_reference(raw, target, final_key[target], options.public_url))
                )
        return rewrite.replace_references(text, replacements).encode("utf-8", "surrogateescape")

    with ThreadPoolExecutor(max_workers=max(1, options.workers)) as pool:
        computed = pool.map(_digest, (by_path[p] for p in sorted(paths)))
        original = dict(zip(sorted(paths), computed, strict=True))

    for path in order:  # hashed files, dependencies first
        data = rewritten_bytes(path)
        if data is None:
            final_key[path] = hashed_name(path, original[path].sha256)
        else:
            digests = digest_bytes(data)
            final_key[path] = hashed_name(path, digests.sha256)
            staged[path] = (stager.write(final_key[path], data), digests)
    for path in sorted(paths - set(order)):
        final_key[path] = path
        data = rewritten_bytes(path)
        if data is not None:
            staged[path] = (stager.write(path, data), digest_bytes(data))

    files = []
    for path in sorted(paths):
        local_path, digests = staged.get(path, (by_path[path].abs_path, original[path]))
        key = final_key[path]
        content_type, cache_control = resolve_headers(
            key, _DEFAULT_CACHE[kinds[path]], options.header_rules
        )
        files.append(
            PreparedFile(path, key, kinds[path], local_path, digests, content_type, cache_control)
        )
    if scanned.replaced_manifest:
        warnings.append(
            "the build's own asset-manifest.json is not published: assetpub writes its own there"
        )
    plain_warning = _plain_files_warning(sorted(p for p, k in kinds.items() if k == FileKind.PLAIN))
    if plain_warning:
        warnings.append(plain_warning)
    return PreparedBuild(tuple(files), tuple(warnings), scanned.skipped_dotfiles)


def _digest(file: SourceFile) -> Digests:
    try:
        return digest_file(file.abs_path)
    except OSError as exc:
        raise BuildError(f"cannot read {file.path}: {exc.strerror}") from None
