"""assetpub as a library: the commands the CLI runs, for build scripts that prefer Python to a
subprocess (docs/api.md).

Each function takes what the CLI takes — a build folder, origin URLs, keywords named after the
flags — merges it with the config file, the environment and the defaults exactly as the CLI
does (settings.py), runs the same command and returns its result dataclass. Bad input raises
an AssetpubError subclass (ConfigError for bad arguments) before anything is written anywhere.
Nothing is printed: warnings go to `warn`, by default this module's logger.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from assetpub.commands.gc import GcResult, run_gc
from assetpub.commands.guard import after_publish, check_after_rollback
from assetpub.commands.publish import Hooks, PublishResult
from assetpub.commands.publish import publish as run_publish
from assetpub.commands.rollback import RollbackResult
from assetpub.commands.rollback import rollback as run_rollback
from assetpub.commands.verify import OriginHealth, verify_origin
from assetpub.errors import ConfigError
from assetpub.history.record import check_release_id
from assetpub.origins import OriginSpec, open_origins
from assetpub.settings import (
    FileConfig,
    check_settings,
    gc_settings,
    invalidate_settings,
    load_file_config,
    publish_settings,
    resolve_origins,
)

__all__ = [
    "FileConfig",
    "GcResult",
    "OriginHealth",
    "OriginSpec",
    "PublishResult",
    "RollbackResult",
    "gc",
    "load_config",
    "publish",
    "rollback",
    "verify",
]

log = logging.getLogger(__name__)

# An origin as a URL ("s3://bucket/site", "file:///srv/www"), a folder path, or an OriginSpec
# carrying its own options (endpoint, region, profile...).
OriginLike = str | os.PathLike[str] | OriginSpec
Origins = OriginLike | Sequence[OriginLike]
# What a config file takes for a duration: "24h", "90s", "0"; or whole seconds.
Duration = str | int | timedelta
Warn = Callable[[str], None]


def load_config(
    path: str | os.PathLike[str] | None = None, *, cwd: str | os.PathLike[str] | None = None
) -> FileConfig:
    """The config the CLI would use: the file at `path` (an assetpub.toml, or a pyproject.toml's
    [tool.assetpub]), else `cwd`'s (default: the working directory) assetpub.toml, else its
    pyproject.toml's [tool.assetpub], else an empty FileConfig. ConfigError for a missing file
    named by `path`, bad TOML, an unknown key or a bad value."""
    folder = Path.cwd() if cwd is None else Path(cwd)
    return load_file_config(None if path is None else Path(path), folder)


def publish(
    build_dir: str | os.PathLike[str],
    origins: Origins = (),
    *,
    config: FileConfig | None = None,
    endpoint_url: str | None = None,
    public_url: str | None = None,
    message: str | None = None,
    strict: bool | None = None,
    dry_run: bool = False,
    force: bool = False,
    allow_empty: bool = False,
    concurrency: int | None = None,
    no_cache: bool = False,
    include: str | Sequence[str] = (),
    exclude: str | Sequence[str] = (),
    lease_wait: Duration | None = None,
    invalidate: str | Sequence[str] = (),
    check_url: str | Sequence[str] = (),
    check_cmd: str | None = None,
    check_timeout: Duration | None = None,
    no_rollback_on_failure: bool = False,
    warn: Warn = log.warning,
) -> PublishResult:
    """`assetpub publish BUILD_DIR`: hash, rewrite and upload the build, switch, record the
    release; then invalidate and run the health checks when asked to. The result says what was
    (or, with `dry_run`, would be) uploaded per origin, and `unchanged` when the live release
    was this build already. A failed health check raises HealthCheckError after rolling back
    (unless `no_rollback_on_failure`)."""
    file_config = _config(config)
    checks = check_settings(
        file_config,
        _strings(check_url, "check_url"),
        check_cmd,
        _duration(check_timeout, "check_timeout"),
        rollback_on_failure=not no_rollback_on_failure,
        public_url=public_url,
    )
    urls, file_config = _origin_urls(origins, file_config)
    settings = publish_settings(
        file_config,
        Path(build_dir),
        origins=urls,
        endpoint_url=endpoint_url,
        public_url=public_url,
        message=message,
        strict=strict,
        dry_run=dry_run,
        concurrency=_optional_int(concurrency, "concurrency"),
        no_cache=no_cache,
        lease_wait=_duration(lease_wait, "lease_wait"),
        invalidate=_strings(invalidate, "invalidate"),
        force=force,
        include=_strings(include, "include"),
        exclude=_strings(exclude, "exclude"),
        allow_empty=allow_empty,
    )
    result = run_publish(settings, Hooks(warn=warn))
    guard = after_publish(result, settings, checks, warn)
    if guard:
        guard.raise_if_failed(checks.rollback_on_failure)
    return result


def rollback(
    release_id: str | None = None,
    origins: Origins = (),
    *,
    config: FileConfig | None = None,
    endpoint_url: str | None = None,
    dry_run: bool = False,
    invalidate: str | Sequence[str] = (),
    check_url: str | Sequence[str] = (),
    check_cmd: str | None = None,
    check_timeout: Duration | None = None,
    warn: Warn = log.warning,
) -> RollbackResult:
    """`assetpub rollback [RELEASE_ID]`: make a retained release live again on every origin
    (default: the one live before the current one), from its record alone. RollbackError when
    it cannot be restored (nothing changed then). A failed health check raises
    HealthCheckError; the release stays live (a rollback never rolls forward)."""
    if release_id is not None:
        # An unset variable in a script gives "": never read that as "the previous release".
        check_release_id(release_id)
    file_config = _config(config)
    checks = check_settings(
        file_config,
        _strings(check_url, "check_url"),
        check_cmd,
        _duration(check_timeout, "check_timeout"),
    )
    specs = _origin_specs(origins, file_config, endpoint_url)
    cdns = invalidate_settings(file_config, _strings(invalidate, "invalidate"), specs)
    opened = open_origins(specs, dry_run)
    result = run_rollback(opened, release_id, dry_run=dry_run, warn=warn, invalidate=cdns)
    guard = check_after_rollback(result, checks, opened)
    if guard:
        guard.raise_if_failed(rollback_on_failure=False)
    return result


def gc(
    origins: Origins = (),
    *,
    config: FileConfig | None = None,
    endpoint_url: str | None = None,
    keep: int | None = None,
    grace: Duration | None = None,
    max_deletes: int | None = None,
    force: bool = False,
    dry_run: bool = False,
    warn: Warn = log.warning,
) -> list[GcResult]:
    """`assetpub gc`: on each origin, delete the objects and records of the releases no longer
    retained (`keep`, default 5; `grace`, default 24h), one GcResult per origin.
    TooManyDeletesError past `max_deletes` (default 10,000) unless `force`: nothing deleted."""
    file_config = _config(config)
    settings = gc_settings(
        file_config,
        _optional_int(keep, "keep"),
        _duration(grace, "grace"),
        _optional_int(max_deletes, "max_deletes"),
        force=force,
        dry_run=dry_run,
    )
    opened = open_origins(_origin_specs(origins, file_config, endpoint_url), dry_run)
    return [run_gc(origin, settings, warn=warn) for origin in opened]


def verify(
    origins: Origins = (),
    *,
    config: FileConfig | None = None,
    endpoint_url: str | None = None,
    deep: bool = False,
) -> list[OriginHealth]:
    """`assetpub verify [--deep]`: is the live release whole on each origin? One OriginHealth
    per origin; an unhealthy one lists its problems (no exception: a broken release is an
    answer, not bad input)."""
    file_config = _config(config)
    opened = open_origins(_origin_specs(origins, file_config, endpoint_url))
    return [verify_origin(origin, deep=deep) for origin in opened]


def _config(config: FileConfig | None) -> FileConfig:
    """None reads the working directory's config file, as the CLI does; FileConfig() is none."""
    if config is None:
        return load_config()
    if not isinstance(config, FileConfig):
        raise ConfigError(f"config must be a FileConfig (see load_config), not {config!r}")
    return config


def _origin_urls(origins: Origins, file_config: FileConfig) -> tuple[list[str], FileConfig]:
    """The URLs to resolve as --origin flags, and a config whose origins include the given
    OriginSpecs: resolve_origins takes a flag's options from the config entry of its URL."""
    given = [origins] if isinstance(origins, str | os.PathLike | OriginSpec) else list(origins)
    urls: list[str] = []
    specs: list[OriginSpec] = []
    for origin in given:
        if isinstance(origin, OriginSpec):
            specs.append(origin)
            urls.append(origin.url)
        elif isinstance(origin, str | os.PathLike):
            urls.append(os.fspath(origin))
        else:
            raise ConfigError(
                f"an origin must be a URL, a folder path or an OriginSpec, not {origin!r}"
            )
    # Later entries win in resolve_origins' lookup: a spec given here over the config file's.
    return urls, replace(file_config, origins=file_config.origins + tuple(specs))


def _origin_specs(
    origins: Origins, file_config: FileConfig, endpoint_url: str | None
) -> tuple[OriginSpec, ...]:
    urls, file_config = _origin_urls(origins, file_config)
    return resolve_origins(urls, file_config, endpoint_url)


def _strings(value: str | Sequence[str], name: str) -> tuple[str, ...]:
    """A repeatable flag's values: one string is one value, never its characters."""
    values = (value,) if isinstance(value, str) else tuple(value)
    if not all(isinstance(v, str) for v in values):
        raise ConfigError(f"{name} must be a string or a list of strings, not {value!r}")
    return values


def _optional_int(value: int | None, name: str) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigError(f"{name} must be an integer, not {value!r}")
    return value


def _duration(value: Duration | None, name: str) -> str | None:
    """The duration as the config file would say it; settings.py checks its range."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
        if seconds < 0 or seconds != int(seconds):
            raise ConfigError(f"{name} must be a whole, non-negative number of seconds")
        return str(int(seconds))
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ConfigError(f"{name} must not be negative, not {value}")
        return str(value)
    raise ConfigError(f"{name} must be a duration like '24h', seconds or a timedelta")
