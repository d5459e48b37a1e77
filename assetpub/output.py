"""The one place that prints for the user: summaries, warnings, progress and --json."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import click

from assetpub.plan import Upload
from assetpub.publish import Hooks, PublishResult


def human_bytes(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


@dataclass
class Reporter:
    verbosity: int = 0  # -1 quiet, 0 normal, 1+ verbose
    as_json: bool = False

    def warn(self, message: str) -> None:
        if self.verbosity >= 0:
            click.echo(f"warning: {message}", err=True)

    def info(self, message: str) -> None:
        if self.verbosity >= 0 and not self.as_json:
            click.echo(message)

    def detail(self, message: str) -> None:
        if self.verbosity >= 1 and not self.as_json:
            click.echo(message)

    def emit_json(self, data: Any) -> None:
        click.echo(json.dumps(data, indent=2))

    @contextmanager
    def progress(self) -> Iterator[Hooks]:
        """A progress bar on an interactive stderr for long uploads; silent otherwise."""
        if self.as_json or self.verbosity < 0 or not sys.stderr.isatty():
            yield Hooks()
            return
        bars: list[Any] = []

        def on_plan(total: int) -> None:
            if total > 20:
                bar = click.progressbar(length=total, label="Uploading", file=sys.stderr)
                bar.__enter__()
                bars.append(bar)

        def on_upload(upload: Upload) -> None:
            if bars:
                bars[0].update(1)

        try:
            yield Hooks(on_plan=on_plan, on_upload=on_upload)
        finally:
            for bar in bars:
                bar.__exit__(None, None, None)


def publish_json(result: PublishResult) -> dict[str, Any]:
    return {
        "release": result.release.id,
        "dry_run": result.dry_run,
        "created_at": result.release.created_at,
        "git_commit": result.release.git_commit,
        "uploaded": result.uploaded,
        "skipped": result.skipped,
        "files": len(result.build.files),
        "origins": [
            {
                "url": o.url,
                "uploaded": o.uploaded,
                "uploaded_bytes": o.uploaded_bytes,
                "skipped": o.skipped,
                "skipped_bytes": o.skipped_bytes,
                "requests": o.requests,
            }
            for o in result.origins
        ],
        "warnings": list(result.build.warnings),
    }


def print_plan(reporter: Reporter, result: PublishResult) -> None:
    """What a dry run would do, phase by phase, each write with its reason."""
    for summary in result.origins:
        plan = summary.plan
        if plan is None:
            continue
        reporter.info(f"{summary.url}:")
        groups = [("record", (plan.record,)), ("assets", plan.assets), *plan.switch_groups]
        for name, uploads in groups:
            for upload in uploads:
                reporter.info(f"  {name:8} put  {upload.key}  ({upload.reason})")
        for skip in plan.skipped:
            reporter.detail(f"  {'':8} skip {skip.key}  ({skip.reason})")


def print_publish_summary(reporter: Reporter, result: PublishResult, live_url: str | None) -> None:
    verb = "Would publish" if result.dry_run else "Published"
    reporter.info(f"{verb} release {result.release.id} ({len(result.build.files)} files)")
    for o in result.origins:
        reporter.info(
            f"  {o.url}: uploaded {o.uploaded} ({human_bytes(o.uploaded_bytes)}), "
            f"skipped {o.skipped} already there ({human_bytes(o.skipped_bytes)}), "
            f"{o.requests} requests"
        )
    if result.build.skipped_dotfiles:
        reporter.detail("  not published (dotfiles): " + ", ".join(result.build.skipped_dotfiles))
    if live_url and not result.dry_run:
        reporter.info(f"  live: {live_url}")
