"""What frameworks document about their build output. Pure: paths and a page's head in, facts out.

A framework that documents a folder as content-hashed and cacheable forever (Next.js
`_next/static/`, SvelteKit `_app/immutable/`, ...) is taken at its word, but only once the build
shows the framework's own markers: a folder called `_astro/` in a site made by another tool
proves nothing. Frameworks also emit per-page data that must switch with the pages (Next.js
`.txt` route payloads, SvelteKit's `_app/version.json`), which become entry files.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

_GENERATOR = re.compile(
    rb"""<meta\s[^>]*name\s*=\s*["']?generator["']?[^>]*content\s*=\s*["']([^"']*)["']""",
    re.IGNORECASE,
)
_NEXT_WEBPACK_RUNTIME = re.compile(r"^_next/static/chunks/(webpack|framework)-[0-9a-f]{16}\.js$")
_NEXT_TURBOPACK_RUNTIME = re.compile(r"^_next/static/chunks/turbopack-[0-9a-z_-]+\.js$")
_ANGULAR_MAIN = re.compile(r"^(main|polyfills)-[A-Z0-9]{8}\.js$")


@dataclass(frozen=True)
class Framework:
    """One framework's documented conventions."""

    name: str
    # Folders the framework documents as content-hashed, cacheable forever.
    immutable_prefixes: tuple[str, ...] = ()
    # Inside those folders, paths that are not hashed after all (fnmatch).
    mutable_inside: tuple[str, ...] = ()
    # Files that carry per-release data and must switch with the pages (fnmatch).
    entry_patterns: tuple[str, ...] = ()
    # True when the build is this framework's output.
    is_present: Callable[[Collection[str], str], bool] = field(
        default=lambda paths, generator: False, compare=False
    )
    # A more precise name for the detected variant ("Next.js static export (Turbopack)").
    describe: Callable[[Collection[str]], str] | None = field(default=None, compare=False)


def _has_prefix(paths: Collection[str], prefix: str) -> bool:
    return any(p.startswith(prefix) for p in paths)


def _describe_next(paths: Collection[str]) -> str:
    if any(_NEXT_TURBOPACK_RUNTIME.match(p) for p in paths):
        return "Next.js static export (Turbopack)"
    if any(_NEXT_WEBPACK_RUNTIME.match(p) for p in paths):
        return "Next.js static export (webpack)"
    return "Next.js static export"


FRAMEWORKS: tuple[Framework, ...] = (
    Framework(
        "Next.js",
        # nextjs.org/docs: /_next/static assets are served "public, max-age=31536000, immutable".
        immutable_prefixes=("_next/static/",),
        # RSC route payloads (about/index.txt, __next.*.txt) change with every release.
        entry_patterns=("*.txt",),
        is_present=lambda paths, generator: (
            _has_prefix(paths, "_next/static/") and any(p.endswith(".html") for p in paths)
        ),
        describe=_describe_next,
    ),
    Framework(
        "SvelteKit",
        immutable_prefixes=("_app/immutable/",),
        # The client polls version.json to notice a new deploy; prerendered data switches too.
        entry_patterns=("_app/version.json", "*__data.json"),
        is_present=lambda paths, generator: _has_prefix(paths, "_app/immutable/"),
    ),
    Framework(
        "Astro",
        immutable_prefixes=("_astro/",),
        is_present=lambda paths, generator: (
            generator.startswith("astro")
            or (_has_prefix(paths, "_astro/") and not _has_prefix(paths, "_app/"))
        ),
    ),
    Framework(
        "Nuxt",
        immutable_prefixes=("_nuxt/",),
        # The app manifest under builds/ names the latest build: short-lived by design.
        mutable_inside=("_nuxt/builds/*",),
        entry_patterns=("*_payload.json", "_nuxt/builds/*"),
        is_present=lambda paths, generator: _has_prefix(paths, "_nuxt/"),
    ),
    Framework(
        "Gatsby",
        # gatsbyjs.com/docs/caching: static/ files are hashed, cache forever; page data is not.
        immutable_prefixes=("static/",),
        entry_patterns=("page-data/*", "chunk-map.json", "webpack.stats.json"),
        is_present=lambda paths, generator: (
            generator.startswith("gatsby") or "page-data/app-data.json" in paths
        ),
    ),
    Framework(
        "Docusaurus",
        is_present=lambda paths, generator: (
            generator.startswith("docusaurus")
            or any(p.startswith("assets/js/runtime~main.") for p in paths)
        ),
    ),
    Framework(
        "VitePress",
        is_present=lambda paths, generator: generator.startswith("vitepress"),
    ),
    Framework(
        "Angular",
        is_present=lambda paths, generator: sum(bool(_ANGULAR_MAIN.match(p)) for p in paths) >= 2,
    ),
    Framework(
        "Vite",
        is_present=lambda paths, generator: (
            ".vite/manifest.json" in paths
            or any(re.match(r"^assets/index-[A-Za-z0-9_-]{8}\.js$", p) for p in paths)
        ),
    ),
)


@dataclass(frozen=True)
class Detection:
    frameworks: tuple[Framework, ...]
    names: tuple[str, ...]  # for the "detected:" line

    def immutable_folder(self, path: str) -> Framework | None:
        """The detected framework that documents `path` as content-hashed, if any."""
        for framework in self.frameworks:
            if path.startswith(framework.immutable_prefixes) and not any(
                fnmatch.fnmatchcase(path, p) for p in framework.mutable_inside
            ):
                return framework
        return None

    @property
    def entry_patterns(self) -> tuple[str, ...]:
        return tuple(p for f in self.frameworks for p in f.entry_patterns)


NOTHING_DETECTED = Detection((), ())


def generator_of(index_html: bytes) -> str:
    """The lowercased `<meta name="generator">` content of a page's head, or ''."""
    match = _GENERATOR.search(index_html[:65536])
    return match.group(1).decode("utf-8", "replace").strip().lower() if match else ""


def detect(
    paths: Collection[str], generator: str = "", frameworks: Sequence[Framework] = FRAMEWORKS
) -> Detection:
    """Which frameworks made this build, from its paths (and bundler manifests) and generator."""
    found = tuple(f for f in frameworks if f.is_present(paths, generator))
    # Vite under a framework that uses it (SvelteKit, Astro, VitePress) is not news.
    if len(found) > 1:
        found = tuple(f for f in found if f.name != "Vite")
    names = tuple(f.describe(paths) if f.describe else f.name for f in found)
    return Detection(found, names)
