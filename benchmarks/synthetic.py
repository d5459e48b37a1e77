"""A deterministic synthetic front-end build shaped like a webpack production build.

    index.html                        links the entry chunk, every stylesheet and a few images
    js/main.<20 hex>.js (+ .map)      entry chunk: webpack's runtime with the map of chunk hashes
    js/<name>-<n>.<20 hex>.js (+ .map) lazy chunks of minified-JS-like text, 1-200 KB
    css/<name>.<20 hex>.css           bundler CSS; url()s to media/ (bundler-hashed too)
    media/<name>.<20 hex>.woff2|png   the bundler's fonts and images (random bytes)
    css/theme.css                     a plain stylesheet: assetpub hashes it
    img/photo-<n>.png|jpg|webp        plain images (random bytes) that only theme.css and
    fonts/brand-<n>.woff2             index.html name, so assetpub content-hashes them

Every bundler-hashed name is the SHA-256 of the file's content (the sourceMappingURL comment
aside), as webpack's [contenthash] is, so a changed chunk gets a new name and changes the entry
chunk's hash map, hence the entry's name, hence index.html. Version 0 is the base build;
version v > 0 changes `changed` files of the base (half lazy chunks, half plain images, chosen
and rewritten from the seed and v), so versions are not cumulative: each differs from the base
by its own set. The same (files, seed, version) gives byte-identical files on every machine.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

KIB = 1024
MIB = 1024 * KIB
MIN_FILES = 20
_FIXED_FILES = 2  # index.html and css/theme.css
_POOL_SIZE = 3000  # distinct minified statements a build's chunks are drawn from

# Words for identifiers and strings. None of them may spell a file name of the build: a plain
# file named in JS text is one assetpub must not rename.
_VOCABULARY = (
    "render props state value children key ref type style event target current next prev "
    "items index length count data error loading result options config context store action "
    "payload dispatch selector handler listener callback resolve reject promise then catch "
    "module exports default require define factory cache hooks effect memo reducer router "
    "route params query path location history navigate button input form label title header "
    "footer modal dialog tooltip dropdown menu panel table row column cell grid list card "
    "avatar badge spinner toast alert user account session token settings profile order cart "
    "product price amount total currency locale format parse stringify assign create update "
    "remove insert append concat filter reduce find some every includes keys entries freeze"
)
_WORDS = tuple(_VOCABULARY.split())
_SHORT = list("etnroiaslcfdphmvgyb_$") + ["Ce", "Te", "Ne", "Re", "Oe", "Ie", "Ae", "Se", "Le"]
_CHUNK_NAMES = ("vendors", "pages", "components", "features", "shared", "routes", "widgets")
_MEDIA_EXTENSIONS = ("woff2", "png", "jpg")
_IMAGE_EXTENSIONS = ("png", "jpg", "webp")
_STATEMENTS = (
    "var {a}={n}({i}),{b}={n}.n({a});",
    'const {A}={{{p}:{i},{q}:"{w} {v}",{r}:!{z}}};',
    "function {f}({a},{b}){{return {a}.{p}({b},{i})}}",
    "{a}.prototype.{p}=function({b}){{return this.{q}={b},this}};",
    "if({a}&&{a}.{p}){{{b}.push({a}.{q});}}else {b}={b}||[];",
    'Object.defineProperty({a},"{p}",{{enumerable:!0,get:function(){{return {b}}}}});',
    "{a}.{p}=({b},{c})=>{b}.{q}===void 0?{c}:{b}.{q};",
    'throw new Error("{w} {v}: "+{a}.{p});',
    "for(var {a}=0;{a}<{b}.length;{a}++){c}.{p}({b}[{a}]);",
    "return {n}.createElement({A},{{{p}:{a},{q}:function(){{{b}({i})}}}});",
    '{a}.exports={{"{w}-{v}":{{{p}:"{w}",{q}:{i}}}}};',
    "switch({a}.{p}){{case {i}:return {b};case {z}:return {c};default:return null}}",
    "{A}=async({a})=>{{const {b}=await {n}.{p}({a});return {b}.{q}}};",
    'try{{{a}.{p}("{w}")}}catch({b}){{console.error({b})}}',
    "{a}=[{i},{z},{j}].map(({b})=>{b}*{j}).filter(Boolean);",
)


@dataclass(frozen=True)
class Layout:
    """How many files of each kind a build of `files` files holds (their sum is `files`)."""

    chunks: int  # JS chunks, the entry chunk included; each has a source map
    bundler_css: int
    media: int
    images: int
    fonts: int

    @classmethod
    def for_files(cls, files: int) -> Layout:
        if files < MIN_FILES:
            raise ValueError(f"a synthetic build needs at least {MIN_FILES} files, not {files}")
        bundler_css = max(1, files // 100)
        media = max(1, files // 20)
        fonts = max(1, files // 200)
        images = max(2, files // 5)
        rest = files - _FIXED_FILES - bundler_css - media - fonts - images
        chunks, odd = divmod(rest, 2)
        return cls(chunks, bundler_css, media, images + odd, fonts)


@dataclass(frozen=True)
class Changes:
    """Which lazy chunks and plain images a version rewrites (indexes into the layout)."""

    chunks: frozenset[int]
    images: frozenset[int]

    @classmethod
    def for_version(cls, layout: Layout, seed: int, version: int, changed: int) -> Changes:
        if version == 0:
            return cls(frozenset(), frozenset())
        rng = random.Random(f"{seed}:changes:{version}")
        js = min(changed // 2, layout.chunks - 1)
        images = min(changed - js, layout.images)
        return cls(
            frozenset(rng.sample(range(1, layout.chunks), js)),
            frozenset(rng.sample(range(layout.images), images)),
        )


def generate_build(
    root: Path, files: int = 2000, seed: int = 1, version: int = 0, changed: int = 20
) -> Path:
    """Write the build of `files` files for (seed, version) into `root`, a new folder."""
    layout = Layout.for_files(files)
    changes = Changes.for_version(layout, seed, version, changed)
    root.mkdir(parents=True)
    pool = _statement_pool(seed)
    chunk_hashes = _write_lazy_chunks(root, layout, changes, pool, seed, version)
    main = _write_entry_chunk(root, pool, seed, chunk_hashes)
    stylesheets = _write_bundler_css(root, layout, seed)
    images = _write_plain_assets(root, layout, changes, seed, version)
    _write_theme(root, images)
    _write_index(root, main, stylesheets, images[:5])
    return root


def generate_one_gb(root: Path, seed: int = 1, size: int = 1024 * MIB) -> Path:
    """A build of index.html and one `size`-byte video (random bytes, written 1 MiB at a time,
    never held in memory) with a plain name, which assetpub content-hashes."""
    root.mkdir(parents=True)
    (root / "media").mkdir()
    rng = random.Random(f"{seed}:one-gb")
    with open(root / "media" / "intro.mp4", "wb") as out:
        for start in range(0, size, MIB):
            out.write(rng.randbytes(min(MIB, size - start)))
    (root / "index.html").write_text(
        "<!doctype html><title>one file</title><video src=media/intro.mp4></video>\n"
    )
    return root


def build_files(root: Path) -> Iterator[Path]:
    """Every file of a build, in a stable order."""
    return (p for p in sorted(root.rglob("*")) if p.is_file())


def content_name(stem: str, data: bytes, extension: str) -> str:
    """webpack's [name].[contenthash].[ext], with 20 hex characters of SHA-256."""
    return f"{stem}.{hashlib.sha256(data).hexdigest()[:20]}.{extension}"


def _log_uniform(rng: random.Random, low: int, high: int) -> int:
    """Many small files and a few large ones, as bundlers emit."""
    return int(math.exp(rng.uniform(math.log(low), math.log(high))))


def _statement_pool(seed: int) -> list[str]:
    rng = random.Random(f"{seed}:pool")
    return [_statement(rng) for _ in range(_POOL_SIZE)]


def _statement(rng: random.Random) -> str:
    """One minified statement: short local names, property names from a vocabulary, literals."""
    short = rng.sample(_SHORT, 4)
    words = rng.sample(_WORDS, 5)
    return rng.choice(_STATEMENTS).format(
        a=short[0],
        b=short[1],
        c=short[2],
        n=short[3],
        A=words[0].capitalize() + rng.choice(_SHORT),
        f=words[1][:2] + rng.choice(_SHORT),
        p=words[2],
        q=words[3],
        r=words[4],
        w=rng.choice(_WORDS),
        v=rng.choice(_WORDS),
        i=rng.randrange(10_000),
        j=rng.randrange(100),
        z=rng.randrange(2),
    )


def _minified(rng: random.Random, pool: list[str], size: int, chunk_id: int) -> str:
    """About `size` bytes of a webpack chunk: modules of statements drawn from the pool."""
    count = max(1, size // 52)  # the pool's statements average about 52 bytes
    statements = rng.choices(pool, k=count)
    modules = []
    for start in range(0, count, 40):
        module_id = rng.randrange(100_000)
        modules.append(f"{module_id}:(e,t,n)=>{{{''.join(statements[start : start + 40])}}}")
    return (
        f'"use strict";(self.webpackChunkapp=self.webpackChunkapp||[]).push([[{chunk_id}],'
        f"{{{','.join(modules)}}}]);"
    )


def _source_map(rng: random.Random, name: str, body: str, module: str) -> bytes:
    """A version-3 source map: the chunk's source (its statements, one per line) and
    VLQ-looking mappings; about 1.3 times the chunk's size, as webpack's are."""
    source = body.replace(";", ";\n  ")
    segments = ["AAAA", "CAAC", "SAASA", "GAAG", "EAAE", "IAAI", "KAAK", "OAAO", "YAAY", "MAAM"]
    mappings = ";".join(
        ",".join(rng.choices(segments, k=12)) for _ in range(max(1, len(body) // 400))
    )
    document = {
        "version": 3,
        "file": name,
        "mappings": mappings,
        "sources": [f"webpack://app/./src/{module}.js"],
        "sourcesContent": [source],
        "names": rng.sample(_WORDS, 12),
        "sourceRoot": "",
    }
    return json.dumps(document, separators=(",", ":")).encode()


def _write_chunk(root: Path, stem: str, body: str, rng: random.Random, module: str) -> str:
    """Write js/<stem>.<hash>.js, which names its map, and the map; return the JS file's name."""
    data = body.encode()
    name = content_name(stem, data, "js")
    (root / "js").mkdir(exist_ok=True)
    comment = f"\n//# sourceMappingURL={name}.map\n".encode()
    (root / "js" / name).write_bytes(data + comment)
    (root / "js" / f"{name}.map").write_bytes(_source_map(rng, name, body, module))
    return name


def _write_lazy_chunks(
    root: Path, layout: Layout, changes: Changes, pool: list[str], seed: int, version: int
) -> dict[int, tuple[str, str]]:
    """Chunks 1..chunks-1; returns {chunk id: (stem, hash)} for the entry chunk's runtime."""
    written = {}
    for index in range(1, layout.chunks):
        tag = f"v{version}" if index in changes.chunks else "base"
        rng = random.Random(f"{seed}:chunk:{index}:{tag}")
        stem = f"{_CHUNK_NAMES[index % len(_CHUNK_NAMES)]}-{index}"
        body = _minified(rng, pool, _log_uniform(rng, KIB, 200 * KIB), index)
        name = _write_chunk(root, stem, body, rng, stem)
        written[index] = (stem, name.split(".")[-2])
    return written


def _write_entry_chunk(
    root: Path, pool: list[str], seed: int, chunks: dict[int, tuple[str, str]]
) -> str:
    """js/main.<hash>.js: webpack's runtime, which computes each lazy chunk's URL from maps of
    chunk names and hashes (so it changes whenever a chunk does), then the app's own code.
    Returns its path in the build."""
    rng = random.Random(f"{seed}:main")
    names = ",".join(f'{i}:"{stem}"' for i, (stem, _) in chunks.items())
    hashes = ",".join(f'{i}:"{digest}"' for i, (_, digest) in chunks.items())
    runtime = (
        '(()=>{"use strict";var e={},t={};function n(r){var o=t[r];if(void 0!==o)return o.exports;'
        "var i=t[r]={exports:{}};return e[r](i,i.exports,n),i.exports}n.m=e,"
        f'n.u=e=>"js/"+({{{names}}}[e]||e)+"."+{{{hashes}}}[e]+".js",n.p="/"}})();'
    )
    body = runtime + _minified(rng, pool, 120 * KIB, 0)
    return "js/" + _write_chunk(root, "main", body, rng, "index")


def _write_bundler_css(root: Path, layout: Layout, seed: int) -> list[str]:
    """css/<name>.<hash>.css, each with url()s to its share of the bundler's fonts and images
    (media/<name>.<hash>.<ext>, random bytes). Returns the stylesheets' paths."""
    (root / "css").mkdir()
    (root / "media").mkdir()
    per_sheet: list[list[str]] = [[] for _ in range(layout.bundler_css)]
    for index in range(layout.media):
        rng = random.Random(f"{seed}:media:{index}")
        data = rng.randbytes(_log_uniform(rng, 2 * KIB, 120 * KIB))
        name = content_name(f"asset-{index}", data, _MEDIA_EXTENSIONS[index % 3])
        (root / "media" / name).write_bytes(data)
        per_sheet[index % layout.bundler_css].append(name)
    sheets = []
    for index, media in enumerate(per_sheet):
        rng = random.Random(f"{seed}:css:{index}")
        rules = [_css_rule(rng, f"../media/{name}") for name in media]
        rules += [_css_rule(rng, None) for _ in range(rng.randrange(20, 200))]
        data = "".join(rules).encode()
        name = content_name(_CHUNK_NAMES[index % len(_CHUNK_NAMES)], data, "css")
        (root / "css" / name).write_bytes(data)
        sheets.append(f"css/{name}")
    return sheets


def _css_rule(rng: random.Random, url: str | None) -> str:
    """One minified rule; with `url`, a background or an @font-face source."""
    selector = "." + "-".join(rng.sample(_WORDS, 2))
    if url is not None and url.endswith(".woff2"):
        family = rng.choice(_WORDS).capitalize()
        return f'@font-face{{font-family:"{family}";src:url({url})format("woff2")}}'
    if url is not None:
        return f"{selector}{{background:url({url}) no-repeat center/cover}}"
    color = f"#{rng.randrange(0x1000000):06x}"
    return f"{selector}{{color:{color};margin:{rng.randrange(40)}px;display:flex}}"


def _write_plain_assets(
    root: Path, layout: Layout, changes: Changes, seed: int, version: int
) -> list[str]:
    """img/photo-<n>.<ext> and fonts/brand-<n>.woff2: random bytes under plain names. Returns
    their paths, images first."""
    (root / "img").mkdir()
    (root / "fonts").mkdir()
    paths = []
    for index in range(layout.images):
        tag = f"v{version}" if index in changes.images else "base"
        rng = random.Random(f"{seed}:image:{index}:{tag}")
        path = f"img/photo-{index}.{_IMAGE_EXTENSIONS[index % len(_IMAGE_EXTENSIONS)]}"
        (root / path).write_bytes(rng.randbytes(_log_uniform(rng, 2 * KIB, 400 * KIB)))
        paths.append(path)
    for index in range(layout.fonts):
        rng = random.Random(f"{seed}:font:{index}")
        path = f"fonts/brand-{index}.woff2"
        (root / path).write_bytes(rng.randbytes(rng.randrange(15 * KIB, 80 * KIB)))
        paths.append(path)
    return paths


def _write_theme(root: Path, assets: list[str]) -> None:
    """css/theme.css: a hand-written stylesheet with a plain name, one rule per plain asset."""
    rng = random.Random("theme")
    rules = [_css_rule(rng, f"../{path}") for path in assets]
    (root / "css" / "theme.css").write_text("\n".join(rules) + "\n")


def _write_index(root: Path, main: str, stylesheets: list[str], images: list[str]) -> None:
    """index.html as html-webpack-plugin writes it (unquoted attributes), plus theme.css."""
    links = "".join(
        f"<link href={sheet} rel=stylesheet>" for sheet in [*stylesheets, "css/theme.css"]
    )
    pictures = "".join(f'<img src={path} alt="">' for path in images)
    (root / "index.html").write_text(
        f"<!doctype html><html lang=en><head><meta charset=utf-8><title>app</title>"
        f"<script defer src={main}></script>{links}</head>"
        f"<body><div id=root>{pictures}</div></body></html>\n"
    )
