"""Run plans against origins, phase by phase; each phase finishes on every origin before the
next starts. Nothing is switched anywhere until every asset is on every origin.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TypeVar

from assetpub.commands.plan import OriginPlan, Upload
from assetpub.errors import AlreadyExistsError, AssetpubError, OriginError
from assetpub.origins.base import Origin

log = logging.getLogger(__name__)

Progress = Callable[[Upload], None]
T = TypeVar("T")


@dataclass(frozen=True)
class Target:
    origin: Origin
    plan: OriginPlan


class PartialSwitchError(AssetpubError):
    """Some origins switched and some did not: the message says which is live on what."""


def write_upload(origin: Origin, upload: Upload) -> None:
    if upload.data is not None:
        origin.put_bytes(upload.key, upload.data, upload.headers, if_absent=upload.create_only)
    else:
        assert upload.path is not None
        origin.put_file(upload.key, upload.path, upload.headers)


def run_parallel(
    tasks: Sequence[T],
    work: Callable[[T], None],
    workers: int,
    on_done: Callable[[T], None] | None = None,
) -> None:
    """Run `work` over tasks on a bounded pool; on the first failure cancel what has not
    started and re-raise it, so a failed phase never lets the next one begin."""
    if not tasks:
        return
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(tasks)))) as pool:
        futures: dict[Future[None], T] = {pool.submit(work, task): task for task in tasks}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_EXCEPTION)
            for future in done:
                error = future.exception()
                if error is not None:
                    for other in pending:
                        other.cancel()
                    raise error
                if on_done:
                    on_done(futures[future])


def _run_uploads(
    jobs: Sequence[tuple[Origin, Upload]], workers: int, progress: Progress | None
) -> None:
    run_parallel(
        jobs,
        lambda job: write_upload(*job),
        workers,
        (lambda job: progress(job[1])) if progress else None,
    )


def write_records(targets: Sequence[Target], allow_existing: bool = False) -> None:
    """The release record goes first: it is the intent that tells a later GC which uploads
    belong to this release, should the publish die half-way."""
    for target in targets:
        try:
            write_upload(target.origin, target.plan.record)
        except AlreadyExistsError:
            if allow_existing:
                continue
            raise OriginError(
                f"{target.origin.url}: release record {target.plan.record.key} already exists; "
                "refusing to overwrite a release record"
            ) from None


def upload_assets(targets: Sequence[Target], workers: int, progress: Progress | None) -> None:
    jobs = [(t.origin, u) for t in targets for u in t.plan.assets]
    _run_uploads(jobs, workers, progress)


def switch(target: Target, workers: int, progress: Progress | None) -> None:
    for _name, group in target.plan.switch_groups:
        _run_uploads([(target.origin, u) for u in group], workers, progress)


def apply_plans(
    targets: Sequence[Target],
    release_id: str,
    workers: int,
    progress: Progress | None = None,
    commit: Callable[[Target], None] | None = None,
    after_switch: Callable[[Target], None] | None = None,
) -> None:
    """Records, then assets everywhere, then origin by origin: commit the state, switch.

    `commit` makes the release live in the origin's state before its files switch, so a GC
    never sees live files of a release its state does not protect; `after_switch` lets the
    caller converge when a concurrent publish committed after this one.
    """
    write_records(targets)
    upload_assets(targets, workers, progress)
    switched: list[str] = []
    for index, target in enumerate(targets):
        try:
            if commit:
                commit(target)
            switch(target, workers, progress)
            if after_switch:
                after_switch(target)
        except AssetpubError as exc:
            if not switched:
                raise
            not_switched = [t.origin.url for t in targets[index:]]
            raise PartialSwitchError(
                f"{target.origin.url}: switch failed ({exc.message}); live on {release_id}: "
                f"{', '.join(switched)}; not switched: {', '.join(not_switched)}. "
                "Run the same publish again to converge"
            ) from exc
        switched.append(target.origin.url)
