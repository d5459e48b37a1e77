"""Every --json output, through the real command line, against its schema in docs/schemas."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from fixture_types import MakeBuild
from test_cli import SITE, run

from assetpub.cli.render import JSON_SCHEMA_VERSIONS, schema_id

SCHEMAS = Path(__file__).parent.parent / "docs" / "schemas"


def strict(schema: Any) -> Any:
    """The schema with every listed object closed: a field the output has and the schema does
    not is docs drift. The published files stay open, as a new field keeps the version."""
    if isinstance(schema, list):
        return [strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    closed = {key: strict(value) for key, value in schema.items()}
    if "properties" in schema:
        closed["additionalProperties"] = False
    return closed


def assert_matches(output: str, text: str) -> Any:
    """TEXT is one JSON value, valid against OUTPUT's schema, naming it in `schema`."""
    data = json.loads(text)
    schema = json.loads((SCHEMAS / f"{output}.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(strict(schema)).validate(data)
    objects = data if isinstance(data, list) else [data]
    assert objects and all(o["schema"] == schema_id(output) for o in objects)
    return data


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A folder origin, and its URL on loopback: what a visitor would fetch."""
    origin = tmp_path / "www"
    origin.mkdir()
    handler = partial(SimpleHTTPRequestHandler, directory=str(origin))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield origin, f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        thread.join()


def changed_site(version: int) -> dict[str, str | bytes]:
    return {**SITE, "site.css": f"body{{color:#{version}{version}{version}}}"}


def test_every_output_matches_its_schema(
    make_build: MakeBuild,
    served: tuple[Path, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    origin, url = served
    www = str(origin)
    seen: set[str] = set()

    def check(output: str, exit_code: int, *args: str) -> Any:
        code, out, err = run(*args, "--json")
        assert code == exit_code, err
        seen.add(output)
        return assert_matches(output, out)

    project = tmp_path / "project"
    project.mkdir()
    (project / "vite.config.js").write_text("export default { build: { outDir: 'out' } }\n")
    monkeypatch.chdir(project)
    assert check("init", 0, "init")["bundler"] == "Vite"
    monkeypatch.chdir(tmp_path)

    first = check("publish", 0, "publish", str(make_build(SITE)), "--origin", www, "-m", "one")
    assert first["check"] is None and first["git_commit"] is None
    checked = check(
        "publish",
        0,
        "publish",
        str(make_build(changed_site(2))),
        "--origin",
        www,
        "--check-url",
        url,
        "--check-cmd",
        "exit 0",
    )
    assert [c["passed"] for c in checked["check"]["checks"]] == [True, True]
    # A failed check rolls back: the nested rollback object, and exit 3.
    failed = check(
        "publish", 3, "publish", str(make_build(changed_site(3))), "--origin", www,
        "--check-cmd", "exit 1",
    )  # fmt: skip
    assert failed["check"]["rollback"]["release"] == checked["release"]
    dry = check(
        "publish", 0, "publish", str(make_build(changed_site(4))), "--origin", www,
        "--dry-run", "--invalidate", "cloudfront:E2EXAMPLE",
    )  # fmt: skip
    assert dry["invalidations"][0]["dry_run"] is True

    releases = check("releases", 0, "releases", "--origin", www)
    assert [r["live"] for r in releases] == [False, True, False]
    assert releases[0]["failed_check"]["action"] == "publish"
    rolled = check("rollback", 0, "rollback", "--origin", www, "--check-cmd", "exit 0")
    assert rolled["release"] == first["release"] and rolled["check"]["passed"] is True
    assert check("status", 0, "status", "--origin", www)["diverged"] is False
    assert check("verify", 0, "verify", "--origin", www, "--url", url)["urls"][0]["passed"]
    assert "urls" not in check("verify", 0, "verify", "--origin", www)
    assert check("gc", 0, "gc", "--origin", www, "--keep", "1", "--grace", "0")["origins"]
    lease = check("gc-break-lease", 0, "gc", "--origin", www, "--break-lease")
    assert lease["origins"][0]["broken_lease"] is None

    preview = tmp_path / "preview"
    assert run("publish", str(make_build(SITE)), "--origin", str(preview))[0] == 0
    (preview / "notes.txt").write_text("not assetpub's")
    deleted = check("delete-prefix", 0, "delete-prefix", str(preview), "--yes")
    assert deleted["deleted"] > 0 and [o["key"] for o in deleted["left"]] == ["notes.txt"]

    error = check("error", 1, "status", "--origin", str(tmp_path / "empty"))
    assert "no assetpub history" in error["error"]
    assert check("error", 2, "publish", "--no-such-flag")["exit_code"] == 2

    assert seen == set(JSON_SCHEMA_VERSIONS)


def test_every_schema_file_is_an_output_and_names_its_version() -> None:
    files = {path.stem: json.loads(path.read_text()) for path in SCHEMAS.glob("*.json")}
    assert set(files) == set(JSON_SCHEMA_VERSIONS)
    for output, schema in files.items():
        body = schema["items"] if schema["type"] == "array" else schema
        assert body["properties"]["schema"]["const"] == schema_id(output)
        assert "schema" in body["required"]
        assert schema["$id"].endswith(f"/docs/schemas/{output}.json")


def test_strict_catches_a_field_the_schema_does_not_know() -> None:
    schema = json.loads((SCHEMAS / "error.json").read_text())
    extra = {"schema": schema_id("error"), "error": "x", "exit_code": 1, "hint": "y"}
    jsonschema.Draft202012Validator(schema).validate(extra)  # the published file stays open
    with pytest.raises(jsonschema.ValidationError, match="hint"):
        jsonschema.Draft202012Validator(strict(schema)).validate(extra)


def test_the_docs_page_shows_every_output_with_a_valid_example() -> None:
    page = (SCHEMAS.parent / "json.md").read_text()
    sections = {
        title.replace(" --", "-"): body
        for title, _, body in (part.partition("\n") for part in page.split("\n## ")[1:])
    }
    for output in JSON_SCHEMA_VERSIONS:
        assert f"`{schema_id(output)}`" in page, output
        [example] = re.findall(r"```json\n(.*?)```", sections[output], re.DOTALL)
        assert_matches(output, example)
