"""Run the health checks after a switch (or on demand, `verify --url`), on a clock.

A URL check fetches what a visitor's browser would: the asset-manifest.json next to the page
(it must name the release just switched to), the page, each local subresource it names, and
each stylesheet's own url()s: a few dozen requests, never one per published file. While the
manifest still names another release (a CDN that has not revalidated yet), or an answer is
one that waiting may change (no answer, 5xx, 429), the whole check is tried again, with
growing pauses, until `timeout`; any other failure is final at once, so a broken release is
live for as short a time as possible.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from assetpub.clock import SYSTEM_CLOCK, Clock
from assetpub.errors import and_more
from assetpub.health.command import CommandRun, check_environment, run_check_command
from assetpub.health.fetch import MAX_BODY, Answer, Fetcher, HttpFetcher
from assetpub.health.page import (
    Resource,
    acceptable_types,
    answer_problem,
    asset_manifest_url,
    implied_type,
    is_retryable,
    media_type,
    page_resources,
    stylesheet_resources,
)
from assetpub.history.record import release_named_by
from assetpub.keys import ASSET_MANIFEST_KEY

REQUEST_TIMEOUT = 10.0  # seconds for one request, at most (less when the deadline is nearer)
_PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_PAUSES = (0.5, 1.0, 2.0, 4.0)  # between attempts; then 5 s each
_LAST_PAUSE = 5.0

RunCommand = Callable[[str, Mapping[str, str], float], CommandRun]


@dataclass(frozen=True)
class CheckOutcome:
    check: str  # what was checked: the URL, or "command '…'"
    passed: bool
    problem: str | None = None
    release: str | None = None  # the release the asset manifest named (URL checks)
    resources: int = 0  # subresources checked
    requests: int = 0
    attempts: int = 1
    output: str = ""  # the command's stdout and stderr

    @property
    def summary(self) -> str:
        if self.passed:
            return f"check {self.check}: passed"
        return f"check {self.check} failed: {self.problem}"


@dataclass(frozen=True)
class HealthReport:
    outcomes: tuple[CheckOutcome, ...] = ()

    @property
    def failed(self) -> CheckOutcome | None:
        return next((o for o in self.outcomes if not o.passed), None)

    @property
    def passed(self) -> bool:
        return self.failed is None


def pause_before(attempt: int) -> float:
    """Seconds to wait before attempt number `attempt` + 1 (the first attempt is 1)."""
    return _PAUSES[attempt - 1] if attempt <= len(_PAUSES) else _LAST_PAUSE


@dataclass
class _Attempt:
    """One pass over the page: what failed, and whether waiting may change it."""

    problems: list[str] = field(default_factory=list)
    retryable: bool = True
    release: str | None = None
    resources: int = 0
    requests: int = 0
    out_of_time: bool = False  # the deadline came before a request could be made

    def fail(self, problem: str, retryable: bool) -> None:
        self.problems.append(problem)
        self.retryable = self.retryable and retryable

    @property
    def problem(self) -> str | None:
        if not self.problems:
            return None
        return self.problems[0] + and_more(len(self.problems))


class _Requests:
    """Fetches with a timeout that never runs past the deadline, counted."""

    def __init__(self, fetcher: Fetcher, clock: Clock, deadline: float, attempt: _Attempt) -> None:
        self.fetcher, self.clock, self.deadline, self.attempt = fetcher, clock, deadline, attempt

    def get(self, url: str, read_body: bool) -> Answer:
        left = self.deadline - self.clock.monotonic()
        if left <= 0:
            self.attempt.out_of_time = True
            return Answer(url, 0, error="no time left")
        self.attempt.requests += 1
        return self.fetcher.fetch(url, read_body=read_body, timeout=min(REQUEST_TIMEOUT, left))


def _said(answer: Answer, expected: frozenset[str] | None, implied: str | None) -> str | None:
    if answer.status == 0:
        return answer.error or "no answer"
    problem = answer_problem(answer.status, answer.content_type, expected, implied)
    if problem is None and answer.body is not None and len(answer.body) > MAX_BODY:
        return f"is larger than {MAX_BODY // (1024 * 1024)} MiB"
    return problem


def _one_attempt(
    url: str, expected_release: str | None, requests: _Requests, public_url: str | None
) -> _Attempt:
    attempt = requests.attempt
    manifest = requests.get(asset_manifest_url(url), read_body=True)
    problem = _said(manifest, acceptable_types(ASSET_MANIFEST_KEY), "application/json")
    if problem:
        # A fixed name, revalidated by the CDN: a 404 may be one it has not revalidated yet.
        attempt.fail(f"{ASSET_MANIFEST_KEY} {problem}", retryable=True)
        return attempt
    attempt.release = release_named_by(manifest.body)
    if attempt.release is None:
        attempt.fail(f"{ASSET_MANIFEST_KEY} names no release", retryable=True)
        return attempt
    if expected_release is not None and attempt.release != expected_release:
        attempt.fail(
            f"{ASSET_MANIFEST_KEY} names release {attempt.release}, not {expected_release}",
            retryable=True,
        )
        return attempt
    page = requests.get(url, read_body=True)
    problem = _said(page, _PAGE_TYPES, "text/html")
    if problem or page.body is None:
        attempt.fail(f"the page {problem}", is_retryable(page.status))
        return attempt
    html = page.body.decode(errors="replace")
    _check_resources(page_resources(url, html, public_url), requests, public_url)
    return attempt


def _check_resources(found: list[Resource], requests: _Requests, public_url: str | None) -> None:
    attempt = requests.attempt
    queue = deque(found)
    seen = {resource.url for resource in queue}
    while queue:
        resource = queue.popleft()
        attempt.resources += 1
        answer = requests.get(resource.url, read_body=resource.may_be_stylesheet)
        problem = _said(answer, acceptable_types(resource.url), implied_type(resource.url))
        if problem:
            attempt.fail(f"{resource.url} ({resource.kind}) {problem}", is_retryable(answer.status))
            continue
        if answer.body is not None and media_type(answer.content_type) == "text/css":
            css = answer.body.decode(errors="replace")
            for more in stylesheet_resources(resource.url, css, public_url):
                if more.url not in seen:
                    seen.add(more.url)
                    queue.append(more)


def check_url(
    url: str,
    expected_release: str | None,
    *,
    timeout: float,
    fetcher: Fetcher | None = None,
    clock: Clock = SYSTEM_CLOCK,
    public_url: str | None = None,
) -> CheckOutcome:
    """Whether `url` serves `expected_release` whole (None: whichever release it names);
    `public_url` is the build's --public-url, whose absolute references are ours too."""
    fetcher = fetcher or HttpFetcher()
    deadline = clock.monotonic() + timeout
    attempts = total_requests = 0
    last: CheckOutcome | None = None
    while True:
        attempts += 1
        requests = _Requests(fetcher, clock, deadline, _Attempt())
        attempt = _one_attempt(url, expected_release, requests, public_url)
        total_requests += attempt.requests
        outcome = CheckOutcome(
            url,
            passed=attempt.problem is None,
            problem=attempt.problem,
            release=attempt.release,
            resources=attempt.resources,
            requests=total_requests,
            attempts=attempts,
        )
        if outcome.passed or not attempt.retryable:
            return outcome
        if attempt.out_of_time and last is not None:
            # What the last attempt that could ask said is the news, not "no time left".
            outcome = replace(last, requests=total_requests, attempts=attempts)
        left = deadline - clock.monotonic()
        if left <= 0:
            tries = f"{attempts} attempt{'s' if attempts > 1 else ''}"
            still = f"{outcome.problem} (still after {timeout:g} s, {tries})"
            return replace(outcome, problem=still)
        last = outcome
        clock.sleep(min(pause_before(attempts), left))


def check_command(
    command: str,
    release: str,
    previous: str | None,
    check_url: str | None,
    *,
    timeout: float,
    run: RunCommand = run_check_command,
) -> CheckOutcome:
    done = run(command, check_environment(release, previous, check_url), timeout)
    return CheckOutcome(f"command '{command}'", done.passed, done.problem, output=done.output)


def run_health_checks(
    urls: tuple[str, ...],
    command: str | None,
    release: str,
    previous: str | None,
    *,
    timeout: float,
    fetcher: Fetcher | None = None,
    clock: Clock = SYSTEM_CLOCK,
    run: RunCommand = run_check_command,
    public_url: str | None = None,
) -> HealthReport:
    """Each URL, then the command, each within `timeout`; the first failure ends the run (a
    rollback should not wait for checks whose answer no longer matters)."""
    outcomes: list[CheckOutcome] = []
    for url in urls:
        outcomes.append(
            check_url(
                url, release, timeout=timeout, fetcher=fetcher, clock=clock, public_url=public_url
            )
        )
        if not outcomes[-1].passed:
            return HealthReport(tuple(outcomes))
    if command:
        first_url = urls[0] if urls else None
        outcomes.append(
            check_command(command, release, previous, first_url, timeout=timeout, run=run)
        )
    return HealthReport(tuple(outcomes))
