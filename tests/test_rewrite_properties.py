"""Properties of the HTML and CSS rewriters over generated, hostile input.

For any text, the finders return references that lie inside it, in order and apart; finding
is deterministic; replacing every reference's path changes the text only inside those paths
(everything else, queries and fragments included, is the input's), and the rewritten text's
references are the same ones with the new paths; with nothing to replace the text comes back
as it was. No input crashes a finder or takes long: each example has a deadline, and inputs
that once took seconds (html.parser re-scanning the rest of the text at its end) are kept
below at a size that would show it.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assetpub.build.rewrite import Reference, find_references, replace_references, split_url

# Tags, attributes, quotes and the constructs html.parser and browsers disagree on.
_HTML_PIECES = [
    "<img src=",
    "<img src='",
    '<img src="',
    "<script src=",
    "<link rel=stylesheet href=",
    "<link rel=icon href=",
    "<link href=",
    "<a href=",
    "<source srcset=",
    '<img srcset="',
    "<video poster=",
    "<object data=",
    "<p style=",
    '<p style="background:url(',
    "<style>",
    "</style>",
    "<script>",
    "</script>",
    "<textarea>",
    "</textarea>",
    "<title>",
    "</title>",
    "<!--",
    "-->",
    "--!>",
    "<!doctype html>",
    "<![CDATA[",
    "]]>",
    "<![if !IE]>",
    "<?xml ?>",
    "<!",
    "<?",
    "</",
    "<",
    ">",
    "/>",
    "/",
    '"',
    "'",
    "=",
    " ",
    "\t",
    "\n",
    "\r\n",
    "\r",
    "\f",
    "\0",
    "\ud800",
    "\udcff",
    "a.png",
    "img/b.png",
    "../c.css",
    "/d.js",
    "x.png?v=1",
    "y.png#frag",
    "?q",
    "#top",
    "data:image/png;base64,AAAA",
    "https://cdn.example/e.png",
    "//cdn.example/f.png",
    " 1x,",
    " 2x",
    ", ",
    "&amp;",
    "&#x2f;",
    "&#47;",
    "&copy",
    "&",
    "url(",
    ")",
    "url('g.png')",
    "é",
    "\u2028",
]
# Tokens of CSS that decide what is a url(): strings, comments, escapes, bad urls, at-rules.
_CSS_PIECES = [
    "url(",
    "URL(",
    "u\\rl(",
    ")",
    "(",
    "url(a.png)",
    "url( b.png )",
    "url('c.png')",
    'url("d.png?x#y")',
    "image-set(",
    "-webkit-image-set(",
    "@import ",
    "@import url(",
    "@media",
    "{",
    "}",
    ";",
    ",",
    ":",
    "'",
    '"',
    "/*",
    "*/",
    "/*# sourceMappingURL=",
    "\\",
    "\\29 ",
    "\\)",
    "\\\n",
    " ",
    "\t",
    "\n",
    "\r\n",
    "\r",
    "\f",
    "\0",
    "\ud800",
    "<!--",
    "-->",
    "a.png",
    "img/e.png",
    "../f.woff2",
    "?v=2",
    "#x",
    "data:x",
    "https://h/x.png",
    "format('woff2')",
    "1x",
    "U+26",
    "é",
]


def _soup(pieces: list[str], max_size: int) -> st.SearchStrategy[str]:
    piece = st.one_of(
        st.sampled_from(pieces),
        st.text(max_size=4),  # any code point, lone surrogates included
        # A long run of one piece: many attributes, many unclosed tags or url( without ).
        st.builds(lambda p, n: p * n, st.sampled_from(pieces), st.integers(10, 200)),
    )
    return st.lists(piece, max_size=max_size).map("".join)


def _examples(count: int) -> settings:
    # The deadline is per example, generous for a loaded 2-core CI machine: what it catches
    # is a rescan that grows with the square of the input, not a slow millisecond.
    return settings(
        max_examples=count,
        deadline=timedelta(seconds=2),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def new_path(index: int) -> str:
    """A hashed name as prepare writes it: letters, digits, '-', '_', '.' and '/'."""
    return f"h/n{index}-0a1b2c3d.png"


def check_rewrite(name: str, text: str) -> None:
    refs = find_references(name, text)
    assert refs == find_references(name, text)  # deterministic
    previous_end = 0
    for ref in refs:
        assert previous_end <= ref.start <= ref.path_end <= ref.end <= len(text), ref
        previous_end = ref.end
    assert replace_references(text, []) == text

    replacements = [(ref, new_path(i)) for i, ref in enumerate(refs)]
    out = replace_references(text, replacements)
    # Outside the replaced paths the output is the input, piece for piece, in order.
    pos = shift = 0
    for ref, path in replacements:
        at = ref.start + shift
        assert out[pos + shift : at] == text[pos : ref.start]
        assert out[at : at + len(path)] == path
        shift += len(path) - (ref.path_end - ref.start)
        pos = ref.path_end
    assert out[pos + shift :] == text[pos:]
    assert len(out) == len(text) + shift

    # The rewritten text names the new paths where the old ones were, and nothing else.
    again = find_references(name, out)
    expected, shift = [], 0
    for ref, path in replacements:
        start = ref.start + shift
        shift += len(path) - (ref.path_end - ref.start)
        url = path + split_url(ref.url)[1]
        expected.append(Reference(start, start + len(path), ref.end + shift, url, ref.kind))
    assert again == expected


@_examples(700)
@given(_soup(_HTML_PIECES, 30))
def test_html_rewrites_only_inside_references(text: str) -> None:
    check_rewrite("page.html", text)


@_examples(500)
@given(_soup(_CSS_PIECES, 30))
def test_css_rewrites_only_inside_references(text: str) -> None:
    check_rewrite("css/site.css", text)


@_examples(300)
@given(st.text(max_size=200))
def test_any_text_as_html_or_css(text: str) -> None:
    check_rewrite("page.html", text)
    check_rewrite("site.css", text)


# Inputs of 60-120 KB that html.parser (CPython 3.11.7) read in seconds, growing with the
# square of their size, before _HtmlScan.close stopped re-parsing the text after the last '>'
# and remembered where no comment closes: now each takes milliseconds.
HOSTILE_HTML = {
    "unclosed tags": "<a" * 50_000,
    "unclosed comments": "<!--" * 30_000,
    "comments that never close, with '>'": "<!--x>" * 20_000,
    "end tags": "</" * 50_000,
    "processing instructions": "<?" * 50_000,
    "a huge attribute run": "<img " + " a=b" * 30_000 + " src=x.png>",
    "quotes that never close": '<a b="' * 20_000 + ">",
}


@pytest.mark.parametrize("text", HOSTILE_HTML.values(), ids=HOSTILE_HTML.keys())
def test_hostile_html_is_read_in_linear_time(text: str) -> None:
    started = time.process_time()
    check_rewrite("page.html", text)
    # About 0.2 s here; the quadratic reading took 9-12 s for the first two.
    assert time.process_time() - started < 3


def test_the_tail_after_the_last_gt_still_counts_an_open_style() -> None:
    """What close() keeps from the parser is only what can finish no tag: an unclosed <style>
    still runs to the end, and a tag cut off by the end is read by no browser."""
    text = "<img src=a.png><style>p{background:url(b.png)} <img src=c.png"
    assert [ref.url for ref in find_references("p.html", text)] == ["a.png", "b.png"]
    assert [ref.url for ref in find_references("p.html", "<img src=a.png><img src=b.png")] == [
        "a.png"
    ]
