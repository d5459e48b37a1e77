import json
from collections.abc import Iterable, Mapping, Sequence

import pytest

from assetpub.build.classify import (
    Decision,
    FileKind,
    Link,
    bundler_renamed,
    classify,
    decide_by_name,
    hashing_order,
    is_entry,
)
from assetpub.build.evidence import Mention
from assetpub.build.frameworks import Detection, detect
from assetpub.settings import DEFAULT_ENTRY_PATTERNS, DEFAULT_HASHED_NAME_PATTERNS


def decide(
    paths: Sequence[str],
    links: Mapping[str, Sequence[Link]] | None = None,
    mentions: Mapping[str, Mention] | None = None,
    renamed: Iterable[str] = frozenset(),
    detection: Detection | None = None,
) -> dict[str, Decision]:
    by_name = decide_by_name(
        paths,
        entry_patterns=DEFAULT_ENTRY_PATTERNS,
        hashed_name_patterns=DEFAULT_HASHED_NAME_PATTERNS,
        bundler_renamed_paths=set(renamed),
        detection=detection or detect(paths),
    )
    return classify(paths, links or {}, by_name, mentions or {})


def run(
    paths: Sequence[str],
    links: Mapping[str, Sequence[Link]] | None = None,
    mentions: Mapping[str, Mention] | None = None,
    renamed: Iterable[str] = frozenset(),
) -> dict[str, FileKind]:
    return {p: d.kind for p, d in decide(paths, links, mentions, renamed).items()}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("index.html", True),
        ("docs/about.html", True),
        ("robots.txt", True),
        ("static/robots.txt", False),
        ("favicon.ico", True),
        ("img/favicon.ico", False),
        ("site.webmanifest", True),
        ("manifest.json", True),
        ("sw.js", True),
        ("service-worker.js", True),
        (".well-known/security.txt", True),
        ("app.js", False),
    ],
)
def test_default_entry_patterns(path: str, expected: bool) -> None:
    assert is_entry(path, DEFAULT_ENTRY_PATTERNS) is expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("main.4978e1e1d5ce0a1ff0a4.js", FileKind.BUNDLER),  # webpack [contenthash]
        ("main.4978e1e1d5ce0a1ff0a4.js.map", FileKind.BUNDLER),
        ("480.47d037bd.js", FileKind.BUNDLER),
        ("js/chunk1275.44872872843332975466.js", FileKind.BUNDLER),  # 20 hex, all digits
        ("assets/index-BxY3_a-Z.js", FileKind.BUNDLER),  # Vite
        ("assets/lazy-v-WhLitw.js", FileKind.BUNDLER),  # '-' inside the hash
        ("assets/index-DiwrgTda.css", FileKind.BUNDLER),
        ("assets/index-VFXXGsm-.js", FileKind.BUNDLER),  # Vite, hash ending in '-'
        ("main-ABCD2345.js", FileKind.BUNDLER),  # Angular / esbuild base32
        ("chunk-QWERTYUI.js", FileKind.BUNDLER),
        ("assets/js/17896441.a6a9c3b5.js", FileKind.BUNDLER),  # Docusaurus
        ("assets/js/runtime~main.0f1e2d3c.js", FileKind.BUNDLER),
        ("assets/images/logo-1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d.png", FileKind.BUNDLER),
        ("assets/fonts/inter-0a1b2c3d4e5f60718293a4b5c6d7e8f9.woff2", FileKind.BUNDLER),
        ("framework-0a1b2c3d4e5f6789.js", FileKind.BUNDLER),  # Next.js webpack
        (
            "css/site.0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.css",
            FileKind.BUNDLER,
        ),  # Hugo
        ("chunks/0umf92h1sb77c.js", FileKind.BUNDLER),  # Turbopack
        ("chunks/0b7k1-4xbc0m_.css", FileKind.BUNDLER),
        ("chunks/2pm3eu8j-t3lu.js", FileKind.BUNDLER),
        ("polyfill-elements.js", FileKind.PLAIN),  # 8 lowercase letters: a name, not a hash
        ("polyfill-Elements.js", FileKind.PLAIN),  # a capitalised word is not a hash either
        ("lib.deadbeef.js", FileKind.PLAIN),  # hex but no digit
        ("report-20261201.pdf", FileKind.PLAIN),  # a date, not a hash
        ("report.20261201.pdf", FileKind.PLAIN),
        ("bootstrap-5-3.js", FileKind.PLAIN),  # 13 characters, but a name
        ("480.js", FileKind.PLAIN),  # webpack without [contenthash]
    ],
)
def test_bundler_hashed_names(path: str, expected: FileKind) -> None:
    assert run([path])[path] == expected


def test_referenced_from_html_or_css_gets_hashed() -> None:
    links = {
        "index.html": [Link("css/site.css", "<link href>", "css/site.css")],
        "css/site.css": [Link("../img/bg.png", "url()", "img/bg.png")],
    }
    kinds = run(["index.html", "css/site.css", "img/bg.png", "img/unused.png"], links)
    assert kinds == {
        "index.html": FileKind.ENTRY,
        "css/site.css": FileKind.HASHED,
        "img/bg.png": FileKind.HASHED,
        "img/unused.png": FileKind.PLAIN,
    }


def test_a_name_mentioned_outside_a_rewritten_reference_is_never_renamed() -> None:
    links = {"index.html": [Link("logo.png", "<img src>", "logo.png")]}
    mention = Mention("main.js", 1, 'r.p+"logo.png"')
    decisions = decide(["index.html", "logo.png", "main.js"], links, {"logo.png": mention})
    assert decisions["logo.png"].kind == FileKind.PLAIN
    assert "main.js:1" in decisions["logo.png"].reason


def test_every_decision_gives_its_reason() -> None:
    paths = ["index.html", "css/site.css", "img/unused.png", "main.0123abcd.js", "main.js.map"]
    links = {
        "index.html": [Link("css/site.css", "<link href>", "css/site.css")],
        "main.0123abcd.js": [Link("main.js.map", "sourceMappingURL", "main.js.map")],
    }
    reasons = {p: d.reason for p, d in decide(paths, links).items()}
    assert reasons == {
        "index.html": "entry file (matches '*.html')",
        "css/site.css": "every mention is rewritten: index.html <link href>",
        "img/unused.png": "no page or stylesheet loads it through a reference assetpub rewrites",
        "main.0123abcd.js": "bundler-hashed name (webpack [name].[contenthash])",
        "main.js.map": "source map of main.0123abcd.js",
    }


def test_framework_folders_are_immutable_once_the_framework_is_detected() -> None:
    next_build = ["index.html", "_next/static/chunks/main.js", "_next/static/media/x.svg"]
    kinds = run(next_build)
    assert kinds["_next/static/chunks/main.js"] == FileKind.BUNDLER
    assert kinds["_next/static/media/x.svg"] == FileKind.BUNDLER
    assert (
        "Next.js documents _next/static/" in decide(next_build)["_next/static/media/x.svg"].reason
    )
    # SvelteKit: version.json is polled by the client and must switch with the pages.
    kit = ["index.html", "_app/immutable/chunks/Dzbd6rbP.js", "_app/version.json"]
    assert run(kit) == {
        "index.html": FileKind.ENTRY,
        "_app/immutable/chunks/Dzbd6rbP.js": FileKind.BUNDLER,
        "_app/version.json": FileKind.ENTRY,
    }
    # Nuxt's app manifest lives inside _nuxt/ but names the latest build.
    nuxt = ["index.html", "_nuxt/Bx1a2b3c.js", "_nuxt/builds/latest.json"]
    assert run(nuxt)["_nuxt/builds/latest.json"] == FileKind.ENTRY
    assert run(nuxt)["_nuxt/Bx1a2b3c.js"] == FileKind.BUNDLER
    # Next.js route payloads switch with the pages.
    assert run(["index.html", "_next/static/x.js", "about/index.txt"])["about/index.txt"] == (
        FileKind.ENTRY
    )


def test_a_framework_folder_name_alone_proves_nothing() -> None:
    # No HTML at all beside _next/static/: not a Next.js export.
    assert run(["_next/static/lib.js"])["_next/static/lib.js"] == FileKind.PLAIN
    # An _astro/ folder in a SvelteKit build is not Astro's.
    kit = ["index.html", "_app/immutable/x.js", "_astro/notes.js"]
    assert run(kit)["_astro/notes.js"] == FileKind.PLAIN


def test_whatever_bundler_output_references_keeps_its_name() -> None:
    links = {
        "index.html": [Link("fonts/a.woff2", "<link href>", "fonts/a.woff2")],
        "main.0123abcd.css": [Link("fonts/a.woff2", "url()", "fonts/a.woff2")],
    }
    kinds = run(["index.html", "main.0123abcd.css", "fonts/a.woff2"], links)
    assert kinds["fonts/a.woff2"] == FileKind.PLAIN


def test_source_map_of_bundler_file_keeps_its_name() -> None:
    links = {"main.0123abcd.js": [Link("main.js.map", "sourceMappingURL", "main.js.map")]}
    kinds = run(["index.html", "main.0123abcd.js", "main.js.map"], links)
    assert kinds["main.js.map"] == FileKind.BUNDLER


def test_source_map_of_hashed_file_is_hashed() -> None:
    links = {
        "index.html": [Link("app.js", "<script src>", "app.js")],
        "app.js": [Link("app.js.map", "sourceMappingURL", "app.js.map")],
    }
    kinds = run(["index.html", "app.js", "app.js.map"], links)
    assert kinds["app.js"] == kinds["app.js.map"] == FileKind.HASHED


def test_bundler_manifest_marks_renamed_files() -> None:
    paths = {"main.abc123.js", "static/theme.css", "assets/lazy-x.js"}
    webpack = json.dumps({"main.js": "auto/main.abc123.js", "static/theme.css": "static/theme.css"})
    vite = json.dumps({"src/lazy.js": {"file": "assets/lazy-x.js"}})
    renamed = bundler_renamed(
        {"manifest.json": webpack.encode(), ".vite/manifest.json": vite.encode()}, paths
    )
    assert renamed == {"main.abc123.js", "assets/lazy-x.js"}


def test_hashing_order_puts_dependencies_first() -> None:
    kinds = {p: FileKind.HASHED for p in ("a.css", "b.css", "c.png")}
    links = {
        "a.css": [Link("b.css", "@import", "b.css")],
        "b.css": [Link("c.png", "url()", "c.png")],
    }
    assert hashing_order(kinds, links) == ["c.png", "b.css", "a.css"]


def test_hashing_order_names_the_cycle() -> None:
    kinds = {p: FileKind.HASHED for p in ("a.css", "b.css")}
    links = {
        "a.css": [Link("b.css", "@import", "b.css")],
        "b.css": [Link("a.css", "@import", "a.css")],
    }
    with pytest.raises(ValueError, match=r"a\.css -> b\.css -> a\.css"):
        hashing_order(kinds, links)
