"""The CSS reference scanner against the tinycss2 reading it replaces (kept as its oracle), on the
project's stylesheets concatenated and on a synthetic minified bundle of a few MB. Also says how
often the scanner handed a text to the oracle (it should be never) and that both agree.

    python -m benchmarks.bench_css [--mb 3] [--repeat 10] [--oracle-repeat 1]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from pathlib import Path

from assetpub.build.rewrite.css import find_css_references_fast, find_css_references_tinycss2
from assetpub.build.rewrite.text import Reference

Finder = Callable[[str], list[Reference] | None]

ROOT = Path(__file__).resolve().parent.parent


def corpus_files() -> list[Path]:
    """The stylesheets tests/test_css_scanner.py compares: the sample site's (node_modules too,
    when installed) and the framework builds' and sources'."""
    patterns = ["sample_site/**/*.css", "frameworks/*/builds/**/*.css", "frameworks/*/src/**/*.css"]
    return sorted({path for pattern in patterns for path in ROOT.glob(pattern) if path.is_file()})


def _synthetic_rule(rng: random.Random, i: int) -> str:
    """One rule (or at-rule) of the kinds a bundler emits, minified. About one in six holds a
    reference: an image-heavy site (the framework builds here hold one per 7 kB)."""
    pick = rng.random()
    if pick < 0.50:  # declarations, functions, custom properties, escaped selectors
        return (
            f".c{i},.md\\:flex-{i}:hover>a:not(.x){{display:flex;margin:0 auto;"
            f"padding:{i % 9}px 8px;color:rgba(0,0,0,.{i % 10});"
            f"transform:translate(-50%,-50%) rotate({i % 360}deg);"
            f"width:calc(100% - var(--gap-{i % 7},1rem));transition:opacity .2s ease-in-out}}"
        )
    if pick < 0.58:
        return f":root{{--c{i}:#{i % 4096:03x};--s{i}:{i % 50}px;--f{i}:system-ui,sans-serif}}"
    if pick < 0.64:
        return f"@keyframes k{i}{{0%{{opacity:0;transform:scale(.9)}}to{{opacity:1}}}}"
    if pick < 0.72:
        return f"@media (min-width:{300 + i % 900}px){{.m{i}{{flex:1 1 0%;max-width:50%}}}}"
    if pick < 0.74:
        return f"@supports (display:grid){{.g{i}{{display:grid;grid-template:1fr/repeat(3,1fr)}}}}"
    if pick < 0.83:  # an icon font glyph: an escape inside a string
        return f'.icon-{i}:before{{content:"\\f{i % 4096:03x}"}}'
    if pick < 0.90:  # a background image, unquoted or quoted, sometimes with a query
        quote = rng.choice(["", '"', "'"])
        query = "?v=2" if i % 5 == 0 else ""
        return f".bg{i}{{background:#fff url({quote}../img/pic{i}.png{query}{quote}) no-repeat}}"
    if pick < 0.92:
        return (
            f'@font-face{{font-family:"F{i}";src:url(../fonts/f{i}.woff2)format("woff2"),'
            f'url(../fonts/f{i}.woff)format("woff");font-display:swap}}'
        )
    if pick < 0.94:
        return (
            f".h{i}{{background-image:-webkit-image-set(url(h{i}.png) 1x,url(h{i}@2x.png) 2x);"
            f'background-image:image-set("h{i}.avif" type("image/avif") 1x,"h{i}.png" 1x)}}'
        )
    if pick < 0.98:  # an inline SVG, percent-encoded, as css-loader and postcss write them
        return (
            f".s{i}{{background-image:url(\"data:image/svg+xml;charset=utf-8,%3Csvg xmlns='http:"
            f"//www.w3.org/2000/svg' viewBox='0 0 16 16'%3E%3Cpath d='M{i % 16} 0h16v16H0z'/%3E"
            f'%3C/svg%3E")}}'
        )
    data = "".join(rng.choices(_BASE64, k=120))
    return f".d{i}{{background:url(data:image/png;base64,{data}=)}}"


_BASE64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def synthetic_css(megabytes: float, seed: int = 1) -> str:
    """A minified stylesheet of about `megabytes`, ending in its sourceMappingURL comment."""
    rng = random.Random(seed)
    rules: list[str] = ['@charset "UTF-8";@import url(base.css);']
    size, i = 0, 0
    while size < megabytes * 1e6:
        rule = _synthetic_rule(rng, i)
        rules.append(rule)
        size += len(rule)
        i += 1
    return "".join(rules) + "\n/*# sourceMappingURL=x.css.map */"


def best_of(repeat: int, find: Finder, text: str) -> tuple[float, list[Reference] | None]:
    """The best time of `repeat` runs of `find` over `text`, and what it found."""
    times, found = [], None
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        found = find(text)
        times.append(time.perf_counter() - start)
    return min(times), found


def measure(name: str, text: str, repeat: int, oracle_repeat: int) -> None:
    fast, refs = best_of(repeat, find_css_references_fast, text)
    slow, expected = best_of(oracle_repeat, find_css_references_tinycss2, text)
    mb = len(text.encode("utf-8", "surrogateescape")) / 1e6
    count = len(expected or [])
    print(
        f"{name:>9}: {mb:5.2f} MB, {count} references ({count / mb:.0f}/MB), "
        f"{'handed to the oracle' if refs is None else 'scanned'}, "
        f"{'same as' if refs == expected else 'DIFFERENT FROM'} tinycss2"
    )
    print(f"{'':>11}fast scanner {mb / fast:7.1f} MB/s   tinycss2 {mb / slow:5.2f} MB/s")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=float, default=3, help="size of the synthetic stylesheet")
    parser.add_argument("--repeat", type=int, default=10, help="runs of the fast scanner (best)")
    parser.add_argument("--oracle-repeat", type=int, default=1, help="runs of tinycss2 (best)")
    args = parser.parse_args()
    files = corpus_files()
    texts = [path.read_text(encoding="utf-8", errors="surrogateescape") for path in files]
    fallbacks = sum(find_css_references_fast(text) is None for text in texts)
    print(f"corpus: {len(files)} stylesheets, {fallbacks} handed to the oracle")
    measure("corpus", "\n".join(texts), args.repeat, args.oracle_repeat)
    measure("synthetic", synthetic_css(args.mb), args.repeat, args.oracle_repeat)


if __name__ == "__main__":
    main()
