import json

import pytest

from assetpub.classify import (
    FileKind,
    Link,
    bundler_renamed,
    classify,
    hashing_order,
    is_entry,
    names_in_js,
)
from assetpub.config import DEFAULT_ENTRY_PATTERNS, DEFAULT_HASHED_NAME_PATTERNS


def run(paths, links=None, js_names=frozenset(), renamed=frozenset()):  # type: ignore[no-untyped-def]
    return classify(
        paths,
        links or {},
        entry_patterns=DEFAULT_ENTRY_PATTERNS,
        hashed_name_patterns=DEFAULT_HASHED_NAME_PATTERNS,
        bundler_renamed_paths=set(renamed),
        js_names=set(js_names),
    )


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
        ("assets/index-BxY3_a-Z.js", FileKind.BUNDLER),  # Vite
        ("assets/lazy-v-WhLitw.js", FileKind.BUNDLER),  # '-' inside the hash
        ("assets/index-DiwrgTda.css", FileKind.BUNDLER),
        ("polyfill-elements.js", FileKind.PLAIN),  # 8 lowercase letters: a name, not a hash
        ("lib.deadbeef.js", FileKind.PLAIN),  # hex but no digit
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


def test_a_name_that_appears_in_js_is_never_renamed() -> None:
    links = {"index.html": [Link("logo.png", "<img src>", "logo.png")]}
    kinds = run(["index.html", "logo.png", "main.js"], links, js_names={"logo.png"})
    assert kinds["logo.png"] == FileKind.PLAIN


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


def test_names_in_js_finds_string_literals_of_file_names() -> None:
    js = 'r.p+"logo.png";import("./chunk.js");var x="static/img/caf\u00e9.svg",y="a.pngx"'
    names = names_in_js(js.encode(), {".png", ".js", ".svg"})
    assert names == {"logo.png", "chunk.js", "caf\u00e9.svg"}


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
