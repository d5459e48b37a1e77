"""The fast CSS scanner returns exactly what the tinycss2 reading returns (the oracle): the same
references, offsets, URLs and kinds, on every stylesheet of the project and on generated CSS
built to hit the corners of the tokenizer. It never needs the oracle on real CSS."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assetpub.build.rewrite.css import (
    find_css_references,
    find_css_references_fast,
    find_css_references_tinycss2,
)

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent


def assert_same_as_oracle(css: str) -> None:
    fast = find_css_references_fast(css)
    assert fast is not None, "handed to the oracle"
    assert fast == find_css_references_tinycss2(css)


# --------------------------------------------------------------------------------------------
# The project's CSS


def _corpus_files() -> list[Path]:
    patterns = ["sample_site/**/*.css", "frameworks/*/builds/**/*.css", "frameworks/*/src/**/*.css"]
    # sample_site/node_modules, when installed, is read too: every stylesheet in it.
    return sorted({path for pattern in patterns for path in ROOT.glob(pattern) if path.is_file()})


def _strings_in(node: ast.AST) -> list[str]:
    return [
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]


def _css_file_contents(tree: ast.AST) -> list[str]:
    """The values of "*.css" keys in the build dictionaries a test module writes."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and str(key.value).endswith(".css"):
                    found += _strings_in(value) if isinstance(value, ast.Constant) else []
    return found


def _css_table_strings(tree: ast.AST) -> list[str]:
    """Every string in the tables (decorators) of the CSS and style="" tests."""
    tests = [node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)]
    css_tests = [test for test in tests if "css" in test.name or "style" in test.name]
    return [s for test in css_tests for d in test.decorator_list for s in _strings_in(d)]


def _test_fixture_css() -> list[str]:
    """CSS written by the tests: their *.css files, and test_rewrite.py's CSS tables."""
    found: set[str] = set()
    for module in sorted(TESTS.glob("*.py")):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        found.update(_css_file_contents(tree))
        if module.name == "test_rewrite.py":
            found.update(_css_table_strings(tree))
    return sorted(found)


def test_the_corpus_is_there() -> None:
    assert len(_corpus_files()) >= 20
    assert len(_test_fixture_css()) >= 50


@pytest.mark.parametrize("path", _corpus_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_project_stylesheets(path: Path) -> None:
    assert_same_as_oracle(path.read_text(encoding="utf-8", errors="surrogateescape"))


def test_css_written_by_the_tests() -> None:
    differ = [
        css
        for css in _test_fixture_css()
        if find_css_references_fast(css) != find_css_references_tinycss2(css)
    ]
    assert differ == []


# --------------------------------------------------------------------------------------------
# Corners of the tokenizer, each against the oracle (the generated CSS below mixes them)


@pytest.mark.parametrize(
    "css",
    [
        # a name run starts a token unless a unicode-range or '<!--' ends inside it
        "U+abcdefurl(a.png)",
        "u+1-2url(a.png) U+1?url(b.png) U+1234567url(c.png)",
        ".U+1url(a.png) -U+1url(b.png) #U+1url(c.png) <!--U+1url(d.png)",
        "<!--url(a.png) <!---url(b.png) <\\!--url(c.png) -->url(d.png)",
        # what glues a name to the token before it
        "#url(a.png) @url(b.png) 1url(c.png) 1.url(d.png) 1e+url(e.png) 1%url(f.png)",
        "xurl(a.png) -url(b.png) --url(c.png) _url(d.png) éurl(e.png) \udc80url(f.png)",
        # escapes: in the name, before it, and whitespace a hex escape swallows
        "u\\72l(a.png) \\75rl(b.png) \\55RL(c.png) u\\72 l(d.png) \\000075rl(e.png)",
        "\\41 url(a.png) \\41  url(b.png) \\41\turl(c.png) \\1234567 url(d.png)",
        "\\\\url(a.png) \\:url(b.png) \\\\:url(c.png) \\\\\\:url(d.png) \\\nurl(e.png)",
        "@m\\75rl(a.png) #m\\75rl(b.png) x\\75rl(c.png) url\\(d.png) url\\20(e.png)",
        "-\\77 ebkit-image-set('a.png') im\\61ge-set('b.png') -webkit-\\69mage-set('c.png')",
        # names compare ASCII-lowered: the Kelvin sign lowers to "k" for str.lower() only
        "-web\u212ait-image-set('a.png') -WEBKIT-IMAGE-SET('b.png')",
        # url tokens, bad urls and url() functions
        'url(a\\\n) url( b.png ) url(c d) url(e"f) x url(g.png)',
        "url(a\\) b.png) url(c(d) url(e.png) url('f.png' url(g.png)) url(h.png",
        "url(\"a\nb\") url(c.png) url('d.png' /*# sourceMappingURL=e.map */)",
        "url(\\) url(\\",
        # image-set: bare strings count only directly inside it; brackets pair up exactly
        "image-set('a.png' } 'b.png') image-set(('c.png') 'd.png' [)] 'e.png')",
        "x(image-set(foo('a.png') url(b.png) 'c.png') 'd.png') 'e.png'",
        "IMAGE-SET(image-set('a.png') 'b.png'",
        # @import: the first significant token after it
        "@import 'a.css'; @import url(b.css); @import /**/ u\\72l( 'c.css' ) x",
        "@import \\\n'a.css'; @import @import 'b.css'; @import image-set('c.png') 'd.css'",
        "@\\69mport 'a.css'; @importx 'b.css'; @impor\\74  'c.css'; @impor\\74 url(d.css)",
        "image-set(@import 'a.css' foo 'b.png') @import u+1 url(c.css) @import",
        # comments, and the sourceMappingURL rule: the last /*# or /*@ comment decides
        "/*# sourceMappingURL=a.map */ url(/*x*/b.png) '/*' url(c.png) /*",
        "/*# sourceMappingURL=a.map */ a{} /*# sourceMappingURL=data:x */",
        "/*@ sourceMappingURL=a.map?v=1#f \n */ x /*# sourceMappingURL=b.map",
        # newlines tinycss2 normalises, NUL, lone surrogates
        "\r\nurl(\r\na.png\r\n)\r\n'b\\\r\nc' url(d\\20\r\ne.png)/*# sourceMappingURL=m\r.map */",
        "url(\0.png) url(a\f.png) url(\\\0.png) '\0' /*# sourceMappingURL=\0.map */",
        "url(\udc80.png) image-set('\ud800.png') u\\d800rl(a.png) @\\d800 x",
    ],
)
def test_tokenizer_corners(css: str) -> None:
    assert_same_as_oracle(css)


@pytest.mark.parametrize(
    "css",
    [
        "U+a" * 3000 + "url(x.png)",  # each unicode-range may hold the next one's start
        "U+abcdef" * 2000 + "url(x.png)",
        "a" * 100_000 + "url(x.png) url(y.png)",
        "\\\\" * 20_000 + ":url(x.png) \\" + "\\\\" * 20_000 + ":url(y.png)",
    ],
    ids=["unicode-ranges", "unicode-ranges-6", "long-name", "backslash-runs"],
)
def test_long_chains(css: str) -> None:
    assert_same_as_oracle(css)


@pytest.mark.parametrize(
    ("css", "kind"),
    [("(" * 5000 + "url(x.png)", "url()"), ("image-set(" * 3000 + "'x.png'", "image-set()")],
)
def test_deep_nesting(css: str, kind: str) -> None:
    # The tinycss2 reading walks its token tree recursively and raises RecursionError here.
    refs = find_css_references(css)
    assert [(ref.url, ref.kind, css[ref.start : ref.end]) for ref in refs] == [
        ("x.png", kind, "x.png")
    ]


# --------------------------------------------------------------------------------------------
# Real-world shapes never need the oracle


ICON_FONT = (
    '@font-face{font-family:"FontAwesome";src:url(../fonts/fa.eot?v=4.7.0);'
    "src:url(../fonts/fa.eot?#iefix&v=4.7.0) format('embedded-opentype'),"
    'url(../fonts/fa.woff2?v=4.7.0) format("woff2")}'
    + "".join(
        f'.fa-{name}-{code}:before{{content:"\\f{code:03x}"}}'
        for code, name in enumerate(["home", "user", "cog", "search", "star", "heart"] * 40)
    )
)
BUNDLE = (
    '@charset "UTF-8";@import url(base.css);@font-face{font-family:"I";'
    'src:url(../fonts/i.woff2?v=3)format("woff2"),url(../fonts/i.woff)format("woff")}'
    ".md\\:flex:hover{display:flex;width:calc(100% - var(--g,1rem))}"
    '@media (min-width:768px){.a{background:url("../img/a.png")}}'
    '.b{background-image:image-set("b.avif" type("image/avif") 1x,url(b@2x.png) 2x)}'
    ".c{background:url(data:image/svg+xml;charset=utf-8,%3Csvg%3E%3C/svg%3E)}"
    '.d{background:url("data:image/svg+xml;utf8,<svg xmlns=\\"http://www.w3.org/2000/svg\\"/>")}'
    "\n/*# sourceMappingURL=main.css.map */"
)


@pytest.mark.parametrize(
    ("css", "count"), [(ICON_FONT, 3), (BUNDLE, 7)], ids=["icon-font", "bundle"]
)
def test_real_world_css_needs_no_oracle(css: str, count: int) -> None:
    fast = find_css_references_fast(css)
    assert fast is not None, "handed to the oracle"
    assert fast == find_css_references_tinycss2(css) == find_css_references(css)
    assert len(fast) == count


# --------------------------------------------------------------------------------------------
# Generated CSS

# Pieces that sit on the edges of tokens: names that are or almost are url( and image-set(,
# what may glue onto a name, escapes, quotes, comments, brackets, and the characters tinycss2
# normalises or replaces.
_PIECES = [
    *["url(", "URL(", "uRl(", "u\\72l(", "\\75rl(", "\\75 rl(", "u\\72 l(", "xurl(", "url\\("],
    *["image-set(", "Image-Set(", "-webkit-image-set(", "-WEBKIT-image-set(", "im\\61ge-set("],
    *["-\\77 ebkit-image-set(", "rgba(", "format(", "type(", "var(", "set(", "offset("],
    *["#", "@", ".", "1", "1.", "1e", "+", "-", "--", "<!--", "-->", "<", "!", "U+", "u+a"],
    *["U+abcdef", "U+1-2", "U+1?", "\\", "\\\\", "\\41", "\\41 ", "\\ ", "\\:", "\\\n", "\\)"],
    *["@import", "@IMPORT", "@\\69mport", "@media", "@i", "a.png", "/b.woff2?v=1#x", "?q"],
    *["data:image/png;base64,AA", "http://x/a.png", "//cdn/a.png", "#f", "caf\\e9 .png"],
    *['"', "'", '"a.png"', "'b.png'", '"c\\"d.png"', "'e\\\nf.png'", '"\\f101"', "\\3f"],
    *['"\\41\n', "\\\\:", "url(a.png)", "image-set('b.png')", "-web\u212ait-image-set("],
    *["/*", "*/", "/* c */", "/*# sourceMappingURL=a.map */", "/*@ sourceMappingURL=b?v */"],
    *["/*#sourceMappingURL=c.map", "/*# sourceMappingURL=data:x */", "sourceMappingURL="],
    *["(", ")", "{", "}", "[", "]", ";", ":", ",", "*", "/", ">", "%", "=", "x", "a"],
    *[" ", "\t", "\n", "\r\n", "\r", "\f", "\0", "\udc80", "\ud800", "\u00e9", "\ufffd"],
]
_ALPHABET = list("url(imagest-)\"'\\/*#@<!>+Ua0f9 \n\r\f\t\0{}[];:,.?%") + ["\udc80", "\u00e9"]

_WS = st.sampled_from(["", " ", "  ", "\n", "\r\n", "\r", "\t", "\f", "/**/", " /* c */ "])
_URL_VALUES = st.sampled_from(
    ["a.png", "/i/b.png?v=1#x", "c%20d.png", "../e.woff2", "data:x", "https://x/y", "//h/z", "#f"]
    + ["", "?q", "a b.png", "a\\ b.png", "caf\\e9 .png", "x\\3f y", "\\", "a\\\n", "a(b", "a\\)b"]
    + ["\u00e9.png", "\udc80.png", "\0.png", "a\r\nb.png", "a\\41\nb", "\\41\r\n", "x\\\\"]
)
_NAMES = st.sampled_from(
    ["url", "URL", "u\\72l", "\\75rl", "image-set", "-webkit-image-set", "-web\u212ait-image-set"]
)
_OTHER_NAMES = st.sampled_from(["foo", "format", "type", "rgba", "xurl", "-url", "im\\61ge-set"])


@st.composite
def _strings(draw: st.DrawFn, value: st.SearchStrategy[str] = _URL_VALUES) -> str:
    quote = draw(st.sampled_from(["'", '"']))
    body = draw(value).replace(quote, draw(st.sampled_from(["\\" + quote, ""])))
    return quote + body + draw(st.sampled_from([quote, quote, quote, "", "\n"]))


def _url_forms() -> st.SearchStrategy[str]:
    unquoted = st.builds(
        lambda name, a, v, b, end: f"{name}({a}{v}{b}{end}",
        _NAMES,
        _WS,
        _URL_VALUES,
        _WS,
        st.sampled_from([")", ")", "", " x)"]),
    )
    quoted = st.builds(lambda name, a, s, b: f"{name}({a}{s}{b})", _NAMES, _WS, _strings(), _WS)
    imports = st.builds(
        lambda at, ws, target: f"{at}{ws}{target}",
        st.sampled_from(["@import", "@IMPORT", "@\\69mport", "@impor\\74 "]),
        _WS,
        st.one_of(_strings(), unquoted, quoted, st.just("x")),
    )
    return st.one_of(unquoted, quoted, imports)


def _values() -> st.SearchStrategy[str]:
    leaves = st.one_of(
        _url_forms(),
        _strings(),
        _WS,
        st.sampled_from(_PIECES),
        st.sampled_from(["1x", "2x", ",", " ", "red", "0", "#fff", "U+0-7F"]),
    )
    return st.recursive(
        leaves,
        lambda inner: (
            st.builds(
                lambda name, parts, end: f"{name}({''.join(parts)}{end}",
                st.one_of(_NAMES, _OTHER_NAMES),
                st.lists(inner, max_size=4),
                st.sampled_from([")", ")", ")", "", "]", "}"]),
            )
            | st.builds(
                lambda o, parts, c: o + "".join(parts) + c,
                st.sampled_from(["(", "[", "{"]),
                st.lists(inner, max_size=4),
                st.sampled_from([")", "]", "}", ""]),
            )
        ),
        max_leaves=12,
    )


_RULES = st.builds(
    lambda selector, decls: selector + "{" + ";".join(decls) + "}",
    st.sampled_from(["a", ".b", "#c", "@media (x:1)", "@font-face", ".md\\:x", "*"]),
    st.lists(
        st.builds(lambda p, v: f"{p}:{v}", st.sampled_from(["b", "src"]), _values()), max_size=3
    ),
)
_STYLESHEETS = st.lists(st.one_of(_RULES, _values(), _WS), max_size=8).map("".join)
_SOUP = st.lists(st.sampled_from(_PIECES), max_size=40).map("".join)
_RANDOM = st.text(st.sampled_from(_ALPHABET), max_size=80)
_BYTES = st.binary(max_size=60).map(lambda b: b.decode("utf-8", "surrogateescape"))
_MIXED = st.lists(st.one_of(st.sampled_from(_PIECES), _BYTES, _url_forms()), max_size=20).map(
    "".join
)

# What may end right before a name, glue onto it, or end a token inside it.
_BEFORE_NAME = st.sampled_from(
    ["", " ", "\n", "\r\n", "{", "(", ")", ",", "'x'", "/**/", "x", "-", "--", "_", "\u00e9"]
    + ["#", "@", "##", "#-", "@-", "@m", "#m", ".", "1", "1.", "1e", "1e+", "1%", "+", "-1"]
    + ["\\41 ", "\\41  ", "\\41\t", "\\41\r\n", "\\1234567 ", "\\123456 ", "\\ ", "\\\n"]
    + ["\\", "\\\\", "\\\\\\", "\\:", "\\\\:", "\\\\\\:", "\\#", "\\@", "x\\41 ", '"\\41 "']
    + ["<!--", "<\\!--", "<!---", "-->", "--->", "\udc80", "\0"]
    + ["U+" + "abcdef"[:n] for n in range(1, 7)]
    + ["U+abcdef0", "u+1-2", "u+1-abcdef", "U+1?", "U+??????", "U+abcdefU+1", ".U+1", "#U+1"]
    + ["-U+1", "<!--U+1", "1U+1", "xU+1", "U+\\41", "u+"]
)
_GLUED = st.lists(
    st.builds(
        lambda before, form, after: before + form + after,
        _BEFORE_NAME,
        st.one_of(_url_forms(), st.builds(lambda n, s: f"{n}({s})", _NAMES, _strings())),
        st.sampled_from(["", " ", ")", "'a.png'", "url(b.png)", "\\", "/*# sourceMappingURL=m */"]),
    ),
    min_size=1,
    max_size=3,
).map("".join)


def _examples(count: int) -> settings:
    return settings(max_examples=count, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_examples(300)
@given(_STYLESHEETS)
def test_generated_stylesheets(css: str) -> None:
    assert_same_as_oracle(css)


@_examples(1500)
@given(_GLUED)
def test_generated_names_and_what_precedes_them(css: str) -> None:
    assert_same_as_oracle(css)


@_examples(1500)
@given(_SOUP)
def test_generated_token_soup(css: str) -> None:
    assert_same_as_oracle(css)


@_examples(1500)
@given(st.one_of(_RANDOM, _MIXED))
def test_random_text_and_bytes(css: str) -> None:
    assert_same_as_oracle(css)
