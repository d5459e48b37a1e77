"""The per-origin state object: which release is live, which are retained, the activation log,
and the GC lease. Pure values and transitions; reading and compare-and-swap writing live in
history/store.py.

Every change goes through a compare-and-swap on _assetpub/state.json, so two writers never lose
each other's update: the loser re-reads and applies its transition again.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

STATE_FORMAT = 1
LOG_LIMIT = 500  # activations kept in the log; older ones are dropped
_DURATION = re.compile(r"^(\d+)(s|m|h|d)?$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def parse_duration(text: str) -> timedelta:
    """'0', '90s', '15m', '24h', '7d' (a bare number is seconds)."""
    match = _DURATION.match(text.strip())
    if not match:
        raise ValueError(f"invalid duration {text!r}: use e.g. 0, 90s, 15m, 24h or 7d")
    try:
        return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2) or "s"])
    except OverflowError:
        raise ValueError(f"duration {text!r} is too long") from None


_RELEASE_TIME = re.compile(r"^(\d{8}T\d{6})(\d{3})?Z")


def release_time(release_id: str) -> datetime | None:
    """The creation time encoded at the front of a release id ('20261126T084653123Z-…')."""
    match = _RELEASE_TIME.match(release_id)
    if not match:
        return None
    moment = datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
    return moment + timedelta(milliseconds=int(match.group(2) or 0))


class NewerFormat(ValueError):
    """A history object's `format` is newer than this code reads."""

    def __init__(self, found: int, known: int) -> None:
        super().__init__(f"format {found}, this one reads {known}")
        self.found = found
        self.known = known


def check_format(data: dict[str, Any], known: int) -> None:
    """Refuse what a newer assetpub wrote before reading any other field: older code must not
    act on (or rewrite) a format whose meaning it cannot know."""
    found = data.get("format", known)
    if type(found) is not int or found < 1:
        raise ValueError(f"format {found!r} is not a format number")
    if found > known:
        raise NewerFormat(found, known)


@dataclass(frozen=True)
class ReleaseEntry:
    """A committed, not yet collected release, with what `assetpub releases` shows."""

    id: str
    created_at: str
    committed_at: str
    git_commit: str | None = None
    message: str | None = None
    files: int = 0
    bytes: int = 0
    # When it last stopped being live; None while live (or before it ever was).
    replaced_at: str | None = None


@dataclass(frozen=True)
class Activation:
    action: str  # "publish" | "rollback"
    release: str
    previous: str | None
    at: str
    by: str
    git_commit: str | None = None


@dataclass(frozen=True)
class FailedCheck:
    """A release whose health check failed right after a switch to it (`assetpub.health`):
    `releases` shows it, and a plain `rollback` never picks it."""

    release: str
    at: str
    check: str  # the failing check and its problem, as the one-line report said it
    action: str  # the switch it followed: "publish" | "rollback"


@dataclass(frozen=True)
class GcLease:
    """A running GC: publishes wait for it before committing; another GC leaves it alone until
    it expires (the GC renews it before every delete batch)."""

    id: str
    expires_at: str
    doomed: tuple[str, ...]  # release ids this GC is collecting
    holder: str = ""  # host:pid, so a lease left by a dead local process is seen as stale

    def is_active(self, now: datetime) -> bool:
        return parse_iso(self.expires_at) > now


@dataclass(frozen=True)
class State:
    live: str | None = None
    releases: tuple[ReleaseEntry, ...] = ()
    log: tuple[Activation, ...] = ()
    # Bumped by every GC when it takes its lease: a publish that listed the origin under an
    # older epoch must list again before it commits, because objects may have gone since.
    gc_epoch: int = 0
    gc_lease: GcLease | None = None
    # A top-level list, not a field of ReleaseEntry, and no new format: format-1 readers keep
    # top-level keys they do not know (`extra`) and write them back, where an unknown field in
    # a ReleaseEntry would make them refuse the whole state.
    failed_checks: tuple[FailedCheck, ...] = ()
    format: int = STATE_FORMAT
    extra: dict[str, Any] = field(default_factory=dict)

    def entry(self, release_id: str) -> ReleaseEntry | None:
        return next((e for e in self.releases if e.id == release_id), None)

    @property
    def release_ids(self) -> set[str]:
        return {e.id for e in self.releases}

    def newest_first(self) -> list[ReleaseEntry]:
        return sorted(
            self.releases, key=lambda e: (e.created_at, e.committed_at, e.id), reverse=True
        )

    def previous_live(self, skip: frozenset[str] = frozenset()) -> str | None:
        """The release that was live before the current one, per the activation log; with
        `skip`, the latest one before it that is not in `skip` (the release live before a
        skipped one, and so on back)."""
        current = self.live
        for activation in reversed(self.log):
            if activation.release != current:
                continue
            if activation.previous is None:
                return None
            if activation.previous not in skip and activation.previous != self.live:
                return activation.previous
            current = activation.previous
        return None

    def replaced_by_activation(self, release_id: str) -> str | None:
        """The release that was live when `release_id` last became live, per the log."""
        activation = self.last_activation(release_id)
        return activation.previous if activation else None

    def last_activation(self, release_id: str) -> Activation | None:
        """The switch that last made `release_id` live, per the log."""
        return next((a for a in reversed(self.log) if a.release == release_id), None)

    def failed_check(self, release_id: str) -> FailedCheck | None:
        return next((f for f in self.failed_checks if f.release == release_id), None)

    @property
    def failed_ids(self) -> frozenset[str]:
        return frozenset(f.release for f in self.failed_checks)

    # -- transitions ------------------------------------------------------------------------

    def activate(
        self,
        release_id: str,
        *,
        action: str,
        now: datetime,
        by: str,
        git_commit: str | None,
        new_entry: ReleaseEntry | None = None,
    ) -> State:
        """Make `release_id` live (adding its entry for a publish), stamping the one it replaces."""
        entries = [e for e in self.releases if e.id != release_id]
        current = new_entry or self.entry(release_id)
        if current is None:
            raise KeyError(release_id)
        entries = [
            replace(e, replaced_at=iso(now)) if e.id == self.live and e.id != release_id else e
            for e in entries
        ]
        entries.append(replace(current, replaced_at=None))
        activation = Activation(action, release_id, self.live, iso(now), by, git_commit)
        return replace(
            self,
            live=release_id,
            releases=tuple(sorted(entries, key=lambda e: (e.created_at, e.id))),
            log=(*self.log, activation)[-LOG_LIMIT:],
        )

    def with_failed_check(self, failed: FailedCheck) -> State:
        """The release marked as having failed its check (the latest failure replaces an older
        one); unchanged for a release the state no longer retains."""
        if self.entry(failed.release) is None:
            return self
        kept = tuple(f for f in self.failed_checks if f.release != failed.release)
        return replace(self, failed_checks=(*kept, failed))

    def take_gc_lease(self, lease: GcLease) -> State:
        doomed = set(lease.doomed)
        return replace(
            self,
            gc_lease=lease,
            gc_epoch=self.gc_epoch + 1,
            releases=tuple(e for e in self.releases if e.id not in doomed),
            failed_checks=tuple(f for f in self.failed_checks if f.release not in doomed),
        )

    def without_gc_lease(self, lease_id: str) -> State:
        if self.gc_lease is None or self.gc_lease.id != lease_id:
            return self
        return replace(self, gc_lease=None)

    # -- retention --------------------------------------------------------------------------

    def retained_ids(self, keep: int, grace: timedelta, now: datetime) -> set[str]:
        """`keep` releases, the live one among them whatever its age, with the newest others
        (Capistrano's keep_releases: after a rollback, `keep 1` is the live release alone),
        and any release that stopped being retained less than `grace` ago.

        A release stops being needed when it is neither live nor among the others kept: at
        the later of its replacement and the commit of the keep-th release newer than it.
        Grace counts from then, so its objects get the full grace period after they stopped
        being needed, however old they are. A release with neither (among the newest `keep`
        but pushed out by a rollback to an older live one, and never live itself) counts as
        stopped now: grace keeps it.
        """
        newest = self.newest_first()
        retained = {e.id for e in newest if e.id == self.live}
        slots = max(0, keep - len(retained))
        others = 0
        for index, entry in enumerate(newest):
            if entry.id == self.live:
                continue
            others += 1
            if others <= slots:
                retained.add(entry.id)
                continue
            stopped = [parse_iso(newest[index - keep].committed_at)] if index >= keep else []
            if entry.replaced_at:
                stopped.append(parse_iso(entry.replaced_at))
            if now - max(stopped, default=now) < grace:
                retained.add(entry.id)
        return retained

    # -- serialisation ----------------------------------------------------------------------

    def to_json(self) -> bytes:
        data = {
            "format": self.format,
            "live": self.live,
            "gc_epoch": self.gc_epoch,
            "gc_lease": asdict(self.gc_lease) if self.gc_lease else None,
            "releases": [asdict(e) for e in self.releases],
            "log": [asdict(a) for a in self.log],
            # Absent until a check fails: other states stay exactly what earlier versions wrote.
            **(
                {"failed_checks": [asdict(f) for f in self.failed_checks]}
                if self.failed_checks
                else {}
            ),
            **self.extra,
        }
        return json.dumps(data, indent=1).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> State:
        """Raises NewerFormat for a state a newer assetpub wrote, ValueError (KeyError,
        TypeError) for anything else that is not a state object."""
        data = parse_json_object(raw)
        check_format(data, STATE_FORMAT)
        lease = data.get("gc_lease")
        if not isinstance(data.get("live"), str | None):
            raise ValueError("'live' is not a release id")
        if not isinstance(lease, dict | None):
            raise ValueError(f"'gc_lease' is a JSON {json_kind(lease)}, not an object")
        known = {"format", "live", "gc_epoch", "gc_lease", "releases", "log", "failed_checks"}
        return cls(
            live=data.get("live"),
            releases=tuple(_typed_entry(ReleaseEntry, e) for e in _list(data, "releases")),
            log=tuple(_typed_entry(Activation, a) for a in _list(data, "log")),
            failed_checks=tuple(_typed_entry(FailedCheck, f) for f in _list(data, "failed_checks")),
            gc_epoch=int(data.get("gc_epoch", 0)),
            gc_lease=GcLease(
                lease["id"], lease["expires_at"], tuple(lease["doomed"]), lease.get("holder", "")
            )
            if lease
            else None,
            format=int(data.get("format", STATE_FORMAT)),
            extra={k: v for k, v in data.items() if k not in known},
        )


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """A history object's JSON, which must be an object (ValueError saying what it is else)."""
    try:
        data = json.loads(raw)
    except ValueError as exc:  # not UTF-8, or not JSON
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"a JSON {json_kind(data)}, not an object")
    return data


def json_kind(value: object) -> str:
    """What a parsed JSON value is, in JSON's words (for messages)."""
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    return "null" if value is None else "number"


def _list(data: dict[str, Any], name: str) -> list[Any]:
    value = data.get(name, [])
    if not isinstance(value, list):
        raise ValueError(f"{name!r} is a JSON {json_kind(value)}, not an array")
    return value


_Entry = TypeVar("_Entry", "ReleaseEntry", "Activation", "FailedCheck")
# The field types of ReleaseEntry and Activation, as their annotations spell them.
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "str": (str,),
    "str | None": (str, type(None)),
    "int": (int,),
}


def _typed_entry(cls: type[_Entry], data: object) -> _Entry:
    """One entry of the state's lists, its fields checked against the dataclass's types, so a
    mangled state fails here in one line rather than later in a transition."""
    if not isinstance(data, dict):
        raise ValueError(f"a {cls.__name__} is a JSON {json_kind(data)}, not an object")
    for spec in fields(cls):
        value = data.get(spec.name)
        expected = _FIELD_TYPES.get(str(spec.type), (object,))
        if spec.name in data and not isinstance(value, expected):
            raise ValueError(f"{cls.__name__} field {spec.name!r} is {value!r}")
    return cls(**data)
