"""CDN invalidation after publish, rollback and the rollback after a failed health check,
through the command line against moto's in-process CloudFront (folder origins: the CDN is
the only AWS service here)."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from fixture_types import MakeBuild
from history_support import site
from moto import mock_aws
from test_cli import run, tree

from assetpub.cdn import CdnTarget, parse_cdn_target
from assetpub.commands.invalidate import Invalidation, caller_reference
from assetpub.commands.publish import publish as publish_core
from assetpub.history.state import Activation
from assetpub.origins import OriginSpec, open_origin
from assetpub.settings import InvalidateSettings, PublishSettings

# What v1 -> v2 of history_support.site changes: both pages (and / for the root page), the
# plain chunk and the asset manifest; the logo, the stylesheet and the images are hashed.
V1_TO_V2 = ["/", "/about.html", "/asset-manifest.json", "/chunk.js", "/index.html"]


@pytest.fixture
def cloudfront() -> Iterator[tuple[Any, str]]:
    """moto's CloudFront with one distribution: (client, distribution id)."""
    with mock_aws():
        client = boto3.client("cloudfront", region_name="us-east-1")
        origin = {
            "Id": "site",
            "DomainName": "site.s3.amazonaws.com",
            "S3OriginConfig": {"OriginAccessIdentity": ""},
        }
        created = client.create_distribution(
            DistributionConfig={
                "CallerReference": "test",
                "Origins": {"Quantity": 1, "Items": [origin]},
                "DefaultCacheBehavior": {
                    "TargetOriginId": "site",
                    "ViewerProtocolPolicy": "allow-all",
                    "MinTTL": 0,
                    "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                    "TrustedSigners": {"Enabled": False, "Quantity": 0},
                },
                "Comment": "",
                "Enabled": True,
            }
        )
        yield client, created["Distribution"]["Id"]


def invalidations(client: Any, distribution: str) -> list[dict[str, Any]]:
    """Each invalidation's batch (paths, caller reference), oldest first."""
    listed = client.list_invalidations(DistributionId=distribution)["InvalidationList"]
    batches = [
        client.get_invalidation(DistributionId=distribution, Id=item["Id"])["Invalidation"]
        for item in listed.get("Items", [])
    ]
    return [b["InvalidationBatch"] for b in sorted(batches, key=lambda b: b["CreateTime"])]


def publish(build: Path, origin: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    code, out, err = run("publish", str(build), "--origin", str(origin), "--json", *args)
    return code, json.loads(out) if out else {}, err


def test_publish_and_rollback_invalidate_the_changed_mutable_paths(
    cloudfront: tuple[Any, str], make_build: MakeBuild, tmp_path: Path
) -> None:
    client, distribution = cloudfront
    target = f"cloudfront:{distribution}"
    origin = tmp_path / "www"
    code, first, err = publish(make_build(site(1)), origin, "--invalidate", target)
    assert code == 0, err
    # Nothing was live: every mutable name may be cached (an error, or another site's bytes).
    assert first["invalidations"][0]["paths"] == [
        "/",
        "/about.html",
        "/asset-manifest.json",
        "/chunk.js",
        "/index.html",
    ]
    code, second, err = publish(make_build(site(2)), origin, "--invalidate", target)
    assert code == 0 and "invalidat" not in err
    sent = second["invalidations"][0]
    assert sent["paths"] == V1_TO_V2 and sent["error"] is None and sent["id"]
    assert sent["caller_reference"].startswith(f"assetpub-publish-{second['release']}-")
    assert sent["requests"] == 1
    batches = invalidations(client, distribution)
    assert [b["Paths"]["Items"] for b in batches] == [first["invalidations"][0]["paths"], V1_TO_V2]
    assert batches[1]["CallerReference"] == sent["caller_reference"]
    # --json lists every key written, the switched names last, index.html the very last.
    written = second["origins"][0]["written"]
    assert written[0] == f"_assetpub/releases/{second['release']}.json"
    assert written[-1] == "index.html" and "asset-manifest.json" in written
    assert "_assetpub/state.json" in written and "chunk.js" in written

    code, out, err = run("rollback", "--origin", str(origin), "--invalidate", target, "--json")
    assert code == 0, err
    rolled = json.loads(out)
    assert rolled["release"] == first["release"]
    assert rolled["invalidations"][0]["paths"] == V1_TO_V2
    assert rolled["invalidations"][0]["caller_reference"].startswith(
        f"assetpub-rollback-{first['release']}-"
    )
    assert rolled["origins"][0]["written"][-1] == "index.html"
    assert "chunk.js" in rolled["origins"][0]["written"]
    assert len(invalidations(client, distribution)) == 3

    # Text output: one line per CDN.
    code, out, err = run(
        "rollback", second["release"], "--origin", str(origin), "--invalidate", target
    )
    assert code == 0 and f"{target}: invalidated 5 paths (invalidation " in out


def test_dry_run_invalidates_nothing_and_prints_the_paths(
    cloudfront: tuple[Any, str], make_build: MakeBuild, tmp_path: Path
) -> None:
    client, distribution = cloudfront
    target = f"cloudfront:{distribution}"
    origin = tmp_path / "www"
    assert publish(make_build(site(1)), origin)[0] == 0
    before = tree(origin)
    build = make_build(site(2))
    code, out, err = run(
        "publish", str(build), "--origin", str(origin), "--invalidate", target, "--dry-run"
    )
    assert code == 0, err
    assert f"{target}: would invalidate 5 paths:" in out
    assert all(f"    {path}\n" in out for path in V1_TO_V2)
    code, data, _ = publish(build, origin, "--invalidate", target, "--dry-run")
    assert data["invalidations"][0]["paths"] == V1_TO_V2 and data["invalidations"][0]["dry_run"]
    assert tree(origin) == before
    assert publish(build, origin)[0] == 0
    before = tree(origin)
    code, out, err = run("rollback", "--origin", str(origin), "--invalidate", target, "--dry-run")
    assert code == 0 and f"{target}: would invalidate 5 paths:" in out, err
    assert tree(origin) == before
    assert invalidations(client, distribution) == []


def test_a_failed_invalidation_is_a_warning_with_the_retry_command(
    cloudfront: tuple[Any, str], make_build: MakeBuild, tmp_path: Path
) -> None:
    origin = tmp_path / "www"
    assert publish(make_build(site(1)), origin)[0] == 0
    code, data, err = publish(make_build(site(2)), origin, "--invalidate", "cloudfront:ENOSUCH")
    assert code == 0  # the release is live: the deploy did not fail
    assert (origin / "index.html").read_text().endswith("v2")
    failed = data["invalidations"][0]
    assert failed["id"] is None and "NoSuchDistribution" in failed["error"]
    warning = next(line for line in err.splitlines() if "cloudfront:ENOSUCH" in line)
    assert warning.startswith("warning: invalidating 5 path(s) on cloudfront:ENOSUCH failed")
    assert f"release {data['release']} is live" in warning
    assert warning.endswith(failed["retry"])
    assert failed["retry"].startswith(
        "aws cloudfront create-invalidation --distribution-id ENOSUCH --invalidation-batch '"
    )
    batch = json.loads(failed["retry"].split("--invalidation-batch ", 1)[1].strip("'"))
    assert batch == {
        "Paths": {"Quantity": 5, "Items": V1_TO_V2},
        "CallerReference": failed["caller_reference"],
    }


def test_the_rollback_after_a_failed_check_invalidates_too(
    cloudfront: tuple[Any, str], make_build: MakeBuild, tmp_path: Path
) -> None:
    client, distribution = cloudfront
    target = f"cloudfront:{distribution}"
    origin = tmp_path / "www"
    assert publish(make_build(site(1)), origin)[0] == 0
    code, data, err = publish(
        make_build(site(2)), origin, "--invalidate", target, "--check-cmd", "exit 1"
    )
    assert code == 3, err
    assert (origin / "index.html").read_text().endswith("v1")
    rolled_back = data["check"]["rollback"]
    assert rolled_back["invalidations"][0]["paths"] == V1_TO_V2
    assert rolled_back["origins"][0]["written"][-1] == "index.html"
    references = [b["CallerReference"] for b in invalidations(client, distribution)]
    assert [r.split("-")[1] for r in references] == ["publish", "rollback"]


def test_config_file_and_pretty_urls_off(
    cloudfront: tuple[Any, str],
    make_build: MakeBuild,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, distribution = cloudfront
    monkeypatch.chdir(tmp_path)
    (tmp_path / "assetpub.toml").write_text(
        f'origins = ["www"]\ninvalidate = ["cloudfront:{distribution}"]\npretty_urls = false\n'
    )
    assert run("publish", str(make_build(site(1))))[0] == 0
    code, out, err = run("publish", str(make_build(site(2))), "--json")
    assert code == 0, err
    paths = json.loads(out)["invalidations"][0]["paths"]
    assert paths == [p for p in V1_TO_V2 if p != "/"]
    assert len(invalidations(client, distribution)) == 2
    # A rollback takes the config's CDNs too.
    code, out, _ = run("rollback", "--json")
    assert json.loads(out)["invalidations"][0]["paths"] == paths


def test_an_unchanged_publish_and_an_unchanged_page_invalidate_nothing(
    cloudfront: tuple[Any, str], make_build: MakeBuild, tmp_path: Path
) -> None:
    client, distribution = cloudfront
    target = f"cloudfront:{distribution}"
    origin = tmp_path / "www"
    build = make_build(site(1))
    assert publish(build, origin, "--invalidate", target)[0] == 0
    code, data, _ = publish(build, origin, "--invalidate", target)
    assert code == 0 and data["unchanged"] and data["invalidations"] == []
    assert data["origins"][0]["written"] == []
    # Only the about page changes (and the manifest, which names the release).
    changed = {**site(1), "about.html": "<link rel=stylesheet href=css/site.css>about!"}
    code, data, _ = publish(make_build(changed), origin, "--invalidate", target)
    assert data["invalidations"][0]["paths"] == ["/about.html", "/asset-manifest.json"]
    assert len(invalidations(client, distribution)) == 2


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("E123", "'E123' is not a CDN to invalidate"),
        ("cloudfront:e123", "'e123' is not a CloudFront distribution id"),
    ],
)
def test_a_bad_target_is_refused_before_any_write(
    make_build: MakeBuild, tmp_path: Path, spec: str, message: str
) -> None:
    origin = tmp_path / "www"
    code, _, err = publish(make_build(site(1)), origin, "--invalidate", spec)
    assert code == 2 and message in err and len(err.splitlines()) == 1
    assert tree(origin) == {}
    code, _, err = run("rollback", "--origin", str(origin), "--invalidate", spec)
    assert code == 2 and message in err
    (tmp_path / "bad.toml").write_text('invalidate = ["cloudfront:"]\n')
    code, _, err = run("--config", str(tmp_path / "bad.toml"), "publish", str(tmp_path))
    assert code == 2 and "'invalidate'" in err


def test_watch_takes_the_invalidate_option() -> None:
    code, out, _ = run("watch", "--help")
    assert code == 0 and "--invalidate" in out


def test_caller_reference_is_one_per_switch() -> None:
    first = Activation("rollback", "R1", "R2", "2026-12-01T10:00:00.000Z", "me")
    again = Activation("rollback", "R1", "R3", "2026-12-02T10:00:00.000Z", "me")
    # The same switch (a retry, a rerun that converges): the same reference...
    assert caller_reference(first, "R1", "rollback") == caller_reference(first, "R1", "x")
    assert caller_reference(first, "R1", "rollback") == "assetpub-rollback-R1-20261201T100000000Z"
    # ...and a later switch to the same release a new one, so it is invalidated again.
    assert caller_reference(again, "R1", "rollback") != caller_reference(first, "R1", "rollback")
    assert caller_reference(None, "R1", "publish") == "assetpub-publish-R1"


def test_retry_command_quotes_paths_for_the_shell() -> None:
    paths = ("/it's.html", "/a%20b.html")
    command = Invalidation(CdnTarget("cloudfront", "E1"), paths, "ref", error="x").retry_command
    assert command.startswith("aws cloudfront create-invalidation --distribution-id E1 ")
    words = shlex.split(command)
    assert json.loads(words[-1])["Paths"]["Items"] == list(paths)


def test_paths_leave_out_the_s3_prefix_and_each_distribution_gets_one(
    cloudfront: tuple[Any, str], make_build: MakeBuild
) -> None:
    """An s3:// origin with a prefix (moto's S3, in-process like its CloudFront): the paths
    are relative to the prefix, which the distribution's origin path maps to /."""
    client, first = cloudfront
    second = client.create_distribution(
        DistributionConfig={
            **client.get_distribution_config(Id=first)["DistributionConfig"],
            "CallerReference": "second",
        }
    )["Distribution"]["Id"]
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="site")
    spec = OriginSpec(url="s3://site/www/v")
    targets = (parse_cdn_target(f"cloudfront:{first}"), parse_cdn_target(f"cloudfront:{second}"))
    for version in (1, 2):
        settings = PublishSettings(
            build_dir=make_build(site(version)),
            origins=(spec,),
            invalidate=InvalidateSettings(targets=targets),
        )
        result = publish_core(settings, origins=[open_origin(spec)])
    assert [i.paths for i in result.invalidations] == [tuple(V1_TO_V2)] * 2
    assert [i.target.id for i in result.invalidations] == [first, second]
    for distribution in (first, second):
        assert invalidations(client, distribution)[-1]["Paths"]["Items"] == V1_TO_V2


def test_a_rollback_run_again_invalidates_what_its_switch_changed(
    cloudfront: tuple[Any, str], make_build: MakeBuild, tmp_path: Path
) -> None:
    """Run again (to converge after a failure), a rollback finds its target live already: it
    still invalidates the first run's changes, under that switch's CallerReference."""
    _, distribution = cloudfront
    target = f"cloudfront:{distribution}"
    origin = tmp_path / "www"
    first = publish(make_build(site(1)), origin)[1]["release"]
    assert publish(make_build(site(2)), origin)[0] == 0
    assert run("rollback", "--origin", str(origin))[0] == 0  # its invalidation never sent
    code, out, err = run(
        "rollback", first, "--origin", str(origin), "--invalidate", target, "--json"
    )
    assert code == 0, err
    again = json.loads(out)["invalidations"][0]
    assert again["paths"] == V1_TO_V2 and again["id"]
    assert again["caller_reference"].startswith(f"assetpub-rollback-{first}-")
