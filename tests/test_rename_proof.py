"""A rename happens only when proven safe: every place in the build that names the file is a
reference assetpub rewrites. The probes of issue 6, each a small build, plus a property over
generated builds: after a publish, no text anywhere still names a renamed file's old name."""

import tempfile
from pathlib import Path

import pytest
from fixture_types import MakeBuild
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assetpub.build.classify import FileKind
from assetpub.build.evidence import NameIndex, is_searchable
from assetpub.build.prepare import PreparedBuild, PrepareOptions, prepare_build
from assetpub.build.scan import scan_build
from assetpub.settings import DEFAULT_ENTRY_PATTERNS, DEFAULT_HASHED_NAME_PATTERNS

PAGE = '<!doctype html><link rel=stylesheet href="css/site.css"><img src="{img}">{extra}'
CSS = "body{color:red}"


def prepare(root: Path) -> PreparedBuild:
    opts = PrepareOptions(DEFAULT_ENTRY_PATTERNS, DEFAULT_HASHED_NAME_PATTERNS)
    return prepare_build(scan_build(root), opts, Path(tempfile.mkdtemp()))


def kinds(result: PreparedBuild) -> dict[str, FileKind]:
    return {f.source: f.kind for f in result.files}


def reason(result: PreparedBuild, path: str) -> str:
    return result.decisions[path].reason


def test_only_html_references_means_renamed(make_build: MakeBuild) -> None:
    root = make_build(
        {
            "index.html": PAGE.format(img="img/logo.png", extra=""),
            "css/site.css": CSS,
            "img/logo.png": b"\x89PNG",
        }
    )
    result = prepare(root)
    assert kinds(result)["img/logo.png"] == FileKind.HASHED
    assert kinds(result)["css/site.css"] == FileKind.HASHED


def test_a_name_in_a_js_string_with_a_space_or_percent_encoded_is_kept(
    make_build: MakeBuild,
) -> None:
    root = make_build(
        {
            "index.html": PAGE.format(
                img="img/my%20logo.png", extra='<img src="img/caf%C3%A9.png">'
            ),
            "css/site.css": CSS,
            "img/my logo.png": b"\x89PNG 1",
            "img/caf\u00e9.png": b"\x89PNG 2",
            "app.js": 'a="img/my logo.png";b="img/caf%C3%A9.png"',
        }
    )
    result = prepare(root)
    assert kinds(result)["img/my logo.png"] == FileKind.PLAIN
    assert kinds(result)["img/caf\u00e9.png"] == FileKind.PLAIN
    assert reason(result, "img/caf\u00e9.png").startswith("named outside a reference")
    assert "app.js:1" in reason(result, "img/caf\u00e9.png")


def test_a_name_in_an_inline_script_is_kept(make_build: MakeBuild) -> None:
    extra = '<script>fetch("img/logo.png")</script>'
    root = make_build(
        {
            "index.html": PAGE.format(img="img/logo.png", extra=extra),
            "css/site.css": CSS,
            "img/logo.png": b"\x89PNG",
        }
    )
    result = prepare(root)
    assert kinds(result)["img/logo.png"] == FileKind.PLAIN
    assert 'fetch("img/logo.png")' in reason(result, "img/logo.png")
    # The stylesheet, named nowhere else, is still renamed.
    assert kinds(result)["css/site.css"] == FileKind.HASHED


def test_names_in_json_script_blocks_data_attributes_and_meta_are_kept(
    make_build: MakeBuild,
) -> None:
    extra = (
        '<script type="application/json">{"hero":"/img/hero.png"}</script>'
        '<div data-bg="img/bg.png"></div><meta property="og:image" content="/img/og.png">'
        '<img src="img/hero.png"><img src="img/bg.png"><img src="img/og.png">'
    )
    files: dict[str, str | bytes] = {
        "index.html": PAGE.format(img="img/logo.png", extra=extra),
        "css/site.css": CSS,
    }
    files |= {f"img/{n}.png": n.encode() for n in ("logo", "hero", "bg", "og")}
    result = prepare(make_build(files))
    assert kinds(result)["img/logo.png"] == FileKind.HASHED
    for name in ("hero", "bg", "og"):
        assert kinds(result)[f"img/{name}.png"] == FileKind.PLAIN, name


def test_an_icon_named_by_a_webmanifest_is_kept(make_build: MakeBuild) -> None:
    root = make_build(
        {
            "index.html": PAGE.format(
                img="icons/192.png", extra="<link rel=manifest href=site.webmanifest>"
            ),
            "css/site.css": CSS,
            "icons/192.png": b"\x89PNG",
            "site.webmanifest": '{"icons":[{"src":"/icons/192.png","sizes":"192x192"}]}',
        }
    )
    result = prepare(root)
    assert kinds(result)["icons/192.png"] == FileKind.PLAIN
    assert "site.webmanifest:1" in reason(result, "icons/192.png")


def test_an_image_named_inside_an_svg_loaded_with_object_is_kept(make_build: MakeBuild) -> None:
    svg = '<svg xmlns="http://www.w3.org/2000/svg"><image href="photo.png"/></svg>'
    root = make_build(
        {
            "index.html": PAGE.format(
                img="img/photo.png", extra='<object data="img/d.svg"></object>'
            ),
            "css/site.css": CSS,
            "img/d.svg": svg,
            "img/photo.png": b"\x89PNG",
        }
    )
    result = prepare(root)
    assert kinds(result)["img/photo.png"] == FileKind.PLAIN
    assert "img/d.svg:1" in reason(result, "img/photo.png")
    assert kinds(result)["img/d.svg"] == FileKind.HASHED  # nothing else names the SVG


def test_a_file_both_loaded_and_linked_is_kept(make_build: MakeBuild) -> None:
    root = make_build(
        {
            "index.html": PAGE.format(
                img="docs/diagram.png", extra='<a href="docs/diagram.png">full size</a>'
            ),
            "css/site.css": CSS,
            "docs/diagram.png": b"\x89PNG",
        }
    )
    result = prepare(root)
    assert kinds(result)["docs/diagram.png"] == FileKind.PLAIN
    assert '<a href="docs/diagram.png">' in reason(result, "docs/diagram.png")


def test_feeds_keep_their_urls(make_build: MakeBuild) -> None:
    page = (
        '<link rel="alternate" type="application/rss+xml" href="/blog/rss.xml">'
        '<link rel="alternate" type="application/atom+xml" href="/blog/atom.xml">'
        '<link rel="canonical" href="/blog/">'
    )
    root = make_build({"index.html": page, "blog/rss.xml": "<rss/>", "blog/atom.xml": "<feed/>"})
    result = prepare(root)
    assert result.file_map["blog/rss.xml"] == "blog/rss.xml"
    assert result.file_map["blog/atom.xml"] == "blog/atom.xml"
    assert kinds(result)["blog/rss.xml"] == FileKind.PLAIN


def test_next_style_inline_payloads_and_txt_route_data_keep_names(make_build: MakeBuild) -> None:
    flight = (
        '<script>self.__next_f.push([1,"2:I[\\"/next.svg\\",'
        '\\"/_next/static/chunks/a.js\\"]"])</script>'
    )
    root = make_build(
        {
            "index.html": '<link rel="preload" as="image" href="/next.svg"><img src="/next.svg">'
            '<script src="/_next/static/chunks/a.js" async></script>' + flight,
            "about/index.html": '<img src="/vercel.svg">',
            "about/index.txt": '0:["/vercel.svg"]',
            "next.svg": "<svg/>",
            "vercel.svg": "<svg/>",
            "_next/static/chunks/a.js": "console.log(1)",
        }
    )
    result = prepare(root)
    assert result.detected == ("Next.js static export",)
    assert kinds(result)["_next/static/chunks/a.js"] == FileKind.BUNDLER
    assert kinds(result)["next.svg"] == FileKind.PLAIN
    assert kinds(result)["vercel.svg"] == FileKind.PLAIN
    assert kinds(result)["about/index.txt"] == FileKind.ENTRY  # switches with the pages
    assert "about/index.txt:1" in reason(result, "vercel.svg")


def test_a_name_in_a_bundler_file_is_kept_even_when_escaped_in_css(make_build: MakeBuild) -> None:
    # The bundler CSS writes the name with a CSS escape the text search cannot see; its
    # reference alone keeps the font's name, because bundler output is never rewritten.
    root = make_build(
        {
            "index.html": '<link rel=preload as=font href="fonts/caf\u00e9.woff2">'
            '<link rel=stylesheet href="main.0123abcd.css">',
            "main.0123abcd.css": "@font-face{src:url(fonts/caf\\e9.woff2)}",
            "fonts/caf\u00e9.woff2": b"wOF2",
        }
    )
    result = prepare(root)
    assert kinds(result)["fonts/caf\u00e9.woff2"] == FileKind.PLAIN
    assert reason(result, "fonts/caf\u00e9.woff2").startswith("referenced by bundler output")


def test_webpack_manifest_values_follow_the_rename_and_keys_stay(make_build: MakeBuild) -> None:
    root = make_build(
        {
            "index.html": '<link rel=stylesheet href="static/theme.css">',
            "static/theme.css": CSS,
            "manifest.json": '{"static/theme.css": "static/theme.css", "main.js": "auto/main.js"}',
            "main.js": "1",
        }
    )
    result = prepare(root)
    key = result.file_map["static/theme.css"]
    assert key != "static/theme.css"
    manifest = next(f for f in result.files if f.source == "manifest.json").local_path.read_text()
    assert manifest == f'{{"static/theme.css": "{key}", "main.js": "auto/main.js"}}'


def test_a_file_named_only_by_the_webpack_manifest_is_not_renamed(make_build: MakeBuild) -> None:
    root = make_build(
        {
            "index.html": "<p>hi</p>",
            "report.css": CSS,
            "manifest.json": '{"report.css": "report.css"}',
        }
    )
    assert kinds(prepare(root))["report.css"] == FileKind.PLAIN


def test_a_web_app_manifest_is_not_read_as_a_webpack_manifest(make_build: MakeBuild) -> None:
    root = make_build(
        {
            "index.html": '<img src="icon.png">',
            "icon.png": b"\x89PNG",
            "manifest.json": '{"name": "App", "icons": [{"src": "icon.png"}]}',
        }
    )
    assert kinds(prepare(root))["icon.png"] == FileKind.PLAIN


# --------------------------------------------------------------------------------------------
# The property: whatever the build, a renamed file's old name is written nowhere any more.

_NAME_CHARS = st.sampled_from(list("abcxyz019-_ ") + ["\u00e9", "%", "\u4e2d"])
_STEMS = (
    st.text(_NAME_CHARS, min_size=1, max_size=6)
    .map(str.strip)
    .filter(lambda s: s and not s.startswith((".", "-")))
)
_PLACES = st.sampled_from(
    [
        "img",  # <img src>
        "a",  # <a href>
        "script",  # inline script string
        "js",  # a JS file string
        "css",  # url() in the stylesheet
        "txt",  # a route payload
        "none",
    ]
)


def _write_reference(place: str, url: str, raw: str) -> tuple[str, str, str, str]:
    """(html, js, css, txt) pieces naming the file at `place`."""
    return {
        "img": (f'<img src="{url}">', "", "", ""),
        "a": (f'<a href="{url}">x</a>', "", "", ""),
        "script": (f'<script>load("{raw}")</script>', "", "", ""),
        "js": ("", f'load("{raw}");', "", ""),
        "css": ("", "", f'a{{background:url("../{url}")}}', ""),
        "txt": ("", "", "", f'["/{raw}"]'),
        "none": ("", "", "", ""),
    }[place]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    files=st.dictionaries(
        _STEMS, st.lists(_PLACES, min_size=1, max_size=3), min_size=1, max_size=4
    ),
    encode=st.booleans(),
)
def test_no_text_names_a_renamed_file_by_its_old_name(
    tmp_path_factory: pytest.TempPathFactory, files: dict[str, list[str]], encode: bool
) -> None:
    from urllib.parse import quote

    root = tmp_path_factory.mktemp("build")
    html: list[str] = ['<link rel=stylesheet href="css/site.css">']
    js: list[str] = []
    css: list[str] = ["p{}"]
    txt: list[str] = []
    for stem, places in files.items():
        raw = f"img/{stem}.png"
        url = quote(raw) if encode or "%" in raw else raw  # a literal % must be escaped
        (root / "img").mkdir(exist_ok=True)
        (root / raw).write_bytes(b"\x89PNG" + stem.encode())
        for place in places:
            pieces = _write_reference(place, url, quote(raw) if encode and place == "js" else raw)
            for bucket, piece in zip((html, js, css, txt), pieces, strict=True):
                bucket.append(piece)
    (root / "css").mkdir()
    (root / "index.html").write_text("".join(html))
    (root / "css/site.css").write_text("".join(css))
    (root / "app.js").write_text("".join(js))
    (root / "data.txt").write_text("".join(txt))

    result = prepare(root)
    renamed = [f.source for f in result.files if f.key != f.source]
    index = NameIndex(renamed)
    for file in result.files:
        data = file.local_path.read_bytes()
        if not is_searchable(file.key, data):
            continue
        leftover = [(data[s:e], owners) for s, e, owners in index.find(data)]
        assert not leftover, f"{file.key} still names {leftover}"
    # And what only <img src> and url() name is renamed, unless another file's name ends in
    # its name ("b a.png" names "a.png" too): the proof is no blanket refusal.
    for stem, places in files.items():
        name = f"{stem}.png"
        shadowed = any(other != stem and f"{other}.png".endswith(name) for other in files)
        if set(places) <= {"img", "css"} and not shadowed:
            assert f"img/{name}" in renamed, (stem, places)
