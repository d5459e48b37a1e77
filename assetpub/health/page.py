"""What a visitor-side check fetches and what passes: pure functions of URLs, bodies and
headers. The references come from the rewriter's own finders (build/rewrite/), so the check
fetches what assetpub would have rewritten: every local subresource of the page (scripts,
stylesheets, preloads, images, icons, media) and each stylesheet's url()s and @imports.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from assetpub.build.headers import DEFAULT_CONTENT_TYPE, content_type_for
from assetpub.build.rewrite import find_base_href, find_css_references, find_html_references
from assetpub.keys import ASSET_MANIFEST_KEY

# Browsers run a script only with a JavaScript MIME type (HTML's list of essences); which one
# a CDN or a [[headers]] rule sends does not matter.
_JAVASCRIPT_TYPES = frozenset(
    {
        "text/javascript",
        "application/javascript",
        "application/x-javascript",
        "application/ecmascript",
        "text/ecmascript",
        "text/x-javascript",
    }
)
_ALIASES = {
    "text/javascript": _JAVASCRIPT_TYPES,
    "image/x-icon": frozenset({"image/x-icon", "image/vnd.microsoft.icon"}),
}
# A browser's devtools fetch these, a visitor's page never does.
_NOT_FETCHED_KINDS = frozenset({"sourceMappingURL"})


@dataclass(frozen=True)
class Resource:
    """One URL the page makes the browser fetch."""

    url: str  # absolute, without its fragment
    kind: str  # where it was named: "<script src>", "srcset", "url()", ...
    referrer: str  # the page or stylesheet that names it

    @property
    def may_be_stylesheet(self) -> bool:
        """Named .css, or by a name that implies no type (`<link rel=stylesheet href=/styles>`):
        its body is read, and parsed when it is served as text/css."""
        implied = implied_type(self.url)
        return implied is None or implied == "text/css"


# Where references the rewriter made absolute with --public-url are put back under the site
# root while the finders read the text: they return local references only.
_PUBLIC_URL_MARK = "/.assetpub-public-url/"


def _without_fragment(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(fragment=""))


def _public_url_as_local(text: str, public_url: str | None) -> str:
    if not public_url:
        return text
    forms = [public_url]
    if public_url.startswith("//"):  # protocol-relative: its absolute spellings first
        forms[:0] = ["https:" + public_url, "http:" + public_url]
    for form in forms:
        text = text.replace(form, _PUBLIC_URL_MARK)
    return text


def _resolved(
    base: str, urls: list[tuple[str, str]], referrer: str, public_url: str | None
) -> list[Resource]:
    seen: dict[str, Resource] = {}
    for url, kind in urls:
        if kind in _NOT_FETCHED_KINDS:
            continue
        url = url.strip()
        if public_url and url.startswith(_PUBLIC_URL_MARK):
            absolute = urljoin(base, public_url) + url[len(_PUBLIC_URL_MARK) :]
        else:
            absolute = urljoin(base, url)
        absolute = _without_fragment(absolute)
        seen.setdefault(absolute, Resource(absolute, kind, referrer))
    return list(seen.values())


def page_resources(page_url: str, html: str, public_url: str | None = None) -> list[Resource]:
    """The local subresources of the page at `page_url`, resolved as the browser resolves them
    (from its <base href>, if any), each once, in document order; with `public_url`, also
    those the rewriter made absolute with it."""
    html = _public_url_as_local(html, public_url)
    base = urljoin(page_url, find_base_href(html) or "")
    refs = [(ref.url, ref.kind) for ref in find_html_references(html)]
    return _resolved(base, refs, page_url, public_url)


def stylesheet_resources(css_url: str, css: str, public_url: str | None = None) -> list[Resource]:
    """The url()s and @imports of the stylesheet at `css_url`, resolved from it."""
    css = _public_url_as_local(css, public_url)
    refs = [(ref.url, ref.kind) for ref in find_css_references(css)]
    return _resolved(css_url, refs, css_url, public_url)


def asset_manifest_url(page_url: str) -> str:
    """assetpub's asset-manifest.json next to the page: the check URL names a page in the
    folder the site is published at (`https://cdn.example.com/` or `…/app/index.html`)."""
    return _without_fragment(
        urljoin(urlunsplit(urlsplit(page_url)._replace(query="")), ASSET_MANIFEST_KEY)
    )


def media_type(content_type: str | None) -> str:
    """'text/css' of 'text/css; charset=utf-8' (lowercased); '' when there is none."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def acceptable_types(url: str) -> frozenset[str] | None:
    """The media types a browser accepts for the file `url` names, as assetpub's Content-Type
    table derives them from its name (build/headers.py); None when the name implies none."""
    implied = implied_type(url)
    return None if implied is None else _ALIASES.get(implied, frozenset({implied}))


def implied_type(url: str) -> str | None:
    """The media type the name in `url` implies (build/headers.py), or None."""
    name = posixpath.basename(unquote(urlsplit(url).path))
    implied = content_type_for(name)
    return None if implied == DEFAULT_CONTENT_TYPE else media_type(implied)


def is_retryable(status: int) -> bool:
    """An answer that waiting may change: no answer at all (status 0), a 5xx, or throttling.
    Any other 4xx about a content-hashed name is the release's fault, not the CDN's timing."""
    return status == 0 or status == 429 or status >= 500


def answer_problem(
    status: int, content_type: str | None, expected: frozenset[str] | None, implied: str | None
) -> str | None:
    """Why an answer does not pass, or None: 2xx, with one of the `expected` media types."""
    if not 200 <= status < 300:
        return f"answered HTTP {status}"
    got = media_type(content_type)
    if expected is not None and got not in expected:
        return f"served as {got or 'no Content-Type'}, expected {implied}"
    return None
