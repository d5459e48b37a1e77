"""`assetpub init`: a commented starter assetpub.toml for the project in a folder.

Pure but for reading the folder: which bundler's config is there, and the build folder it names
when that is a plain string literal. Anything cleverer (a variable, a function call, a path built
from an environment variable) is left to the reader of the comment, since a guess that looks
read would be worse than a default that says it is one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

CONFIG_NAME = "assetpub.toml"
DEFAULT_BUILD_DIR = "dist"  # webpack's output.path and Vite's build.outDir both default to it

_EXTENSIONS = ("js", "mjs", "cjs", "ts", "mts", "cts")
# `output: { ... path: path.resolve(__dirname, 'build') ... }` or `path: 'build'` in it.
_WEBPACK_OUTPUT_PATH = re.compile(
    r"""output\s*:\s*\{[^{}]*?\bpath\s*:\s*"""
    r"""(?:path\.(?:resolve|join)\(\s*__dirname\s*,\s*)?['"]([\w.][\w./-]*)['"]\s*\)?"""
)
# `build: { ... outDir: 'build' ... }`
_VITE_OUT_DIR = re.compile(r"""build\s*:\s*\{[^{}]*?\boutDir\s*:\s*['"]([\w.][\w./-]*)['"]""")


@dataclass(frozen=True)
class Bundler:
    name: str  # as the docs spell it: "webpack", "Vite"
    config_file: str  # the config file's name in the folder
    build_dir: str
    setting: str  # where the build folder is configured: "output.path", "build.outDir"
    build_dir_read: bool  # read from config_file, not the bundler's default


def detect_bundler(folder: Path) -> Bundler | None:
    """Vite first: a Vite project can also carry a webpack config for something else (Storybook,
    a legacy build), while the reverse is rare."""
    for name, stem, setting, pattern in (
        ("Vite", "vite.config", "build.outDir", _VITE_OUT_DIR),
        ("webpack", "webpack.config", "output.path", _WEBPACK_OUTPUT_PATH),
    ):
        for extension in _EXTENSIONS:
            config = folder / f"{stem}.{extension}"
            if config.is_file():
                found = _literal_build_dir(config, pattern)
                return Bundler(
                    name, config.name, found or DEFAULT_BUILD_DIR, setting, found is not None
                )
    return None


def _literal_build_dir(config: Path, pattern: re.Pattern[str]) -> str | None:
    try:
        text = config.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    found = pattern.search(text)
    if found is None:
        return None
    build_dir = found.group(1).removeprefix("./").rstrip("/")
    # Outside the project or the project itself: not a build folder to publish from here.
    if not build_dir or build_dir == "." or ".." in build_dir.split("/"):
        return None
    return build_dir


def starter_config(bundler: Bundler | None) -> str:
    """The file's text: valid TOML that `assetpub publish` takes as it is, every other key a
    commented example."""
    build_dir = bundler.build_dir if bundler else DEFAULT_BUILD_DIR
    if bundler is None:
        found = (
            "# No webpack.config.* or vite.config.* here: the build folder below is assumed to\n"
            f"# be {DEFAULT_BUILD_DIR}/; use the folder your bundler writes.\n"
        )
    elif bundler.build_dir_read:
        found = (
            f"# Detected {bundler.name} ({bundler.config_file}); its {bundler.setting} is "
            f"{build_dir}/.\n"
        )
    else:
        found = (
            f"# Detected {bundler.name} ({bundler.config_file}); its {bundler.setting} could "
            f"not be read\n# as a plain string, so this assumes {bundler.name}'s default, "
            f"{DEFAULT_BUILD_DIR}/: check it.\n"
        )
    return f"""# assetpub.toml, written by `assetpub init`. Every key: docs/configuration.md.
{found}#
# Build, then publish:  assetpub publish {build_dir}
# See the plan first:   assetpub publish {build_dir} --dry-run

# Where to publish: s3://bucket/prefix, file:///path or a folder path (relative to the
# working directory); several origins are published together. An S3 origin with options is
# at the end of this file.
origins = ["assetpub-origin"]

# Make rewritten references absolute, for a CDN in front of the origin:
# public_url = "https://cdn.example.com/site/"

# A reference to a file that is not in the build is an error, not a warning:
# strict = true

# Leave paths out of every publish (gitignore-style patterns):
# exclude = ["*.map"]

# After the switch, fetch the page as a visitor; a failure rolls back:
# check_urls = ["https://www.example.com/"]

# GC keeps this many releases (the live one among them), and for this long what stopped
# being needed:
# keep = 5
# grace = "24h"

# Instead of the origins line above, an S3 bucket with its options (Cloudflare R2 here);
# TOML tables come after every plain key, so this stays last:
# [[origins]]
# url = "s3://assets/site"
# endpoint_url = "https://ACCOUNT.r2.cloudflarestorage.com"
# region = "auto"
"""
