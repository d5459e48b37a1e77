"""The evidence a rename is proven against: name forms, whole-name matches, explained spans."""

import pytest

from assetpub.build.evidence import (
    NameIndex,
    Span,
    byte_spans,
    is_searchable,
    name_forms,
    unexplained_mentions,
)


def test_name_forms_cover_percent_encoding_plus_and_js_escapes() -> None:
    assert name_forms("logo.png") == {"logo.png"}
    assert name_forms("my logo.png") == {"my logo.png", "my%20logo.png", "my+logo.png"}
    assert name_forms("caf\u00e9.png") == {
        "caf\u00e9.png",
        "caf%C3%A9.png",
        "caf%c3%a9.png",
        "caf\\u00e9.png",
        "caf\\u00E9.png",
    }
    # Outside the BMP, JSON.stringify writes a surrogate pair.
    assert "\\ud83d\\ude00.svg" in name_forms("\U0001f600.svg")


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ('r.p+"logo.png"', True),
        ("/img/logo.png?v=1", True),
        ("my-logo.png", True),  # a name a runtime may build from "my-" + "logo.png"
        ("biglogo.png", False),  # another file's name
        ("logo.pngx", False),
        ("logo.png.map", True),
        ("LOGO.PNG", False),  # S3 keys are case-sensitive
    ],
)
def test_whole_name_matches(text: str, found: bool) -> None:
    index = NameIndex(["img/logo.png"])
    assert bool(index.find(text.encode())) is found


def test_one_pass_finds_every_name_and_its_owners() -> None:
    index = NameIndex(["a/logo.png", "b/logo.png", "css/site.css"])
    text = b'x("logo.png"); y("site.css")'
    found = [(text[s:e].decode(), owners) for s, e, owners in index.find(text)]
    assert found == [("logo.png", ("a/logo.png", "b/logo.png")), ("site.css", ("css/site.css",))]


def test_only_names_outside_the_explained_spans_are_mentions() -> None:
    text = b'<img src="img/logo.png"><a href="img/logo.png">\n<script>f("img/logo.png")</script>'
    first = text.index(b"img/logo.png")
    index = NameIndex(["img/logo.png"])
    explained = [Span(first, first + len("img/logo.png"))]
    mentions = [m for _, m in unexplained_mentions("index.html", text, index, explained)]
    assert [m.line for m in mentions] == [1, 2]
    assert 'href="img/logo.png"' in mentions[0].excerpt
    assert 'f("img/logo.png")' in mentions[1].excerpt
    assert str(mentions[1]).startswith("index.html:2 (")


def test_a_name_in_the_query_of_a_rewritten_reference_is_still_a_mention() -> None:
    text = b'<img src="a.png?fallback=b.png">'
    path_span = Span(text.index(b"a.png"), text.index(b"a.png") + 5)
    found = list(unexplained_mentions("i.html", text, NameIndex(["a.png", "b.png"]), [path_span]))
    assert [path for path, _ in found] == ["b.png"]


def test_names_are_found_in_bytes_and_spans_convert_from_text_offsets() -> None:
    text = '<p>caf\u00e9 \U0001f600</p><img src="caf\u00e9.png">'
    data = text.encode()
    start = text.index("caf\u00e9.png")
    [span] = byte_spans(text, [Span(start, start + len("caf\u00e9.png"))])
    assert data[span.start : span.end] == "caf\u00e9.png".encode()
    [(found_start, found_end, _)] = NameIndex(["caf\u00e9.png"]).find(data)
    assert (found_start, found_end) == (span.start, span.end)
    assert list(unexplained_mentions("i.html", data, NameIndex(["caf\u00e9.png"]), [span])) == []
    # A name that is not UTF-8 (the build walk reads it with surrogateescape) is found too.
    odd = b"\xff.png".decode("utf-8", "surrogateescape")
    assert NameIndex([odd]).find(b'load("\xff.png")')


@pytest.mark.parametrize(
    ("path", "head", "searchable"),
    [
        ("app.js", b"x", True),
        ("app.js", b"\x00binary-looking", True),  # a known text type is always searched
        ("feed.xml", b"<rss>", True),
        ("about/index.txt", b"1:HL", True),
        ("data.unknownext", b"plain text", True),  # unknown: searched, not trusted
        ("blob.unknownext", b"\x00\x01", False),
        ("img/logo.png", b"\x89PNG", False),
        ("fonts/a.woff2", b"wOF2", False),
        ("app.js.map", b'{"version":3}', False),  # maps count only through sourceMappingURL
    ],
)
def test_what_is_searched(path: str, head: bytes, searchable: bool) -> None:
    assert is_searchable(path, head) is searchable
