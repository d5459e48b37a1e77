"""The state object's store: compare-and-swap reads and writes of _assetpub/state.json.

State updates are read-modify-write loops: read state.json with its version token, apply a pure
transition, write it back with If-Match (If-None-Match: * when it does not exist yet); a 412
means another writer won, so read again and re-apply. Where an endpoint ignores conditional
writes, a lock object stands in for them, with a warning: it narrows the race, it cannot close it.

Whether an origin's service enforces conditional writes is probed once and remembered in the
state, per service (the S3 endpoint URL): `conditional_writes: {service: {"enforced": bool,
"probed_at": time}}`. A later command reads the answer instead of probing and warning again. The
same bucket reached through another endpoint is probed afresh (a bucket copied to another
implementation must not inherit a "yes"), and a "no" is probed again after RECHECK_REFUSAL, so
an upgraded service is noticed. A bare `true` (written before answers were kept per service)
counts as no answer.
"""

from __future__ import annotations

import json
import logging
import random
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from assetpub.build.hashing import digest_bytes
from assetpub.build.headers import PRIVATE
from assetpub.clock import SYSTEM_CLOCK, Clock
from assetpub.errors import (
    AlreadyExistsError,
    HistoryError,
    NewerFormatError,
    NoHistoryError,
    OriginError,
    PreconditionFailedError,
)
from assetpub.history.state import NewerFormat, State, iso, parse_iso
from assetpub.keys import LOCK_KEY, STATE_KEY
from assetpub.origins.base import ObjectHeaders, Origin, VersionedBytes

log = logging.getLogger(__name__)
_PROBED = "conditional_writes"  # the state field of the remembered answers
RECHECK_REFUSAL = timedelta(days=7)
# A random token, new with every compare-and-swap write (see update()).
_WRITE_TOKEN = "write_token"
_JSON = "application/json; charset=utf-8"


def private_json_headers(data: bytes) -> ObjectHeaders:
    return ObjectHeaders(_JSON, PRIVATE, digest_bytes(data).sha256)


def remembered_answer(state: State, service: str, now: datetime) -> bool | None:
    """Whether the state says `service` enforces conditional writes; None where it must be
    probed: no answer for this service, a malformed one, or a "no" older than RECHECK_REFUSAL."""
    answers = state.extra.get(_PROBED)
    entry = answers.get(service) if isinstance(answers, dict) else None
    if not isinstance(entry, dict) or not isinstance(entry.get("enforced"), bool):
        return None
    if entry["enforced"]:
        return True
    try:
        probed_at = parse_iso(entry["probed_at"])
        return False if now - probed_at < RECHECK_REFUSAL else None
    except (KeyError, TypeError, ValueError):
        return None


def with_answer(state: State, service: str, enforced: bool, now: datetime) -> State:
    """`state` remembering that `service` does (or does not) enforce conditional writes."""
    answers: Any = state.extra.get(_PROBED)
    kept = dict(answers) if isinstance(answers, dict) else {}
    kept[service] = {"enforced": enforced, "probed_at": iso(now)}
    return replace(state, extra={**state.extra, _PROBED: kept})


def require_history(origin: Origin, doing: str) -> None:
    """Refuse to go on where the origin has no state object at all: gc, rollback and status
    would otherwise report a clean nothing on a mistyped URL, and a cron job would pass. One
    HEAD; `doing` says what cannot happen ("there is nothing to collect")."""
    if origin.head(STATE_KEY) is None:
        raise NoHistoryError(origin.url, STATE_KEY, doing)


@dataclass
class StateStore:
    origin: Origin
    warn: Callable[[str], None] = log.warning
    attempts: int = 30
    clock: Clock = SYSTEM_CLOCK
    _conditional: bool | None = field(default=None, init=False)

    def load(self) -> tuple[State, str | None]:
        """The state and its version token (None when the origin has no state yet)."""
        return self._parse(self.origin.read(STATE_KEY))

    def _parse(self, got: VersionedBytes | None) -> tuple[State, str | None]:
        if got is None:
            return State(), None
        try:
            return State.from_json(got.data), got.etag
        except NewerFormat as exc:
            raise NewerFormatError(self.origin.url, STATE_KEY, exc.found, exc.known) from None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise HistoryError(
                f"{self.origin.url}: {STATE_KEY} is not an assetpub state file ({exc})"
            ) from None

    def update(
        self,
        change: Callable[[State], State | None],
        current: tuple[State, str | None] | None = None,
    ) -> State:
        """Apply `change` to the current state and write it back atomically, retrying when
        another writer got there first. `change` returns None to leave the state as it is and
        may raise to abort; it can run several times, so it must be pure. `current` is a
        (state, token) pair the caller just loaded, which saves reading it again."""
        loaded = current or self.load()
        if not self._supports_conditional_writes(loaded[0]):
            with self._lock_object():
                state, _ = self.load()
                new = self._remembering(state, change(state))
                if new is not None:
                    data = new.to_json()
                    self.origin.put_bytes(STATE_KEY, data, private_json_headers(data))
                return new or state
        for attempt in range(self.attempts):
            state, etag = loaded
            new = self._remembering(state, change(state))
            if new is None:
                return state
            # The token is new for every write, so finding these exact bytes later proves
            # this write went through.
            new = replace(new, extra={**new.extra, _WRITE_TOKEN: secrets.token_hex(16)})
            data = new.to_json()
            try:
                if etag is None:
                    self.origin.put_bytes(
                        STATE_KEY, data, private_json_headers(data), if_absent=True
                    )
                else:
                    self.origin.put_bytes(
                        STATE_KEY, data, private_json_headers(data), if_match=etag
                    )
                return new
            except (PreconditionFailedError, AlreadyExistsError):
                got = self.origin.read(STATE_KEY)
                if got is not None and got.data == data:
                    # The client retried a write whose response was lost (a timeout, a reset)
                    # and the retry's 412 was about our own first attempt.
                    log.info(
                        "%s: %s holds our write; its answer was lost", self.origin.url, STATE_KEY
                    )
                    return new
                log.debug("%s: state changed under us (attempt %d)", self.origin.url, attempt)
                self.clock.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
                loaded = self._parse(got)
        raise OriginError(
            f"{self.origin.url}: {STATE_KEY} kept changing under concurrent writers; try again"
        )

    def _supports_conditional_writes(self, state: State) -> bool:
        if self._conditional is None:
            remembered = remembered_answer(state, self.origin.service, self.clock.now())
            if remembered is None:
                self._conditional = self.origin.supports_conditional_writes()
                if not self._conditional:
                    self.warn(
                        f"{self.origin.url} does not enforce conditional writes: assetpub falls "
                        "back to a lock object, which cannot fully exclude concurrent writers"
                    )
            else:
                self._conditional = remembered
                if not remembered:  # warned when probed; said again only with -vv
                    log.info("%s: using the lock object (no conditional writes)", self.origin.url)
        return self._conditional

    def _remembering(self, state: State, new: State | None) -> State | None:
        """`new` with the probe's answer where `state` does not hold it yet. The answer rides
        on a write the command makes anyway: a change that writes nothing records nothing."""
        service, now = self.origin.service, self.clock.now()
        if new is None or self._conditional is None:
            return new
        if remembered_answer(state, service, now) is not None:
            return new
        return with_answer(new, service, self._conditional, now)

    @contextmanager
    def _lock_object(self, timeout: float = 120.0) -> Iterator[None]:
        token = secrets.token_hex(8)
        deadline = self.clock.monotonic() + timeout
        while True:
            held = self.origin.get(LOCK_KEY)
            if held is None or _lock_expired(held, self.clock.now()):
                data = json.dumps(
                    {"token": token, "expires_at": iso(self.clock.now() + timedelta(seconds=60))}
                ).encode()
                self.origin.put_bytes(LOCK_KEY, data, private_json_headers(data))
                self.clock.sleep(0.2)  # let a racing writer's lock land, then see who won
                held = self.origin.get(LOCK_KEY)
                if held is not None and json.loads(held).get("token") == token:
                    break
            if self.clock.monotonic() > deadline:
                raise OriginError(f"{self.origin.url}: {LOCK_KEY} is held by another writer")
            self.clock.sleep(0.5)
        try:
            yield
        finally:
            self.origin.delete([LOCK_KEY])


def _lock_expired(raw: bytes, now: datetime) -> bool:
    try:
        return parse_iso(json.loads(raw)["expires_at"]) < now
    except (ValueError, KeyError, TypeError):
        return True
