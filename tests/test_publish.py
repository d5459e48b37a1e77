"""publish() end to end against every kind of origin: memory, folder and S3 over HTTP."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest
from backends import Backend
from checks import snapshot
from fixture_types import MakeBucket, MakeBuild, MakeOrigin, S3Client

from assetpub.commands.publish import publish
from assetpub.errors import ConflictError, OriginError, PartialSwitchError
from assetpub.history.record import ReleaseRecord
from assetpub.origins import OriginSpec, open_origin
from assetpub.origins.base import ObjectHeaders
from assetpub.origins.dryrun import DryRunOrigin
from assetpub.origins.memory import MemoryOrigin
from assetpub.settings import PublishSettings

if TYPE_CHECKING:
    from assetpub.origins.s3 import S3Origin

SITE: dict[str, str | bytes] = {
    "index.html": "<!doctype html><link rel=stylesheet href=css/site.css>"
    "<script defer src=main.0123456789abcdef.js></script><img src=img/logo.png>",
    "about/index.html": '<link rel="stylesheet" href="../css/site.css">',
    "css/site.css": "body{background:url(../img/bg.png)}",
    "img/bg.png": b"\x89PNG bg",
    "img/logo.png": b"\x89PNG logo",
    "main.0123456789abcdef.js": "import('./480.js')",
    "480.js": "export default 1",
    "robots.txt": "User-agent: *",
}


def settings(build: Path, **overrides: Any) -> PublishSettings:
    return PublishSettings(build_dir=build, origins=(), **overrides)


def test_publish_puts_a_consistent_site_live(
    make_build: MakeBuild, make_origin: MakeOrigin
) -> None:
    origin = make_origin()
    result = publish(settings(make_build(SITE), message="first"), origins=[origin])
    objects = snapshot(origin)
    manifest = json.loads(objects["asset-manifest.json"])
    assert manifest["release"] == result.release.id
    assert set(manifest["files"]) == set(SITE) | {"asset-manifest.json"}
    # Every published path exists, and every reference in the live HTML resolves.
    for published in manifest["files"].values():
        assert published in objects
    css_key = manifest["files"]["css/site.css"]
    assert css_key.startswith("css/site.") and css_key != "css/site.css"
    assert f"href={css_key}>".encode() in objects["index.html"]
    assert f'href="../{css_key}"'.encode() in objects["about/index.html"]
    assert manifest["files"]["480.js"] == "480.js"  # named in JS: never renamed
    assert manifest["files"]["main.0123456789abcdef.js"] == "main.0123456789abcdef.js"

    record = ReleaseRecord.from_json(objects[f"_assetpub/releases/{result.release.id}.json"])
    assert record.message == "first"
    assert record.files["css/site.css"].key == css_key
    assert record.entry_content["index.html"] == objects["index.html"]
    assert record.asset_manifest == objects["asset-manifest.json"]
    assert result.uploaded == len(SITE) and result.skipped == 0


def test_unchanged_publish_writes_nothing(make_build: MakeBuild, make_origin: MakeOrigin) -> None:
    """The live release is exactly this build and the origin provably serves it: no new
    release, no write (hugo deploy and aws s3 sync write nothing either)."""
    origin = make_origin()
    build = make_build(SITE)
    first = publish(settings(build), origins=[origin])
    before, requests = snapshot(origin), dict(origin.stats.by_operation)
    second = publish(settings(build), origins=[origin])
    assert second.unchanged and second.release.id == first.release.id
    assert second.uploaded == 0 and second.skipped == len(SITE)
    ops = {k: v - requests.get(k, 0) for k, v in origin.stats.by_operation.items()}
    assert not {"put", "copy", "delete"} & {k for k, v in ops.items() if v}
    assert snapshot(origin) == before
    if not origin.url.startswith("file://"):
        # S3 and memory decide "already there" from one LIST: no request per file.
        assert ops.get("head", 0) == 0 and ops["list"] <= 2


def test_a_live_manifest_in_an_older_layout_is_still_this_build(
    make_build: MakeBuild, make_origin: MakeOrigin
) -> None:
    """The unchanged check compares the live record's manifest by its digests with the one its
    files make; another writer's layout of it is read whole instead, and the origin's
    asset-manifest.json must hold that one."""
    origin = make_origin()
    build = make_build(SITE)
    first = publish(settings(build), origins=[origin])
    key = f"_assetpub/releases/{first.release.id}.json"
    record = ReleaseRecord.from_json(origin.get(key) or b"")
    older = json.dumps(json.loads(record.asset_manifest)).encode()  # one line: no indent
    json_headers = ObjectHeaders("application/json", "no-cache", "0" * 64)
    origin.put_bytes(key, replace(record, stated_manifest=older).to_json(), json_headers)
    origin.put_bytes("asset-manifest.json", older, json_headers)
    second = publish(settings(build), origins=[origin])
    assert second.unchanged and second.release.id == first.release.id
    assert second.release.asset_manifest == older
    # The origin serving the manifest this build's files make is not serving that record.
    origin.put_bytes("asset-manifest.json", record.asset_manifest, json_headers)
    assert not publish(settings(build), origins=[origin]).unchanged


def test_a_live_page_changed_behind_our_back_is_republished(
    make_build: MakeBuild, make_origin: MakeOrigin
) -> None:
    origin = make_origin()
    build = make_build(SITE)
    publish(settings(build), origins=[origin])
    served = origin.get("index.html")
    assert served is not None
    origin.put_bytes("index.html", b"defaced", ObjectHeaders("text/html", "no-cache", "0" * 64))
    again = publish(settings(build), origins=[origin])
    assert not again.unchanged and origin.get("index.html") == served


def test_a_changed_entry_file_uploads_only_the_switch(
    make_build: MakeBuild, make_origin: MakeOrigin
) -> None:
    origin = make_origin()
    publish(settings(make_build(SITE)), origins=[origin])
    requests = dict(origin.stats.by_operation)
    second = publish(
        settings(make_build({**SITE, "robots.txt": "User-agent: *\nDisallow: /x\n"})),
        origins=[origin],
    )
    entries = {"index.html", "about/index.html", "robots.txt"}
    assert not second.unchanged
    assert second.uploaded == len(entries)
    assert second.skipped == len(SITE) - len(entries)
    ops = {k: v - requests.get(k, 0) for k, v in origin.stats.by_operation.items()}
    # The release record, the state, the manifest, and the entry files: nothing else.
    assert ops["put"] == 1 + 1 + 1 + len(entries)
    if not origin.url.startswith("file://"):
        assert ops.get("head", 0) == 0
        assert ops["list"] <= 2


def test_old_release_assets_stay_for_open_pages(
    make_build: MakeBuild, make_origin: MakeOrigin
) -> None:
    origin = make_origin()
    first = publish(settings(make_build(SITE)), origins=[origin])
    changed = {**SITE, "css/site.css": "body{color:red;background:url(../img/bg.png)}"}
    second = publish(settings(make_build(changed)), origins=[origin])
    old_css = first.build.file_map["css/site.css"]
    new_css = second.build.file_map["css/site.css"]
    assert old_css != new_css
    objects = snapshot(origin)
    assert old_css in objects and new_css in objects
    assert new_css.encode() in objects["index.html"]


def test_immutable_name_with_other_bytes_stops_before_any_write(
    make_build: MakeBuild, make_origin: MakeOrigin
) -> None:
    origin = make_origin()
    headers = ObjectHeaders("text/javascript", "no-cache", "0" * 64)
    origin.put_bytes("main.0123456789abcdef.js", b"someone else's bytes", headers)
    before = snapshot(origin)
    with pytest.raises(ConflictError, match=r"main\.0123456789abcdef\.js holds different bytes"):
        publish(settings(make_build(SITE)), origins=[origin])
    assert snapshot(origin) == before


def test_dry_run_leaves_the_origin_byte_for_byte_unchanged(
    make_build: MakeBuild, backend: Backend
) -> None:
    origin = backend.open()
    publish(settings(make_build(SITE)), origins=[origin])
    before = snapshot(origin)
    changed = {**SITE, "img/bg.png": b"new bg"}
    dry = backend.open(dry_run=True)
    assert isinstance(dry, DryRunOrigin)
    result = publish(settings(make_build(changed), dry_run=True), origins=[dry])
    assert snapshot(origin) == before
    written = [key for _, key in dry.writes]
    assert result.build.file_map["img/bg.png"] in written and written[-1] == "index.html"
    assert "_assetpub/state.json" in written  # committed, in the overlay, before the switch
    assert written.index("_assetpub/state.json") < written.index("asset-manifest.json")


class RecordingOrigin(MemoryOrigin):
    """A memory origin that also logs every write, in order, into a shared list."""

    def __init__(self, name: str, log: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(name, **kwargs)
        self.log = log

    def put_bytes(
        self,
        key: str,
        data: bytes,
        headers: ObjectHeaders,
        *,
        if_absent: bool = False,
        if_match: str | None = None,
    ) -> None:
        super().put_bytes(key, data, headers, if_absent=if_absent, if_match=if_match)
        self.log.append((self.url, key))


def test_switch_order_across_origins(make_build: MakeBuild) -> None:
    log: list[tuple[str, str]] = []
    a, b = RecordingOrigin("a", log), RecordingOrigin("b", log)
    result = publish(settings(make_build(SITE)), origins=[a, b])
    keys = [key for _, key in log]
    immutable = {f.key for f in result.build.files if f.is_immutable}
    last_asset = max(i for i, key in enumerate(keys) if key in immutable)
    first_switch = min(i for i, key in enumerate(keys) if key == "asset-manifest.json")
    assert last_asset < first_switch  # every asset on every origin before any switch
    for url in (a.url, b.url):
        own = [key for u, key in log if u == url]
        assert own[0].startswith("_assetpub/releases/")  # the intent comes first
        assert own[-1] == "index.html"
        assert own.index("asset-manifest.json") < own.index("about/index.html")
        assert own.index("480.js") < own.index("asset-manifest.json")


@pytest.mark.parametrize(
    "failing_key",
    ["img/logo.", "_assetpub/blobs/", "480.js", "asset-manifest.json", "about/index.html"],
)
def test_failure_at_each_phase_never_switches_index(
    make_build: MakeBuild, failing_key: str
) -> None:
    origin = MemoryOrigin("f", fail=lambda op, key: op == "put" and key.startswith(failing_key))
    with pytest.raises(OriginError, match="injected failure"):
        publish(settings(make_build(SITE)), origins=[origin])
    assert "index.html" not in origin.objects


def test_failed_upload_on_one_origin_switches_none(make_build: MakeBuild) -> None:
    good = MemoryOrigin("good")
    bad = MemoryOrigin("bad", fail=lambda op, key: key.startswith("img/bg."))
    with pytest.raises(OriginError):
        publish(settings(make_build(SITE)), origins=[good, bad])
    assert "index.html" not in good.objects and "asset-manifest.json" not in good.objects


def test_switch_failure_on_second_origin_says_who_is_live(make_build: MakeBuild) -> None:
    good = MemoryOrigin("good")
    bad = MemoryOrigin("bad", fail=lambda op, key: key == "asset-manifest.json")
    with pytest.raises(PartialSwitchError) as info:
        publish(settings(make_build(SITE)), origins=[good, bad])
    assert "live on" in info.value.message and "memory://good" in info.value.message
    assert "not switched: memory://bad" in info.value.message
    assert "index.html" in good.objects and "index.html" not in bad.objects
    # Running it again converges.
    bad.fail = None
    publish(settings(make_build(SITE)), origins=[good, bad])
    assert good.objects["index.html"] == bad.objects["index.html"]


def test_s3_headers_and_digest_metadata(
    make_build: MakeBuild, s3_endpoint: str, make_bucket: MakeBucket, s3_client: S3Client
) -> None:
    bucket = make_bucket()
    origin = open_origin(OriginSpec(url=f"s3://{bucket}/site", endpoint_url=s3_endpoint))
    result = publish(settings(make_build(SITE)), origins=[origin])
    by_source = {f.source: f for f in result.build.files}

    def head(key: str) -> dict[str, Any]:
        # boto3 is untyped: its response is Any.
        return s3_client.head_object(Bucket=bucket, Key=f"site/{key}")  # type: ignore[no-any-return]

    css = head(by_source["css/site.css"].key)
    assert css["CacheControl"] == "public, max-age=31536000, immutable"
    assert css["ContentType"] == "text/css; charset=utf-8"
    assert css["Metadata"]["assetpub-sha256"] == by_source["css/site.css"].digests.sha256
    index = head("index.html")
    assert index["CacheControl"] == "no-cache"
    assert index["ContentType"] == "text/html; charset=utf-8"
    chunk = head("480.js")
    assert "immutable" not in chunk["CacheControl"]
    assert head("asset-manifest.json")["ContentType"].startswith("application/json")
    # Nothing outside the prefix.
    keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert all(k.startswith("site/") for k in keys)


def test_s3_error_mid_upload_switches_nothing(
    make_build: MakeBuild, s3_endpoint: str, make_bucket: MakeBucket
) -> None:
    from botocore.awsrequest import AWSRequest, AWSResponse, HTTPHeaders

    bucket = make_bucket()
    origin = open_origin(OriginSpec(url=f"s3://{bucket}/site", endpoint_url=s3_endpoint))
    publish(settings(make_build(SITE)), origins=[origin])
    before = snapshot(origin)
    body = b"<Error><Code>AccessDenied</Code><Message>denied</Message></Error>"

    class Body:
        def stream(self, **_: object) -> list[bytes]:
            return [body]

    def deny_images(request: AWSRequest, **_: object) -> AWSResponse | None:
        if "/img/" in request.url and request.method == "PUT":
            return AWSResponse(request.url, 403, HTTPHeaders(), Body())
        return None

    cast("S3Origin", origin)._client.meta.events.register("before-send.s3.PutObject", deny_images)
    changed = {**SITE, "img/bg.png": b"new bg", "index.html": str(SITE["index.html"]) + "v2"}
    with pytest.raises(OriginError, match="access denied"):
        publish(settings(make_build(changed)), origins=[origin])
    after = snapshot(origin)
    # Only the new release's record and assets that went up before the failure were added:
    # nothing live changed and the state still names the first release.
    for key in (
        "index.html",
        "about/index.html",
        "asset-manifest.json",
        "480.js",
        "_assetpub/state.json",
    ):
        assert after[key] == before[key]
    assert set(before) <= set(after)


def test_after_a_rollback_the_same_build_is_no_new_release(
    make_build: MakeBuild, make_origin: MakeOrigin
) -> None:
    """Rolled back to v1, publishing v1 again records nothing: v1 is live, GC keeps the live
    release whatever its age, and a new release per rerun would push real ones out of `keep`."""
    from assetpub.commands.rollback import rollback
    from assetpub.history.store import StateStore

    origin = make_origin()
    v1_build = make_build(SITE)
    v1 = publish(settings(v1_build), origins=[origin])
    v2 = publish(settings(make_build({**SITE, "robots.txt": "User-agent: x"})), origins=[origin])
    rollback([origin])
    before = snapshot(origin)
    again = publish(settings(v1_build), origins=[origin])
    assert again.unchanged and again.release.id == v1.release.id and again.uploaded == 0
    assert snapshot(origin) == before
    state, _ = StateStore(origin).load()
    assert state.live == v1.release.id and state.release_ids == {v1.release.id, v2.release.id}


def test_allow_empty_records_an_identical_build_as_a_new_release(
    make_build: MakeBuild, make_origin: MakeOrigin
) -> None:
    """--allow-empty: a new release, the newest and live, uploading only the switch (the
    asset manifest and entry files); every other object is already there."""
    from assetpub.history.store import StateStore

    origin = make_origin()
    build = make_build(SITE)
    first = publish(settings(build), origins=[origin])
    again = publish(settings(build, allow_empty=True), origins=[origin])
    assert not again.unchanged and again.release.id != first.release.id
    assert again.uploaded == 3  # the entry files: index.html, about/index.html, robots.txt
    state, _ = StateStore(origin).load()
    assert state.live == again.release.id and state.newest_first()[0].id == again.release.id
    assert json.loads(origin.get("asset-manifest.json") or b"")["release"] == again.release.id
    assert publish(settings(build), origins=[origin]).release.id == again.release.id


def test_an_object_collected_between_the_listing_and_its_head_is_uploaded_again(
    make_build: MakeBuild, tmp_path: Path
) -> None:
    """A GC may delete an object the listing showed before the publish asks for its digest
    (a folder origin lists no ETag, so every listed file is asked): the object is missing
    then, and uploaded, not an immutable name holding other bytes."""
    from assetpub.origins.folder import FolderOrigin

    files: dict[str, str | bytes] = {
        "index.html": '<link rel="stylesheet" href="site.css">',
        "site.css": "body{background:url(logo.png)}",
        "logo.png": b"\x89PNG logo",
    }
    origin = FolderOrigin(tmp_path / "www")
    first = publish(PublishSettings(make_build(files), ()), origins=[origin])
    logo = next(f.key for f in first.build.files if f.source == "logo.png")

    class CollectedMeanwhile(FolderOrigin):
        def head(self, key: str) -> Any:
            if key == logo:
                self.delete([key])  # what a concurrent GC did since the listing
            return super().head(key)

    racing = CollectedMeanwhile(tmp_path / "www")
    second = publish(PublishSettings(make_build({**files, "extra.txt": "x"}), ()), origins=[racing])
    assert logo in {u.key for u in second.origins[0].plan.assets}  # type: ignore[union-attr]
    assert (tmp_path / "www" / logo).read_bytes() == b"\x89PNG logo"
