"""The publish command's core: settings in, a PublishResult out. No printing, no click."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from assetpub.apply import Target, apply_plans
from assetpub.config import PublishSettings
from assetpub.errors import ConflictError
from assetpub.origins import Origin, RemoteObject, open_origin
from assetpub.origins.dryrun import DryRunOrigin
from assetpub.plan import OriginPlan, Upload, keys_to_verify, plan_origin
from assetpub.prepare import PreparedBuild, PrepareOptions, prepare_build
from assetpub.release import Release, build_release, detect_git_commit, new_release_id
from assetpub.scan import scan_build

log = logging.getLogger(__name__)


@dataclass
class OriginSummary:
    url: str
    uploaded: int = 0
    uploaded_bytes: int = 0
    skipped: int = 0
    skipped_bytes: int = 0
    requests: int = 0
    plan: OriginPlan | None = None


@dataclass
class PublishResult:
    release: Release
    build: PreparedBuild
    origins: list[OriginSummary] = field(default_factory=list)
    dry_run: bool = False

    @property
    def uploaded(self) -> int:
        return sum(o.uploaded for o in self.origins)

    @property
    def skipped(self) -> int:
        return sum(o.skipped for o in self.origins)


@dataclass(frozen=True)
class Hooks:
    """How the core reports progress without knowing about terminals."""

    on_plan: Callable[[int], None] | None = None  # total uploads about to run
    on_upload: Callable[[Upload], None] | None = None


def open_origins(settings: PublishSettings) -> list[Origin]:
    origins = [open_origin(spec) for spec in settings.origins]
    return [DryRunOrigin(o) for o in origins] if settings.dry_run else origins


def list_origin(origin: Origin) -> dict[str, RemoteObject]:
    return {obj.key: obj for obj in origin.list()}


def _verify(origin: Origin, keys: set[str], workers: int) -> dict[str, str | None]:
    ordered = sorted(keys)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        return dict(zip(ordered, pool.map(origin.sha256, ordered), strict=True))


def publish(
    settings: PublishSettings,
    hooks: Hooks = Hooks(),
    origins: Sequence[Origin] | None = None,
    now: datetime | None = None,
) -> PublishResult:
    """Scan, hash and rewrite the build; plan against every origin; upload; switch.

    Everything that can fail on bad input (the build, references, config, reaching the
    origins, conflicting immutable names) fails before the first write to any origin.
    """
    scanned = scan_build(settings.build_dir, settings.include_dotfiles)
    options = PrepareOptions(
        entry_patterns=settings.entry_patterns,
        hashed_name_patterns=settings.hashed_name_patterns,
        header_rules=settings.header_rules,
        public_url=settings.public_url,
        strict=settings.strict,
        workers=settings.concurrency,
    )
    with tempfile.TemporaryDirectory(prefix="assetpub-stage-") as staging:
        prepared = prepare_build(scanned, options, Path(staging))
        created = now or datetime.now(UTC)
        release = build_release(
            prepared,
            release_id=new_release_id(created),
            created_at=created,
            git_commit=detect_git_commit(settings.build_dir),
            message=settings.message,
        )
        targets = list(origins) if origins is not None else open_origins(settings)
        for origin in targets:
            origin.check()
        plans = []
        for origin in targets:
            listing = list_origin(origin)
            verified = _verify(origin, keys_to_verify(prepared, listing), settings.concurrency)
            plans.append(plan_origin(origin.url, prepared, release, listing, verified))
        conflicts = [(p.url, c) for p in plans for c in p.conflicts]
        if conflicts:
            url, first = conflicts[0]
            more = f" (and {len(conflicts) - 1} more)" if len(conflicts) > 1 else ""
            raise ConflictError(f"{url}: {first.key} {first.reason}{more}; nothing was switched")

        if hooks.on_plan:
            hooks.on_plan(sum(len(p.all_uploads) for p in plans))
        apply_plans(
            [Target(o, p) for o, p in zip(targets, plans, strict=True)],
            release.id,
            settings.concurrency,
            hooks.on_upload,
        )
    result = PublishResult(release, prepared, dry_run=settings.dry_run)
    for origin, plan in zip(targets, plans, strict=True):
        uploads = [u for u in plan.all_uploads if u.from_build]
        result.origins.append(
            OriginSummary(
                url=origin.url,
                uploaded=len(uploads),
                uploaded_bytes=sum(u.size for u in uploads),
                skipped=len(plan.skipped),
                skipped_bytes=sum(s.size for s in plan.skipped),
                requests=origin.stats.requests,
                plan=plan,
            )
        )
    return result
