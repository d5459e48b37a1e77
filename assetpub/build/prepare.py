"""Turn a scanned build into the exact bytes and names to publish.

Hashing happens after rewriting and in dependency order, so a file's name covers the names it
references (an image's new name changes the CSS that uses it, which changes the HTML's link).
Rewritten files are staged on disk, not held in memory, so memory stays bounded by the largest
text file whatever the build size.
"""

from __future__ import annotations

import hashlib
import logging
import os
import posixpath
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

from assetpub.build import compress, evidence, rewrite
from assetpub.build.cache import CachedReading, FileReading, ReadCache, build_fingerprint
from assetpub.build.classify import (
    REFERENCING_EXTENSIONS,
    Decision,
    FileKind,
    Link,
    bundler_renamed,
    classify,
    decide_by_name,
    hashing_order,
)
from assetpub.build.evidence import Mention, NameIndex, Span
from assetpub.build.frameworks import detect, generator_of
from assetpub.build.hashing import Digests, digest_bytes, digest_file, hashed_name, split_suffix
from assetpub.build.headers import (
    IMMUTABLE,
    NO_CACHE,
    SHORT_CACHE,
    HeaderRule,
    content_encoding_for,
    resolve_headers,
)
from assetpub.build.scan import ScannedBuild, SourceFile
from assetpub.clock import SYSTEM_CLOCK, Clock
from assetpub.errors import BuildError, and_more
from assetpub.origins.base import ObjectHeaders

log = logging.getLogger(__name__)
_T = TypeVar("_T")
_R = TypeVar("_R")

_DEFAULT_CACHE = {
    FileKind.ENTRY: NO_CACHE,
    FileKind.BUNDLER: IMMUTABLE,
    FileKind.HASHED: IMMUTABLE,
    FileKind.PLAIN: SHORT_CACHE,
}
_WEBPACK_MANIFEST = "manifest.json"
_JS_EXTENSIONS = (".js", ".mjs", ".cjs")
_SOURCE_MAP_MARK = b"sourceMappingURL"
_SAFE_URL_CHARS = "/-._~!$&*+,;=:@"
_ABSOLUTE_UNDER_PUBLIC_URL = (".html", ".htm", ".css")
# A task for the reading pool: enough bytes that the hand-off costs nothing beside the hashing.
_BATCH_BYTES = 4 * 1024 * 1024
_BATCH_FILES = 256
# Above this size a file of unknown type is sniffed before it is read whole.
_STREAM_ABOVE = 16 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class PreparedFile:
    source: str  # path in the build folder
    key: str  # published path, relative to the origin prefix
    kind: FileKind
    # The bytes to upload, the original file or its rewritten copy, at local_root/stored:
    # an original file's is its build path under the build root, so that no file carries a
    # location str of its own (about 80 bytes a file; a Path costs 400 more).
    stored: str
    digests: Digests
    content_type: str
    cache_control: str
    local_root: str = ""  # "": `stored` is the whole location
    # Set when the bytes at `local` are encoded: by assetpub's precompression (then `decoded`
    # holds the digests of the build's bytes, which the hashed name is of), or by the build
    # itself (app.js.gz, decoded None).
    content_encoding: str | None = None
    decoded: Digests | None = None

    @property
    def local(self) -> str:
        return os.path.join(self.local_root, self.stored)

    @property
    def local_path(self) -> Path:
        return Path(self.local)

    @property
    def content_sha256(self) -> str:
        """The digest of the content, decoded: what the hashed name is of."""
        return (self.decoded or self.digests).sha256

    @property
    def headers(self) -> ObjectHeaders:
        return ObjectHeaders(
            self.content_type,
            self.cache_control,
            self.digests.sha256,
            self.content_encoding,
            self.decoded.sha256 if self.decoded else None,
        )

    @property
    def is_immutable(self) -> bool:
        return self.kind in (FileKind.HASHED, FileKind.BUNDLER)


@dataclass(frozen=True)
class PreparedBuild:
    files: tuple[PreparedFile, ...]
    warnings: tuple[str, ...]
    skipped_dotfiles: tuple[str, ...]
    decisions: Mapping[str, Decision] = field(default_factory=dict)  # by build path
    detected: tuple[str, ...] = ()  # frameworks recognised, for the "detected:" line

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
    # Reuse what an earlier run learnt from files it proves unchanged (build/cache.py).
    read_cache: bool = False
    cache_dir: Path | None = None  # default: build.cache.default_cache_dir()
    clock: Clock = SYSTEM_CLOCK  # the cache's "now", against which a file counts as settled
    compress: Sequence[str] = ()  # encodings to try, in order (build/compress.py)


def _read_bytes(file: SourceFile) -> bytes:
    try:
        return file.abs_path.read_bytes()
    except OSError as exc:
        raise BuildError(f"cannot read {file.path}: {exc.strerror}") from None


@dataclass(frozen=True)
class BuildText:
    """What one read of every file told: its digests, each text file's references, and the
    names of files written elsewhere."""

    digests: dict[str, Digests]  # of the bytes as found in the build
    links: dict[str, list[Link]]
    # The references behind `links`, with their offsets, kept so that a rewrite needs no
    # second parse (only files that have any).
    references: dict[str, list[rewrite.Reference]]
    mentions: dict[str, Mention]  # first place that names a file outside a rewritten reference


def _is_binary_without_reading(file: SourceFile) -> bool:
    """A file known to be binary by its extension, or a large one whose first bytes show it is:
    its digests are streamed, so a 1 GB video never sits in memory."""
    if posixpath.splitext(file.path)[1].lower() in evidence.BINARY_EXTENSIONS:
        return True
    if file.size <= _STREAM_ABOVE or _is_referencing(file.path):
        return False
    try:
        with file.abs_path.open("rb") as handle:
            head = handle.read(evidence.SNIFF_BYTES)
    except OSError as exc:
        raise BuildError(f"cannot read {file.path}: {exc.strerror}") from None
    return not evidence.is_searchable(file.path, head)


def _is_referencing(path: str) -> bool:
    """Files whose references assetpub finds (and rewrites, unless bundler output)."""
    return path.lower().endswith(REFERENCING_EXTENSIONS) or path == _WEBPACK_MANIFEST


def _references(
    path: str, text: str, paths: Collection[str]
) -> tuple[list[rewrite.Reference], list[Span]]:
    """The references in a file, and the spans that name files without being URLs to
    rewrite (the keys of webpack's manifest.json)."""
    if path == _WEBPACK_MANIFEST:
        if not rewrite.is_webpack_manifest(text):  # a web app manifest, which is an entry
            return [], []
        refs, keys = rewrite.find_webpack_manifest_references(text)
        # A value under a publicPath ("/static/main.js" for main.js) names no build path:
        # it is no reference, so its file's name stays a mention and the file keeps it.
        refs = [r for r in refs if rewrite.resolve_reference(path, r.url) in paths]
        return refs, [Span(start, end) for start, end in keys]
    return rewrite.find_references(path, text), []


def _resolving_from(path: str, text: str) -> str:
    try:
        return rewrite.resolving_from(path, text)
    except ValueError as exc:
        raise BuildError(f"{path}: {exc}") from None


def _batches(files: Sequence[SourceFile]) -> list[list[SourceFile]]:
    """Files grouped so each task for the thread pool carries about _BATCH_BYTES: a small file
    is not worth a thread hand-off, a large one is a batch of its own."""
    batches: list[list[SourceFile]] = []
    batch: list[SourceFile] = []
    size = 0
    for file in files:
        batch.append(file)
        size += file.size
        if size >= _BATCH_BYTES or len(batch) >= _BATCH_FILES:
            batches.append(batch)
            batch, size = [], 0
    if batch:
        batches.append(batch)
    return batches


def _read_build(
    scanned: ScannedBuild,
    paths: AbstractSet[str],
    by_name: Mapping[str, Decision],
    workers: int,
    cache: ReadCache | None = None,
) -> BuildText:
    """One read of every file: its digests and, for text, its references and every name of a
    file that might be renamed that it writes outside a reference assetpub will rewrite. A file
    the cache proves unchanged is not read at all. `paths`: the scanned files' paths."""
    index = NameIndex(p for p in paths if p not in by_name)

    def context(path: str, links: Sequence[Link] | None) -> str:
        """What a reading of `path` depends on in the rest of the build besides the names
        searched: whether it is bundler output (whose references explain no mention), and
        which of its links' targets are in the build (a reference to a file of the build
        explains the name it writes); "*" for webpack's manifest.json, which depends on
        every path."""
        if path == _WEBPACK_MANIFEST:
            return "*"
        bundler = by_name.get(path, _NO_DECISION).kind == FileKind.BUNDLER
        present = "".join("1" if link.target in paths else "0" for link in links or ())
        return ("b" if bundler else "r") + present

    def still_holds(cache: ReadCache, file: SourceFile, reading: FileReading) -> bool:
        if not reading.depends_on_build or cache.same_build:
            return True
        # A rebuild that renamed only bundler-hashed chunks searched the same names: what
        # this file says still holds if its own context does (watch mode's common case).
        return (
            cache.same_names
            and reading.context != "*"
            and reading.context == context(file.path, reading.links)
        )

    def read(file: SourceFile) -> tuple[FileReading, CachedReading | None]:
        """The file's reading, and what the cache held for it when that reading is it."""
        cached = cache.get(file.path, file.identity) if cache else None
        if cached is None:
            return read_uncached(file, None), None
        assert cache is not None
        if still_holds(cache, file, cached.reading):
            return cached.reading, cached
        return read_uncached(file, cached.reading.digests), None

    def read_uncached(file: SourceFile, known: Digests | None) -> FileReading:
        if _is_binary_without_reading(file):
            return FileReading(known or _digest(file))  # streamed: never held whole in memory
        data = _read_bytes(file)
        digests = known or digest_bytes(data)
        referencing = _is_referencing(file.path)
        searchable = evidence.is_searchable(file.path, data)
        if not (referencing or searchable):
            return FileReading(digests)
        refs: list[rewrite.Reference] | None = [] if referencing else None
        links: list[Link] | None = [] if referencing else None
        explained: list[Span] = []
        # A bundle's only reference is its sourceMappingURL comment: without the marker there
        # is nothing to parse, and the bytes are searched without being decoded.
        is_js = file.path.lower().endswith(_JS_EXTENSIONS)
        if referencing and (not is_js or _SOURCE_MAP_MARK in data):
            text = data.decode("utf-8", "surrogateescape")
            refs, explained = _references(file.path, text, paths)
            base = _resolving_from(file.path, text)
            links = [
                Link(ref.url, ref.kind, rewrite.resolve_reference(base, ref.url)) for ref in refs
            ]
            # Bundler output is never rewritten, so its references explain nothing.
            if by_name.get(file.path, _NO_DECISION).kind != FileKind.BUNDLER:
                explained += [
                    Span(ref.start, ref.path_end)
                    for ref, link in zip(refs, links, strict=True)
                    if link.target in paths
                ]
            explained = evidence.byte_spans(text, explained)
        found = (
            list(evidence.unexplained_mentions(file.path, data, index, explained))
            if searchable
            else []
        )
        return FileReading(
            digests,
            refs,
            links,
            found,
            depends_on_build=True,
            context=context(file.path, links),
        )

    def read_batch(batch: list[SourceFile]) -> list[tuple[FileReading, CachedReading | None]]:
        return [read(file) for file in batch]

    text = BuildText({}, {}, {}, {})
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        batches = _batches(scanned.files)
        readings_in_order = _in_order(pool, read_batch, batches, ahead=2 * max(1, workers))
        for batch, readings in zip(batches, readings_in_order, strict=True):
            for file, (reading, cached) in zip(batch, readings, strict=True):
                # Written here, in the scan's order, which is how the next run reads them.
                if cache and cached:
                    cache.keep(file.path, cached)
                elif cache:
                    cache.put(file.path, file.identity, reading)
                text.digests[file.path] = reading.digests
                if reading.links is not None:
                    text.links[file.path] = reading.links
                if reading.references:
                    text.references[file.path] = reading.references
                for path, mention in reading.mentions:
                    text.mentions.setdefault(path, mention)
    return text


def _in_order(
    pool: ThreadPoolExecutor, work: Callable[[_T], _R], items: Iterable[_T], ahead: int
) -> Iterator[_R]:
    """work(item) for each item, in order, with at most `ahead` submitted and not yet taken:
    results wait for the caller instead of piling up (pool.map submits everything at once, and
    readers that outrun the caller held every file's cached entry, 100 MB at 100,000 files)."""
    window: deque[Future[_R]] = deque()
    try:
        for item in items:
            window.append(pool.submit(work, item))
            if len(window) >= ahead:
                yield window.popleft().result()
        while window:
            yield window.popleft().result()
    finally:
        for future in window:
            future.cancel()


_NO_DECISION = Decision(FileKind.PLAIN, "")


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


def _plain_code_warning(plain: list[str], text: BuildText) -> str | None:
    """Scripts and stylesheets that the site's pages or code load under a mutable name: the
    bundler can fix those. (Images, feeds, their XSL stylesheets and other public files keep
    their names by design and are not worth a warning.)"""
    used_by_app = {link.target for links in text.links.values() for link in links} | {
        path
        for path, mention in text.mentions.items()
        if mention.file.lower().endswith(REFERENCING_EXTENSIONS)
    }
    code = [
        p for p in plain if p.lower().endswith((".js", ".mjs", ".cjs", ".css")) and p in used_by_app
    ]
    if not code:
        return None
    shown = ", ".join(code[:5]) + (f" and {len(code) - 5} more" if len(code) > 5 else "")
    return (
        f"{len(code)} script(s) or stylesheet(s) keep their names with a short cache because "
        f"assetpub cannot prove every reference to them rewritable: {shown}. Give them content "
        "hashes in the bundler (webpack: [name].[contenthash] in output.filename and "
        "chunkFilename; Vite does it by default); `publish --dry-run -v` says why each is kept"
    )


def _is_under_public_url(referrer: str) -> bool:
    """Whether, with a public URL, every reference of `referrer` to a file of the build is
    made absolute, whatever that file's kind: pages and stylesheets, the files a browser
    resolves against the address it fetched them from. Served from a preview's prefix, a
    root-relative "/assets/x.js" would name the site's root instead. (A script's
    sourceMappingURL resolves against the script, and webpack's manifest.json is read by a
    server against its own publicPath: those change only when their target is renamed.)"""
    return referrer.lower().endswith(_ABSOLUTE_UNDER_PUBLIC_URL)


def _new_reference(raw_path: str, target: str, final_key: str, public_url: str | None) -> str:
    """The reference as it should now read: only the hash is inserted, so relative,
    root-relative and percent-encoded forms stay as the author wrote them. With a public URL,
    the published key under it."""
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

    def write(self, key: str, data: bytes) -> str:
        target = self.root / key
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return str(target)


def prepare_build(
    scanned: ScannedBuild, options: PrepareOptions, staging_dir: Path
) -> PreparedBuild:
    by_path = {f.path: f for f in scanned.files}
    paths = set(by_path)
    bundler_manifests = dict(scanned.bundler_manifests)
    if _WEBPACK_MANIFEST in by_path:
        bundler_manifests[_WEBPACK_MANIFEST] = _read_bytes(by_path[_WEBPACK_MANIFEST])
    detection = detect(paths | set(scanned.bundler_manifests), _generator(by_path))
    by_name = decide_by_name(
        paths,
        entry_patterns=options.entry_patterns,
        hashed_name_patterns=options.hashed_name_patterns,
        bundler_renamed_paths=bundler_renamed(bundler_manifests, paths),
        detection=detection,
    )
    cache = (
        ReadCache.open(
            scanned.root,
            _fingerprint(paths, by_name),
            options.clock.now().timestamp(),
            options.cache_dir,
            names_fingerprint=build_fingerprint(sorted(p for p in paths if p not in by_name)),
        )
        if options.read_cache
        else None
    )
    try:
        build_text = _read_build(scanned, paths, by_name, options.workers, cache)
    except BaseException:
        if cache:
            cache.discard()
        raise
    if cache:
        cache.save()
    links = build_text.links

    warnings: list[str] = []
    missing = _missing_reference_messages(links, paths)
    if missing and options.strict:
        more = and_more(len(missing))
        raise BuildError(missing[0] + more)
    warnings += missing

    decisions = classify(paths, links, by_name, build_text.mentions)
    del by_name  # in the decisions now
    try:
        order = hashing_order(
            {p: d.kind for p, d in decisions.items() if d.kind == FileKind.HASHED}, links
        )
    except ValueError as exc:
        raise BuildError(f"reference cycle between files to hash: {exc}") from None
    final_key, staged = _named_and_rewritten(
        order, by_path, decisions, build_text, _Stager(staging_dir), options.public_url
    )
    plain_warning = _plain_code_warning(
        sorted(p for p, d in decisions.items() if d.kind == FileKind.PLAIN), build_text
    )
    original = build_text.digests
    # What the references said is used: 10 MB at 100,000 files no longer held while the
    # files below are made.
    del build_text, links

    files = []
    for path in sorted(paths):
        source = by_path[path]
        if path in staged:
            stored, digests = staged[path]
            local_root = ""
        elif source.target is not None:
            stored, digests, local_root = source.target, original[path], ""
        else:
            stored, digests, local_root = path, original[path], source.root
        key = final_key[path]
        kind = decisions[path].kind
        content_type, cache_control = resolve_headers(
            key, _DEFAULT_CACHE[kind], options.header_rules
        )
        files.append(
            PreparedFile(
                path,
                key,
                kind,
                stored,
                digests,
                content_type,
                cache_control,
                local_root,
                content_encoding_for(key),
            )
        )
    files = _compressed(files, options.compress, staging_dir, options.workers)
    if scanned.replaced_manifest:
        warnings.append(
            "the build's own asset-manifest.json is not published: assetpub writes its own there"
        )
    if plain_warning:
        warnings.append(plain_warning)
    return PreparedBuild(
        tuple(files),
        tuple(warnings),
        scanned.skipped_dotfiles,
        decisions=decisions,
        detected=detection.names,
    )


def _named_and_rewritten(
    order: Sequence[str],
    by_path: Mapping[str, SourceFile],
    decisions: Mapping[str, Decision],
    build_text: BuildText,
    stager: _Stager,
    public_url: str | None,
) -> tuple[dict[str, str], dict[str, tuple[str, Digests]]]:
    """Each file's published key, and the staged copy (its location and digests) of each file
    whose references changed. `order`: the hashed files, dependencies first."""
    links, original = build_text.links, build_text.digests
    final_key: dict[str, str] = {}
    staged: dict[str, tuple[str, Digests]] = {}

    def kind(path: str) -> FileKind:
        return decisions[path].kind

    def is_rewritten(path: str, target: str | None) -> bool:
        """Whether the reference in `path` to `target` is rewritten: when the target is
        renamed, and with a public URL, in pages and stylesheets, for every file of the build.
        Bundler output never is: its own base setting (Vite's base, webpack's publicPath)
        decides its URLs."""
        if target is None or target not in decisions or kind(path) == FileKind.BUNDLER:
            return False
        if kind(target) == FileKind.HASHED:
            return True
        return public_url is not None and _is_under_public_url(path)

    def rewritten_bytes(path: str) -> bytes | None:
        """The file's bytes with references to hashed files renamed (and, with a public URL,
        made absolute), or None if unchanged."""
        if not any(is_rewritten(path, link.target) for link in links.get(path, ())):
            return None
        data = _read_bytes(by_path[path])
        # The references' offsets are those of the first read: only the same bytes may be
        # rewritten with them (a build tool still writing into the folder changes them).
        if hashlib.sha256(data).hexdigest() != original[path].sha256:
            raise BuildError(f"{path} changed while being published; run the publish again")
        text = data.decode("utf-8", "surrogateescape")
        replacements = []
        # Each reference's link holds the file it resolved to when the build was read (from
        # the page's <base href>, if any): nothing is resolved, or parsed, a second time.
        refs = build_text.references.get(path, [])
        for ref, link in zip(refs, links.get(path, ()), strict=True):
            target = link.target
            if target is not None and is_rewritten(path, target):
                raw = text[ref.start : ref.path_end]
                # Only hashed files change names; they come first in the hashing order.
                key = final_key[target] if kind(target) == FileKind.HASHED else target
                replacements.append((ref, _new_reference(raw, target, key, public_url)))
        return rewrite.replace_references(text, replacements).encode("utf-8", "surrogateescape")

    for path in order:  # hashed files, dependencies first
        data = rewritten_bytes(path)
        if data is None:
            final_key[path] = hashed_name(path, original[path].sha256)
        else:
            digests = digest_bytes(data)
            final_key[path] = hashed_name(path, digests.sha256)
            staged[path] = (stager.write(final_key[path], data), digests)
    for path in sorted(by_path):
        if path in final_key:
            continue
        final_key[path] = path
        data = rewritten_bytes(path)
        if data is not None:
            staged[path] = (stager.write(path, data), digest_bytes(data))
    return final_key, staged


def _compressed(
    files: list[PreparedFile], encodings: Sequence[str], staging_dir: Path, workers: int
) -> list[PreparedFile]:
    """Each compressible file replaced by its encoded copy where that saves enough, staged
    under `staging_dir`, one file in memory per worker (zlib releases the GIL)."""

    def one(file: PreparedFile) -> PreparedFile:
        if file.content_encoding is not None or not compress.is_compressible(file.content_type):
            return file
        try:
            with open(file.local, "rb") as source:
                data = source.read()
        except OSError as exc:
            raise BuildError(f"cannot read {file.source}: {exc.strerror}") from None
        found = compress.best_encoding(data, encodings)
        if found is None:
            return file
        encoding, encoded = found
        target = compress.staged_path(staging_dir, encoding, file.key)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(encoded)
        return replace(
            file,
            stored=str(target),
            local_root="",
            digests=digest_bytes(encoded),
            content_encoding=encoding,
            decoded=file.digests,
        )

    if not encodings:
        return files
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return list(pool.map(one, files))


def _fingerprint(paths: Collection[str], by_name: Mapping[str, Decision]) -> str:
    """What a file's references and mentions depend on besides its bytes: the build's paths
    and which of them may be renamed."""
    return build_fingerprint(
        [*sorted(paths), "", *(f"{p}\0{by_name[p].kind.value}" for p in sorted(by_name))]
    )


def _generator(by_path: Mapping[str, SourceFile]) -> str:
    """The root page's <meta name="generator">, which names the site generator that made it."""
    index = by_path.get("index.html")
    if index is None:
        return ""
    try:
        with index.abs_path.open("rb") as page:
            return generator_of(page.read(65536))
    except OSError:
        return ""


def _digest(file: SourceFile) -> Digests:
    try:
        return digest_file(file.abs_path)
    except OSError as exc:
        raise BuildError(f"cannot read {file.path}: {exc.strerror}") from None
