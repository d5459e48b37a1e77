"""Command line: parse flags into settings, call one core function, print, map errors to exit
codes. AssetpubError becomes one line on stderr; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from assetpub import __version__
from assetpub.cli.render import (
    Reporter,
    broken_leases_json,
    check_outcome_json,
    delete_prefix_json,
    delete_prefix_prompt,
    error_json,
    gc_json,
    guard_json,
    init_json,
    print_broken_leases,
    print_check_outcomes,
    print_decisions,
    print_delete_prefix,
    print_detected,
    print_gc,
    print_guard,
    print_init,
    print_plan,
    print_publish_summary,
    print_releases,
    print_rollback,
    print_status,
    print_verify,
    publish_json,
    releases_json,
    rollback_json,
    status_json,
    verify_json,
    watch_hooks,
)
from assetpub.errors import AssetpubError, ConfigError

# Each command imports what it runs when it runs: `assetpub --help` stays a click program
# (start-up time), and no path imports boto3 before an s3:// origin is opened.
if TYPE_CHECKING:
    from assetpub.origins import Origin
    from assetpub.settings import FileConfig, PublishSettings


@dataclass
class Context:
    reporter: Reporter = field(default_factory=Reporter)
    config_path: Path | None = None
    debug: bool = False  # --debug: errors keep their tracebacks
    verbose: int = 0  # -v given this many times, before and after the command together
    quiet: bool = False
    file_config: FileConfig | None = None  # read once a run, when a command first needs it

    def output_flags_changed(self) -> None:
        self.reporter.verbosity = -1 if self.quiet else self.verbose
        _configure_logging(self.debug or self.verbose > 1)


def _add_verbose(ctx: click.Context, _: click.Parameter, count: int) -> None:
    context = ctx.ensure_object(Context)
    context.verbose += count
    context.output_flags_changed()


def _set_quiet(ctx: click.Context, _: click.Parameter, quiet: bool) -> None:
    context = ctx.ensure_object(Context)
    context.quiet = context.quiet or quiet
    context.output_flags_changed()


def _set_debug(ctx: click.Context, _: click.Parameter, debug: bool) -> None:
    context = ctx.ensure_object(Context)
    context.debug = context.debug or debug
    context.output_flags_changed()


def _set_json(ctx: click.Context, _: click.Parameter, as_json: bool) -> None:
    reporter = ctx.ensure_object(Context).reporter
    reporter.as_json = reporter.as_json or as_json


def _set_config(ctx: click.Context, _: click.Parameter, path: Path | None) -> None:
    if path is not None:
        ctx.ensure_object(Context).config_path = path


# The options every command takes, before its name or after it alike (`assetpub -q publish dist`
# is `assetpub publish dist -q`): each sets the one Context, so no command reads them itself.
verbose_option = click.option(
    "-v",
    "--verbose",
    count=True,
    expose_value=False,
    callback=_add_verbose,
    help="More detail: each file's decision and each upload or skip with its reason "
    "(twice: debug logs).",
)
quiet_option = click.option(
    "-q", "--quiet", is_flag=True, expose_value=False, callback=_set_quiet, help="Only errors."
)
debug_option = click.option(
    "--debug", is_flag=True, expose_value=False, callback=_set_debug, help="Show tracebacks."
)
json_option = click.option(
    "--json",
    is_flag=True,
    expose_value=False,
    callback=_set_json,
    help='Print one JSON object on stdout; an error as {"error": ..., "exit_code": N}.',
)
config_option = click.option(
    "--config",
    type=click.Path(path_type=Path, dir_okay=False),
    expose_value=False,
    callback=_set_config,
    help="Config file (default: the nearest assetpub.toml, else [tool.assetpub] in "
    "pyproject.toml, from here up to the repository root).",
)


origin_option = click.option(
    "--origin",
    "origins",
    multiple=True,
    metavar="URL",
    help="s3://bucket[/prefix], file:///path or a folder path; repeatable. "
    "Default: config, then $ASSETPUB_ORIGIN, then ./assetpub-origin.",
)
check_timeout_option = click.option(
    "--check-timeout",
    metavar="DURATION",
    help="How long each health check may take, retries included (default 30s).",
)
# The health check after a switch (docs/health-checks.md), for publish and rollback alike.
check_options = (
    click.option(
        "--check-url",
        "check_urls",
        multiple=True,
        metavar="URL",
        help="After the switch, fetch this page (and what it loads) as a visitor; repeatable.",
    ),
    click.option(
        "--check-cmd",
        metavar="CMD",
        help="After the switch, run this shell command; exit 0 passes.",
    ),
    check_timeout_option,
)


def with_options(
    *options: Callable[[Callable[..., None]], Callable[..., None]],
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """One decorator for several click options, in the order given (as --help lists them)."""

    def decorate(command: Callable[..., None]) -> Callable[..., None]:
        for option in reversed(options):
            command = option(command)
        return command

    return decorate


with_check_options = with_options(*check_options)
with_global_options = with_options(
    verbose_option, quiet_option, debug_option, json_option, config_option
)


endpoint_option = click.option(
    "--endpoint-url", metavar="URL", help="S3 endpoint for s3:// origins (R2, MinIO)."
)
invalidate_option = click.option(
    "--invalidate",
    multiple=True,
    metavar="cloudfront:ID",
    help="After the switch, invalidate the changed mutable paths on this CDN; repeatable.",
)


def examples(*lines: str) -> str:
    """A command's epilog: its examples, kept as written (\\b stops click re-wrapping them)."""
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


@click.group(
    context_settings={"help_option_names": ["-h", "--help"]},
    invoke_without_command=True,
    epilog=examples("assetpub init", "assetpub publish dist", "assetpub publish --help"),
)
@click.version_option(__version__, prog_name="assetpub")
@with_global_options
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Publish front-end builds to S3-compatible CDN origins without breaking open pages.

    -v, -q, --debug, --json and --config mean the same before a command's name or after it."""
    if ctx.invoked_subcommand is None:
        # Bare `assetpub` asks what there is: the help, and success.
        click.echo(ctx.get_help())


@cli.command(
    "init", epilog=examples("assetpub init", "assetpub init --force && git diff assetpub.toml")
)
@click.argument(
    "folder", type=click.Path(path_type=Path, file_okay=False, exists=True), default="."
)
@click.option("--force", is_flag=True, help="Overwrite an assetpub.toml already there.")
@with_global_options
@click.pass_obj
def init_command(obj: Context, folder: Path, force: bool) -> None:
    """Write a commented starter assetpub.toml in FOLDER (default: the current folder), for
    the webpack or Vite project found there (its build folder from output.path or
    build.outDir when plainly written, else dist)."""
    from assetpub.cli.starter import CONFIG_NAME, detect_bundler, starter_config

    folder = folder.absolute()
    target = folder / CONFIG_NAME
    if target.exists() and not force:
        raise ConfigError(f"{target} already exists; --force overwrites it")
    bundler = detect_bundler(folder)
    try:
        target.write_text(starter_config(bundler), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{target}: cannot write: {exc.strerror}") from None
    if obj.reporter.as_json:
        obj.reporter.emit_json("init", init_json(target, bundler))
    else:
        print_init(obj.reporter, target, bundler)


def _configure_logging(debug: bool) -> None:
    """Debug logs are assetpub's own. botocore's and urllib3's print every signed request,
    the Authorization header and the session token (x-amz-security-token) included, so they
    stay at warnings whatever the flags: a --debug log pasted into an issue leaks nothing."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("assetpub").setLevel(logging.DEBUG if debug else logging.NOTSET)


# The options publish and watch share, defined once: watch is publish, repeated.
publish_options = with_options(
    origin_option,
    endpoint_option,
    click.option("--public-url", metavar="URL", help="Make rewritten references absolute."),
    click.option("-m", "--message", help="A note stored with the release."),
    click.option("--strict", is_flag=True, default=None, help="A missing reference is an error."),
    click.option("--concurrency", type=click.IntRange(1, 64), help="Parallel uploads (default 8)."),
    click.option("--no-cache", is_flag=True, help="Read every file, trusting no earlier run."),
    click.option(
        "--include",
        multiple=True,
        metavar="PATTERN",
        help="Publish only paths matching this gitignore-style pattern; repeatable, added to "
        "the config's include.",
    ),
    click.option(
        "--exclude",
        multiple=True,
        metavar="PATTERN",
        help="Leave out (and never read) paths matching this gitignore-style pattern; "
        "repeatable, added to the config's exclude.",
    ),
    click.option(
        "--lease-wait", metavar="DURATION", help="How long to wait for a running GC (default 5m)."
    ),
    invalidate_option,
)


def _file_config(obj: Context) -> FileConfig:
    """The config file's settings, read once; with -v, which file they came from."""
    from assetpub.settings import config_search_folders, load_file_config

    if obj.file_config is None:
        cwd = Path.cwd()
        obj.file_config = load_file_config(obj.config_path, cwd)
        if obj.file_config.source is not None:
            obj.reporter.explain(f"assetpub: config: {obj.file_config.source}")
        else:
            top = config_search_folders(cwd)[-1]
            obj.reporter.explain(f"assetpub: config: none (looked in {cwd} up to {top})")
    return obj.file_config


def _publish_settings(obj: Context, build_dir: Path, **flags: Any) -> PublishSettings:
    from assetpub.settings import publish_settings

    return publish_settings(_file_config(obj), build_dir, **flags)


@cli.command(
    "publish",
    epilog=examples(
        "assetpub publish dist --origin s3://assets/site --public-url https://cdn.example.com/site/"
    ),
)
@click.argument("build_dir", type=click.Path(path_type=Path, file_okay=True))
@publish_options
@click.option("--dry-run", is_flag=True, help="Write nothing; print the plan.")
@click.option(
    "--force",
    is_flag=True,
    help="Upload every file again, bytes and headers, whatever the origin holds.",
)
@click.option(
    "--allow-empty",
    is_flag=True,
    help="Record a new release even when the live one is exactly this build.",
)
@with_check_options
@click.option(
    "--no-rollback-on-failure",
    is_flag=True,
    help="When a check fails, only report it (exit 3); the new release stays live.",
)
@with_global_options
@click.pass_obj
def publish_command(
    obj: Context,
    /,
    build_dir: Path,
    dry_run: bool,
    check_urls: Sequence[str],
    check_cmd: str | None,
    check_timeout: str | None,
    no_rollback_on_failure: bool,
    **flags: Any,
) -> None:
    """Hash, rewrite and upload BUILD_DIR, then switch asset-manifest.json and index.html."""
    from assetpub.commands.guard import after_publish
    from assetpub.commands.publish import publish
    from assetpub.settings import check_settings, publish_settings

    reporter = obj.reporter
    as_json = reporter.as_json
    file_config = _file_config(obj)
    checks = check_settings(
        file_config,
        check_urls,
        check_cmd,
        check_timeout,
        rollback_on_failure=not no_rollback_on_failure,
        public_url=flags.get("public_url"),
    )
    settings = publish_settings(file_config, build_dir, dry_run=dry_run, **flags)
    with reporter.progress() as hooks:
        result = publish(settings, hooks)
    guard = after_publish(result, settings, checks, reporter.warn)
    if as_json:
        reporter.emit_json(
            "publish", {**publish_json(result), "check": guard_json(guard) if guard else None}
        )
    else:
        print_detected(reporter, result)
        print_decisions(reporter, result)
        if dry_run or reporter.verbosity >= 1:
            print_plan(reporter, result)
        print_publish_summary(reporter, result, _live_url(settings))
        if guard:
            print_guard(reporter, guard)
    if guard:
        guard.raise_if_failed(checks.rollback_on_failure)


@cli.command("watch", epilog=examples("vite build --watch & assetpub watch dist --origin www"))
@click.argument("build_dir", type=click.Path(path_type=Path), default="dist")
@publish_options
@click.option(
    "--debounce",
    type=float,
    metavar="SECONDS",
    help="How long the build folder must be quiet before a publish (default 1).",
)
# No --json: watch prints a line per publish until stopped, never one object.
@with_options(verbose_option, quiet_option, debug_option, config_option)
@click.pass_obj
def watch_command(obj: Context, /, build_dir: Path, debounce: float | None, **flags: Any) -> None:
    """Publish BUILD_DIR (default: dist) now, then again whenever it changes and is complete:
    beside webpack --watch or vite build --watch. Ctrl-C or SIGTERM stops it between
    publishes (exit 0)."""
    from assetpub.build.changes import BuildChanges
    from assetpub.commands.watch import stopping_on_signals, watch
    from assetpub.settings import watch_settings

    if obj.reporter.as_json:  # `assetpub --json watch`
        raise ConfigError(
            "watch prints one line per publish and runs until stopped, not one JSON object: "
            "drop --json"
        )
    settings = watch_settings(_publish_settings(obj, build_dir, **flags), debounce)
    reporter = obj.reporter
    with BuildChanges(build_dir) as changes, stopping_on_signals(changes.request_stop):
        reporter.notice(
            f"assetpub: watching {build_dir} (quiet period {settings.debounce:g} s); Ctrl-C stops"
        )
        watch(settings, changes, watch_hooks(reporter, _live_url(settings.publish), obj.debug))
    reporter.notice("assetpub: watch stopped")


def _open_origins(
    obj: Context, origins: Sequence[str], endpoint_url: str | None, dry_run: bool = False
) -> tuple[list[Origin], FileConfig]:
    from assetpub.origins import open_origins
    from assetpub.settings import resolve_origins

    file_config = _file_config(obj)
    specs = resolve_origins(origins, file_config, endpoint_url)
    return open_origins(specs, dry_run), file_config


@cli.command("releases", epilog=examples("assetpub releases --origin s3://assets/site --json"))
@origin_option
@endpoint_option
@with_global_options
@click.pass_obj
def releases_command(obj: Context, origins: Sequence[str], endpoint_url: str | None) -> None:
    """List the releases an origin keeps, newest first, and which is live."""
    from assetpub.history.store import StateStore

    opened, _ = _open_origins(obj, origins, endpoint_url)
    if len(opened) > 1:
        raise ConfigError("releases shows one origin at a time: pick one with --origin")
    state, _ = StateStore(opened[0]).load()
    if obj.reporter.as_json:
        obj.reporter.emit_json("releases", releases_json(state))
    else:
        print_releases(obj.reporter, opened[0].url, state)


@cli.command(
    "rollback",
    epilog=examples(
        "assetpub rollback --origin s3://assets/site",
        "assetpub rollback 20260102T030405678Z-1a2b3c4d --origin s3://assets/site --dry-run",
    ),
)
@click.argument("release_id", required=False)
@origin_option
@endpoint_option
@click.option("--dry-run", is_flag=True, help="Check and print what would happen; change nothing.")
@with_check_options
@invalidate_option
@with_global_options
@click.pass_obj
def rollback_command(
    obj: Context,
    release_id: str | None,
    origins: Sequence[str],
    endpoint_url: str | None,
    dry_run: bool,
    check_urls: Sequence[str],
    check_cmd: str | None,
    check_timeout: str | None,
    invalidate: Sequence[str],
) -> None:
    """Make RELEASE_ID live again (default: the release live before the current one).

    Needs no build folder and uploads nothing: the files come from the release record and
    the objects already on the origin."""
    from assetpub.commands.guard import check_after_rollback
    from assetpub.commands.rollback import rollback
    from assetpub.history.record import check_release_id
    from assetpub.history.store import require_history
    from assetpub.settings import check_settings, invalidate_settings, resolve_origins

    if release_id is not None:
        # An unset $ID in a script gives "": never read that as "the previous release".
        check_release_id(release_id)
    opened, file_config = _open_origins(obj, origins, endpoint_url, dry_run)
    checks = check_settings(file_config, check_urls, check_cmd, check_timeout)
    cdns = invalidate_settings(
        file_config, invalidate, resolve_origins(origins, file_config, endpoint_url)
    )
    for origin in opened:
        require_history(origin, "no release is live to roll back")
    result = rollback(
        opened,
        release_id,
        dry_run=dry_run,
        warn=obj.reporter.warn,
        invalidate=cdns,
    )
    guard = check_after_rollback(result, checks, opened)
    if obj.reporter.as_json:
        obj.reporter.emit_json(
            "rollback", {**rollback_json(result), "check": guard_json(guard) if guard else None}
        )
    else:
        print_rollback(obj.reporter, result)
        if guard:
            print_guard(obj.reporter, guard)
    if guard:
        guard.raise_if_failed(rollback_on_failure=False)


@cli.command("gc", epilog=examples("assetpub gc --origin s3://assets/site --keep 10 --dry-run"))
@origin_option
@endpoint_option
@click.option(
    "--keep", type=int, help="Releases to keep, the live one among them (default 5, at least 1)."
)
@click.option("--grace", metavar="DURATION", help="e.g. 0, 90s, 15m, 24h (default), 7d.")
@click.option("--max-deletes", type=int, help="Stop before deleting more (default 10000).")
@click.option("--force", is_flag=True, help="Delete even beyond --max-deletes.")
@click.option("--dry-run", is_flag=True, help="Print exactly what would be deleted.")
@click.option(
    "--break-lease",
    is_flag=True,
    help="Only clear a GC lease no GC will release (a clock far ahead, a stuck host); "
    "delete nothing.",
)
@with_global_options
@click.pass_obj
def gc_command(
    obj: Context,
    origins: Sequence[str],
    endpoint_url: str | None,
    keep: int | None,
    grace: str | None,
    max_deletes: int | None,
    force: bool,
    dry_run: bool,
    break_lease: bool,
) -> None:
    """Delete the objects and records of releases no longer retained."""
    from assetpub.commands.gc import break_lease as break_gc_lease
    from assetpub.commands.gc import run_gc
    from assetpub.history.store import require_history
    from assetpub.settings import gc_settings

    opened, file_config = _open_origins(obj, origins, endpoint_url, dry_run)
    as_json = obj.reporter.as_json
    for origin in opened:
        require_history(origin, "there is nothing to collect")
    if break_lease:
        broken = [
            (o.url, break_gc_lease(o, dry_run=dry_run, warn=obj.reporter.warn)) for o in opened
        ]
        if as_json:
            obj.reporter.emit_json("gc-break-lease", broken_leases_json(broken, dry_run))
        else:
            print_broken_leases(obj.reporter, broken, dry_run)
        return
    settings = gc_settings(file_config, keep, grace, max_deletes, force=force, dry_run=dry_run)
    results = [run_gc(origin, settings, warn=obj.reporter.warn) for origin in opened]
    if as_json:
        obj.reporter.emit_json("gc", gc_json(results))
    else:
        print_gc(obj.reporter, results)


@cli.command("delete-prefix", epilog=examples("assetpub delete-prefix s3://assets/pr-42 --dry-run"))
@click.argument("origin")
@endpoint_option
@click.option("--yes", is_flag=True, help="Delete without asking (needed off a terminal).")
@click.option("--dry-run", is_flag=True, help="Print exactly what would be deleted and left.")
@with_global_options
@click.pass_obj
def delete_prefix_command(
    obj: Context, origin: str, endpoint_url: str | None, yes: bool, dry_run: bool
) -> None:
    """Delete a preview: every object assetpub owns under ORIGIN (s3://bucket/pr-42), its
    release history included. Objects assetpub did not write stay, and are listed."""
    from assetpub.commands.delete_prefix import DeletePrefixPlan, check_deletable, delete_prefix

    check_deletable(origin)
    if not (yes or dry_run or _stdin_is_terminal()):
        raise ConfigError(
            f"delete-prefix deletes {origin} and its history for good: pass --yes when not on a "
            "terminal (or --dry-run to see what would go)"
        )
    [opened], _ = _open_origins(obj, [origin], endpoint_url)

    def confirm(plan: DeletePrefixPlan) -> bool:
        if yes or dry_run:
            return True
        return click.confirm(delete_prefix_prompt(opened.url, plan), default=False, err=True)

    result = delete_prefix(opened, confirm=confirm, dry_run=dry_run, warn=obj.reporter.warn)
    if obj.reporter.as_json:
        obj.reporter.emit_json("delete-prefix", delete_prefix_json(result))
    else:
        print_delete_prefix(obj.reporter, result)


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


@cli.command(
    "status", epilog=examples("assetpub status --origin s3://assets/site --origin s3://backup/site")
)
@origin_option
@endpoint_option
@with_global_options
@click.pass_obj
def status_command(obj: Context, origins: Sequence[str], endpoint_url: str | None) -> None:
    """Show each origin's live release; exit 1 when origins diverge or one has no history."""
    from assetpub.commands.status import divergence, origin_status
    from assetpub.history.store import require_history

    opened, _ = _open_origins(obj, origins, endpoint_url)
    for origin in opened:
        require_history(origin, "no release is live")
    statuses = [origin_status(o) for o in opened]
    reasons = divergence(statuses)
    if obj.reporter.as_json:
        obj.reporter.emit_json("status", status_json(statuses, reasons))
    else:
        print_status(obj.reporter, statuses, reasons)
    if reasons:
        raise SystemExit(1)


@cli.command(
    "verify",
    epilog=examples(
        "assetpub verify --origin s3://assets/site --deep",
        "assetpub verify --url https://www.example.com/",
    ),
)
@origin_option
@endpoint_option
@click.option("--deep", is_flag=True, help="Also read every object and re-hash its bytes.")
@click.option(
    "--url",
    "urls",
    multiple=True,
    metavar="URL",
    help="Also check this page as a visitor fetches it (alone: no origin is opened); repeatable.",
)
@check_timeout_option
@with_global_options
@click.pass_obj
def verify_command(
    obj: Context,
    origins: Sequence[str],
    endpoint_url: str | None,
    deep: bool,
    urls: Sequence[str],
    check_timeout: str | None,
) -> None:
    """Check the live release is whole on every origin; exit 1 with the problems if not.

    With --url, also check the page at URL as a visitor fetches it; with --url alone, only
    that, without origin credentials."""
    from assetpub.commands.verify import verify_origin
    from assetpub.health.check import check_url
    from assetpub.settings import check_settings

    file_config = _file_config(obj)
    checks = check_settings(
        file_config, urls, None, check_timeout, use_config_checks=False, url_flag="--url"
    )
    results = []
    if origins or not urls:
        opened, _ = _open_origins(obj, origins, endpoint_url)
        results = [verify_origin(o, deep=deep) for o in opened]
    live = {r.live for r in results}
    expected = live.pop() if len(live) == 1 else None
    outcomes = [
        check_url(url, expected, timeout=checks.timeout, public_url=checks.public_url)
        for url in checks.urls
    ]
    healthy = all(r.healthy for r in results) and all(o.passed for o in outcomes)
    if obj.reporter.as_json:
        data = verify_json(results)
        if urls:
            data["healthy"] = healthy
            data["urls"] = [check_outcome_json(o) for o in outcomes]
        obj.reporter.emit_json("verify", data)
    else:
        print_verify(obj.reporter, results)
        print_check_outcomes(obj.reporter, outcomes)
    if not healthy:
        raise SystemExit(1)


def _live_url(settings: PublishSettings) -> str | None:
    """Where the live page can be opened: the public URL, or the first folder origin's."""
    from assetpub.origins import parse_origin_url

    if settings.public_url:
        return settings.public_url
    scheme, location, _ = parse_origin_url(settings.origins[0].url)
    if scheme != "file":
        return None
    return (Path(location).resolve() / "index.html").as_uri()


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    # The options' callbacks fill this in, --debug included, before any command can fail.
    context = Context()

    def fail(message: str, exit_code: int, *, parsed: bool = True) -> int:
        """One line on stderr, always; under --json also the error as the one JSON object on
        stdout, unless the command already printed its own (a failed check after a publish)."""
        click.echo(f"assetpub: {message}", err=True)
        # A usage error stops click before it reads --json: then the word itself counts.
        as_json = context.reporter.as_json or (not parsed and _names_json(args))
        if as_json and not context.reporter.emitted_json:
            context.reporter.emit_json(
                "error", error_json(message.removeprefix("error: "), exit_code)
            )
        return exit_code

    try:
        cli.main(args=args, prog_name="assetpub", standalone_mode=False, obj=context)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except SystemExit as exc:
        return int(exc.code or 0)
    except click.UsageError as exc:
        # One line, like every other error: click's own form takes four (usage, hint, blank
        # line, message), which CI logs and scripts parsing stderr handle badly.
        command = exc.ctx.command_path if exc.ctx else "assetpub"
        message = exc.format_message().rstrip(".")
        return fail(f"error: {message} (see '{command} --help')", exc.exit_code, parsed=False)
    except click.ClickException as exc:
        return fail(f"error: {exc.format_message()}", exc.exit_code)
    except click.exceptions.Abort:
        return fail("aborted", 130)
    except AssetpubError as exc:
        if context.debug or os.environ.get("ASSETPUB_DEBUG") == "1":
            raise
        return fail(f"error: {exc.message}", exc.exit_code)
    except KeyboardInterrupt:
        return fail("interrupted", 130)
    return 0


def _names_json(args: Sequence[str]) -> bool:
    """Whether --json is among the arguments, before a `--` that ends the options."""
    options = args[: args.index("--")] if "--" in args else args
    return "--json" in options


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
