"""verify: is the live release whole? Over memory, folder and S3 (moto over HTTP)."""

from __future__ import annotations

from history_support import Published

from assetpub.commands.verify import verify_origin
from assetpub.history.record import load_record
from assetpub.origins.base import ObjectHeaders


def test_verify_finds_missing_changed_and_tampered_objects(published: Published) -> None:
    origin, results, _ = published
    assert verify_origin(origin).healthy and verify_origin(origin, deep=True).healthy
    record = load_record(origin, results[2].release.id)
    css = record.files["css/site.css"]
    headers = ObjectHeaders(css.content_type, css.cache_control, css.sha256)
    # Same size, other bytes: only a deep verify reads it.
    origin.put_bytes(css.key, b"x" * css.size, headers)
    assert verify_origin(origin).healthy
    deep = verify_origin(origin, deep=True)
    assert [p.key for p in deep.problems] == [css.key]
    origin.put_bytes("index.html", b"<p>hacked", headers)
    logo = record.files["img/logo.png"].key
    origin.delete([logo])
    problems = {p.key: p.message for p in verify_origin(origin).problems}
    assert problems.keys() == {"index.html", logo}
    assert "missing" in problems[logo]
