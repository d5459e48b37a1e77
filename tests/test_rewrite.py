"""Tests for assetpub.rewrite: which references are found, where, and the bytes a rewrite leaves."""

from __future__ import annotations

import json
import posixpath

import pytest
import tinycss2
from hypothesis import given
from hypothesis import strategies as st

from assetpub.build.rewrite import (
    Reference,
    find_css_references,
    find_html_references,
    find_references,
    find_sourcemap_reference,
    find_webpack_manifest_references,
    is_local_url,
    is_webpack_manifest,
    replace_references,
    resolve_reference,
    split_url,
)

# (kind, url, path as written, query and fragment as written)
Found = tuple[str, str, str, str]


def found(text: str, refs: list[Reference]) -> list[Found]:
    """What a test wants to see of each reference, read back from the text through its offsets."""
    assert_well_formed(text, refs)
    return [
        (ref.kind, ref.url, text[ref.start : ref.path_end], text[ref.path_end : ref.end])
        for ref in refs
    ]


def assert_well_formed(text: str, refs: list[Reference]) -> None:
    """Sorted, inside the text, not overlapping, path part inside the reference."""
    previous_end = 0
    for ref in refs:
        assert previous_end <= ref.start <= ref.path_end <= ref.end <= len(text)
        previous_end = ref.end


def hashed(path: str) -> str:
    """A stand-in for the hashed name: css/site.css -> css/site.3f2a1b9c0d4e.css."""
    stem, ext = posixpath.splitext(path)
    return f"{stem}.3f2a1b9c0d4e{ext}"


def rewrite_all(text: str, refs: list[Reference]) -> str:
    """Replace every reference's written path by its hashed form (same folder as written)."""
    return replace_references(text, [(ref, hashed(text[ref.start : ref.path_end])) for ref in refs])


def outside_paths(text: str, refs: list[Reference]) -> list[str]:
    """The stretches of `text` between the references' path parts."""
    chunks, pos = [], 0
    for ref in refs:
        chunks.append(text[pos : ref.start])
        pos = ref.path_end
    return [*chunks, text[pos:]]


def assert_only_paths_changed(name: str, before: str, after: str) -> None:
    """Finding references again in the output, everything but their paths is unchanged."""
    refs_before, refs_after = find_references(name, before), find_references(name, after)
    assert outside_paths(after, refs_after) == outside_paths(before, refs_before)
    assert [after[ref.start : ref.path_end] for ref in refs_after] == [
        hashed(before[ref.start : ref.path_end]) for ref in refs_before
    ]


# --------------------------------------------------------------------------------------------
# HTML


WEBPACK_PAGE = (
    "<!doctype html><html lang=en><head><meta charset=utf-8><title>App</title>"
    "<script defer=defer src=/static/js/main.4978.js></script>"
    "<link href=/static/css/main.css rel=stylesheet><link rel=icon href=favicon.ico>"
    "</head><body><noscript>You need JavaScript.</noscript><div id=root></div></body></html>"
)


def test_webpack_minified_html_with_unquoted_attributes() -> None:
    refs = find_html_references(WEBPACK_PAGE)
    assert found(WEBPACK_PAGE, refs) == [
        ("<script src>", "/static/js/main.4978.js", "/static/js/main.4978.js", ""),
        ("<link href>", "/static/css/main.css", "/static/css/main.css", ""),
        ("<link href>", "favicon.ico", "favicon.ico", ""),
    ]


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        pytest.param('<img src="a.png">', [("<img src>", "a.png", "a.png", "")], id="double"),
        pytest.param("<img src='a.png'>", [("<img src>", "a.png", "a.png", "")], id="single"),
        pytest.param("<img src=a.png>", [("<img src>", "a.png", "a.png", "")], id="unquoted"),
        pytest.param(
            "<img\n  SRC = 'a.png?v=2#x'\n>",
            [("<img src>", "a.png?v=2#x", "a.png", "?v=2#x")],
            id="case-and-spaces",
        ),
        pytest.param("<img src=a.png />", [("<img src>", "a.png", "a.png", "")], id="self-closing"),
        # The HTML tokenizer keeps the '/' of an unquoted value: browsers fetch "a.png/".
        pytest.param("<img src=a.png/>", [("<img src>", "a.png/", "a.png/", "")], id="slash"),
        pytest.param('<img src="  a.png\n">', [("<img src>", "a.png", "a.png", "")], id="trimmed"),
        pytest.param('<img src="">', [], id="empty"),
        pytest.param('<img src="   ">', [], id="blank"),
        pytest.param("<img alt src>", [], id="no-value"),
        pytest.param(
            "<img src=first.png src=second.png>",
            [("<img src>", "first.png", "first.png", "")],
            id="duplicate-first-wins",
        ),
        pytest.param('<img data-src="lazy.png" alt="src=x.png">', [], id="other-attributes"),
        pytest.param(
            '<img alt="a > b" src="a.png">',
            [("<img src>", "a.png", "a.png", "")],
            id="gt-in-quoted-value",
        ),
        pytest.param(
            "<script src=app.js type=module></script>",
            [("<script src>", "app.js", "app.js", "")],
            id="script",
        ),
        pytest.param(
            "<video src=v.mp4 poster=p.jpg><source src=v.webm><track src=c.vtt></video>",
            [
                ("<video src>", "v.mp4", "v.mp4", ""),
                ("<video poster>", "p.jpg", "p.jpg", ""),
                ("<source src>", "v.webm", "v.webm", ""),
                ("<track src>", "c.vtt", "c.vtt", ""),
            ],
            id="video",
        ),
        pytest.param(
            "<audio src=a.mp3></audio><embed src=e.swf><input type=image src=go.png>"
            "<iframe src=frame.html></iframe><object data=o.svg></object>",
            [
                ("<audio src>", "a.mp3", "a.mp3", ""),
                ("<embed src>", "e.swf", "e.swf", ""),
                ("<input src>", "go.png", "go.png", ""),
                ("<object data>", "o.svg", "o.svg", ""),
            ],
            id="other-elements",
        ),
        pytest.param('<a href="page.html">x</a>', [], id="a-href-kept"),
        pytest.param('<iframe src="frame.html"></iframe>', [], id="iframe-is-a-page"),
        pytest.param(
            '<link rel="alternate" type="application/rss+xml" href="/blog/rss.xml">'
            '<link rel=canonical href=/docs/><link rel="manifest" href="/site.webmanifest">'
            "<link rel=next href=page2.html><link rel=search href=/opensearch.xml>"
            "<link href=no-rel.css><link rel=preconnect href=/x>",
            [],
            id="link-not-a-subresource",
        ),
        pytest.param(
            '<link rel="alternate stylesheet" href=dark.css><link rel="SHORTCUT ICON" href=f.png>'
            '<link rel="modulepreload" href=/m.js><link rel=apple-touch-icon href=t.png>'
            '<link rel="prefetch" href=next.js><link rel=mask-icon href=m.svg>',
            [
                ("<link href>", "dark.css", "dark.css", ""),
                ("<link href>", "f.png", "f.png", ""),
                ("<link href>", "/m.js", "/m.js", ""),
                ("<link href>", "t.png", "t.png", ""),
                ("<link href>", "next.js", "next.js", ""),
                ("<link href>", "m.svg", "m.svg", ""),
            ],
            id="link-subresource-rels",
        ),
        pytest.param('<area href="map.html"><form action="post.php">', [], id="not-loaded"),
        pytest.param(
            '<link rel="preload" as="font" href="/f.woff2" crossorigin>',
            [("<link href>", "/f.woff2", "/f.woff2", "")],
            id="link-preload",
        ),
        pytest.param(
            '<template><img src="t.png"></template>',
            [("<img src>", "t.png", "t.png", "")],
            id="template-content",
        ),
    ],
)
def test_html_attribute(html: str, expected: list[Found]) -> None:
    assert found(html, find_html_references(html)) == expected


@pytest.mark.parametrize(
    "html",
    [
        pytest.param('<img src="https://cdn.example.com/a.png">', id="https"),
        pytest.param('<img src="http://example.com/a.png">', id="http"),
        pytest.param('<img src="//cdn.example.com/a.png">', id="protocol-relative"),
        pytest.param('<link rel=icon href="data:image/png;base64,iVBORw0KGgo=">', id="data"),
        pytest.param('<link href="mailto:someone@example.com">', id="mailto"),
        pytest.param('<img src="#top">', id="fragment"),
        pytest.param('<img src="javascript:void(0)">', id="javascript"),
        pytest.param('<img src="blob:https://x/1">', id="blob"),
        pytest.param('<img src="about:blank">', id="about"),
    ],
)
def test_html_non_local_urls_are_skipped(html: str) -> None:
    assert find_html_references(html) == []


@pytest.mark.parametrize(
    ("srcset", "expected"),
    [
        pytest.param(
            "small.jpg 480w, medium.jpg 800w,large.jpg 1200w",
            [
                ("srcset", "small.jpg", "small.jpg", ""),
                ("srcset", "medium.jpg", "medium.jpg", ""),
                ("srcset", "large.jpg", "large.jpg", ""),
            ],
            id="widths",
        ),
        pytest.param(
            "data:image/png;base64,iVBO,Rw0K 1x, hi.png?v=3 2x",
            [("srcset", "hi.png?v=3", "hi.png", "?v=3")],
            id="data-uri-with-commas",
        ),
        pytest.param(
            "\n  a.png\t1x ,\n  b.png 2x  ",
            [("srcset", "a.png", "a.png", ""), ("srcset", "b.png", "b.png", "")],
            id="whitespace",
        ),
        pytest.param("only.png", [("srcset", "only.png", "only.png", "")], id="no-descriptor"),
        pytest.param(
            "a.png,, b.png 2x",
            [("srcset", "a.png", "a.png", ""), ("srcset", "b.png", "b.png", "")],
            id="trailing-commas-end-url",
        ),
        # The spec reads "a.png,b.png" as one URL: a comma only splits after whitespace.
        pytest.param(
            "a.png,b.png 2x", [("srcset", "a.png,b.png", "a.png,b.png", "")], id="comma-in-url"
        ),
        pytest.param(
            "a.png 1x (odd, descriptor), b.png 2x",
            [("srcset", "a.png", "a.png", ""), ("srcset", "b.png", "b.png", "")],
            id="comma-in-parentheses",
        ),
        pytest.param(
            "https://cdn/x.png 1x, local.png 2x",
            [("srcset", "local.png", "local.png", "")],
            id="absolute-candidate-skipped",
        ),
        pytest.param(
            "a.png?x=1&amp;y=2 2x", [("srcset", "a.png?x=1&y=2", "a.png", "?x=1&amp;y=2")]
        ),
        pytest.param(" , ,", [], id="only-separators"),
    ],
)
def test_srcset_candidates(srcset: str, expected: list[Found]) -> None:
    html = f'<img src="fallback.png" srcset="{srcset}" alt="">'
    refs = [ref for ref in find_html_references(html) if ref.kind == "srcset"]
    assert found(html, refs) == expected


def test_srcset_on_source_and_imagesrcset_on_link() -> None:
    html = (
        "<picture><source type=image/avif srcset='a.avif 1x, a2.avif 2x'><img src=a.jpg></picture>"
        '<link rel=preload as=image imagesrcset="p.png 1x, p2.png 2x">'
    )
    assert [(ref.kind, ref.url) for ref in find_html_references(html)] == [
        ("srcset", "a.avif"),
        ("srcset", "a2.avif"),
        ("<img src>", "a.jpg"),
        ("srcset", "p.png"),
        ("srcset", "p2.png"),
    ]


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        pytest.param(
            '<img src="a.png?x=1&amp;y=2">',
            [("<img src>", "a.png?x=1&y=2", "a.png", "?x=1&amp;y=2")],
            id="amp",
        ),
        pytest.param(
            "<img src=img/caf&eacute;.png>",
            [("<img src>", "img/café.png", "img/caf&eacute;.png", "")],
            id="named",
        ),
        pytest.param(
            "<img src='a&#46;png&#x3F;v=1'>",
            [("<img src>", "a.png?v=1", "a&#46;png", "&#x3F;v=1")],
            id="numeric-question-mark-splits",
        ),
        # A legacy name without ';' followed by '=' stays literal in attributes.
        pytest.param(
            "<img src=x.png?a=1&copy=2>",
            [("<img src>", "x.png?a=1&copy=2", "x.png", "?a=1&copy=2")],
            id="legacy-before-equals",
        ),
        pytest.param(
            "<img src='x.png?a&b'>",
            [("<img src>", "x.png?a&b", "x.png", "?a&b")],
            id="bare-ampersand",
        ),
    ],
)
def test_character_references_are_decoded_but_offsets_stay_raw(
    html: str, expected: list[Found]
) -> None:
    assert found(html, find_html_references(html)) == expected


def test_html_comments_script_bodies_and_text_are_not_references() -> None:
    html = (
        "<!-- <img src=commented.png> -->\n"
        '<p>Write src="text.png" or url(text.png) here.</p>\n'
        '<script>document.write(\'<img src="x.js">\'); var s = "<script src=y.js>";</script>\n'
        "<script type=module>import('./chunk.js')</script>\n"
        "<textarea><img src=typed.png></textarea><title><img src=title.png></title>\n"
        "<img src=real.png>"
    )
    assert [ref.url for ref in find_html_references(html)] == ["real.png"]


def test_bogus_markup_does_not_stop_the_scan() -> None:
    # html.parser raises AssertionError on an unknown "<![...[" section; browsers read a bogus
    # comment up to the first '>'.
    html = "<![if !IE]><img src=a.png><![endif]><![foo[ x ]]><img src=b.png><?php x ?>"
    assert [ref.url for ref in find_html_references(html)] == ["a.png", "b.png"]


def test_inline_style_element_offsets_are_into_the_whole_document() -> None:
    html = (
        "<html><head>\r\n<style>\r\n"
        "/* url(commented.png) */\r\n"
        "@import 'theme.css';\r\n"
        "body { background: url( img/bg.png?v=2 ) }\r\n"
        ".a { background: image-set('a.png' 1x, url(a2.png) 2x) }\r\n"
        "</style>\r\n<style>.b{background:url(b.png)}</style></head></html>"
    )
    assert found(html, find_html_references(html)) == [
        ("@import", "theme.css", "theme.css", ""),
        ("url()", "img/bg.png?v=2", "img/bg.png", "?v=2"),
        ("image-set()", "a.png", "a.png", ""),
        ("image-set()", "a2.png", "a2.png", ""),
        ("url()", "b.png", "b.png", ""),
    ]


def test_unclosed_style_runs_to_the_end() -> None:
    html = "<style>a{background:url(x.png)}"
    assert [ref.url for ref in find_html_references(html)] == ["x.png"]


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        pytest.param(
            "<div style=\"background: url('hero.jpg') no-repeat\">",
            [("style url()", "hero.jpg", "hero.jpg", "")],
            id="quoted",
        ),
        pytest.param(
            '<div style="background:url(&quot;a&amp;b.png&quot;)">',
            [("style url()", "a&b.png", "a&amp;b.png", "")],
            id="entities",
        ),
        pytest.param(
            "<div style='background-image:image-set(\"x.png\" 1x)'>",
            [("style image-set()", "x.png", "x.png", "")],
            id="image-set",
        ),
        pytest.param('<span style="/* url(no.png) */ color: red">', [], id="css-comment"),
        pytest.param('<div style="background:url(data:image/gif;base64,R0lGOD)">', [], id="data"),
    ],
)
def test_style_attribute(html: str, expected: list[Found]) -> None:
    assert found(html, find_html_references(html)) == expected


def test_html_offsets_survive_crlf_multiline_tags_and_non_ascii() -> None:
    html = (
        "<p>héllo — ünïcode</p>\r\n<img\r\n  alt='x'\r\n  src=\"ü/ç.png\"\r\n>\r\n<img src=z.png>"
    )
    refs = find_html_references(html)
    assert found(html, refs) == [
        ("<img src>", "ü/ç.png", "ü/ç.png", ""),
        ("<img src>", "z.png", "z.png", ""),
    ]


@pytest.mark.parametrize(
    "html",
    [
        '<img src="a.png',  # unterminated quote at the end
        "<img src=a.png",  # unterminated tag
        "<img src='a.png'><",
        "<img src=a.png><!-- never closed <img src=b.png>",
        "<script>never closed <img src=b.png>",
        '<img src="a.png"\n<img src="b.png">',
        "<img =src=a.png src=b.png>",
        "<img src=&>",
        "<img src='&#xD800;.png' srcset='&#0; 1x'>",
        "<![CDATA[<img src=a.png>]]><img src=b.png>",
        "</img src=a.png><img src=b.png>",
        "<img src=a.png\0b.png>",
        "&&&<<<>>>\"\"'';;",
    ],
)
def test_malformed_html_is_read_without_errors(html: str) -> None:
    refs = find_html_references(html)
    assert_well_formed(html, refs)
    assert replace_references(html, [(ref, html[ref.start : ref.path_end]) for ref in refs]) == html


def test_lone_surrogates_do_not_choke() -> None:
    # The caller decodes with surrogateescape, so undecodable bytes arrive as lone surrogates.
    html = '<p>\udcff</p><img alt=\udce9 src="caf\udce9.png"><style>a{b:url(\udc80.png)}</style>'
    refs = find_html_references(html)
    assert [ref.url for ref in refs] == ["caf\udce9.png", "\udc80.png"]
    assert rewrite_all(html, refs) == (
        '<p>\udcff</p><img alt=\udce9 src="caf\udce9.3f2a1b9c0d4e.png">'
        "<style>a{b:url(\udc80.3f2a1b9c0d4e.png)}</style>"
    )


# --------------------------------------------------------------------------------------------
# CSS


@pytest.mark.parametrize(
    ("css", "expected"),
    [
        pytest.param("a{b:url(x.png)}", [("url()", "x.png", "x.png", "")], id="unquoted"),
        pytest.param(
            "a{b:url(  x.png?v=2  )}",
            [("url()", "x.png?v=2", "x.png", "?v=2")],
            id="unquoted-spaces",
        ),
        pytest.param('a{b:url("x.png")}', [("url()", "x.png", "x.png", "")], id="double"),
        pytest.param("a{b:url( 'x.png#f' )}", [("url()", "x.png#f", "x.png", "#f")], id="single"),
        pytest.param("a{b:URL(X.PNG)}", [("url()", "X.PNG", "X.PNG", "")], id="upper-case"),
        pytest.param(
            r"a{b:url(a\ b.png)}", [("url()", "a b.png", r"a\ b.png", "")], id="escaped-space"
        ),
        pytest.param(
            r"a{b:url(caf\e9 .png)}",
            [("url()", "café.png", r"caf\e9 .png", "")],
            id="hex-escape-eats-space",
        ),
        pytest.param(
            r"a{b:url('it\'s.png')}", [("url()", "it's.png", r"it\'s.png", "")], id="escaped-quote"
        ),
        pytest.param(
            r"a{b:url(a\3f .png?v=1)}",
            [("url()", "a?.png?v=1", r"a", r"\3f .png?v=1")],
            id="escaped-question-mark",
        ),
        pytest.param(
            r"a{b:u\72l(x.png)}", [("url()", "x.png", "x.png", "")], id="escaped-function-name"
        ),
        pytest.param("@import 'x.css';", [("@import", "x.css", "x.css", "")], id="import-string"),
        pytest.param(
            '@import "x.css" screen;', [("@import", "x.css", "x.css", "")], id="import-media"
        ),
        pytest.param(
            "@import url(x.css) screen and (min-width: 40em);",
            [("@import", "x.css", "x.css", "")],
            id="import-url",
        ),
        pytest.param(
            '@import /* why */ url("x.css");',
            [("@import", "x.css", "x.css", "")],
            id="import-comment",
        ),
        pytest.param('a{content:"x.png"}', [], id="plain-string-is-not-a-url"),
        pytest.param(
            "@font-face{font-family:F;"
            "src:url(/a.woff2)format(\"woff2\"),url(a.woff) format('woff')}",
            [("url()", "/a.woff2", "/a.woff2", ""), ("url()", "a.woff", "a.woff", "")],
            id="font-face-minified",
        ),
        pytest.param(
            'a{b:image-set("a.png" 1x, url(b.png) 2x, url("c.png") type("image/avif") 3x)}',
            [
                ("image-set()", "a.png", "a.png", ""),
                ("image-set()", "b.png", "b.png", ""),
                ("image-set()", "c.png", "c.png", ""),
            ],
            id="image-set",
        ),
        pytest.param(
            "a{b:-webkit-image-set('a.png' 1x,'b.png' 2x)}",
            [("image-set()", "a.png", "a.png", ""), ("image-set()", "b.png", "b.png", "")],
            id="webkit-image-set",
        ),
        pytest.param("a{b:url(data:image/svg+xml;charset=utf8,%3Csvg%3E)}", [], id="data-unquoted"),
        pytest.param(
            "a{b:url(\"data:image/svg+xml,<svg xmlns='x'></svg>\")}", [], id="data-quoted"
        ),
        pytest.param(
            "a{b:url(https://x/a.png);c:url(//cdn/b.png);d:url(#filter)}", [], id="absolute"
        ),
        pytest.param("a{b:url()}", [], id="empty"),
        pytest.param("a{b:url(a b.png)}", [], id="bad-url"),
        pytest.param(
            "/* a{b:url(commented.png)} @import 'c.css'; */ a{b:url(real.png)}",
            [("url()", "real.png", "real.png", "")],
            id="comment",
        ),
        pytest.param(
            'a{content:"url(in-string.png)"} b{c:url(real.png)}',
            [("url()", "real.png", "real.png", "")],
            id="url-text-inside-string",
        ),
        pytest.param(
            "@media (min-width:1px){@supports (display:grid){a{b:url(deep.png)}}}",
            [("url()", "deep.png", "deep.png", "")],
            id="nested",
        ),
    ],
)
def test_css(css: str, expected: list[Found]) -> None:
    assert found(css, find_css_references(css)) == expected


@pytest.mark.parametrize(
    "newline", [pytest.param("\r\n", id="crlf"), pytest.param("\r", id="cr"), "\n", "\f"]
)
def test_css_offsets_are_right_whatever_the_newlines(newline: str) -> None:
    lines = [
        "/* header",
        "   url(skip.png) */",
        "@import 'base.css';",
        ".a {",
        "  background: url( img/a.png?v=1 );",
        '  mask: url("img/mask.svg#m");',
        "}",
        "",
        ".b{background:url(",
        "  img/b.png",
        ")}",
        r".c{background:url(x\20",
        "y.png)}",
        "/*# sourceMappingURL=site.css.map */",
    ]
    css = newline.join(lines)
    assert found(css, find_css_references(css)) == [
        ("@import", "base.css", "base.css", ""),
        ("url()", "img/a.png?v=1", "img/a.png", "?v=1"),
        ("url()", "img/mask.svg#m", "img/mask.svg", "#m"),
        ("url()", "img/b.png", "img/b.png", ""),
        # The hex escape swallows one whitespace, a newline included: "x y.png".
        ("url()", "x y.png", "x\\20" + newline + "y.png", ""),
        ("sourceMappingURL", "site.css.map", "site.css.map", ""),
    ]


@pytest.mark.parametrize(
    "written",
    [r"a\ b.png", r"\61 .png", r"caf\E9 x.png", r"a\\b.png", r"\(x\).png", r"\0 .png", "é.png"],
)
@pytest.mark.parametrize("quote", ["", '"', "'"])
def test_css_url_agrees_with_tinycss2_value(written: str, quote: str) -> None:
    css = f"a{{b:url({quote}{written}{quote})}}"
    block = tinycss2.parse_component_value_list(css)[1]
    token = block.content[-1]  # b : url(...)
    value = token.value if token.type == "url" else token.arguments[0].value
    [ref] = find_css_references(css)
    assert (ref.url, css[ref.start : ref.end]) == (value, written)


@pytest.mark.parametrize(
    ("css", "expected"),
    [
        pytest.param(
            "a{}\n/*# sourceMappingURL=site.css.map */\n",
            [("sourceMappingURL", "site.css.map", "site.css.map", "")],
            id="trailing",
        ),
        pytest.param(
            "/*# sourceMappingURL=old.map */\na{}\n/*@ sourceMappingURL=new.map?v=1 */",
            [("sourceMappingURL", "new.map?v=1", "new.map", "?v=1")],
            id="last-wins",
        ),
        pytest.param(
            "a{}\n/*# sourceMappingURL=data:application/json;base64,e30= */", [], id="data"
        ),
        pytest.param('a{content:"/*# sourceMappingURL=x.map */"}', [], id="inside-string"),
        pytest.param("a{}\n/* sourceMappingURL=x.map */", [], id="no-marker"),
    ],
)
def test_css_sourcemap_comment(css: str, expected: list[Found]) -> None:
    assert found(css, find_css_references(css)) == expected


# --------------------------------------------------------------------------------------------
# sourceMappingURL in JavaScript


@pytest.mark.parametrize(
    ("js", "expected"),
    [
        pytest.param(
            "console.log(1);\n//# sourceMappingURL=app.js.map\n",
            ("app.js.map", "app.js.map"),
            id="webpack",
        ),
        pytest.param(
            "x()\r\n//# sourceMappingURL=a.map\r\n//# sourceMappingURL=b.map?v=2  \r\n",
            ("b.map?v=2", "b.map"),
            id="last-line-wins-crlf",
        ),
        pytest.param("x()\n//@ sourceMappingURL=legacy.map", ("legacy.map", "legacy.map")),
        pytest.param("x()\n  /*# sourceMappingURL=block.map */\n", ("block.map", "block.map")),
        pytest.param(
            'var s = "//# sourceMappingURL=in-string.map";\n', None, id="not-at-line-start"
        ),
        pytest.param(
            'x()\n//# sourceMappingURL=real.map\nvar s="\\n//# sourceMappingURL=fake.map";',
            ("real.map", "real.map"),
            id="escaped-newline-in-string",
        ),
        pytest.param(
            "x()\n//# sourceMappingURL=data:application/json;base64,eyJ9\n", None, id="data"
        ),
        pytest.param("x()\n//# sourceMappingURL=\n", None, id="empty"),
        pytest.param("x()\n//# sourceMappingURL=a.map trailing words\n", None, id="not-a-url"),
        pytest.param("x()", None, id="none"),
    ],
)
def test_js_sourcemap(js: str, expected: tuple[str, str] | None) -> None:
    ref = find_sourcemap_reference(js)
    if expected is None:
        assert ref is None
    else:
        assert ref is not None
        assert (ref.url, js[ref.start : ref.path_end], ref.kind) == (*expected, "sourceMappingURL")


# --------------------------------------------------------------------------------------------
# Dispatch and URLs


@pytest.mark.parametrize(
    ("name", "urls"),
    [
        ("index.html", ["a.png"]),
        ("docs/PAGE.HTM", ["a.png"]),
        ("css/site.css", ["b.png", "site.css.map"]),
        ("js/app.js", ["app.js.map"]),
        ("js/app.mjs", ["app.js.map"]),
        ("js/app.cjs", ["app.js.map"]),
        ("data.json", []),
        ("image.svg", []),
        ("README", []),
    ],
)
def test_find_references_dispatches_on_extension(name: str, urls: list[str]) -> None:
    text = (
        "<img src=a.png>\n"
        "a{b:url(b.png)}\n"
        "/*# sourceMappingURL=site.css.map */\n"
        "//# sourceMappingURL=app.js.map\n"
    )
    assert [ref.url for ref in find_references(name, text)] == urls


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("a.png", True),
        ("./a.png", True),
        ("../a.png", True),
        ("/assets/a.png", True),
        ("a.png?v=1#x", True),
        ("./a:b.png", True),
        ("", False),
        ("   ", False),
        ("http://example.com/a.png", False),
        ("HTTPS://example.com/a.png", False),
        ("//cdn.example.com/a.png", False),
        ("\\\\cdn.example.com/a.png", False),
        ("data:image/png;base64,AA", False),
        ("blob:https://x/1", False),
        ("mailto:a@b.c", False),
        ("tel:+123", False),
        ("javascript:alert(1)", False),
        ("java\tscript:alert(1)", False),
        ("about:blank", False),
        ("ftp://x/y", False),
        ("c:/windows/a.png", False),
        ("#top", False),
        ("?page=2", False),
    ],
)
def test_is_local_url(url: str, local: bool) -> None:
    assert is_local_url(url) is local


@pytest.mark.parametrize(
    ("url", "parts"),
    [
        ("a.png", ("a.png", "")),
        ("a.png?v=2", ("a.png", "?v=2")),
        ("a.png#x", ("a.png", "#x")),
        ("a.png?v=2#x?y", ("a.png", "?v=2#x?y")),
        ("a.png#x?y", ("a.png", "#x?y")),
        ("?q", ("", "?q")),
    ],
)
def test_split_url(url: str, parts: tuple[str, str]) -> None:
    assert split_url(url) == parts


@pytest.mark.parametrize(
    ("referrer", "url", "resolved"),
    [
        ("css/site.css", "../img/a.png", "img/a.png"),
        ("css/site.css", "a.png", "css/a.png"),
        ("css/site.css", "./fonts/../a.png?v=1#x", "css/a.png"),
        ("css/site.css", "/img/a.png", "img/a.png"),
        ("index.html", "img//a.png", "img/a.png"),
        ("a/b/page.html", "../../img/a.png", "img/a.png"),
        ("index.html", "img/caf%C3%A9.png", "img/café.png"),
        ("index.html", "my%20file.png", "my file.png"),
        ("index.html", "img/café.png", "img/café.png"),
        ("index.html", "img/caf%E9.png", "img/caf\udce9.png"),  # Latin-1 bytes, as the walk
        ("index.html", "a/%2e%2E/b.png", "b.png"),
        ("x/index.html", "\\img\\a.png", "img/a.png"),
        ("index.html", " a.png ", "a.png"),
        ("css/site.css", "../../etc/passwd", None),
        ("index.html", "../a.png", None),
        ("index.html", "/../a.png", None),
        ("index.html", "img/", None),
        ("index.html", ".", None),
        ("index.html", "#top", None),
        ("index.html", "?v=1", None),
        ("index.html", "", None),
        ("index.html", "https://cdn/a.png", None),
        ("index.html", "a%2Fb.png", None),
    ],
)
def test_resolve_reference(referrer: str, url: str, resolved: str | None) -> None:
    assert resolve_reference(referrer, url) == resolved


# --------------------------------------------------------------------------------------------
# Replacing


REALISTIC_PAGE = """\
<!DOCTYPE html>
<html lang="fr">
<head>
  <meta charset="utf-8">
  <title>Caf&eacute; &amp; co</title>
  <link rel="preconnect" href="https://fonts.example.com">
  <link rel=stylesheet href=css/site.css?v=7>
  <link rel="icon" type="image/png" href="/favicon.png">
  <style>
    /* url(not-me.png) */
    .hero { background: url( "img/hero.jpg" ) center / cover; }
  </style>
  <script defer src=js/main.js></script>
</head>
<body>
  <!-- <img src="old.png"> -->
  <h1 title='src="fake.png"'>Bonjour</h1>
  <img src="img/caf%C3%A9.png?w=2&amp;h=3#top" alt="">
  <img srcset="img/a.png 1x, data:image/gif;base64,R0lG,ODlh 1.5x, img/a@2x.png 2x" src=img/a.png>
  <div style="background-image: url('img/bg.svg')"></div>
  <a href="about.html">About</a> <a href="#top">Top</a>
  <script>
    document.write('<img src="x.js">');
  </script>
</body>
</html>
"""

REALISTIC_PAGE_REWRITTEN = """\
<!DOCTYPE html>
<html lang="fr">
<head>
  <meta charset="utf-8">
  <title>Caf&eacute; &amp; co</title>
  <link rel="preconnect" href="https://fonts.example.com">
  <link rel=stylesheet href=css/site.3f2a1b9c0d4e.css?v=7>
  <link rel="icon" type="image/png" href="/favicon.3f2a1b9c0d4e.png">
  <style>
    /* url(not-me.png) */
    .hero { background: url( "img/hero.3f2a1b9c0d4e.jpg" ) center / cover; }
  </style>
  <script defer src=js/main.3f2a1b9c0d4e.js></script>
</head>
<body>
  <!-- <img src="old.png"> -->
  <h1 title='src="fake.png"'>Bonjour</h1>
  <img src="img/caf%C3%A9.3f2a1b9c0d4e.png?w=2&amp;h=3#top" alt="">
  <img srcset="img/a.3f2a1b9c0d4e.png 1x, data:image/gif;base64,R0lG,ODlh 1.5x, \
img/a@2x.3f2a1b9c0d4e.png 2x" src=img/a.3f2a1b9c0d4e.png>
  <div style="background-image: url('img/bg.3f2a1b9c0d4e.svg')"></div>
  <a href="about.html">About</a> <a href="#top">Top</a>
  <script>
    document.write('<img src="x.js">');
  </script>
</body>
</html>
"""


def test_realistic_page_rewrite_changes_only_the_reference_paths() -> None:
    refs = find_references("index.html", REALISTIC_PAGE)
    assert [(ref.kind, ref.url) for ref in refs] == [
        ("<link href>", "css/site.css?v=7"),
        ("<link href>", "/favicon.png"),
        ("url()", "img/hero.jpg"),
        ("<script src>", "js/main.js"),
        ("<img src>", "img/caf%C3%A9.png?w=2&h=3#top"),
        ("srcset", "img/a.png"),
        ("srcset", "img/a@2x.png"),
        ("<img src>", "img/a.png"),
        ("style url()", "img/bg.svg"),
    ]
    assert [resolve_reference("index.html", ref.url) for ref in refs] == [
        "css/site.css",
        "favicon.png",
        "img/hero.jpg",
        "js/main.js",
        "img/café.png",
        "img/a.png",
        "img/a@2x.png",
        "img/a.png",
        "img/bg.svg",
    ]
    rewritten = rewrite_all(REALISTIC_PAGE, refs)
    assert rewritten == REALISTIC_PAGE_REWRITTEN
    assert_only_paths_changed("index.html", REALISTIC_PAGE, rewritten)


def test_rewriting_a_stylesheet_keeps_queries_fragments_quotes_and_comments() -> None:
    css = (
        '@charset "utf-8";\r\n'
        "@import url(base.css) screen;\r\n"
        "/* url(keep.png) */\r\n"
        "@font-face{src:url(../fonts/f.woff2?#iefix)format(\"woff2\"),url('../fonts/f.woff')}\r\n"
        ".x{background:url(  ../img/x.png?v=2  ) no-repeat}\r\n"
        '.y{background:image-set("../img/y.png" 1x,url(../img/y2.png) 2x)}\r\n'
        ".z{background:url(data:image/png;base64,AAAA)}\r\n"
        "/*# sourceMappingURL=site.css.map */"
    )
    refs = find_references("css/site.css", css)
    assert [resolve_reference("css/site.css", ref.url) for ref in refs] == [
        "css/base.css",
        "fonts/f.woff2",
        "fonts/f.woff",
        "img/x.png",
        "img/y.png",
        "img/y2.png",
        "css/site.css.map",
    ]
    rewritten = rewrite_all(css, refs)
    assert rewritten == (
        '@charset "utf-8";\r\n'
        "@import url(base.3f2a1b9c0d4e.css) screen;\r\n"
        "/* url(keep.png) */\r\n"
        '@font-face{src:url(../fonts/f.3f2a1b9c0d4e.woff2?#iefix)format("woff2"),'
        "url('../fonts/f.3f2a1b9c0d4e.woff')}\r\n"
        ".x{background:url(  ../img/x.3f2a1b9c0d4e.png?v=2  ) no-repeat}\r\n"
        '.y{background:image-set("../img/y.3f2a1b9c0d4e.png" 1x,'
        "url(../img/y2.3f2a1b9c0d4e.png) 2x)}\r\n"
        ".z{background:url(data:image/png;base64,AAAA)}\r\n"
        "/*# sourceMappingURL=site.css.3f2a1b9c0d4e.map */"
    )
    assert_only_paths_changed("css/site.css", css, rewritten)


def test_rewriting_a_script_touches_only_its_sourcemap_comment() -> None:
    js = '!function(){var u="//# sourceMappingURL=no.map"}();\n//# sourceMappingURL=main.js.map'
    refs = find_references("js/main.js", js)
    assert rewrite_all(js, refs) == js.replace("=main.js.map", "=main.js.3f2a1b9c0d4e.map")


def test_replace_references_accepts_any_order() -> None:
    text = "<img src=a.png><img src=b.png>"
    a, b = find_html_references(text)
    assert (
        replace_references(text, [(b, "B.png"), (a, "A.png")]) == "<img src=A.png><img src=B.png>"
    )
    assert replace_references(text, []) == text


def test_replace_references_rejects_overlaps_and_out_of_range() -> None:
    text = "url(a.png?v=1)"
    [ref] = find_css_references(text)
    inner = Reference(ref.start + 2, ref.start + 2, ref.start + 3, "p", "url()")
    with pytest.raises(ValueError, match="overlaps"):
        replace_references(text, [(ref, "x.png"), (inner, "y")])
    with pytest.raises(ValueError, match="overlaps"):
        replace_references(text, [(ref, "x.png"), (ref, "x.png")])
    with pytest.raises(ValueError, match="outside"):
        replace_references(text, [(Reference(10, 12, 40, "far", "url()"), "x")])


# --------------------------------------------------------------------------------------------
# webpack's manifest.json: values are references, keys are not.

_MANIFEST_NAMES = st.text(
    st.sampled_from(list("abz09._-/ ") + ["\u00e9"]), min_size=1, max_size=12
).filter(lambda s: not s.startswith("/") and "//" not in s)


@given(st.dictionaries(_MANIFEST_NAMES, _MANIFEST_NAMES, min_size=1, max_size=6), st.booleans())
def test_manifest_values_are_rewritten_and_keys_never(manifest: dict[str, str], auto: bool) -> None:
    values = {k: ("auto/" if auto else "") + v for k, v in manifest.items()}
    text = json.dumps(values, ensure_ascii=False, indent=2)
    assert is_webpack_manifest(text)
    refs, keys = find_webpack_manifest_references(text)
    assert [text[start:end] for start, end in keys] == list(values)
    # Rename every value that is a local URL; the JSON stays valid, with only those values new.
    renamed = replace_references(text, [(ref, ref.url + ".x") for ref in refs])
    result = json.loads(renamed)
    assert list(result) == list(values)
    for key, value in values.items():
        local = value.removeprefix("auto/") if auto else value
        expected = (value + ".x") if is_local_url(local) else value
        assert result[key] == expected


def test_a_web_app_manifest_is_not_webpacks() -> None:
    assert not is_webpack_manifest('{"name": "App", "icons": [{"src": "i.png"}]}')
    for text in ("[]", "{}", "x"):
        assert not is_webpack_manifest(text)


def test_an_attribute_quote_left_open_names_nothing() -> None:
    """A browser reads an unclosed quoted value on to the end of the file and drops the tag;
    html.parser ends the tag at a later '>' (found by hypothesis: the rewritten page then
    named nothing where the original named "<style>")."""
    for page in ('<img src=          "<style>', '<img src="a.png><p>x</p>', "<img src='a.png>"):
        assert find_references("page.html", page) == []
