"""Run plans against origins, phase by phase; each phase finishes on every origin before the
next starts. Nothing is switched anywhere until every asset is on every origin.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from assetpub.commands.parallel import run_parallel
from assetpub.commands.plan import OriginPlan, Upload
from assetpub.errors import (
    AlreadyExistsError,
    AssetpubError,
    IncompleteSwitchError,
    OriginError,
    PartialSwitchError,
)
from assetpub.origins.base import Origin, read_digest

log = logging.getLogger(__name__)

Progress = Callable[[Upload], None]
T = TypeVar("T")


@dataclass(frozen=True)
class PlannedOrigin:
    origin: Origin
    plan: OriginPlan


def write_upload(origin: Origin, upload: Upload) -> None:
    try:
        if upload.copy_of is not None:
            origin.copy(upload.copy_of, upload.key, upload.headers)
        elif upload.data is not None:
            origin.put_bytes(upload.key, upload.data, upload.headers, if_absent=upload.create_only)
        else:
            assert upload.path is not None
            origin.put_file(
                upload.key, Path(upload.path), upload.headers, if_absent=upload.create_only
            )
    except AlreadyExistsError:
        # A client that retries a create-only write whose answer was lost gets 412 from its
        # own first attempt: exactly our bytes there is success, anything else is not.
        if not _holds_exactly(origin, upload):
            raise


def _holds_exactly(origin: Origin, upload: Upload) -> bool:
    # By digest, as the object streams by: the record of 100,000 files is 40 MB.
    wanted = upload.headers.sha256
    if upload.data is not None:
        wanted = hashlib.sha256(upload.data).hexdigest()
    return read_digest(origin, upload.key) == (upload.size, wanted)


def _run_uploads(
    jobs: Iterable[tuple[Origin, Upload]], workers: int, progress: Progress | None
) -> None:
    run_parallel(
        jobs,
        lambda job: write_upload(*job),
        workers,
        (lambda job: progress(job[1])) if progress else None,
    )


def write_records(planned: Sequence[PlannedOrigin], allow_existing: bool = False) -> None:
    """The release record goes first: it is the intent that tells a later GC which uploads
    belong to this release, should the publish die half-way."""
    for origin, record in ((p.origin, p.plan.record) for p in planned):
        try:
            write_upload(origin, record)
        except AlreadyExistsError:
            if allow_existing:
                continue
            raise OriginError(
                f"{origin.url}: release record {record.key} already exists; "
                "refusing to overwrite a release record"
            ) from None


def upload_assets(
    planned: Sequence[PlannedOrigin], workers: int, progress: Progress | None
) -> None:
    """The immutable assets and blobs, and the header updates of objects already there:
    before any commit, so a release the state names has every header its record says."""
    jobs = ((p.origin, u) for p in planned for u in (*p.plan.assets, *p.plan.headers))
    _run_uploads(jobs, workers, progress)


def switch(one: PlannedOrigin, workers: int, progress: Progress | None) -> None:
    for _name, group in one.plan.switch_groups:
        _run_uploads(((one.origin, u) for u in group), workers, progress)


def apply_plans(
    planned: Sequence[PlannedOrigin],
    release_id: str,
    workers: int,
    progress: Progress | None = None,
    commit: Callable[[PlannedOrigin], None] | None = None,
    after_switch: Callable[[PlannedOrigin], None] | None = None,
) -> None:
    """Records, then assets everywhere, then origin by origin: commit the state, switch.

    `commit` makes the release live in the origin's state before its files switch, so a GC
    never sees live files of a release its state does not protect; `after_switch` lets the
    caller converge when a concurrent publish committed after this one.
    """
    write_records(planned)
    upload_assets(planned, workers, progress)

    def switch_one(one: PlannedOrigin) -> None:
        if commit:
            commit(one)
        with after_commit(one.origin.url, release_id, "run the same publish again to converge"):
            switch(one, workers, progress)
            if after_switch:
                after_switch(one)

    switch_origins(
        planned,
        switch_one,
        [p.origin.url for p in planned],
        release_id,
        failed="switch failed",
        rerun="Run the same publish again to converge",
    )


@contextmanager
def after_commit(url: str, release_id: str, rerun: str) -> Iterator[None]:
    """Around the file switch that follows a commit: a failure there leaves the state saying
    `release_id` is live while some of its files are not switched yet, which the message says
    (with what converges it) instead of the bare failure of one request."""
    try:
        yield
    except AssetpubError as exc:
        if isinstance(exc, IncompleteSwitchError):
            raise
        raise IncompleteSwitchError(
            f"{url}: release {release_id} is committed, but not all its files switched "
            f"({exc.message}); the pages still load; {rerun}"
        ) from exc


def switch_origins(
    switches: Sequence[T],
    switch_one: Callable[[T], None],
    urls: Sequence[str],
    release_id: str,
    *,
    failed: str,
    rerun: str,
) -> None:
    """The one routine that changes what is live on several origins, one origin after the
    other (publish, rollback). A failure on the first origin changed nothing live and is
    raised as it is; a failure after some origins switched is a PartialSwitchError that says
    which origins are live on `release_id` and which are not, because running the same
    command again converges them."""
    for index, each in enumerate(switches):
        try:
            switch_one(each)
        except AssetpubError as exc:
            if index == 0:
                raise
            raise PartialSwitchError(
                f"{urls[index]}: {failed} ({exc.message}); live on {release_id}: "
                f"{', '.join(urls[:index])}; not switched: {', '.join(urls[index:])}. {rerun}"
            ) from exc
