"""Scan + classify + rewrite + hash over real build folders: names and rewritten bytes."""

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any, cast

import pytest
from checks import Reads
from fixture_types import MakeBuild

from assetpub.build.classify import FileKind
from assetpub.build.prepare import PreparedBuild, PrepareOptions, prepare_build
from assetpub.build.scan import scan_build
from assetpub.errors import BuildError
from assetpub.settings import DEFAULT_ENTRY_PATTERNS, DEFAULT_HASHED_NAME_PATTERNS


def prepare(build: Path, tmp_path: Path, **options: Any) -> PreparedBuild:
    opts = PrepareOptions(DEFAULT_ENTRY_PATTERNS, DEFAULT_HASHED_NAME_PATTERNS, **options)
    return prepare_build(scan_build(build), opts, Path(tempfile.mkdtemp(dir=tmp_path)))


def published(result: PreparedBuild, source: str) -> bytes:
    return next(f for f in result.files if f.source == source).local_path.read_bytes()


def key_of(result: PreparedBuild, source: str) -> str:
    return result.file_map[source]


def short_sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:12]


SITE: dict[str, str | bytes] = {
    "index.html": (
        "<!doctype html><html><head><link rel=stylesheet href=css/site.css>"
        '<link rel="icon" href="favicon.ico"></head>\n'
        '<body><img src="img/caf%C3%A9.png?v=2#x" alt="caf\u00e9 &amp; co">'
        "<script defer src=main.4978e1e1d5ce0a1ff0a4.js></script></body></html>\n"
    ),
    "css/site.css": '@import "base.css";\nbody{background:url(  ../img/bg.png  )}\n',
    "css/base.css": "h1{background-image:image-set('../img/bg.png' 1x)}\n",
    "img/bg.png": b"\x89PNG bg",
    "img/caf\u00e9.png": b"\x89PNG cafe",
    "favicon.ico": b"ico",
    "main.4978e1e1d5ce0a1ff0a4.js": "console.log(1)\n",
}


def test_hashes_in_dependency_order_and_rewrites_every_reference(
    make_build: MakeBuild, tmp_path: Path
) -> None:
    result = prepare(make_build(SITE), tmp_path)
    bg = key_of(result, "img/bg.png")
    assert bg == f"img/bg.{short_sha(cast(bytes, SITE['img/bg.png']))}.png"
    base_css = published(result, "css/base.css")
    assert base_css == f"h1{{background-image:image-set('../{bg}' 1x)}}\n".encode()
    # base.css's name is the hash of its rewritten bytes, so site.css's @import changes with it.
    assert key_of(result, "css/base.css") == f"css/base.{short_sha(base_css)}.css"
    site_css = published(result, "css/site.css")
    base_name = key_of(result, "css/base.css").removeprefix("css/")
    assert site_css == (f'@import "{base_name}";\nbody{{background:url(  ../{bg}  )}}\n'.encode())
    assert key_of(result, "css/site.css") == f"css/site.{short_sha(site_css)}.css"

    html = published(result, "index.html").decode()
    site_name = key_of(result, "css/site.css")
    cafe = key_of(result, "img/caf\u00e9.png")
    assert cafe.startswith("img/caf\u00e9.") and cafe.endswith(".png")
    cafe_hash = cafe.split(".")[1]
    # Only the references changed: unquoted stays unquoted, percent-encoding and query kept.
    assert html == cast(str, SITE["index.html"]).replace("css/site.css", site_name).replace(
        "img/caf%C3%A9.png", f"img/caf%C3%A9.{cafe_hash}.png"
    )
    kinds = {f.source: f.kind for f in result.files}
    assert kinds["favicon.ico"] == FileKind.ENTRY
    assert kinds["main.4978e1e1d5ce0a1ff0a4.js"] == FileKind.BUNDLER
    assert key_of(result, "favicon.ico") == "favicon.ico"


def test_names_are_deterministic_across_builds(make_build: MakeBuild, tmp_path: Path) -> None:
    first = prepare(make_build(SITE), tmp_path)
    second = prepare(make_build(SITE), tmp_path)
    assert first.file_map == second.file_map
    assert published(first, "index.html") == published(second, "index.html")


def test_headers_by_kind(make_build: MakeBuild, tmp_path: Path) -> None:
    # webpack without [contenthash]: the runtime names its numeric chunks.
    runtime = 'r.u=e=>"other/"+e+".js";load("other/480.js")'
    site = {**SITE, "other/480.js": "chunk", "main.4978e1e1d5ce0a1ff0a4.js": runtime}
    result = prepare(make_build(site), tmp_path)
    by_source = {f.source: f for f in result.files}
    assert by_source["index.html"].cache_control == "no-cache"
    assert by_source["index.html"].content_type == "text/html; charset=utf-8"
    assert by_source["css/site.css"].cache_control == "public, max-age=31536000, immutable"
    assert by_source["css/site.css"].content_type == "text/css; charset=utf-8"
    assert by_source["main.4978e1e1d5ce0a1ff0a4.js"].cache_control.endswith("immutable")
    assert "immutable" not in by_source["other/480.js"].cache_control
    assert any("other/480.js" in w and "contenthash" in w for w in result.warnings)


def test_public_url_makes_rewritten_references_absolute(
    make_build: MakeBuild, tmp_path: Path
) -> None:
    result = prepare(make_build(SITE), tmp_path, public_url="https://cdn.example.com/app/")
    html = published(result, "index.html").decode()
    assert f"href=https://cdn.example.com/app/{key_of(result, 'css/site.css')}>" in html
    # The non-ASCII name is percent-encoded in an absolute URL; the query string is kept.
    assert "https://cdn.example.com/app/img/caf%C3%A9." in html and ".png?v=2#x" in html


# A Vite build (default base '/': every URL root-relative) with a public folder and a
# stylesheet of the site's own, as a preview under a prefix receives it.
PREVIEW_SITE: dict[str, str | bytes] = {
    "index.html": (
        '<!doctype html><head><script type="module" src="/assets/index-BxY2k9aQ.js"></script>'
        '<link rel="modulepreload" href="/assets/vendor-Ab12Cd34.js">'
        "<link rel=stylesheet href=/assets/index-Zx81Qw7e.css>"
        '<link rel="stylesheet" href="css/site.css"><link rel=icon href=/favicon.ico>'
        '<script src="https://cdn.other.example/lib.js"></script></head>'
        '<body><img src="/logo.svg?v=1#top" srcset="/logo.svg 1x, img/big.png 2x">'
        '<img src="data:image/gif;base64,R0lGOD"><a href="/about.html">about</a>'
        '<a href="#top">top</a><img src="/gone.png"></body>\n'
    ),
    "about.html": "<p>about</p>",
    "assets/index-BxY2k9aQ.js": 'import "./vendor-Ab12Cd34.js";fetch("/assets/data-Cd34Ef56.json")',
    "assets/vendor-Ab12Cd34.js": "export const v = 1",
    "assets/data-Cd34Ef56.json": "{}",
    "assets/index-Zx81Qw7e.css": "body{background:url(/img/big.png)}",
    "css/site.css": "h1{background:url(/img/big.png)}h2{background:url(../logo.svg)}",
    "favicon.ico": b"ico",
    "logo.svg": "<svg/>",
    "img/big.png": b"\x89PNG big",
}


def test_public_url_applies_to_every_reference_of_pages_and_stylesheets_to_the_build(
    make_build: MakeBuild, tmp_path: Path
) -> None:
    cdn = "https://cdn.example/pr-42/"
    result = prepare(make_build(PREVIEW_SITE), tmp_path, public_url=cdn)
    kinds = {f.source: f.kind for f in result.files}
    assert kinds["assets/index-BxY2k9aQ.js"] == FileKind.BUNDLER
    assert kinds["favicon.ico"] == FileKind.ENTRY
    # The bundler's stylesheet names it, and assetpub never rewrites bundler output.
    assert kinds["img/big.png"] == FileKind.PLAIN
    site_css, logo = key_of(result, "css/site.css"), key_of(result, "logo.svg")
    assert logo != "logo.svg"  # only references name it: renamed
    # Hashed, bundler-hashed, plain and entry files alike, root-relative or relative, in src, href,
    # modulepreload and srcset; queries and fragments kept.
    expected = (
        cast(str, PREVIEW_SITE["index.html"])
        .replace('"/assets/', f'"{cdn}assets/')
        .replace("=/assets/", f"={cdn}assets/")
        .replace('"css/site.css"', f'"{cdn}{site_css}"')
        .replace("=/favicon.ico", f"={cdn}favicon.ico")
        .replace('"/logo.svg?v=1#top"', f'"{cdn}{logo}?v=1#top"')
        .replace('"/logo.svg 1x, img/big.png 2x"', f'"{cdn}{logo} 1x, {cdn}img/big.png 2x"')
    )
    # External, data:, navigable (<a href>), fragment-only and missing references: as written.
    assert 'src="https://cdn.other.example/lib.js"' in expected
    assert '<a href="/about.html">' in expected and '<img src="/gone.png">' in expected
    assert published(result, "index.html").decode() == expected
    # The site's own stylesheet too; the bundler's output is the bundler's (its base setting).
    assert published(result, "css/site.css") == (
        f"h1{{background:url({cdn}img/big.png)}}h2{{background:url({cdn}{logo})}}".encode()
    )
    bundler_css = cast(str, PREVIEW_SITE["assets/index-Zx81Qw7e.css"])
    assert published(result, "assets/index-Zx81Qw7e.css") == bundler_css.encode()
    # Without a public URL nothing but renamed references changes.
    plain = prepare(make_build(PREVIEW_SITE), tmp_path)
    html = published(plain, "index.html").decode()
    assert html == cast(str, PREVIEW_SITE["index.html"]).replace(
        "css/site.css", key_of(plain, "css/site.css")
    ).replace("/logo.svg", "/" + key_of(plain, "logo.svg"))


def test_public_url_does_not_touch_a_source_map_comment_of_a_plain_map(
    make_build: MakeBuild, tmp_path: Path
) -> None:
    # sourceMappingURL resolves against the script, which is served from the public URL.
    script = "console.log(1)\n//# sourceMappingURL=app.js.map\n"
    build = make_build(
        {"index.html": "<script src=app.js></script>", "app.js": script, "app.js.map": "{}"}
    )
    result = prepare(build, tmp_path, public_url="https://cdn.example/pr-1/")
    assert (
        f"https://cdn.example/pr-1/{key_of(result, 'app.js')}"
        in published(result, "index.html").decode()
    )
    assert key_of(result, "app.js.map") != "app.js.map"  # renamed: the comment follows it
    assert published(result, "app.js").decode() == script.replace(
        "app.js.map", f"https://cdn.example/pr-1/{key_of(result, 'app.js.map')}"
    )


def test_missing_reference_warns_or_fails_with_strict(
    make_build: MakeBuild, tmp_path: Path
) -> None:
    build = make_build({"index.html": '<img src="gone.png"><img src="../../etc/passwd">'})
    result = prepare(build, tmp_path)
    assert any("index.html" in w and "gone.png" in w for w in result.warnings)
    assert any("outside the build" in w for w in result.warnings)
    with pytest.raises(BuildError, match="gone.png"):
        prepare(build, tmp_path, strict=True)


def test_reference_cycle_is_an_error_naming_it(make_build: MakeBuild, tmp_path: Path) -> None:
    build = make_build(
        {
            "index.html": "<link rel=stylesheet href=a.css>",
            "a.css": '@import "b.css";',
            "b.css": '@import "a.css";',
        }
    )
    with pytest.raises(BuildError, match=r"cycle.*a\.css -> b\.css -> a\.css"):
        prepare(build, tmp_path)


def test_file_named_in_js_keeps_its_name(make_build: MakeBuild, tmp_path: Path) -> None:
    build = make_build(
        {
            "index.html": '<img src="logo.png"><script src="app.js"></script>',
            "app.js": 'document.body.style.background="url("+__p+"logo.png)"\n'
            "//# sourceMappingURL=app.js.map\n",
            "app.js.map": "{}",
            "logo.png": b"png",
        }
    )
    result = prepare(build, tmp_path)
    assert key_of(result, "logo.png") == "logo.png"
    # The map's name only appears in the comment, which assetpub rewrites itself.
    map_key = key_of(result, "app.js.map")
    assert map_key != "app.js.map"
    app = published(result, "app.js").decode()
    assert app.endswith(f"//# sourceMappingURL={map_key}\n")
    assert key_of(result, "app.js") == f"app.{short_sha(app.encode())}.js"


def test_html_bytes_outside_references_are_untouched(make_build: MakeBuild, tmp_path: Path) -> None:
    page = (
        "<!DOCTYPE html>\r\n<!-- <img src=a.png> -->\r\n<div   class = 'x'  >\xe9\r\n"
        "<img src = 'a.png' ><script>var s='<img src=a.png>'</script>\r\n"
    )
    result = prepare(make_build({"index.html": page, "a.png": b"a"}), tmp_path)
    new = key_of(result, "a.png")
    assert published(result, "index.html").decode() == page.replace(
        "src = 'a.png'", f"src = '{new}'"
    )


def test_non_utf8_html_round_trips(make_build: MakeBuild, tmp_path: Path) -> None:
    page = b"<p>caf\xe9</p><img src=a.png>"
    result = prepare(make_build({"index.html": page, "a.png": b"a"}), tmp_path)
    assert published(result, "index.html") == page.replace(
        b"a.png", key_of(result, "a.png").encode()
    )


def test_vite_build_keeps_vite_names_and_hashes_public_files(
    make_build: MakeBuild, tmp_path: Path
) -> None:
    """What `vite build` emits with the default base '/': root-relative URLs everywhere,
    8-character base64url hashes (with '-' and '_'), .vite/manifest.json, public/ files as-is."""
    vite_manifest = (
        '{"index.html": {"file": "assets/index-BxY3_a-Z.js", "css": ["assets/index-DiwrgTda.css"]},'
        ' "src/lazy.js": {"file": "assets/lazy-v-WhLitw.js", "isDynamicEntry": true}}'
    )
    build = make_build(
        {
            "index.html": (
                '<!doctype html><link rel="icon" type="image/svg+xml" href="/vite.svg">'
                '<script type="module" crossorigin src="/assets/index-BxY3_a-Z.js"></script>'
                '<link rel="stylesheet" crossorigin href="/assets/index-DiwrgTda.css">'
            ),
            "assets/index-BxY3_a-Z.js": 'import("/assets/lazy-v-WhLitw.js")',
            "assets/lazy-v-WhLitw.js": "export default 1",
            "assets/index-DiwrgTda.css": (
                '@font-face{src:url(/assets/inter-AbCd1234.woff2)format("woff2")}'
            ),
            "assets/inter-AbCd1234.woff2": b"font",
            "vite.svg": "<svg/>",
            ".vite/manifest.json": vite_manifest,
        }
    )
    result = prepare(build, tmp_path)
    kinds = {f.source: f.kind for f in result.files}
    assert ".vite/manifest.json" not in kinds
    for name in (
        "assets/index-BxY3_a-Z.js",
        "assets/lazy-v-WhLitw.js",
        "assets/index-DiwrgTda.css",
        "assets/inter-AbCd1234.woff2",
    ):
        assert kinds[name] == FileKind.BUNDLER and key_of(result, name) == name
    svg = key_of(result, "vite.svg")
    assert kinds["vite.svg"] == FileKind.HASHED and svg.startswith("vite.")
    html = published(result, "index.html").decode()
    assert f'href="/{svg}"' in html and 'src="/assets/index-BxY3_a-Z.js"' in html
    assert result.warnings == ()


def test_a_builds_own_asset_manifest_is_replaced_with_a_warning(
    make_build: MakeBuild, tmp_path: Path
) -> None:
    result = prepare(make_build({"index.html": "<p>", "asset-manifest.json": "{}"}), tmp_path)
    assert "asset-manifest.json" not in result.file_map
    assert any("own asset-manifest.json" in w for w in result.warnings)


def test_header_rules_override_by_pattern(make_build: MakeBuild, tmp_path: Path) -> None:
    from assetpub.build.headers import HeaderRule

    build = make_build(
        {"index.html": "<img src=a.png><a href=docs/x.pdf>", "docs/x.pdf": b"%PDF", "a.png": b"png"}
    )
    rules = (
        HeaderRule("docs/*.pdf", cache_control="public, max-age=3600"),
        HeaderRule("*.png", content_type="image/apng"),
    )
    result = prepare(build, tmp_path, header_rules=rules)
    by_source = {f.source: f for f in result.files}
    assert by_source["docs/x.pdf"].cache_control == "public, max-age=3600"
    assert by_source["docs/x.pdf"].content_type == "application/pdf"
    assert by_source["a.png"].content_type == "image/apng"
    assert by_source["a.png"].cache_control.endswith("immutable")  # the class default stays


def test_each_file_is_read_once_unless_rewritten(
    make_build: MakeBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One read gives a file's digests, references and mentions; only the files whose
    references change are read again (and not parsed again)."""
    reads = Reads(monkeypatch, streamed=False)
    from assetpub.build import rewrite

    monkeypatch.setattr(rewrite, "find_references", _fail_after(rewrite.find_references, calls=3))
    result = prepare(make_build(SITE), tmp_path)
    text_files = {"index.html", "css/site.css", "css/base.css", "main.4978e1e1d5ce0a1ff0a4.js"}
    rewritten = {"index.html", "css/site.css", "css/base.css"}
    assert reads.take() == sorted([*text_files, *rewritten])
    assert key_of(result, "css/site.css") != "css/site.css"


def _fail_after(function: Any, calls: int) -> Any:
    """`function`, which raises once called more than `calls` times (one parse per file)."""
    made: list[int] = []

    def limited(*args: Any) -> Any:
        made.append(1)
        assert len(made) <= calls, "a file was parsed twice"
        return function(*args)

    return limited


def test_a_file_changed_during_the_publish_is_refused(
    make_build: MakeBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The references' offsets come from the first read; bytes that changed since are never
    rewritten with them."""
    from assetpub.build import prepare as prepare_module

    seen: set[str] = set()
    read_bytes = prepare_module._read_bytes

    def changing(file: Any) -> bytes:
        data = read_bytes(file)
        if file.path == "css/site.css" and file.path in seen:
            return b"/* rewritten by a build still running */" + data
        seen.add(file.path)
        return data

    monkeypatch.setattr(prepare_module, "_read_bytes", changing)
    with pytest.raises(BuildError, match=r"css/site\.css changed while being published"):
        prepare(make_build(SITE), tmp_path)


def test_a_large_binary_of_unknown_type_is_streamed_not_read_whole(
    make_build: MakeBuild, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blob = b"\0\1" * (9 * 1024 * 1024)  # 18 MiB with NULs from the first byte: not text
    build = make_build({"index.html": "<a href=data.bin>data</a>", "data.bin": blob})
    whole = Reads(monkeypatch, streamed=False)
    result = prepare(build, tmp_path)
    assert whole.take() == ["index.html"]
    digests = next(f.digests for f in result.files if f.source == "data.bin")
    assert digests.sha256 == hashlib.sha256(blob).hexdigest() and digests.size == len(blob)


def test_base_href_is_where_a_pages_references_resolve_from(
    make_build: MakeBuild, tmp_path: Path
) -> None:
    """`<base href='/sub/'><img src='a.png'>` loads /sub/a.png, not /a.png: the rename and
    the rewritten reference follow the base; Angular's <base href="/"> in a nested page makes
    "styles.css" the root's stylesheet."""
    build = make_build(
        {
            "index.html": "<base href='/sub/'><img src='a.png'>",
            "about/index.html": '<base href="/"><link rel=stylesheet href="styles.css">',
            "a.png": b"root image",
            "sub/a.png": b"sub image",
            "styles.css": "p{}",
        }
    )
    result = prepare(build, tmp_path)
    sub_image = key_of(result, "sub/a.png")
    assert sub_image == f"sub/a.{short_sha(b'sub image')}.png"
    assert (
        published(result, "index.html")
        == f"<base href='/sub/'><img src='{sub_image.removeprefix('sub/')}'>".encode()
    )
    # Named by nothing, the root's a.png keeps its name and is published as a plain file.
    assert key_of(result, "a.png") == "a.png"
    styles = key_of(result, "styles.css")
    assert styles == f"styles.{short_sha(b'p{}')}.css"
    assert published(result, "about/index.html") == (
        f'<base href="/"><link rel=stylesheet href="{styles}">'.encode()
    )


@pytest.mark.parametrize("base", ["https://cdn.example.com/", "//cdn.example.com/x/", "../../"])
def test_base_href_outside_the_build_refuses_the_page(
    base: str, make_build: MakeBuild, tmp_path: Path
) -> None:
    build = make_build({"index.html": f"<base href='{base}'><img src=a.png>", "a.png": b"png"})
    with pytest.raises(BuildError, match=r"index\.html: <base href=.* does not name a folder"):
        prepare(build, tmp_path)


def test_each_file_is_uploaded_from_where_its_bytes_are(
    make_build: MakeBuild, tmp_path: Path
) -> None:
    """Original files, rewritten copies, symlinks and files in linked folders."""
    build = make_build(
        {
            "index.html": "<link rel=stylesheet href=css/site.css>",
            "css/site.css": "body{background:url(../img/bg.png)}",
            "img/bg.png": b"\x89PNG bg",
            "real/data.json": "[1]",
            "b.txt": "bee",
        }
    )
    os.symlink(build / "real", build / "linked")
    os.symlink(build / "b.txt", build / "c.txt")
    result = prepare(build, tmp_path)
    uploaded = {f.source: f.local_path.read_bytes() for f in result.files}
    image = b"\x89PNG bg"
    css = f"body{{background:url(../img/bg.{short_sha(image)}.png)}}".encode()
    assert uploaded == {
        "index.html": f"<link rel=stylesheet href={key_of(result, 'css/site.css')}>".encode(),
        "css/site.css": css,
        "img/bg.png": image,
        "real/data.json": b"[1]",
        "linked/data.json": b"[1]",
        "b.txt": b"bee",
        "c.txt": b"bee",
    }
    for file in result.files:
        assert hashlib.sha256(uploaded[file.source]).hexdigest() == file.digests.sha256


def test_a_publishs_record_reads_its_files_from_the_build(
    make_build: MakeBuild, tmp_path: Path
) -> None:
    """A new release's files are made from the prepared build when asked for (no second copy
    of each): the same mapping, path for path, as the record written and read back."""
    from datetime import UTC, datetime

    from assetpub.history.record import PreparedFiles, ReleaseRecord, build_release

    build = make_build(
        {
            "index.html": "<link rel=stylesheet href=css/site.css><script src=app.js></script>",
            "css/site.css": "body{background:url(../img/bg.png)}",
            "img/bg.png": b"\x89PNG",
            "app.js": "go()",
            "about/index.html": "<p>about",
        }
    )
    prepared = prepare(build, tmp_path)
    release = build_release(
        prepared, release_id="r", created_at=datetime.now(UTC), git_commit=None, message=None
    )
    files = release.files
    assert isinstance(files, PreparedFiles)
    paths = sorted(f.source for f in prepared.files)
    assert list(files) == paths and len(files) == len(paths)
    read = ReleaseRecord.from_json(release.to_json())
    assert dict(files.items()) == read.files and read == release
    for file in prepared.files:
        assert files[file.source].key == file.key and file.source in files
    assert "nothing.txt" not in files and files.get("nothing.txt") is None
    with pytest.raises(KeyError):
        files["css/site.cs"]
    # Made from files in any order (a build put together by hand), and never two of a path.
    shuffled = PreparedFiles(tuple(reversed(prepared.files)))
    assert list(shuffled) == paths and dict(shuffled.items()) == dict(files.items())
    with pytest.raises(ValueError, match="two files"):
        PreparedFiles((*prepared.files, prepared.files[0]))
