"""Framework detection: markers in the build, never a folder name alone."""

import pytest

from assetpub.build.frameworks import detect, generator_of


@pytest.mark.parametrize(
    ("paths", "generator", "names"),
    [
        (
            ["index.html", "_next/static/chunks/turbopack-0f3ab2c1d4e5f.js"],
            "",
            ("Next.js static export (Turbopack)",),
        ),
        (
            ["index.html", "_next/static/chunks/framework-0a1b2c3d4e5f6789.js"],
            "",
            ("Next.js static export (webpack)",),
        ),
        (["index.html", "_app/immutable/entry/start.B5B1v3BO.js"], "", ("SvelteKit",)),
        (["index.html", "_astro/index.Bx1a2b3c.css"], "", ("Astro",)),
        (["index.html", "_nuxt/entry.Bx1a2b3c.js"], "", ("Nuxt",)),
        (["index.html", "assets/js/main.0a1b2c3d.js"], "docusaurus v3.9.2", ("Docusaurus",)),
        (["index.html", "page-data/app-data.json", "static/d/x.png"], "", ("Gatsby",)),
        (["index.html", "static/site.css"], "", ()),  # a static/ folder alone is not Gatsby
        (["index.html", "assets/app.Bx1a2b3c.js"], "vitepress v1.6.3", ("VitePress",)),
        (["index.html", "main-ABCD2345.js", "polyfills-QWERTY23.js"], "", ("Angular",)),
        (["index.html", ".vite/manifest.json", "assets/index-BxY3_a-Z.js"], "", ("Vite",)),
        (["index.html", "main.4978e1e1d5ce.js"], "", ()),
        (["_next/static/x.js"], "", ()),  # no page: not a Next.js export
    ],
)
def test_detect(paths: list[str], generator: str, names: tuple[str, ...]) -> None:
    assert detect(paths, generator).names == names


def test_generator_meta() -> None:
    head = b'<head><meta charset=utf-8><meta name="generator" content="Docusaurus v3.9.2">'
    assert generator_of(head) == "docusaurus v3.9.2"
    assert generator_of(b"<meta name=generator content='VitePress v1.6.3'>") == "vitepress v1.6.3"
    assert generator_of(b"<html><head><title>x</title>") == ""


def test_gatsby_page_data_switches_and_static_is_immutable() -> None:
    gatsby = detect(["index.html", "page-data/app-data.json"], "gatsby 5.14.0")
    assert gatsby.immutable_folder("static/1a2b/logo.png") is not None
    assert "page-data/*" in gatsby.entry_patterns


def test_immutable_folder_respects_exceptions() -> None:
    nuxt = detect(["index.html", "_nuxt/a.js"])
    assert nuxt.immutable_folder("_nuxt/a.js") is not None
    assert nuxt.immutable_folder("_nuxt/builds/latest.json") is None
    assert nuxt.immutable_folder("static/a.js") is None
