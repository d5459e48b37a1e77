"""Settings for a run, merged from assetpub.toml / [tool.assetpub] in pyproject.toml, the
environment and flags (flags win), validated once. Unknown keys are errors, not silent typos.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from assetpub.build.classify import HASHED_NAME_SHAPES
from assetpub.build.compress import check_encodings
from assetpub.build.headers import HeaderRule, header_value_problem
from assetpub.build.scan import FileSelection, glob_problem
from assetpub.cdn import CdnTarget, parse_cdn_target
from assetpub.errors import ConfigError
from assetpub.history.state import parse_duration
from assetpub.origins import OriginSpec

DEFAULT_ORIGIN = "assetpub-origin"
DEFAULT_ENTRY_PATTERNS = (
    "*.html",
    "robots.txt",
    "favicon.ico",
    "*.webmanifest",
    "manifest.json",
    "sw.js",
    "service-worker.js",
    ".well-known/**",
)
DEFAULT_HASHED_NAME_PATTERNS = tuple(HASHED_NAME_SHAPES)
DEFAULT_CONCURRENCY = 8
MAX_CONCURRENCY = 64  # the --concurrency flag's range too

_ORIGIN_KEYS = {f.name for f in fields(OriginSpec)}
_ORIGIN_TYPES: dict[str, tuple[type, ...]] = {
    **{name: (str,) for name in _ORIGIN_KEYS},
    "multipart_threshold": (int,),
    "max_connections": (int,),
    "max_attempts": (int,),
    "connect_timeout": (int, float),
    "read_timeout": (int, float),
}


@dataclass(frozen=True)
class InvalidateSettings:
    """The CDNs to invalidate after a switch (docs/invalidation.md)."""

    targets: tuple[CdnTarget, ...] = ()
    # A page dir/index.html is also invalidated as dir/ (and index.html as /).
    pretty_urls: bool = True
    # The credentials profile of the first s3:// origin that names one; else boto3's chain.
    profile: str | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.targets)


NO_INVALIDATION = InvalidateSettings()


@dataclass(frozen=True)
class PublishSettings:
    build_dir: Path
    origins: tuple[OriginSpec, ...]
    public_url: str | None = None
    message: str | None = None
    strict: bool = False
    dry_run: bool = False
    concurrency: int = 8
    entry_patterns: tuple[str, ...] = DEFAULT_ENTRY_PATTERNS
    hashed_name_patterns: tuple[str, ...] = DEFAULT_HASHED_NAME_PATTERNS
    include_dotfiles: tuple[str, ...] = ()
    # Gitignore-style patterns: only what `include` matches (when given), minus `exclude`.
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    header_rules: tuple[HeaderRule, ...] = field(default_factory=tuple)
    read_cache: bool = True  # reuse what an earlier run learnt from unchanged files
    lease_wait: float = 300.0  # seconds a commit waits for a running GC's lease
    invalidate: InvalidateSettings = NO_INVALIDATION
    # Upload every file again, bytes and headers, whatever the origin holds (conflicts stand).
    force: bool = False
    # Record a new release even when the live one is exactly this build.
    allow_empty: bool = False
    compress: tuple[str, ...] = ()  # encodings to store text files in (build/compress.py)

    @property
    def selection(self) -> FileSelection:
        """Which of the build's files are published (build/scan.py)."""
        return FileSelection(self.include_dotfiles, self.include, self.exclude)


@dataclass(frozen=True)
class FileConfig:
    """What a config file says; every field optional so flags and defaults can fill the rest."""

    source: str | None = None
    origins: tuple[OriginSpec, ...] = ()
    public_url: str | None = None
    strict: bool | None = None
    concurrency: int | None = None
    cache: bool | None = None
    entry_patterns: tuple[str, ...] | None = None
    hashed_name_patterns: tuple[str, ...] | None = None
    include_dotfiles: tuple[str, ...] = ()
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    header_rules: tuple[HeaderRule, ...] = ()
    keep: int | None = None
    grace: str | None = None
    max_deletes: int | None = None
    lease_wait: str | None = None
    check_urls: tuple[str, ...] | None = None
    check_cmd: str | None = None
    check_timeout: str | None = None
    invalidate: tuple[CdnTarget, ...] | None = None
    pretty_urls: bool | None = None
    compress: tuple[str, ...] = ()


def find_config_file(cwd: Path) -> tuple[Path, Mapping[str, Any]] | None:
    """The nearest config from `cwd` upward, as git finds its repository: in each folder
    assetpub.toml wins over pyproject.toml's [tool.assetpub], and the search stops after the
    folder holding .git (the repository root), else at the filesystem root. A pyproject.toml
    without the section is some other tool's and does not stop it."""
    for folder in config_search_folders(cwd):
        candidate = folder / "assetpub.toml"
        if candidate.is_file():
            return candidate, _read_toml(candidate)
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            section = _read_toml(pyproject).get("tool", {}).get("assetpub")
            if section is not None:
                return pyproject, section
    return None


def config_search_folders(cwd: Path) -> list[Path]:
    """`cwd` and its parents up to the repository root (a .git folder, or the .git file of a
    worktree or submodule), or all of them up to / outside a repository."""
    start = cwd.absolute()
    folders = []
    for folder in (start, *start.parents):
        folders.append(folder)
        if (folder / ".git").exists():
            break
    return folders


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def load_file_config(config_path: Path | None, cwd: Path) -> FileConfig:
    if config_path is not None:
        if not config_path.is_file():
            raise ConfigError(f"config file {config_path} does not exist")
        data: Mapping[str, Any] = _read_toml(config_path)
        if config_path.name == "pyproject.toml":
            data = data.get("tool", {}).get("assetpub", {})
        found: tuple[Path, Mapping[str, Any]] | None = (config_path, data)
    else:
        found = find_config_file(cwd)
    if found is None:
        return FileConfig()
    path, data = found
    return parse_file_config(data, str(path))


_TOP_LEVEL_KEYS = {
    "origins",
    "public_url",
    "strict",
    "concurrency",
    "cache",
    "entry_patterns",
    "hashed_name_patterns",
    "include_dotfiles",
    "include",
    "exclude",
    "headers",
    "keep",
    "grace",
    "max_deletes",
    "lease_wait",
    "check_urls",
    "check_cmd",
    "check_timeout",
    "invalidate",
    "pretty_urls",
    "compress",
}


def parse_file_config(data: Mapping[str, Any], source: str) -> FileConfig:
    unknown = sorted(set(data) - _TOP_LEVEL_KEYS)
    if unknown:
        raise ConfigError(f"{source}: unknown config key '{unknown[0]}'")
    where = source
    concurrency = _optional(data, "concurrency", int, where)
    if concurrency is not None:
        check_concurrency(concurrency, f"{where}: 'concurrency'")
    entry_patterns = _string_tuple(data, "entry_patterns", where)
    if entry_patterns == ():
        # Not "the defaults": with no entry file nothing would be switched, and every page
        # would get a hashed name no visitor can find.
        raise ConfigError(f"{where}: 'entry_patterns' must not be empty")
    public_url = _optional(data, "public_url", str, where)
    validate_public_url(public_url, f"{where}: 'public_url'")
    check_urls = _string_tuple(data, "check_urls", where)
    for url in check_urls or ():
        validate_check_url(url, f"{where}: 'check_urls'")
    check_cmd = _optional(data, "check_cmd", str, where)
    if check_cmd is not None and not check_cmd.strip():
        raise ConfigError(f"{where}: 'check_cmd' must not be empty")
    check_timeout = _optional(data, "check_timeout", (str, int), where)
    if check_timeout is not None:
        check_timeout = str(check_timeout)
        _check_timeout_seconds(check_timeout, f"{where}: 'check_timeout'")
    invalidate = _string_tuple(data, "invalidate", where)
    return FileConfig(
        source=source,
        origins=tuple(_origin_spec(o, where) for o in _list(data, "origins", where)),
        public_url=public_url,
        strict=_optional(data, "strict", bool, where),
        concurrency=concurrency,
        cache=_optional(data, "cache", bool, where),
        entry_patterns=entry_patterns,
        hashed_name_patterns=_string_tuple(data, "hashed_name_patterns", where),
        include_dotfiles=_string_tuple(data, "include_dotfiles", where) or (),
        include=_globs(data, "include", where),
        exclude=_globs(data, "exclude", where),
        header_rules=tuple(_header_rule(r, where) for r in _list(data, "headers", where)),
        keep=_optional(data, "keep", int, where),
        grace=_optional(data, "grace", (str, int), where),
        max_deletes=_optional(data, "max_deletes", int, where),
        lease_wait=_optional(data, "lease_wait", str, where),
        check_urls=check_urls,
        check_cmd=check_cmd,
        check_timeout=check_timeout,
        invalidate=(
            None
            if invalidate is None
            else tuple(parse_cdn_target(t, f"{where}: 'invalidate'") for t in invalidate)
        ),
        pretty_urls=_optional(data, "pretty_urls", bool, where),
        compress=check_encodings(
            _string_tuple(data, "compress", where) or (), f"{where}: 'compress'"
        ),
    )


def _list(data: Mapping[str, Any], key: str, where: str) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list):
        raise ConfigError(f"{where}: '{key}' must be a list")
    return value


def _optional(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = data.get(key)
    kinds = kind if isinstance(kind, tuple) else (kind,)
    # bool is an int in Python; "concurrency = true" is still a mistake.
    if value is not None and (
        not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds)
    ):
        names = " or ".join(_TYPE_NAMES.get(k, k.__name__) for k in kinds)
        raise ConfigError(f"{where}: '{key}' must be a {names}")
    return value


_TYPE_NAMES = {str: "string", int: "integer", bool: "boolean (true or false)", float: "number"}


def check_concurrency(value: int, name: str = "concurrency") -> int:
    if not 1 <= value <= MAX_CONCURRENCY:
        raise ConfigError(f"{name} must be between 1 and {MAX_CONCURRENCY}, not {value}")
    return value


def _string_tuple(data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...] | None:
    if key not in data:
        return None
    values = _list(data, key, where)
    if not all(isinstance(v, str) for v in values):
        raise ConfigError(f"{where}: '{key}' must be a list of strings")
    return tuple(values)


def _globs(data: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    patterns = _string_tuple(data, key, where) or ()
    check_globs(patterns, f"{where}: '{key}'")
    return patterns


def check_globs(patterns: Sequence[str], name: str) -> tuple[str, ...]:
    """`patterns` if each is a gitignore-style pattern, else ConfigError naming the first bad
    one and where it came from (`name`): a flag, or a config file's key."""
    for pattern in patterns:
        problem = glob_problem(pattern)
        if problem:
            raise ConfigError(f"{name}: {pattern!r} {problem}")
    return tuple(patterns)


def _origin_spec(entry: Any, where: str) -> OriginSpec:
    if isinstance(entry, str):
        _refuse_memory(entry, where)
        with _said_in(where):
            return OriginSpec(url=entry)
    if not isinstance(entry, dict) or "url" not in entry:
        raise ConfigError(f"{where}: each origin must be a URL string or a table with 'url'")
    if isinstance(entry["url"], str):
        _refuse_memory(entry["url"], where)
    unknown = sorted(set(entry) - _ORIGIN_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown origin key '{unknown[0]}'")
    for key, value in entry.items():
        expected = _ORIGIN_TYPES[key]
        if isinstance(value, bool) or not isinstance(value, expected):
            names = " or ".join(t.__name__ for t in expected)
            raise ConfigError(f"{where}: origin key '{key}' must be a {names}")
    with _said_in(where):
        return OriginSpec(**entry)


@contextmanager
def _said_in(where: str) -> Iterator[None]:
    """A ConfigError raised inside (an OriginSpec refusing a value) names where the bad value
    came from: the config file, a flag or the environment."""
    try:
        yield
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None


def _refuse_memory(url: str, where: str) -> None:
    if url.startswith("memory:"):
        raise ConfigError(
            f"{where}: memory:// origins live inside one process (tests): from the command "
            f"line or a config file {url!r} would persist nothing"
        )


def _header_rule(entry: Any, where: str) -> HeaderRule:
    allowed = {"pattern", "content_type", "cache_control"}
    if not isinstance(entry, dict) or "pattern" not in entry:
        raise ConfigError(f"{where}: each [[headers]] entry needs a 'pattern'")
    unknown = sorted(set(entry) - allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown headers key '{unknown[0]}'")
    # Checked now, not when the first object carrying them is written: by then the release may
    # be committed, and S3 would refuse the header (or, with CR/LF, be asked to add another).
    pattern = entry["pattern"]
    if not isinstance(pattern, str) or not pattern:
        raise ConfigError(f"{where}: [[headers]] 'pattern' must be a non-empty string")
    for key in ("content_type", "cache_control"):
        if key in entry:
            problem = header_value_problem(entry[key], content_type=key == "content_type")
            if problem:
                raise ConfigError(f"{where}: [[headers]] {key} for {pattern!r} {problem}")
    return HeaderRule(**entry)


def origin_urls_from_env() -> tuple[str, ...]:
    """ASSETPUB_ORIGIN holds one or more origin URLs separated by commas or spaces."""
    raw = os.environ.get("ASSETPUB_ORIGIN", "")
    return tuple(u for u in re.split(r"[,\s]+", raw) if u)


def resolve_origins(
    flag_urls: Sequence[str], file_config: FileConfig, endpoint_url: str | None
) -> tuple[OriginSpec, ...]:
    """Flags win over ASSETPUB_ORIGIN, which wins over the config file; an origin named by a flag
    still takes its options (endpoint, region...) from a config entry with the same URL."""
    configured = {spec.identity: spec for spec in file_config.origins}
    where = "--origin"
    urls = tuple(flag_urls)
    if not urls:
        where, urls = "ASSETPUB_ORIGIN", origin_urls_from_env()
    for url in urls:
        _refuse_memory(url, where)
    specs = (
        tuple(_configured_or_new(url, configured, where) for url in urls)
        if urls
        else file_config.origins or (OriginSpec(url=DEFAULT_ORIGIN),)
    )
    if endpoint_url:
        with _said_in("--endpoint-url"):
            specs = tuple(
                replace(s, endpoint_url=endpoint_url) if s.url.startswith("s3://") else s
                for s in specs
            )
    seen: dict[tuple[str, str, str], str] = {}
    for spec in specs:
        if spec.identity in seen:
            raise ConfigError(
                f"the same origin is given twice ({seen[spec.identity]!r} and {spec.url!r})"
            )
        seen[spec.identity] = spec.url
    return specs


def _configured_or_new(
    url: str, configured: Mapping[tuple[str, str, str], OriginSpec], where: str
) -> OriginSpec:
    with _said_in(where):
        spec = OriginSpec(url=url)
    return configured.get(spec.identity, spec)


def validate_patterns(patterns: Sequence[str]) -> None:
    for pattern in patterns:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise ConfigError(f"invalid hashed_name_patterns regex {pattern!r}: {exc}") from None


# Written into every rewritten reference: quotes, '<', '>', spaces or control characters would
# break out of an attribute or url() (an injection), so only URL characters are allowed.
_PUBLIC_URL = re.compile(r"(https?:)?//[A-Za-z0-9.\-\[\]:]+(/[A-Za-z0-9\-._~!$&*+,;=:@%/]*)?")


def validate_public_url(url: str | None, name: str = "--public-url") -> str | None:
    if url is None:
        return None
    if not _PUBLIC_URL.fullmatch(url):
        raise ConfigError(
            f"{name} must be an absolute URL like https://cdn.example.com/, got {url!r}"
        )
    return url if url.endswith("/") else url + "/"


def check_build_apart_from_origins(build_dir: Path, specs: Sequence[OriginSpec]) -> None:
    """A folder origin inside the build (or the build itself) would publish into the build it
    reads, and the next publish would read assetpub's own output back; a build inside a folder
    origin would be listed, and read, as the origin's objects. Both are refused."""
    build = build_dir.resolve()
    for spec in specs:
        scheme, location, _ = spec.identity
        folder = Path(location)
        if scheme == "file" and (folder.is_relative_to(build) or build.is_relative_to(folder)):
            raise ConfigError(
                f"origin {spec.url} and the build folder {build_dir} overlap: "
                "publish to a folder outside the build folder (and not around it)"
            )


def check_compression_origins(compress: Sequence[str], specs: Sequence[OriginSpec]) -> None:
    """A folder keeps no headers: its encoded bytes would reach visitors without the
    Content-Encoding that says how to read them."""
    for spec in specs if compress else ():
        if spec.identity[0] == "file":
            raise ConfigError(
                f"compress: origin {spec.url} is a folder, which cannot store Content-Encoding: "
                "publish to S3 (or remove compress, and let the web server compress)"
            )


def publish_settings(
    file_config: FileConfig,
    build_dir: Path,
    *,
    origins: Sequence[str] = (),
    endpoint_url: str | None = None,
    public_url: str | None = None,
    message: str | None = None,
    strict: bool | None = None,
    dry_run: bool = False,
    concurrency: int | None = None,
    no_cache: bool = False,
    lease_wait: str | None = None,
    invalidate: Sequence[str] = (),
    force: bool = False,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    allow_empty: bool = False,
) -> PublishSettings:
    """Flags over the environment over the config file over the defaults, validated once.
    --include and --exclude add to the config's lists (after them, so a flag's `!pattern`
    can re-include): a flag never silently publishes what the config keeps out."""
    # An empty list is a choice (no name is trusted as already hashed), not "the defaults".
    patterns = (
        DEFAULT_HASHED_NAME_PATTERNS
        if file_config.hashed_name_patterns is None
        else file_config.hashed_name_patterns
    )
    validate_patterns(patterns)
    workers = check_concurrency(
        next(
            (c for c in (concurrency, file_config.concurrency) if c is not None),
            DEFAULT_CONCURRENCY,
        )
    )
    # A connection pool smaller than the upload pool would make uploads queue for sockets.
    specs = tuple(
        replace(spec, max_connections=max(spec.max_connections, workers))
        for spec in resolve_origins(origins, file_config, endpoint_url)
    )
    check_build_apart_from_origins(build_dir, specs)
    check_compression_origins(file_config.compress, specs)
    return PublishSettings(
        build_dir=build_dir,
        origins=specs,
        public_url=_public_url(public_url, file_config),
        message=message,
        strict=bool(strict if strict is not None else file_config.strict),
        dry_run=dry_run,
        concurrency=workers,
        entry_patterns=(
            DEFAULT_ENTRY_PATTERNS
            if file_config.entry_patterns is None
            else file_config.entry_patterns
        ),
        hashed_name_patterns=patterns,
        include_dotfiles=file_config.include_dotfiles,
        include=file_config.include + check_globs(include, "--include"),
        exclude=file_config.exclude + check_globs(exclude, "--exclude"),
        header_rules=file_config.header_rules,
        read_cache=not no_cache and file_config.cache is not False,
        lease_wait=_seconds(lease_wait or file_config.lease_wait or "5m", "lease_wait"),
        allow_empty=allow_empty,
        force=force,
        invalidate=invalidate_settings(file_config, invalidate, specs),
        compress=file_config.compress,
    )


def invalidate_settings(
    file_config: FileConfig, flags: Sequence[str], origins: Sequence[OriginSpec]
) -> InvalidateSettings:
    """--invalidate (repeatable) replaces the config file's `invalidate`; each is checked
    here, before anything is written anywhere."""
    targets = (
        tuple(parse_cdn_target(spec) for spec in flags) if flags else file_config.invalidate or ()
    )
    profile = next((o.profile for o in origins if o.url.startswith("s3://") and o.profile), None)
    return InvalidateSettings(
        targets=tuple(dict.fromkeys(targets)),  # each distribution once, in the order given
        pretty_urls=file_config.pretty_urls is not False,
        profile=profile,
    )


def _seconds(text: str, name: str) -> float:
    try:
        return parse_duration(text).total_seconds()
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from None


@dataclass(frozen=True)
class GcSettings:
    keep: int = 5
    grace: timedelta = timedelta(hours=24)
    max_deletes: int = 10_000
    force: bool = False
    dry_run: bool = False


def gc_settings(
    file_config: FileConfig,
    keep: int | None,
    grace: str | None,
    max_deletes: int | None,
    *,
    force: bool = False,
    dry_run: bool = False,
) -> GcSettings:
    """Flags over the config file over the defaults: keep 5 (at least 1), grace 24h."""
    keep = keep if keep is not None else file_config.keep if file_config.keep is not None else 5
    if keep < 1:
        raise ConfigError("keep must be at least 1: the live release is always kept")
    grace_text = str(grace if grace is not None else file_config.grace or "24h")
    try:
        grace_delta = parse_duration(grace_text)
    except (ValueError, OverflowError) as exc:
        raise ConfigError(f"grace: {exc}") from None
    limit = max_deletes if max_deletes is not None else file_config.max_deletes or 10_000
    if limit < 0:
        raise ConfigError("max_deletes must not be negative")
    return GcSettings(keep, grace_delta, limit, force, dry_run)


def _public_url(flag: str | None, file_config: FileConfig) -> str | None:
    """--public-url, else $ASSETPUB_PUBLIC_URL, else the config's, checked."""
    return validate_public_url(
        flag or os.environ.get("ASSETPUB_PUBLIC_URL") or file_config.public_url
    )


DEFAULT_CHECK_TIMEOUT = "30s"
# An http(s) URL a visitor opens: a host, an optional port and path and query, no spaces or
# control characters (they would be sent as they are, or split the request line).
_CHECK_URL = re.compile(r"https?://[A-Za-z0-9.\-\[\]:]+(/[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*)?")


@dataclass(frozen=True)
class CheckSettings:
    """The health checks after a switch (publish, rollback), or on demand (verify --url)."""

    urls: tuple[str, ...] = ()
    command: str | None = None
    timeout: float = 30.0
    rollback_on_failure: bool = True
    # The build's --public-url: references made absolute with it are the site's own too.
    public_url: str | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.urls or self.command)


def validate_check_url(url: str, name: str = "--check-url") -> str:
    if not _CHECK_URL.fullmatch(url):
        raise ConfigError(
            f"{name} must be an absolute http(s) URL like https://www.example.com/, got {url!r}"
        )
    return url


def _check_timeout_seconds(text: str, name: str) -> float:
    seconds = _seconds(text, name)
    if seconds <= 0:
        raise ConfigError(f"{name} must be more than 0 seconds, not {text!r}")
    return seconds


def check_settings(
    file_config: FileConfig,
    urls: Sequence[str] = (),
    command: str | None = None,
    timeout: str | None = None,
    *,
    rollback_on_failure: bool = True,
    use_config_checks: bool = True,
    url_flag: str = "--check-url",
    public_url: str | None = None,
) -> CheckSettings:
    """Flags over the config file: --check-url replaces the file's check_urls, --check-cmd
    its check_cmd. `use_config_checks=False` (verify) takes the checks from flags only."""
    for url in urls:
        validate_check_url(url, url_flag)
    configured_urls = file_config.check_urls if use_config_checks else None
    configured_cmd = file_config.check_cmd if use_config_checks else None
    if command is not None and not command.strip():
        raise ConfigError("--check-cmd must not be empty")
    return CheckSettings(
        urls=tuple(urls) or configured_urls or (),
        command=command or configured_cmd or None,
        timeout=_check_timeout_seconds(
            timeout or file_config.check_timeout or DEFAULT_CHECK_TIMEOUT,
            "--check-timeout" if timeout else "check_timeout",
        ),
        rollback_on_failure=rollback_on_failure,
        public_url=_public_url(public_url, file_config),
    )


DEFAULT_DEBOUNCE = 1.0


@dataclass(frozen=True)
class WatchSettings:
    publish: PublishSettings
    debounce: float = DEFAULT_DEBOUNCE  # seconds the build folder stays quiet before a publish
    # A failed publish that was not the build's fault (an endpoint gone) is tried again after
    # retry_first seconds, doubling up to retry_max.
    retry_first: float = 1.0
    retry_max: float = 30.0


def watch_settings(publish: PublishSettings, debounce: float | None) -> WatchSettings:
    """The publish settings (from publish_settings: flags, environment and config alike) and
    the quiet period."""
    seconds = DEFAULT_DEBOUNCE if debounce is None else debounce
    if not 0 < seconds <= 3600:
        raise ConfigError(f"--debounce must be between 0 and 3600 seconds, not {seconds:g}")
    return WatchSettings(publish, seconds)
