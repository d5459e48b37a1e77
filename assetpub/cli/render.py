"""The one place that prints for the user: summaries, warnings, progress and --json."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from assetpub.cli.starter import DEFAULT_BUILD_DIR, Bundler

# Types only: `assetpub --help` must not import the commands (start-up time).
if TYPE_CHECKING:
    from pathlib import Path

    from assetpub.commands.delete_prefix import DeletePrefixPlan, DeletePrefixResult
    from assetpub.commands.gc import GcResult
    from assetpub.commands.guard import GuardResult
    from assetpub.commands.invalidate import Invalidation
    from assetpub.commands.plan import Upload
    from assetpub.commands.publish import Hooks, PublishResult
    from assetpub.commands.rollback import RollbackResult
    from assetpub.commands.status import OriginStatus
    from assetpub.commands.verify import OriginHealth
    from assetpub.commands.watch import WatchHooks
    from assetpub.errors import AssetpubError
    from assetpub.health.check import CheckOutcome
    from assetpub.history.state import GcLease, State


# Every --json output names itself and its version, "assetpub.<output>/<version>"
# (docs/json.md, docs/schemas/<output>.json). A new field keeps the version; a field removed or
# renamed, or one whose type changes, bumps it, so a script can refuse a shape it does not know.
JSON_SCHEMA_VERSIONS = {
    "init": 1,
    "publish": 1,
    "rollback": 1,
    "releases": 1,
    "gc": 1,
    "gc-break-lease": 1,
    "delete-prefix": 1,
    "status": 1,
    "verify": 1,
    "error": 1,
}


def schema_id(output: str) -> str:
    """The `schema` field of an output: `assetpub.publish/1`."""
    return f"assetpub.{output}/{JSON_SCHEMA_VERSIONS[output]}"


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
    # Whether stdout already holds the command's JSON object: an error after it (a failed
    # health check) must not add a second one, which no JSON reader would take.
    emitted_json: bool = False

    def warn(self, message: str) -> None:
        if self.verbosity >= 0:
            click.echo(f"warning: {message}", err=True)

    def info(self, message: str) -> None:
        if self.verbosity >= 0 and not self.as_json:
            click.echo(message)

    def notice(self, message: str) -> None:
        """What a long-running command is doing (watching, stopped): stderr, beside errors."""
        if self.verbosity >= 0:
            click.echo(message, err=True)

    def detail(self, message: str) -> None:
        if self.verbosity >= 1 and not self.as_json:
            click.echo(message)

    def explain(self, message: str) -> None:
        """-v only, on stderr: how assetpub read its input (which config file), so it stays
        out of --json and of the command's output."""
        if self.verbosity >= 1:
            click.echo(message, err=True)

    def emit_json(self, output: str, data: dict[str, Any] | list[dict[str, Any]]) -> None:
        """OUTPUT's object with its `schema` first. `releases` prints a list (as it always
        has, for the scripts reading it): there each entry carries the field."""
        schema = {"schema": schema_id(output)}
        stamped = [{**schema, **e} for e in data] if isinstance(data, list) else {**schema, **data}
        click.echo(json.dumps(stamped, indent=2))
        self.emitted_json = True

    @contextmanager
    def progress(self) -> Iterator[Hooks]:
        """A progress bar on an interactive stderr for long uploads; silent otherwise."""
        from assetpub.commands.publish import Hooks

        if self.as_json or self.verbosity < 0 or not sys.stderr.isatty():
            yield Hooks(warn=self.warn)
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
            yield Hooks(on_plan=on_plan, on_upload=on_upload, warn=self.warn)
        finally:
            for bar in bars:
                bar.__exit__(None, None, None)


def init_json(path: Path, bundler: Bundler | None) -> dict[str, Any]:
    return {
        "config": str(path),
        "bundler": bundler.name if bundler else None,
        "build_dir": bundler.build_dir if bundler else DEFAULT_BUILD_DIR,
        "build_dir_read": bundler.build_dir_read if bundler else False,
    }


def print_init(reporter: Reporter, path: Path, bundler: Bundler | None) -> None:
    build_dir = bundler.build_dir if bundler else DEFAULT_BUILD_DIR
    if bundler is None:
        found = f"no webpack or Vite config here; assumed build folder {build_dir}"
    elif bundler.build_dir_read:
        found = f"{bundler.name}, build folder {build_dir} ({bundler.setting})"
    else:
        found = f"{bundler.name}, build folder {build_dir} (its default: check {bundler.setting})"
    reporter.info(f"Wrote {path}: {found}")
    reporter.info(f"next: edit origins, then `assetpub publish {build_dir} --dry-run`")


def error_json(message: str, exit_code: int) -> dict[str, Any]:
    """What --json prints when a command stops: its one line's message, and the exit code."""
    return {"error": message, "exit_code": exit_code}


def publish_json(result: PublishResult) -> dict[str, Any]:
    return {
        "release": result.release.id,
        "dry_run": result.dry_run,
        "unchanged": result.unchanged,
        "created_at": result.release.created_at,
        "git_commit": result.release.git_commit,
        "uploaded": result.uploaded,
        "skipped": result.skipped,
        "headers_updated": result.headers_updated,
        "files": len(result.build.files),
        "origins": [
            {
                "url": o.url,
                "uploaded": o.uploaded,
                "uploaded_bytes": o.uploaded_bytes,
                "skipped": o.skipped,
                "skipped_bytes": o.skipped_bytes,
                "headers_updated": o.headers_updated,
                "requests": o.requests,
                "written": o.written_keys,
            }
            for o in result.origins
        ],
        "warnings": list(result.build.warnings),
        "detected": list(result.build.detected),
        "invalidations": [invalidation_json(i) for i in result.invalidations],
    }


def invalidation_json(invalidation: Invalidation) -> dict[str, Any]:
    return {
        "cdn": invalidation.target.spec,
        "paths": list(invalidation.paths),
        "caller_reference": invalidation.caller_reference,
        "dry_run": invalidation.dry_run,
        "id": invalidation.id,
        "error": invalidation.error,
        "retry": invalidation.retry_command if invalidation.error else None,
        "requests": invalidation.requests,
    }


def print_invalidations(reporter: Reporter, invalidations: Sequence[Invalidation]) -> None:
    """One line per CDN; a dry run lists every path, -v too. A failure was a warning."""
    for inv in invalidations:
        count = _count(len(inv.paths), "path")
        if not inv.paths:
            reporter.info(f"  {inv.target.spec}: nothing to invalidate (no mutable file changed)")
        elif inv.dry_run:
            reporter.info(f"  {inv.target.spec}: would invalidate {count}:")
        elif inv.id is not None:
            reporter.info(f"  {inv.target.spec}: invalidated {count} (invalidation {inv.id})")
        else:
            continue
        for path in inv.paths:
            (reporter.info if inv.dry_run else reporter.detail)(f"    {path}")


def print_detected(reporter: Reporter, result: PublishResult) -> None:
    if result.build.detected:
        reporter.info("detected: " + ", ".join(result.build.detected))


def print_decisions(reporter: Reporter, result: PublishResult) -> None:
    """With -v: what each file became and the evidence for it."""
    if reporter.verbosity < 1:
        return
    reporter.detail("decisions:")
    for file in result.build.files:
        decision = result.build.decisions.get(file.source)
        reason = decision.reason if decision else ""
        if file.key != file.source:
            reporter.detail(f"  renamed {file.source} -> {file.key}: {reason}")
        else:
            reporter.detail(f"  kept    {file.source} ({file.kind}): {reason}")


def print_plan(reporter: Reporter, result: PublishResult) -> None:
    """What a dry run would do, phase by phase, each write with its reason."""
    for summary in result.origins:
        plan = summary.plan
        if plan is None:
            continue
        reporter.info(f"{summary.url}:")
        groups = [
            ("record", (plan.record,)),
            ("assets", plan.assets),
            ("headers", plan.headers),
            *plan.switch_groups,
        ]
        for name, uploads in groups:
            for upload in uploads:
                verb = "put " if upload.copy_of is None else "copy"
                reporter.info(f"  {name:8} {verb} {upload.key}  ({upload.reason})")
        from assetpub.commands.plan import skip_reason

        for skip in plan.skipped:
            reporter.detail(f"  {'':8} skip {skip.key}  ({skip_reason(skip)})")


def print_publish_summary(reporter: Reporter, result: PublishResult, live_url: str | None) -> None:
    if result.unchanged:
        reporter.info(
            f"Unchanged: release {result.release.id} is live already with exactly these "
            f"{len(result.build.files)} files; nothing written (--allow-empty records a new "
            "release anyway)"
        )
    else:
        verb = "Would publish" if result.dry_run else "Published"
        reporter.info(f"{verb} release {result.release.id} ({len(result.build.files)} files)")
    for o in result.origins:
        headers = f"headers updated on {o.headers_updated}, " if o.headers_updated else ""
        reporter.info(
            f"  {o.url}: uploaded {o.uploaded} ({human_bytes(o.uploaded_bytes)}), {headers}"
            f"skipped {o.skipped} already there ({human_bytes(o.skipped_bytes)}), "
            f"{o.requests} requests"
        )
    if result.build.skipped_dotfiles:
        reporter.detail("  not published (dotfiles): " + ", ".join(result.build.skipped_dotfiles))
    print_invalidations(reporter, result.invalidations)
    if live_url and not result.dry_run:
        reporter.info(f"  live: {live_url}")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def watch_hooks(reporter: Reporter, live_url: str | None, debug: bool = False) -> WatchHooks:
    """One line per publish (local time, release, files uploaded, duration); errors as the
    command line prints them, one line each, and watching goes on."""
    import traceback

    from assetpub.commands.publish import Hooks
    from assetpub.commands.watch import WatchHooks

    def clock_time(when: datetime) -> str:
        return when.astimezone().strftime("%H:%M:%S")

    def on_published(result: PublishResult, started: datetime, seconds: float) -> None:
        for warning in result.build.warnings:
            reporter.warn(warning)
        what = (
            f"unchanged: release {result.release.id} is live already, 0 files uploaded"
            if result.unchanged
            else f"published {result.release.id}: {_count(result.uploaded, 'file')} uploaded"
        )
        where = f", live: {live_url}" if live_url and not result.unchanged else ""
        sent = sum(len(i.paths) for i in result.invalidations if i.id is not None)
        where += f", {_count(sent, 'path')} invalidated" if sent else ""
        reporter.info(f"{clock_time(started)} {what} in {seconds:.2f} s{where}")

    def on_waiting(reason: str) -> None:
        reporter.info(f"{clock_time(datetime.now())} waiting: {reason}")

    def on_error(exc: AssetpubError, retry_in: float | None) -> None:
        if debug:
            click.echo("".join(traceback.format_exception(exc)).rstrip(), err=True)
        then = "waiting for the next change" if retry_in is None else f"retrying in {retry_in:g} s"
        click.echo(f"assetpub: error: {exc.message} ({then})", err=True)

    return WatchHooks(on_published, on_waiting, on_error, Hooks(warn=reporter.warn))


def releases_json(state: State) -> list[dict[str, Any]]:
    return [
        {
            "id": e.id,
            "created_at": e.created_at,
            "committed_at": e.committed_at,
            "git_commit": e.git_commit,
            "message": e.message,
            "files": e.files,
            "bytes": e.bytes,
            "live": e.id == state.live,
            "replaced_at": e.replaced_at,
            "failed_check": _failed_check_json(state, e.id),
        }
        for e in state.newest_first()
    ]


def _failed_check_json(state: State, release_id: str) -> dict[str, str] | None:
    failed = state.failed_check(release_id)
    return (
        None
        if failed is None
        else {"at": failed.at, "check": failed.check, "action": failed.action}
    )


def print_releases(reporter: Reporter, url: str, state: State) -> None:
    entries = state.newest_first()
    if not entries:
        reporter.info(f"{url}: no releases yet")
        return
    reporter.info(f"{url}: {len(entries)} release(s), newest first")
    for e in entries:
        marker = "*" if e.id == state.live else " "
        commit = (e.git_commit or "-")[:10]
        message = f"  {e.message}" if e.message else ""
        failed = state.failed_check(e.id)
        if state.failed_checks:  # a second column, only when some release has the mark
            marker += "!" if failed else " "
        reporter.info(
            f"{marker} {e.id}  {e.created_at}  {commit:10}  {e.files:5} files  "
            f"{human_bytes(e.bytes):>9}{message}"
        )
        if failed:
            reporter.info(
                f"   failed its check after {failed.action} at {failed.at}: {failed.check}"
            )
    legend = "(* live, ! failed its health check)" if state.failed_checks else "(* live)"
    reporter.info(legend)


def rollback_json(result: RollbackResult) -> dict[str, Any]:
    return {
        "release": result.release,
        "dry_run": result.dry_run,
        "origins": [
            {"url": url, "previous": previous, "written": result.written_keys.get(url, [])}
            for url, previous in result.origins
        ],
        "written": result.written,
        "requests": result.requests,
        "invalidations": [invalidation_json(i) for i in result.invalidations],
    }


def print_rollback(reporter: Reporter, result: RollbackResult) -> None:
    verb = "Would roll" if result.dry_run else "Rolled"
    for url, previous in result.origins:
        reporter.info(f"{verb} {url} from {previous} to {result.release}")
    written = "would be written" if result.dry_run else "written"
    reporter.info(f"  {result.written} objects {written}, {result.requests} requests")
    print_invalidations(reporter, result.invalidations)


def gc_json(results: Sequence[GcResult]) -> dict[str, Any]:
    return {
        "dry_run": any(r.dry_run for r in results),
        "origins": [
            {
                "url": r.url,
                "retained": list(r.plan.retained),
                "pending": list(r.plan.pending),
                # Would be collected, kept: their records are not valid (GC warned).
                "untrusted": [
                    {"release": u.release, "record": u.record_key, "reason": u.reason}
                    for u in r.plan.untrusted
                ],
                "collected_releases": list(r.plan.doomed),
                "delete_keys": list(r.plan.delete_keys),
                # Among delete_keys: pages and plain files no kept release has any more.
                "removed_names": list(r.plan.removed_names),
                "left_names": [{"key": n.key, "reason": n.reason} for n in r.plan.left_names],
                "delete_records": list(r.plan.record_keys),
                "delete_bytes": r.plan.delete_bytes,
                "deleted_objects": r.deleted_objects,
                "deleted_records": r.deleted_records,
                "requests": r.requests,
            }
            for r in results
        ],
    }


def print_gc(reporter: Reporter, results: Sequence[GcResult]) -> None:
    for r in results:
        plan = r.plan
        verb = "would delete" if r.dry_run else "deleted"
        reporter.info(
            f"{r.url}: keeping {len(plan.retained)} release(s)"
            + (f" and {len(plan.pending)} in-flight publish(es)" if plan.pending else "")
            + (f" and {len(plan.untrusted)} with an invalid record" if plan.untrusted else "")
            + f"; {verb} {len(plan.doomed)} release(s), {len(plan.delete_keys)} object(s) "
            f"({human_bytes(plan.delete_bytes)}"
            + (
                f"; {len(plan.removed_names)} removed page(s) or file(s)"
                if plan.removed_names
                else ""
            )
            + f"), {r.requests} requests"
        )
        if r.dry_run:
            for key in (*plan.delete_keys, *plan.record_keys):
                reporter.info(f"  delete {key}")


def delete_prefix_prompt(url: str, plan: DeletePrefixPlan) -> str:
    live = f", live {plan.live}" if plan.live else ""
    return (
        f"Delete {len(plan.delete_keys)} object(s) ({human_bytes(plan.delete_bytes)}) under "
        f"{url}: {len(plan.releases)} release(s){live} and their history; "
        f"{len(plan.left)} object(s) assetpub did not write stay. This cannot be undone. Delete?"
    )


def delete_prefix_json(result: DeletePrefixResult) -> dict[str, Any]:
    plan = result.plan
    return {
        "url": result.url,
        "dry_run": result.dry_run,
        "releases": list(plan.releases),
        "live": plan.live,
        "delete": {phase: list(keys) for phase, keys in plan.groups},
        "delete_bytes": plan.delete_bytes,
        "deleted": result.deleted,
        "left": [{"key": o.key, "reason": o.reason} for o in plan.left],
        "invalid_records": [{"record": k, "reason": why} for k, why in plan.invalid_records],
        "appeared": list(result.appeared),
        "requests": result.requests,
    }


def print_delete_prefix(reporter: Reporter, result: DeletePrefixResult) -> None:
    plan = result.plan
    verb = "would delete" if result.dry_run else "deleted"
    count = len(plan.delete_keys) if result.dry_run else result.deleted
    reporter.info(
        f"{result.url}: {verb} {count} object(s) ({human_bytes(plan.delete_bytes)}) of "
        f"{len(plan.releases)} release(s) and the history; left {len(plan.left)} object(s) "
        f"assetpub did not write; {result.requests} requests"
    )
    if result.dry_run:
        for phase, keys in plan.groups:
            for key in keys:
                reporter.info(f"  delete {key} ({phase})")
    for left in plan.left:
        reporter.info(f"  leave {left.key} ({left.reason})")


def broken_leases_json(
    broken: Sequence[tuple[str, GcLease | None]], dry_run: bool
) -> dict[str, Any]:
    return {
        "dry_run": dry_run,
        "origins": [
            {"url": url, "broken_lease": asdict(lease) if lease else None} for url, lease in broken
        ],
    }


def print_broken_leases(
    reporter: Reporter, broken: Sequence[tuple[str, GcLease | None]], dry_run: bool
) -> None:
    verb = "would break" if dry_run else "broke"
    for url, lease in broken:
        if lease is None:
            reporter.info(f"{url}: no GC lease is held")
        else:
            reporter.info(
                f"{url}: {verb} the GC lease held by {lease.holder or 'unknown'} "
                f"until {lease.expires_at}"
            )


def status_json(statuses: Sequence[OriginStatus], reasons: Sequence[str]) -> dict[str, Any]:
    return {
        "diverged": bool(reasons),
        "problems": list(reasons),
        "origins": [
            {
                "url": s.url,
                "live": s.live,
                "serving": s.serving,
                "created_at": s.created_at,
                "retained": s.retained,
            }
            for s in statuses
        ],
    }


def print_status(
    reporter: Reporter, statuses: Sequence[OriginStatus], reasons: Sequence[str]
) -> None:
    for s in statuses:
        reporter.info(
            f"{s.url}: live {s.live or '(none)'}"
            + (f" (created {s.created_at})" if s.created_at else "")
            + f", {s.retained} release(s) kept"
        )
    for reason in reasons:
        reporter.info(f"DIVERGED: {reason}")


def verify_json(results: Sequence[OriginHealth]) -> dict[str, Any]:
    return {
        "healthy": all(r.healthy for r in results),
        "origins": [
            {
                "url": r.url,
                "live": r.live,
                "healthy": r.healthy,
                "checked": r.checked,
                "requests": r.requests,
                "problems": [{"key": p.key, "message": p.message} for p in r.problems],
            }
            for r in results
        ],
    }


def print_verify(reporter: Reporter, results: Sequence[OriginHealth]) -> None:
    for r in results:
        verdict = "healthy" if r.healthy else f"{len(r.problems)} problem(s)"
        reporter.info(
            f"{r.url}: live {r.live or '(none)'}: {verdict} "
            f"({r.checked} files checked, {r.requests} requests)"
        )
        for problem in r.problems:
            reporter.info(f"  {problem.key}: {problem.message}")


def check_outcome_json(outcome: CheckOutcome) -> dict[str, Any]:
    return {
        "check": outcome.check,
        "passed": outcome.passed,
        "problem": outcome.problem,
        "release": outcome.release,
        "resources": outcome.resources,
        "requests": outcome.requests,
        "attempts": outcome.attempts,
    }


def guard_json(guard: GuardResult) -> dict[str, Any]:
    return {
        "passed": guard.passed,
        "release": guard.release,
        "previous": guard.previous,
        "checks": [check_outcome_json(o) for o in guard.report.outcomes],
        "rolled_back_to": guard.rolled_back_to,
        "rollback_error": guard.rollback_error,
        "rollback": rollback_json(guard.rolled_back) if guard.rolled_back else None,
    }


def print_check_outcomes(reporter: Reporter, outcomes: Sequence[CheckOutcome]) -> None:
    for o in outcomes:
        if o.passed and o.release is not None:  # a URL check: what it saw, and what it cost
            tries = f", {o.attempts} attempts" if o.attempts > 1 else ""
            reporter.info(
                f"{o.summary} (release {o.release}, {o.resources} resources, "
                f"{o.requests} requests{tries})"
            )
        else:
            reporter.info(o.summary)
        if o.output:  # the command's own output, with -v
            reporter.detail(o.output.rstrip())


def print_guard(reporter: Reporter, guard: GuardResult) -> None:
    print_check_outcomes(reporter, guard.report.outcomes)
    if guard.rolled_back is not None:
        print_rollback(reporter, guard.rolled_back)
