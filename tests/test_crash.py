"""A process SIGKILLed at any write of publish, rollback and gc leaves every retained release
intact; verify then tells the truth, and running the same command again converges.

The kills come from a fault-injecting origin (tests/crash_runner.py): the N-th write of a kind
(the release record, an asset, the state's compare-and-swap, index.html, a GC delete batch, ...)
kills the process right before it, right after it, or half-way through it. Each checkpoint is
reached in every run, whatever the machine's load, and the test asserts that every kill landed.

After each kill:
- every retained release is whole (no object it needs is gone, its record is there);
- `verify` tells the truth: it reports healthy exactly when the live files are byte for byte the
  state's live release, with its headers and blobs (checked independently: each file's bytes,
  or its single-part ETag, against the record), and at each enumerated checkpoint it says what
  that checkpoint implies (e.g. "committed, nothing switched yet": not healthy);
- the live pages still load: every stylesheet and image they name is on the origin.
Then the same command runs again and must succeed, after which verify is healthy, the live
files are the live release's, the state's live release is the one the command meant (the
re-run's release, the rollback's target), no live process holds a GC lease, and after a GC only
what the retained releases need is left. Each chain ends with verify --deep.

The commands run in forked children of a fork server (`crash_runner.py --serve`): each is a
fresh process running `python tests/crash_runner.py CHECKPOINT N -- ARGS`, minus the interpreter
start-up (test_runner_command_line runs that form itself).
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import random
import re
import select
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from backends import ACROSS_PROCESSES, Backend
from checks import assert_retained_releases_whole
from crash_runner import MARKER, NOT_REACHED
from fixture_types import MakeBuild

from assetpub.commands.verify import verify_origin
from assetpub.history.record import ReleaseRecord, Storage, load_record
from assetpub.history.state import State
from assetpub.history.store import StateStore
from assetpub.keys import ASSET_MANIFEST_KEY, STATE_KEY, blob_key, release_record_key
from assetpub.origins import Origin, RemoteObject, list_all

ROOT = Path(__file__).resolve().parent.parent
RUNNER = Path(__file__).with_name("crash_runner.py")
SEED_VARIABLE = "ASSETPUB_CRASH_SEED"  # the random variant's seed (default: a fresh one)
# Its rounds of publish, rollback, gc: SHORT_ROUNDS by default, STRESS_ROUNDS in the stress run
# (`pytest -m stress`); the variable overrides both.
ROUNDS_VARIABLE = "ASSETPUB_CRASH_ROUNDS"
SHORT_ROUNDS = 6  # 18 kills per backend: 54 in a default run (folder, moto, SeaweedFS)
STRESS_ROUNDS = 100
PAGES = ("index.html", "about/index.html")
# The random variant's build: hundreds of bundler-hashed chunks besides the pages, most
# shared by every version, some of each version alone (so each publish uploads some, each GC
# deletes some, and a kill can land among them).
SHARED_CHUNKS = 300
VERSION_CHUNKS = 30


def site(version: int, shared_chunks: int = 0, version_chunks: int = 0) -> dict[str, str | bytes]:
    """A build whose every publish (after the first) writes the same number of each kind:
    6 images shared by every version, 3 of this version alone, the stylesheet naming them all
    (hashed), 3 entry files and 2 plain files that change with the version; and chunks with
    content-hashed names, `shared_chunks` the same in every version and `version_chunks` new
    in each."""
    files: dict[str, str | bytes] = {f"img/s{i}.png": bytes([65 + i]) * 700 for i in range(6)}
    chunks = [f"// shared chunk {i}\n" for i in range(shared_chunks)]
    chunks += [f"// chunk {i} of v{version}\n" for i in range(version_chunks)]
    for code in chunks:
        files[f"assets/c.{hashlib.sha256(code.encode()).hexdigest()[:16]}.js"] = code
    files |= {f"img/u{i}.png": os.urandom(600) for i in range(3)}
    images = sorted(files)
    files["css/site.css"] = "".join(f".{Path(n).stem}{{background:url(../{n})}}\n" for n in images)
    files["index.html"] = f"<!doctype html><link rel=stylesheet href=css/site.css><p>v{version}"
    files["about/index.html"] = (
        f"<!doctype html><link rel=stylesheet href=../css/site.css><p>about v{version}"
    )
    files["robots.txt"] = f"# v{version}\n"
    files["chunk.js"] = f"// plain v{version}\n"  # named by nothing: plain, replaced in place
    files["legacy.css"] = f"/* plain v{version} */\n"
    return files


# The writes one run of each command makes in the scenarios below (see Scenario) on site()
# without chunks: what a random checkpoint (kind, N) is drawn from (`writes` adds the chunks).
# test_sigkill_at_random_checkpoints checks them first.
WRITES = {
    "publish": {
        "put-record": 1,
        "put-asset": 4,  # 3 new images and the stylesheet that names them
        "put-blob": 2,
        "put-state": 1,
        "put-plain": 2,
        "put-manifest": 1,
        "put-entry": 2,
        "put-index": 1,
        "any-write": 14,
    },
    "rollback": {
        "put-state": 1,
        "copy": 2,
        "put-manifest": 1,
        "put-entry": 2,
        "put-index": 1,
        "any-write": 7,
    },
    "gc": {"put-state": 4, "delete-object": 1, "delete-record": 1, "any-write": 6},
}


def writes(version_chunks: int) -> dict[str, dict[str, int]]:
    """WRITES for a site whose versions each add `version_chunks` chunks: a publish uploads
    them as assets; GC deletes them in the same one batch (fewer than 1,000 keys)."""
    more = {"put-asset": version_chunks, "any-write": version_chunks}
    publish = {kind: n + more.get(kind, 0) for kind, n in WRITES["publish"].items()}
    return {**WRITES, "publish": publish}


# ---------------------------------------------------------------------------------------------
# Running commands


@dataclass
class Outcome:
    status: int  # exit code, or -signal
    stdout: str
    stderr: str
    argv: list[str]

    @property
    def report(self) -> dict[str, Any]:
        lines = [line for line in self.stderr.splitlines() if line.startswith(MARKER)]
        return json.loads(lines[-1][len(MARKER) :]) if lines else {}

    @property
    def landed(self) -> bool:
        return self.status == -signal.SIGKILL and self.report.get("reached") is True

    def describe(self) -> str:
        return f"`{' '.join(self.argv)}` ended with {self.status}: {self.stderr[-1500:]}"


class ForkRunner:
    """Talks to `crash_runner.py --serve`: every run is a forked child, one at a time."""

    def __init__(self, env: dict[str, str], scratch: Path) -> None:
        self.scratch = scratch
        self.runs = 0
        self.kills = 0  # runs that ended in the injected SIGKILL
        self.proc = subprocess.Popen(
            [sys.executable, str(RUNNER), "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )

    def run(self, checkpoint: str, n: int, args: list[str], timeout: float = 120) -> Outcome:
        self.runs += 1
        out, err = self.scratch / f"run{self.runs}.out", self.scratch / f"run{self.runs}.err"
        argv = [checkpoint, str(n), "--", *args]
        request = {"argv": argv, "stdout": str(out), "stderr": str(err), "timeout": timeout}
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout + 30)
        line = self.proc.stdout.readline() if ready else ""
        assert line, f"the crash runner's fork server did not answer for `{' '.join(argv)}`"
        answer = json.loads(line)
        outcome = Outcome(answer["status"], out.read_text(), err.read_text(), argv)
        assert not answer["timeout"], f"timed out after {timeout} s: {outcome.describe()}"
        self.kills += outcome.landed
        return outcome

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def runner_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ForkRunner]:
    fork_runner = ForkRunner(runner_env(), tmp_path_factory.mktemp("runs"))
    yield fork_runner
    fork_runner.close()


# Forked children reach the origin on their own: memory storage would stay in the test process.
across_processes = pytest.mark.parametrize("backend_kind", ACROSS_PROCESSES)


# ---------------------------------------------------------------------------------------------
# What must hold


# Release records are written once and never change: read each one once per test.
RecordCache = dict[tuple[str, str], ReleaseRecord]


@dataclass
class View:
    """One look at an origin: its state and listing, and the records read from it."""

    origin: Origin
    state: State
    listing: dict[str, RemoteObject]
    records: RecordCache

    @classmethod
    def of(cls, origin: Origin, records: RecordCache | None = None) -> View:
        state, _ = StateStore(origin).load()
        return cls(origin, state, list_all(origin), {} if records is None else records)

    def record(self, release_id: str) -> ReleaseRecord:
        """The record (cached), if the origin still has it; raises HistoryError if not."""
        key = (self.origin.url, release_id)
        if key not in self.records or release_record_key(release_id) not in self.listing:
            self.records[key] = load_record(self.origin, release_id)
        return self.records[key]

    def holds(self, key: str, sha256: str, md5: str) -> bool:
        """Whether `key` holds these bytes: a single-part S3 ETag is their MD5, anything else
        is read and hashed."""
        remote = self.listing.get(key)
        if remote is None:
            return False
        if remote.etag and "-" not in remote.etag and md5:
            return remote.etag == md5
        data = self.origin.get(key)
        return data is not None and hashlib.sha256(data).hexdigest() == sha256


def live_problems(view: View) -> list[str]:
    """Independently of verify: what keeps the live files from being the state's live release,
    byte for byte and, where the origin stores headers, with the recorded ones, with the
    blobs a later rollback to it needs."""
    live = view.state.live
    if live is None:
        return ["no live release"]
    record = view.record(live)
    problems = []
    for file in record.files.values():
        if not view.holds(file.key, file.sha256, file.md5):
            problems.append(f"{file.key} does not hold release {live}'s bytes")
            continue
        if file.storage == Storage.BLOB and blob_key(file.sha256) not in view.listing:
            problems.append(f"the blob of {file.key} is missing")
        if file.storage != Storage.KEY:
            info = view.origin.head(file.key)
            assert info is not None
            for name, got, want in (
                ("Content-Type", info.content_type, file.content_type),
                ("Cache-Control", info.cache_control, file.cache_control),
            ):
                if got is not None and got != want:
                    problems.append(f"{file.key} has {name} {got!r}, not {want!r}")
    if view.origin.get(ASSET_MANIFEST_KEY) != record.asset_manifest:
        problems.append(f"{ASSET_MANIFEST_KEY} is not release {live}'s")
    return problems


def page_problems(view: View) -> list[str]:
    """What a visitor loading the live pages now would not get: every stylesheet a page names
    and every url() in it must be on the origin."""
    problems = []
    styles: dict[str, bytes | None] = {}
    for page in PAGES:
        html = view.origin.get(page)
        if html is None:
            problems.append(f"{page} is missing")
            continue
        for ref in re.findall(rb"""(?:href|src)=["']?([^"'\s>]+)""", html):
            css_key = posixpath.normpath(posixpath.join(posixpath.dirname(page), ref.decode()))
            if css_key not in styles:
                styles[css_key] = view.origin.get(css_key)
            css = styles[css_key]
            if css is None:
                problems.append(f"{page} names {css_key}, which is missing")
                continue
            for url in re.findall(rb"url\(([^)]+)\)", css):
                key = posixpath.normpath(posixpath.join(posixpath.dirname(css_key), url.decode()))
                if key not in view.listing:
                    problems.append(f"{css_key} (named by {page}) needs {key}, which is missing")
    return problems


def retained_problems(view: View) -> list[str]:
    """What checks.assert_retained_releases_whole fails on (a retained release's record or an
    object it needs is gone), on a view already read."""
    problems = []
    for entry in view.state.releases:
        if release_record_key(entry.id) not in view.listing:
            problems.append(f"retained release {entry.id} lost its record")
            continue
        missing = view.record(entry.id).owned_keys() - set(view.listing)
        if missing:
            problems.append(f"retained release {entry.id} lost {sorted(missing)[:5]}")
    return problems


def garbage(view: View) -> list[str]:
    """What a finished GC must not have left: objects that neither a retained release needs
    nor is a mutable name one of them publishes, nor the state."""
    needed = {STATE_KEY, ASSET_MANIFEST_KEY}
    for entry in view.state.releases:
        record = view.record(entry.id)
        needed |= {record.record_key, *record.owned_keys(), *(f.key for f in record.files.values())}
    return sorted(set(view.listing) - needed)


def holder_alive(holder: str) -> bool:
    _, _, pid = holder.rpartition(":")
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    return True


@contextmanager
def labelled(label: str) -> Iterator[None]:
    """Prefix any assertion failure with where it happened."""
    try:
        yield
    except AssertionError as exc:
        raise AssertionError(f"{label}: {exc}") from exc


# ---------------------------------------------------------------------------------------------
# The scenario: one origin, a chain of killed commands, each followed by its re-run


@dataclass
class Scenario:
    runner: ForkRunner
    origin: Origin
    origin_args: list[str]
    make_build: Callable[[dict[str, str | bytes]], Path]
    keep: int
    shared_chunks: int = 0
    version_chunks: int = 0
    version: int = 0
    log: list[str] = field(default_factory=list)
    records: RecordCache = field(default_factory=dict)

    def setup(self) -> None:
        """Two releases, so there is something to roll back to and, soon, to collect."""
        for _ in range(2):
            done = self.runner.run("none", 0, self.command("publish"))
            assert done.status == 0, done.describe()

    def command(self, name: str) -> list[str]:
        if name == "publish":
            self.version += 1
            files = site(self.version, self.shared_chunks, self.version_chunks)
            return ["publish", str(self.make_build(files)), *self.origin_args, "--json"]
        if name == "rollback":
            return ["rollback", self.rollback_target(), *self.origin_args, "--json"]
        assert name == "gc"
        gc = ["gc", *self.origin_args, "--keep", str(self.keep), "--grace", "0", "--force"]
        return [*gc, "--json"]

    def rollback_target(self) -> str:
        """The newest retained release whose files differ from the live one's, so a rollback
        to it restores plain files and entry files."""
        view = View.of(self.origin, self.records)
        state = view.state
        assert state.live is not None
        live = view.record(state.live).entry_content
        for entry in state.newest_first():
            if entry.id != state.live and view.record(entry.id).entry_content != live:
                return entry.id
        raise AssertionError(f"no release to roll back to (scenario bug): {state.release_ids}")

    def crash(self, name: str, checkpoint: str, n: int, healthy: bool | None = None) -> None:
        """Kill `name` at the n-th write of `checkpoint`, check, run it again, check."""
        args = self.command(name)
        label = f"{name} killed at {checkpoint} #{n}"
        self.log.append(label)
        with labelled(label):
            killed = self.runner.run(checkpoint, n, args)
            assert killed.landed, f"the kill did not land: {killed.describe()}"
            self.check_after_kill(healthy)
        with labelled(f"{label}, then run again"):
            again = self.runner.run("none", 0, args)
            assert again.status == 0, again.describe()
            self.check_converged(name, args, again)

    def check_after_kill(self, expect_healthy: bool | None) -> None:
        view = View.of(self.origin, self.records)
        assert not retained_problems(view), retained_problems(view)
        health = verify_origin(self.origin)
        problems = live_problems(view)
        said = [f"{p.key}: {p.message}" for p in health.problems]
        assert health.healthy == (not problems), (
            f"verify says {said or 'healthy'}, while the live files show {problems or 'nothing'}"
        )
        if expect_healthy is not None:
            assert health.healthy == expect_healthy, f"verify says {said or 'healthy'}"
        assert not page_problems(view), page_problems(view)

    def check_converged(self, name: str, args: list[str], again: Outcome) -> None:
        view = View.of(self.origin, self.records)
        health = verify_origin(self.origin)
        assert health.healthy, [f"{p.key}: {p.message}" for p in health.problems]
        assert not live_problems(view), live_problems(view)
        assert not page_problems(view), page_problems(view)
        assert not retained_problems(view), retained_problems(view)
        state = view.state
        # A GC killed after its last delete leaves its lease, and a re-run with nothing left to
        # collect does not clear it; it must not be anyone's but a dead process's.
        assert state.gc_lease is None or not holder_alive(state.gc_lease.holder), state.gc_lease
        if name == "publish":
            assert state.live == json.loads(again.stdout)["release"]
        elif name == "rollback":
            assert state.live == args[1]
        else:
            assert state.live in {e.id for e in state.releases}
            assert len(state.releases) <= self.keep + 1, state.release_ids
            assert not garbage(view), garbage(view)

    def finish(self) -> None:
        """Every object of the live release re-read and re-hashed, once at the end."""
        health = verify_origin(self.origin, deep=True)
        assert health.healthy, [f"{p.key}: {p.message}" for p in health.problems]


def scenario(
    runner: ForkRunner, backend: Backend, make_build: MakeBuild, keep: int, chunks: bool = False
) -> Scenario:
    chain = Scenario(runner, backend.open(), backend.cli_args, make_build, keep)
    if chunks:
        chain.shared_chunks, chain.version_chunks = SHARED_CHUNKS, VERSION_CHUNKS
    chain.setup()
    return chain


# Each checkpoint, in the order the chain runs them, with what verify must say right after the
# kill: healthy while the live files are still the live release's, not healthy from the commit
# until the switch is complete. Each gc runs after enough publishes that it has objects and
# records to delete.
CHECKPOINTS: list[tuple[str, str, int, bool]] = [
    ("publish", "put-record@after", 1, True),  # the intent alone: nothing uploaded
    ("publish", "put-asset@after", 2, True),  # assets half uploaded (8 in parallel)
    ("gc", "put-state@after", 1, True),  # lease taken, releases dropped, nothing deleted
    ("publish", "put-state@before", 1, True),  # all uploaded, not committed
    ("gc", "delete-object@during", 1, True),  # half the objects deleted, the rest not
    ("publish", "put-state@after", 1, False),  # committed, nothing switched
    ("rollback", "put-state@after", 1, False),  # rollback committed, nothing restored
    ("gc", "delete-object@after", 1, True),  # objects deleted, records and lease left
    ("publish", "put-plain@after", 1, False),  # one plain file switched
    ("rollback", "copy@after", 1, False),  # one plain file copied back from its blob
    ("gc", "delete-record@after", 1, True),  # records deleted, lease still held
    ("publish", "put-manifest@after", 1, False),  # asset-manifest.json switched, pages not
    ("publish", "put-entry@after", 1, False),  # one entry file switched
    ("rollback", "put-index@before", 1, False),  # all restored but index.html
    ("publish", "put-index@before", 1, False),  # all switched but index.html
    ("publish", "put-index@after", 1, True),  # index.html switched, before converging
]
# Torn writes: the bytes in the folder origin's temp file, the rename never done.
TORN_CHECKPOINTS: list[tuple[str, str, int, bool]] = [
    ("publish", "put-asset@during", 3, True),
    ("publish", "put-state@during", 1, True),
    ("rollback", "put-entry@during", 1, False),
]


@across_processes
def test_sigkill_at_each_checkpoint_then_verify_and_rerun(
    runner: ForkRunner, backend: Backend, make_build: MakeBuild
) -> None:
    chain = scenario(runner, backend, make_build, keep=2)
    checkpoints = CHECKPOINTS + (TORN_CHECKPOINTS if backend.kind == "folder" else [])
    for name, checkpoint, n, healthy in checkpoints:
        chain.crash(name, checkpoint, n, healthy)
    chain.finish()
    assert len(chain.log) == len(checkpoints)


# ---------------------------------------------------------------------------------------------
# Randomized: a seeded rng picks the checkpoints; the seed is in every failure message.


def random_checkpoint(
    rng: random.Random, name: str, kind_of_origin: str, counts: dict[str, dict[str, int]]
) -> tuple[str, int]:
    kind = rng.choice(sorted(counts[name]))
    whens = ["before", "after"]
    if kind_of_origin == "folder" or kind.startswith("delete-"):
        whens.append("during")  # a torn write (folder) or a half-done delete batch
    return f"{kind}@{rng.choice(whens)}", rng.randint(1, counts[name][kind])


def run_random_checkpoints(
    runner: ForkRunner, backend: Backend, make_build: MakeBuild, default_rounds: int
) -> None:
    """Rounds of publish, rollback and gc of a build with hundreds of files, each killed at a
    checkpoint a seeded rng draws from the writes it makes; every kill must land."""
    seed = int(os.environ.get(SEED_VARIABLE) or random.SystemRandom().randrange(2**32))
    rounds = int(os.environ.get(ROUNDS_VARIABLE) or default_rounds)
    rng = random.Random(seed)
    counts = writes(VERSION_CHUNKS)
    kills_before = runner.kills
    # On stdout before anything can fail, and in every failure message below.
    print(f"{backend.kind}: seed {seed}, {rounds} rounds ({SEED_VARIABLE}={seed})")
    with labelled(f"seed {seed} (run again with {SEED_VARIABLE}={seed})"):
        chain = scenario(runner, backend, make_build, keep=1, chunks=True)
        # One round without kills first: the write counts the checkpoints are drawn from.
        for name in ("publish", "rollback", "gc"):
            done = runner.run("none", 0, chain.command(name))
            assert done.status == 0, done.describe()
            wrote = {k: v for k, v in done.report["counts"].items() if k in counts[name]}
            assert wrote == counts[name], f"{name} wrote {done.report['counts']}"
        for _round in range(rounds):
            for name in ("publish", "rollback", "gc"):
                checkpoint, n = random_checkpoint(rng, name, backend.kind, counts)
                chain.crash(name, checkpoint, n)
        chain.finish()
    kills = runner.kills - kills_before
    assert kills == 3 * rounds == len(chain.log)
    files = len(site(1, SHARED_CHUNKS, VERSION_CHUNKS))
    print(f"seed {seed}: {kills} kills on a {files}-file build: {'; '.join(chain.log)}")


@across_processes
def test_sigkill_at_random_checkpoints(
    runner: ForkRunner, backend: Backend, make_build: MakeBuild
) -> None:
    run_random_checkpoints(runner, backend, make_build, SHORT_ROUNDS)


@pytest.mark.stress
@across_processes
def test_sigkill_at_random_checkpoints_stress(
    runner: ForkRunner, backend: Backend, make_build: MakeBuild
) -> None:
    run_random_checkpoints(runner, backend, make_build, STRESS_ROUNDS)


# ---------------------------------------------------------------------------------------------
# Another command after a kill, before the same command runs again


@pytest.mark.parametrize("backend_kind", ["folder"])
def test_gc_after_a_publish_died_before_index_html_keeps_the_live_pages(
    runner: ForkRunner, backend: Backend, make_build: MakeBuild
) -> None:
    """A publish dies after switching asset-manifest.json and the other entry files but before
    index.html; a scheduled `gc --keep 1 --grace 0` runs before anyone re-runs the publish.

    history.md: "a GC never collects a release that index.html points to". The state's live
    release and the live asset-manifest.json both name the dead publish's release; the
    release whose index.html is still served is protected because its recorded index.html
    bytes are what the origin serves (gc.serving_live_pages).
    """
    chain = scenario(runner, backend, make_build, keep=1)
    killed = runner.run("put-index@before", 1, chain.command("publish"))
    assert killed.landed, killed.describe()
    assert not page_problems(View.of(chain.origin))
    gc = runner.run("none", 0, chain.command("gc"))
    assert gc.status == 0, gc.describe()
    assert not page_problems(View.of(chain.origin))
    assert_retained_releases_whole(chain.origin)


# ---------------------------------------------------------------------------------------------
# The runner's own command line, as documented in crash_runner.py


def test_runner_command_line(make_build: MakeBuild, tmp_path: Path) -> None:
    build = make_build(site(1))
    origin = tmp_path / "origin"

    def run(checkpoint: str, n: int) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, str(RUNNER), checkpoint, str(n), "--", "publish", str(build)]
        return subprocess.run(
            [*command, "--origin", str(origin)],
            capture_output=True,
            text=True,
            env=runner_env(),
            cwd=ROOT,
            check=False,
            timeout=120,
        )

    killed = run("put-state@after", 1)
    outcome = Outcome(killed.returncode, killed.stdout, killed.stderr, [])
    assert outcome.landed, outcome.describe()
    assert outcome.report["key"] == STATE_KEY
    assert (origin / STATE_KEY).exists() and not (origin / "index.html").exists()

    finished = run("put-state", 2)  # a publish writes the state once: never reached
    outcome = Outcome(finished.returncode, finished.stdout, finished.stderr, [])
    assert finished.returncode == NOT_REACHED, outcome.describe()
    assert outcome.report["reached"] is False and outcome.report["exit"] == 0
    assert outcome.report["counts"]["put-state"] == 1
    assert (origin / "index.html").exists()
