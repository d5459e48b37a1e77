"""Faults between assetpub and S3, injected by tests/fault_proxy.py in front of the moto server:
errors, resets, delays, hangs and answers lost after the server applied the request, at each
phase of publish, rollback and gc, through the command line in-process.

Whatever the fault, the command either succeeds (retries, or a retry that finds its own earlier
write) or fails with one line; the live site stays whole, every retained record loads, and the
same command run again without faults converges.
"""

from __future__ import annotations

import json
import posixpath
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import botocore.loaders
import botocore.retries.standard
import botocore.session
import pytest
from checks import assert_retained_releases_whole
from fault_proxy import FaultProxy, Rule
from fixture_types import MakeBucket, MakeBuild
from history_support import live_files, site
from test_cli import one_line_error, run

from assetpub.commands.publish import publish
from assetpub.commands.verify import verify_origin
from assetpub.history.record import load_record
from assetpub.history.store import StateStore
from assetpub.origins import Origin, OriginSpec, open_origin
from assetpub.settings import PublishSettings

_LOADER = botocore.loaders.create_loader()
_REFERENCE = re.compile(r"""(?:href|src)=["']?([^"'\s>]+)|url\(["']?([^"')]+)""")


@dataclass
class Target:
    """One bucket prefix, reached by the CLI through the proxy and by the checks directly."""

    proxy: FaultProxy
    config: Path
    direct: Origin
    builds: dict[int, Path]
    ids: dict[int, str]  # version -> release id, for what the setup published

    def cli(self, *args: str) -> tuple[int, str, str]:
        return run("--config", str(self.config), *args)

    def publish_directly(self, version: int) -> None:
        result = publish(PublishSettings(self.builds[version], ()), origins=[self.direct])
        self.ids[version] = result.release.id


@pytest.fixture
def target(
    fault_proxy: FaultProxy,
    make_bucket: MakeBucket,
    make_build: MakeBuild,
    s3_endpoint: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Target]:
    # botocore's retries run as they are; only their sleeping is cut short (standard mode
    # sleeps up to 2**attempt s between attempts).
    monkeypatch.setattr(
        botocore.retries.standard.ExponentialBackoff, "delay_amount", lambda self, ctx: 0.01
    )
    # Every command opens a client, which reads botocore's S3 model files: read them once.
    real_session = botocore.session.get_session

    def get_session(env_vars: object = None) -> botocore.session.Session:
        session = real_session(env_vars)
        session.register_component("data_loader", _LOADER)
        return session

    monkeypatch.setattr(botocore.session, "get_session", get_session)
    bucket = make_bucket()
    config = tmp_path / "assetpub.toml"
    config.write_text(
        f'origins = [{{ url = "s3://{bucket}/site", endpoint_url = "{fault_proxy.url}", '
        "max_attempts = 3, read_timeout = 2 }]\n"
    )
    direct = open_origin(OriginSpec(f"s3://{bucket}/site", endpoint_url=s3_endpoint))
    yield Target(fault_proxy, config, direct, {v: make_build(site(v)) for v in (1, 2)}, {})


def assert_live_site_whole(origin: Origin) -> None:
    """Every object the live index.html references exists, and so does every object its
    stylesheets reference: what a visitor's browser fetches next."""
    page = origin.get("index.html")
    assert page is not None, "no live index.html"
    present = {o.key for o in origin.list()}
    pending = [("index.html", page)]
    while pending:
        key, text = pending.pop()
        for match in _REFERENCE.finditer(text.decode()):
            ref = match.group(1) or match.group(2)
            target = posixpath.normpath(posixpath.join(posixpath.dirname(key), ref))
            assert target in present, f"{key} references {ref}, which is missing"
            if target.endswith(".css"):
                pending.append((target, origin.get(target) or b""))


def assert_history_whole(origin: Origin) -> None:
    assert_retained_releases_whole(origin)  # every retained record loads, owns what it lists
    state, _ = StateStore(origin).load()
    for entry in state.releases:
        load_record(origin, entry.id)


# What each command's setup publishes before the faulted run, and the run itself.
SETUP = {"publish": (1,), "rollback": (1, 2), "gc": (1, 2)}


def command(name: str, t: Target) -> list[str]:
    if name == "publish":
        return ["publish", str(t.builds[2])]
    if name == "rollback":
        return ["rollback", t.ids[1]]
    return ["gc", "--keep", "1", "--grace", "0"]


def assert_done(name: str, t: Target) -> None:
    """What the command is for happened."""
    state, _ = StateStore(t.direct).load()
    if name == "publish":
        assert state.live not in (None, t.ids[1]) and b">v2" in live_files(t.direct)["index.html"]
    elif name == "rollback":
        assert state.live == t.ids[1]
    else:
        assert state.release_ids == {t.ids[2]} and state.gc_lease is None
    health = verify_origin(t.direct)
    assert health.healthy, health.problems


ONCE, ALWAYS = 1, None
OK, FAILS = "ok", "fails"
# Fails after the state committed the release: the line says so, and that a re-run converges.
AFTER_COMMIT = "fails after the commit"
# (fault, request kind, nth occurrence, times, command, outcome). The lead's table in
# docs/reliability.md comes from this one.
CASES = [
    ("500", "asset_put", 1, ONCE, "publish", OK),
    ("503", "asset_put", 1, ALWAYS, "publish", FAILS),
    ("slowdown", "asset_put", 1, ONCE, "publish", OK),
    ("reset_request", "asset_put", 1, ONCE, "publish", OK),
    ("reset_response", "asset_put", 1, ONCE, "publish", OK),
    ("delay", "asset_put", 1, ONCE, "publish", OK),
    ("drop_after_apply", "asset_put", 1, ONCE, "publish", OK),
    ("500", "record_put", 1, ALWAYS, "publish", FAILS),
    ("drop_after_apply", "record_put", 1, ONCE, "publish", OK),
    ("reset_response", "record_put", 1, ONCE, "publish", OK),
    ("500", "state_cas", 1, ONCE, "publish", OK),
    ("503", "state_cas", 1, ALWAYS, "publish", FAILS),
    ("drop_after_apply", "state_cas", 1, ONCE, "publish", OK),
    ("reset_response", "state_cas", 1, ONCE, "publish", OK),
    ("503", "manifest_put", 1, ALWAYS, "publish", AFTER_COMMIT),
    ("500", "index_put", 1, ALWAYS, "publish", AFTER_COMMIT),
    ("reset_request", "index_put", 1, ALWAYS, "publish", AFTER_COMMIT),
    ("drop_after_apply", "index_put", 1, ONCE, "publish", OK),
    ("500", "copy", 1, ONCE, "rollback", OK),
    ("503", "copy", 1, ALWAYS, "rollback", AFTER_COMMIT),
    ("drop_after_apply", "copy", 1, ONCE, "rollback", OK),
    ("reset_response", "copy", 1, ONCE, "rollback", OK),
    ("500", "state_cas", 1, ONCE, "rollback", OK),
    ("503", "state_cas", 1, ALWAYS, "rollback", FAILS),
    ("drop_after_apply", "state_cas", 1, ONCE, "rollback", OK),
    ("500", "index_put", 1, ALWAYS, "rollback", AFTER_COMMIT),
    ("drop_after_apply", "index_put", 1, ONCE, "rollback", OK),
    ("500", "delete", 1, ONCE, "gc", OK),
    ("503", "delete", 1, ALWAYS, "gc", FAILS),
    ("drop_after_apply", "delete", 1, ONCE, "gc", OK),
    ("reset_request", "delete", 1, ONCE, "gc", OK),
    ("drop_after_apply", "state_cas", 1, ONCE, "gc", OK),  # taking the lease
    ("drop_after_apply", "state_cas", 2, ONCE, "gc", OK),  # renewing it
    ("503", "state_cas", 1, ALWAYS, "gc", FAILS),
    ("500", "state_cas", 2, ALWAYS, "gc", FAILS),  # renewal and release fail: a lease is left
]


@pytest.mark.parametrize(
    ("fault", "kind", "nth", "times", "name", "outcome"),
    CASES,
    ids=[f"{c[4]}-{c[1]}-{c[0]}-{c[2]}-{'once' if c[3] else 'always'}" for c in CASES],
)
def test_a_fault_fails_cleanly_or_is_survived_and_a_rerun_converges(
    target: Target, fault: str, kind: str, nth: int, times: int | None, name: str, outcome: str
) -> None:
    for version in SETUP[name]:
        target.publish_directly(version)
    args = command(name, target)
    with target.proxy.faults(Rule(kind, fault, nth=nth, times=times)):
        code, out, err = target.cli(*args)
    assert target.proxy.applied(fault), f"the rule never matched a {kind} request"
    if outcome == OK:
        assert code == 0, err
        assert "Traceback" not in err
        assert_done(name, target)
    else:
        one_line_error(code, out, err, "")
        committed = "is committed, but not all its files switched" in err
        assert committed == (outcome == AFTER_COMMIT), err
        assert not committed or "again" in err
    assert_live_site_whole(target.direct)
    assert_history_whole(target.direct)

    if outcome != OK:
        if name == "gc":
            # A GC that could not release its lease left it held by this (living) process;
            # in real life its process exits and the lease is stale at once on this host.
            code, _, err = target.cli("gc", "--break-lease")
            assert code == 0, err
        code, _, err = target.cli(*args)
        assert code == 0, err
        assert_done(name, target)
        assert_live_site_whole(target.direct)
        assert_history_whole(target.direct)


def test_a_lost_answer_to_the_record_put_is_not_a_failed_publish(target: Target) -> None:
    target.publish_directly(1)
    with target.proxy.faults(Rule("record_put", "drop_after_apply")):
        code, out, err = target.cli("publish", str(target.builds[2]), "--json")
    assert code == 0, err
    # The retry found the record already there, read it back and compared its bytes.
    kinds = [k for k, _ in target.proxy.log]
    assert kinds.count("record_put") == 2
    release = json.loads(out)["release"]
    assert load_record(target.direct, release).id == release


def test_a_record_already_there_with_other_bytes_is_still_refused(target: Target) -> None:
    from assetpub.commands.apply import write_upload
    from assetpub.commands.plan import Upload
    from assetpub.errors import AlreadyExistsError
    from assetpub.origins import ObjectHeaders

    headers = ObjectHeaders("application/json", "private", "0" * 64)
    write_upload(target.direct, Upload("_assetpub/releases/x.json", headers, "r", 1, data=b"1"))
    again = Upload("_assetpub/releases/x.json", headers, "r", 1, data=b"1", create_only=True)
    write_upload(target.direct, again)  # the same bytes: our own write
    with pytest.raises(AlreadyExistsError):
        write_upload(target.direct, Upload(again.key, headers, "r", 1, data=b"2", create_only=True))
    assert target.direct.get(again.key) == b"1"


def test_a_lost_answer_to_the_state_cas_commits_once(target: Target) -> None:
    target.publish_directly(1)
    with target.proxy.faults(Rule("state_cas", "drop_after_apply")):
        code, out, err = target.cli("publish", str(target.builds[2]), "--json")
    assert code == 0, err
    state, _ = StateStore(target.direct).load()
    release = json.loads(out)["release"]
    # One activation: the 412 on the retry was recognised as our own write, not re-applied.
    assert [a.release for a in state.log] == [target.ids[1], release]
    assert state.live == release


def test_a_lost_answer_to_the_gc_lease_is_our_lease(target: Target) -> None:
    for version in (1, 2):
        target.publish_directly(version)
    with target.proxy.faults(Rule("state_cas", "drop_after_apply")):
        code, out, err = target.cli("gc", "--keep", "1", "--grace", "0", "--json")
    assert code == 0, err
    assert json.loads(out)["origins"][0]["collected_releases"] == [target.ids[1]]
    assert StateStore(target.direct).load()[0].gc_lease is None


def test_a_toggled_rollback_does_not_trust_an_etag_kept_across_a_copy(target: Target) -> None:
    """s3rver keeps a key's old ETag when CopyObject replaces its bytes: the copy's answer
    reports v2's MD5 over v1's bytes. The rollback sees that and writes the bytes themselves,
    so the listing tells the truth again (v1's MD5), and rolling forward to v2 restores v2."""
    target.publish_directly(1)
    target.publish_directly(2)
    v2 = live_files(target.direct)
    target.proxy.stale_copy_etags = True
    code, _, err = target.cli("rollback", target.ids[1])
    assert code == 0, err
    assert "copy" in [k for k, _ in target.proxy.log]
    listed = {o.key: o for o in open_origin(_via(target)).list()}
    assert listed["chunk.js"].etag == _md5(target.direct.get("chunk.js") or b"")
    assert listed["chunk.js"].etag != _md5(v2["chunk.js"])
    code, _, err = target.cli("rollback", target.ids[2])
    assert code == 0, err
    assert live_files(target.direct) == v2
    assert verify_origin(target.direct).healthy


def test_a_server_that_never_answers_fails_in_bounded_time(target: Target) -> None:
    target.publish_directly(1)
    target.config.write_text(
        target.config.read_text().replace("read_timeout = 2", "read_timeout = 0.5")
    )
    started = time.monotonic()
    with target.proxy.faults(Rule("list", "hang", times=ALWAYS, seconds=30)):
        code, out, err = target.cli("publish", str(target.builds[2]))
    elapsed = time.monotonic() - started
    one_line_error(code, out, err, "did not answer within 0.5 s (3 attempts)")
    assert target.proxy.applied("hang").count("list") == 3  # every attempt hung
    assert elapsed < 10
    assert StateStore(target.direct).load()[0].live == target.ids[1]


def _via(t: Target) -> OriginSpec:
    """The proxied origin's spec, as the config file names it."""
    bucket = t.direct.url.removeprefix("s3://").split("/")[0]
    return OriginSpec(f"s3://{bucket}/site", endpoint_url=t.proxy.url)


def _md5(data: bytes) -> str:
    import hashlib

    return hashlib.md5(data).hexdigest()


def test_a_lost_answer_to_a_state_swap_is_recognised_by_its_write_token(target: Target) -> None:
    """A transition that is not idempotent (a counter) applied once, though the client sent
    the swap twice and the second got 412 from the first."""
    store = StateStore(open_origin(_via(target)))
    store.update(lambda s: replace(s, extra={**s.extra, "count": 0}))
    with target.proxy.faults(Rule("state_cas", "drop_after_apply")):
        store.update(lambda s: replace(s, extra={**s.extra, "count": s.extra["count"] + 1}))
    assert target.proxy.applied("drop_after_apply") == ["state_cas"]
    assert [k for k, _ in target.proxy.log].count("state_cas") == 2  # sent, lost, sent again
    assert StateStore(target.direct).load()[0].extra["count"] == 1
