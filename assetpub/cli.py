"""Command line: parse flags into settings, call one core function, print, map errors to exit
codes. AssetpubError becomes one line on stderr; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import click

from assetpub import __version__
from assetpub.config import (
    DEFAULT_ENTRY_PATTERNS,
    DEFAULT_HASHED_NAME_PATTERNS,
    PublishSettings,
    load_file_config,
    resolve_origins,
    validate_patterns,
    validate_public_url,
)
from assetpub.errors import AssetpubError
from assetpub.output import Reporter, print_plan, print_publish_summary, publish_json
from assetpub.publish import publish


@dataclass
class Context:
    reporter: Reporter
    config_path: Path | None


origin_option = click.option(
    "--origin",
    "origins",
    multiple=True,
    metavar="URL",
    help="s3://bucket[/prefix], file:///path or a folder path; repeatable. "
    "Default: config, then $ASSETPUB_ORIGIN, then ./assetpub-origin.",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="assetpub")
@click.option("-v", "--verbose", count=True, help="More detail (repeat for debug logs).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Config file (default: ./assetpub.toml, else [tool.assetpub] in ./pyproject.toml).",
)
@click.pass_context
def cli(
    ctx: click.Context, verbose: int, quiet: bool, debug: bool, config_path: Path | None
) -> None:
    """Publish front-end builds to S3-compatible CDN origins without breaking open pages."""
    level = logging.DEBUG if debug or verbose > 1 else logging.WARNING
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    ctx.obj = Context(Reporter(verbosity=-1 if quiet else verbose), config_path)


@cli.command("publish")
@click.argument("build_dir", type=click.Path(path_type=Path, file_okay=True))
@origin_option
@click.option("--endpoint-url", metavar="URL", help="S3 endpoint for s3:// origins (R2, MinIO).")
@click.option("--public-url", metavar="URL", help="Make rewritten references absolute.")
@click.option("-m", "--message", help="A note stored with the release.")
@click.option("--strict", is_flag=True, default=None, help="A missing reference is an error.")
@click.option("--dry-run", is_flag=True, help="Write nothing; print the plan.")
@click.option("--concurrency", type=click.IntRange(1, 64), help="Parallel uploads (default 8).")
@json_option
@click.pass_obj
def publish_command(
    obj: Context,
    build_dir: Path,
    origins: Sequence[str],
    endpoint_url: str | None,
    public_url: str | None,
    message: str | None,
    strict: bool | None,
    dry_run: bool,
    concurrency: int | None,
    as_json: bool,
) -> None:
    """Hash, rewrite and upload BUILD_DIR, then switch asset-manifest.json and index.html."""
    reporter = obj.reporter
    reporter.as_json = as_json
    file_config = load_file_config(obj.config_path, Path.cwd())
    patterns = file_config.hashed_name_patterns or DEFAULT_HASHED_NAME_PATTERNS
    validate_patterns(patterns)
    settings = PublishSettings(
        build_dir=build_dir,
        origins=resolve_origins(origins, file_config, endpoint_url),
        public_url=validate_public_url(
            public_url or os.environ.get("ASSETPUB_PUBLIC_URL") or file_config.public_url
        ),
        message=message,
        strict=bool(strict if strict is not None else file_config.strict),
        dry_run=dry_run,
        concurrency=concurrency or file_config.concurrency or 8,
        entry_patterns=file_config.entry_patterns or DEFAULT_ENTRY_PATTERNS,
        hashed_name_patterns=patterns,
        include_dotfiles=file_config.include_dotfiles,
        header_rules=file_config.header_rules,
    )
    with reporter.progress() as hooks:
        result = publish(settings, hooks)
    for warning in result.build.warnings:
        reporter.warn(warning)
    if as_json:
        reporter.emit_json(publish_json(result))
        return
    if dry_run:
        print_plan(reporter, result)
    print_publish_summary(reporter, result, _live_url(settings))


def _live_url(settings: PublishSettings) -> str | None:
    if settings.public_url:
        return settings.public_url
    first = settings.origins[0].url
    if first.startswith("s3://") or first.startswith("memory://"):
        return None
    folder = Path(first.removeprefix("file://")).resolve()
    return (folder / "index.html").as_uri()


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("ASSETPUB_DEBUG") == "1"
    try:
        cli.main(args=args, prog_name="assetpub", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("assetpub: aborted", err=True)
        return 130
    except AssetpubError as exc:
        if debug:
            raise
        click.echo(f"assetpub: error: {exc.message}", err=True)
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("assetpub: interrupted", err=True)
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
