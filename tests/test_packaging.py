"""What the wheel and sdist are built from (pyproject.toml, LICENSE, CHANGELOG.md), checked
offline: .ci/run builds both and runs `twine check --strict`, which needs setuptools from PyPI."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

import assetpub

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def pyproject() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as f:
        return tomllib.load(f)


def test_the_version_is_written_once_in_the_package(pyproject: dict[str, Any]) -> None:
    project = pyproject["project"]
    assert "version" not in project and "version" in project["dynamic"]
    dynamic = pyproject["tool"]["setuptools"]["dynamic"]
    assert dynamic["version"] == {"attr": "assetpub.__version__"}
    # A literal, so setuptools reads it from the source without importing assetpub (and
    # boto3, click...) into the build's isolated environment.
    module = ast.parse((ROOT / "assetpub" / "__init__.py").read_text(encoding="utf-8"))
    literals = [
        node.value.value
        for node in module.body
        if isinstance(node, ast.Assign)
        and [getattr(t, "id", None) for t in node.targets] == ["__version__"]
        and isinstance(node.value, ast.Constant)
    ]
    assert literals == [assetpub.__version__]
    assert re.fullmatch(r"\d+\.\d+\.\d+", assetpub.__version__)


def test_license_is_an_spdx_expression_with_its_file(pyproject: dict[str, Any]) -> None:
    project = pyproject["project"]
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License") and "Copyright (c) 2026 the assetpub developers" in text
    # setuptools refuses a License :: classifier beside an SPDX expression, and the expression
    # needs setuptools 77.
    assert not [c for c in project["classifiers"] if c.startswith("License ::")]
    [requirement] = [r for r in pyproject["build-system"]["requires"] if r.startswith("setuptools")]
    minimum = re.fullmatch(r"setuptools>=(\d+)(\.\d+)*", requirement)
    assert minimum and int(minimum.group(1)) >= 77


def test_the_type_hints_ship_with_the_package(pyproject: dict[str, Any]) -> None:
    assert "py.typed" in pyproject["tool"]["setuptools"]["package-data"]["assetpub"]
    assert (ROOT / "assetpub" / "py.typed").is_file()
    assert "Typing :: Typed" in pyproject["project"]["classifiers"]


def test_metadata_names_the_supported_pythons_and_the_project_links(
    pyproject: dict[str, Any],
) -> None:
    project = pyproject["project"]
    assert project["requires-python"] == ">=3.11"
    versions = {
        c.rsplit(" :: ", 1)[1]
        for c in project["classifiers"]
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    }
    assert versions == {"3.11", "3.12", "3.13"}
    assert set(project["urls"]) == {"Homepage", "Documentation", "Changelog", "Issues"}
    assert all(url.startswith("https://") for url in project["urls"].values())


def test_the_changelog_has_this_version_and_unreleased_changes() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## \[([^\]]+)\]", text, flags=re.MULTILINE)
    assert headings[:2] == ["Unreleased", assetpub.__version__]
    # Keep a Changelog: each heading a link at the foot.
    for heading in headings:
        assert re.search(rf"^\[{re.escape(heading)}\]: https://", text, flags=re.MULTILINE)
