"""The publish command's core: settings in, a PublishResult out. No printing, no click."""

from __future__ import annotations

import logging
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from assetpub.build.hashing import digest_bytes, digest_file
from assetpub.build.prepare import PreparedBuild, PreparedFile, PrepareOptions, prepare_build
from assetpub.build.scan import scan_build
from assetpub.cdn import open_cdn
from assetpub.clock import SYSTEM_CLOCK, Clock
from assetpub.commands.apply import PlannedOrigin, apply_plans, upload_assets, write_records
from assetpub.commands.invalidate import (
    Invalidation,
    OpenCdn,
    caller_reference,
    invalidate_switch,
    records_before,
)
from assetpub.commands.parallel import run_parallel
from assetpub.commands.plan import (
    HEADERS_APPLIED,
    HeaderEvidence,
    OriginPlan,
    RecordUpload,
    Upload,
    asset_manifest_upload,
    files_to_verify,
    header_witness,
    plan_origin,
    record_write,
)
from assetpub.commands.restore import converge_to_live
from assetpub.errors import AssetpubError, BuildError, ConfigError, ConflictError, and_more
from assetpub.history.commit import commit_release
from assetpub.history.lease import lease_blocks
from assetpub.history.record import (
    ReleaseRecord,
    build_release,
    current_user,
    detect_git_commit,
    load_record_if_files,
    new_release_id,
    read_record_comparing,
    release_entry,
)
from assetpub.history.state import Activation, State
from assetpub.history.store import StateStore
from assetpub.keys import ASSET_MANIFEST_KEY, RESERVED_PREFIX, STATE_KEY
from assetpub.origins import (
    Origin,
    OriginSpec,
    as_dry_run,
    list_all,
    open_origins,
    parse_origin_url,
)
from assetpub.origins.base import RemoteObject, read_digest, request_counter
from assetpub.origins.checks import key_limit_problem
from assetpub.settings import PublishSettings

log = logging.getLogger(__name__)


@dataclass
class OriginSummary:
    url: str
    uploaded: int = 0
    uploaded_bytes: int = 0
    skipped: int = 0
    skipped_bytes: int = 0
    # Objects that kept their bytes and got new headers (a server-side copy each).
    headers_updated: int = 0
    requests: int = 0
    plan: OriginPlan | None = None

    @property
    def written_keys(self) -> list[str]:
        """Every key this publish wrote (a dry run: would write) here, in the order written:
        the record, the assets and blobs, the state, then the switched names."""
        if self.plan is None:
            return []
        switched = [u.key for _, group in self.plan.switch_groups for u in group]
        return [self.plan.record.key, *(u.key for u in self.plan.assets), STATE_KEY, *switched]


@dataclass
class PublishResult:
    release: ReleaseRecord  # the new release, or the live one when `unchanged`
    build: PreparedBuild
    origins: list[OriginSummary] = field(default_factory=list)
    dry_run: bool = False
    # Every origin already served exactly this build: nothing was written, no release made.
    unchanged: bool = False
    # Per origin URL, the release that was live when this one committed (None: the first).
    previous_live: dict[str, str | None] = field(default_factory=dict)
    # One per CDN given (--invalidate) after the switch; empty when none or nothing switched.
    invalidations: list[Invalidation] = field(default_factory=list)

    @property
    def uploaded(self) -> int:
        return sum(o.uploaded for o in self.origins)

    @property
    def skipped(self) -> int:
        return sum(o.skipped for o in self.origins)

    @property
    def headers_updated(self) -> int:
        return sum(o.headers_updated for o in self.origins)


@dataclass(frozen=True)
class Hooks:
    """How the core reports progress without knowing about terminals."""

    on_plan: Callable[[int], None] | None = None  # total uploads about to run
    on_upload: Callable[[Upload], None] | None = None
    warn: Callable[[str], None] | None = None


@dataclass(frozen=True)
class _Read:
    """What the HEADs of files_to_verify's files showed: the keys whose stored SHA-256 is the
    file's, and those whose stored headers are the file's. Sets of keys: keeping each answer
    would cost 150 bytes a key."""

    holding: set[str]
    carrying: set[str]
    # Listed, then gone by the time of the HEAD (a concurrent GC collected it): missing, not
    # an object holding other bytes (which under an immutable name is a conflict).
    gone: set[str]
    same_content: set[str]  # other bytes, the same content decoded (another encoding)


def _read_objects(origin: Origin, files: list[PreparedFile], workers: int) -> _Read:
    # Flags a file, set by the workers; the sets are built here, in the calling thread: grown
    # by the workers, their tables (4 MB at 100,000 keys) were reallocated in the workers' own
    # malloc arenas, which keep what they free.
    holding, carrying = bytearray(len(files)), bytearray(len(files))
    present = bytearray(len(files))
    same = bytearray(len(files))

    def check(task: tuple[int, PreparedFile]) -> None:
        at, file = task
        info = origin.head(file.key)
        if info is None:
            return
        present[at] = True
        holding[at] = info.sha256 == file.digests.sha256
        same[at] = not holding[at] and info.content_sha256 == file.content_sha256
        carrying[at] = info.has_headers(file.headers) is True

    run_parallel(enumerate(files), check, workers)
    return _Read(
        {f.key for f, held in zip(files, holding, strict=True) if held},
        {f.key for f, held in zip(files, carrying, strict=True) if held},
        gone={f.key for f, there in zip(files, present, strict=True) if not there},
        same_content={f.key for f, held in zip(files, same, strict=True) if held},
    )


@dataclass(frozen=True)
class _Witnessed:
    """An origin's header evidence, and the witness's record when it is this build's file
    for file (the unchanged check then reads no record again)."""

    evidence: HeaderEvidence | None
    same_record: ReleaseRecord | None = None


def _witnessed(
    origin: Origin,
    state: State,
    listing: Mapping[str, RemoteObject],
    release: ReleaseRecord,
    force: bool,
) -> _Witnessed:
    """What the witness release's record says of the headers on `origin` (one GET), where
    the origin keeps headers at all and the publish is not forced anyway."""
    if force or not origin.keeps_headers:
        return _Witnessed(None)
    witness = header_witness(state, listing)
    if witness is None:
        return _Witnessed(HeaderEvidence())
    record, same = read_record_comparing(origin, witness, release.files)
    if record is None:
        return _Witnessed(HeaderEvidence())
    if record.extra.get(HEADERS_APPLIED) is not True:
        return _Witnessed(HeaderEvidence(), record if same else None)
    live = state.live == witness
    recorded = {f.key: f for f in record.files.values()}
    return _Witnessed(HeaderEvidence(recorded, live), record if same else None)


class StagedRecord(RecordUpload):
    """The release record's JSON and asset-manifest.json written to the staging folder and
    uploaded from there: at 100,000 files they are 40 and 7 MB that need not be in memory
    while the uploads run."""

    def __init__(self, release: ReleaseRecord, staging: Path) -> None:
        super().__init__(release)
        self._staging = staging

    def _make(self, release: ReleaseRecord) -> Upload:
        # Under the reserved prefix, where no rewritten build file is staged (scan refuses
        # build paths there).
        path = self._staging / RESERVED_PREFIX / f"{release.id}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            release.write_json(out)
        return record_write(release, digest_file(path), path=str(path))

    def _make_manifest(self, release: ReleaseRecord) -> Upload:
        path = self._staging / RESERVED_PREFIX / f"{release.id}.asset-manifest.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as out:
            for part in release.asset_manifest_parts():
                out.write(part)
        return asset_manifest_upload(release, (str(path), digest_file(path)))


def _epoch_if_idle(state: State, store: StateStore) -> int | None:
    return None if lease_blocks(state, store.clock.now()) else state.gc_epoch


def _raise_conflicts(plans: Sequence[OriginPlan]) -> None:
    conflicts = [(p.url, c) for p in plans for c in p.conflicts]
    if conflicts:
        url, first = conflicts[0]
        more = and_more(len(conflicts))
        raise ConflictError(f"{url}: {first.key} {first.reason}{more}; nothing was switched")


class _Opening:
    """Origins being opened while the build is read and hashed: a boto3 client takes about
    0.4 CPU-seconds to build (service models, endpoint rules), which would otherwise add to
    every publish. Opening contacts nothing; check() runs later, in order."""

    def __init__(self, specs: Sequence[OriginSpec]) -> None:
        self._origins: list[Origin] = []
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._open, args=(specs,), name="assetpub-open-origins", daemon=True
        )
        self._thread.start()

    def _open(self, specs: Sequence[OriginSpec]) -> None:
        try:
            self._origins = open_origins(specs)
        except BaseException as exc:  # re-raised in the publishing thread by result()
            self._error = exc

    def result(self) -> list[Origin]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._origins


def _check_keeps_encoding(compress: Sequence[str], origins: Sequence[Origin]) -> None:
    """Compressed bytes on an origin that keeps no Content-Encoding reach visitors unreadable
    (settings refuse folder URLs already; this covers origins handed in)."""
    for origin in origins if compress else ():
        if not origin.keeps_headers:
            raise ConfigError(
                f"compress: origin {origin.url} cannot store Content-Encoding: publish to S3 "
                "(or remove compress, and let the web server compress)"
            )


def publish(
    settings: PublishSettings,
    hooks: Hooks = Hooks(),
    origins: Sequence[Origin] | None = None,
    now: datetime | None = None,
    clock: Clock = SYSTEM_CLOCK,
    open_cdn: OpenCdn = open_cdn,
) -> PublishResult:
    """Scan, hash and rewrite the build; plan against every origin; upload; switch.

    Everything that can fail on bad input (the build, references, config, reaching the
    origins, conflicting immutable names) fails before the first write to any origin.
    """
    scanned = scan_build(settings.build_dir, settings.selection)
    opening = _Opening(settings.origins) if origins is None else None
    options = PrepareOptions(
        entry_patterns=settings.entry_patterns,
        hashed_name_patterns=settings.hashed_name_patterns,
        header_rules=settings.header_rules,
        public_url=settings.public_url,
        strict=settings.strict,
        workers=settings.concurrency,
        read_cache=settings.read_cache,
        clock=clock,
        compress=settings.compress,
    )
    with tempfile.TemporaryDirectory(prefix="assetpub-stage-") as staging:
        prepared = prepare_build(scanned, options, Path(staging))
        del scanned  # what stat said of each file: 200 bytes a file nothing needs any more
        created = now or clock.now()
        release = build_release(
            prepared,
            release_id=new_release_id(created),
            created_at=created,
            git_commit=detect_git_commit(settings.build_dir),
            message=settings.message,
        )
        # Every object this publish leaves will carry the headers its record names.
        release = replace(release, extra={**release.extra, HEADERS_APPLIED: True})
        opened = opening.result() if opening else list(origins or ())
        _check_keys_fit(prepared, opened)
        _check_keeps_encoding(settings.compress, opened)
        if settings.dry_run:
            opened = as_dry_run(opened)
        counters = [request_counter(origin) for origin in opened]
        for origin in opened:
            origin.check()
        stores = {
            origin.url: StateStore(origin, warn=hooks.warn or log.warning, clock=clock)
            for origin in opened
        }
        # Read before listing: a GC that starts after this point bumps the epoch, and the
        # commit then lists again before trusting "already there".
        states = {url: store.load()[0] for url, store in stores.items()}
        seen_epochs = {url: _epoch_if_idle(states[url], store) for url, store in stores.items()}

        listings: dict[str, dict[str, RemoteObject]] = {}
        witnessed: dict[str, _Witnessed] = {}
        record = StagedRecord(release, Path(staging))

        def plan_for(origin: Origin) -> OriginPlan:
            listing = listings[origin.url] = list_all(
                origin, {f.key: f.key for f in prepared.files}
            )
            seen = witnessed[origin.url] = _witnessed(
                origin, states[origin.url], listing, release, settings.force
            )
            to_verify = files_to_verify(prepared, listing, seen.evidence)
            read = _read_objects(origin, to_verify, settings.concurrency)
            for key in read.gone:
                del listing[key]
            return plan_origin(
                origin.url,
                prepared,
                release,
                listing,
                read.holding,
                record,
                headers=seen.evidence,
                carrying=read.carrying,
                force=settings.force,
                same_content=read.same_content,
            )

        plans = [plan_for(origin) for origin in opened]
        _raise_conflicts(plans)
        served = (
            []
            if settings.allow_empty
            else [
                _live_if_same(
                    stores[o.url], release, p, listings[o.url], witnessed[o.url].same_record
                )
                for o, p in zip(opened, plans, strict=True)
            ]
        )
        if served and all(served) and len({r.id for r in served if r}) == 1 and served[0]:
            # Every origin already serves exactly this build: a new release would add history
            # and requests and change nothing anyone can fetch (hugo deploy and aws s3 sync
            # write nothing either), and each rerun would push a real release out of `keep`.
            same = PublishResult(served[0], prepared, dry_run=settings.dry_run, unchanged=True)
            return _summarize_unchanged(same, opened, [r() for r in counters])
        if hooks.on_plan:
            hooks.on_plan(sum(len(p.object_uploads) for p in plans))
        entry = release_entry(release)
        by = current_user()

        def refresh(planned: PlannedOrigin) -> None:
            """A GC ran since the listing: upload again whatever it removed."""
            fresh = plan_for(planned.origin)
            _raise_conflicts([fresh])
            # A plain file the first listing showed unchanged is not in the switch, and a GC
            # deletes a plain name no kept release has (docs/history.md): one it deleted since
            # goes up now, with the assets, before the commit.
            skipped = {s.key for s in planned.plan.skipped}
            listing = listings[planned.origin.url]
            gone = [u for u in fresh.plain if u.key in skipped and u.key not in listing]
            fresh = replace(fresh, assets=(*fresh.assets, *gone))
            write_records([PlannedOrigin(planned.origin, fresh)], allow_existing=True)
            upload_assets([PlannedOrigin(planned.origin, fresh)], settings.concurrency, None)

        previous_live: dict[str, str | None] = {}
        activations: dict[str, Activation | None] = {}

        def commit(planned: PlannedOrigin) -> None:
            committed = commit_release(
                stores[planned.origin.url],
                entry,
                action="publish",
                by=by,
                git_commit=release.git_commit,
                seen_epoch=seen_epochs[planned.origin.url],
                refresh=lambda: refresh(planned),
                wait_seconds=settings.lease_wait,
            )
            previous_live[planned.origin.url] = committed.replaced_by_activation(release.id)
            activations[planned.origin.url] = committed.last_activation(release.id)

        def converge(planned: PlannedOrigin) -> None:
            converge_to_live(stores[planned.origin.url], release.id, settings.concurrency)

        apply_plans(
            [PlannedOrigin(o, p) for o, p in zip(opened, plans, strict=True)],
            release.id,
            settings.concurrency,
            hooks.on_upload,
            commit=commit,
            after_switch=converge,
        )
        result = PublishResult(
            release, prepared, dry_run=settings.dry_run, previous_live=previous_live
        )
        if settings.invalidate.enabled:
            warn = hooks.warn or log.warning
            before = records_before([(o, previous_live.get(o.url)) for o in opened], warn)
            result.invalidations = invalidate_switch(
                before,
                release,
                caller_reference(activations.get(opened[0].url), release.id, "publish"),
                settings.invalidate,
                dry_run=settings.dry_run,
                warn=warn,
                opener=open_cdn,
            )
    return _summarize(result, opened, plans, [requests() for requests in counters])


def _check_keys_fit(prepared: PreparedBuild, opened: Sequence[Origin]) -> None:
    """Every published key fits every origin's limits (hashed names are longer than the
    build's), checked before the first write."""
    for origin in opened:
        scheme, _, prefix = parse_origin_url(origin.url)
        for file in prepared.files:
            problem = key_limit_problem(file.key, scheme, prefix)
            if problem:
                shown = (
                    file.source
                    if len(file.source) <= 100
                    else f"{file.source[:48]}…{file.source[-48:]}"
                )
                raise BuildError(f"{shown}: its published name {problem}")


def _live_if_same(
    store: StateStore,
    release: ReleaseRecord,
    plan: OriginPlan,
    listing: Mapping[str, RemoteObject],
    same_record: ReleaseRecord | None = None,
) -> ReleaseRecord | None:
    """The live release when it is this build, file for file, and the origin provably serves
    it: nothing to upload (no asset or plain file differs, no header), and every entry file
    and asset-manifest.json holds the live record's bytes (by the listing's ETag, else read
    back). None when anything differs or cannot be shown equal: then the publish goes ahead.
    `same_record`: a record already read and found this build's, file for file."""
    if plan.assets or plan.plain or plan.conflicts or plan.headers:
        return None
    # Read again, not the state read before the listing: the decision to write nothing must
    # rest on what is live now (one GET), not on what was live before another publish began.
    state, _ = store.load()
    # Live, not necessarily the newest: after a rollback the same build again is no new
    # release either. GC keeps the live release whatever its age (State.retained_ids), so a
    # new one would only push a real release out of `keep`.
    if state.live is None:
        return None
    # Compared as the record's bytes: parsing the live record would cost 45 MB at 100,000
    # files, only to find the same files.
    if same_record is not None and same_record.id == state.live:
        live: ReleaseRecord | None = same_record
    else:
        try:
            live = load_record_if_files(store.origin, state.live, release.files)
        except AssetpubError:
            return None
    if live is None or live.entry_content != release.entry_content:
        return None
    # The manifest by its digests: its bytes (7 MB at 100,000 files) are never made.
    switched = {key: digest_bytes(data) for key, data in live.entry_content.items()}
    switched[ASSET_MANIFEST_KEY] = live.asset_manifest_digests
    for key, digests in switched.items():
        remote = listing.get(key)
        held = remote.holds(digests.size, digests.md5) if remote else False
        if held is None:  # no ETag to go by: the bytes decide, compared by digest
            held = read_digest(store.origin, key) == (digests.size, digests.sha256)
        if not held:
            return None
    return live


def _summarize_unchanged(
    result: PublishResult, opened: Sequence[Origin], requests: Sequence[int]
) -> PublishResult:
    for origin, made in zip(opened, requests, strict=True):
        result.origins.append(
            OriginSummary(
                url=origin.url,
                skipped=len(result.build.files),
                skipped_bytes=sum(f.digests.size for f in result.build.files),
                requests=made,
                plan=None,
            )
        )
    return result


def _summarize(
    result: PublishResult,
    opened: Sequence[Origin],
    plans: Sequence[OriginPlan],
    requests: Sequence[int],
) -> PublishResult:
    for origin, plan, made in zip(opened, plans, requests, strict=True):
        uploads = [u for u in plan.all_uploads if u.from_build]
        result.origins.append(
            OriginSummary(
                url=origin.url,
                uploaded=len(uploads),
                uploaded_bytes=sum(u.size for u in uploads),
                skipped=len(plan.skipped),
                skipped_bytes=sum(s.digests.size for s in plan.skipped),
                headers_updated=len(plan.headers),
                requests=made,
                plan=plan,
            )
        )
    return result
