"""The documentation's examples (docs/examples/) work as written: every provider config is one
assetpub's own loader accepts, the IAM policy grants what the S3 origin calls, and every
`assetpub …` line of a CI recipe names a command and options the CLI has."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from assetpub.cli.app import cli
from assetpub.origins.s3 import OPERATION_NAMES
from assetpub.settings import load_file_config

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
PROVIDER_CONFIGS = sorted((EXAMPLES / "providers").glob("*.toml"))
# pathlib's glob matches dotfiles too: .gitlab-ci.yml is among them.
CI_RECIPES = sorted([*EXAMPLES.rglob("*.yml"), *EXAMPLES.rglob("*.yaml")])
PACKAGE_JSON = EXAMPLES / "package.json"

# What a shell or CI variable stands for while a line is parsed: text every option type the CLI
# has takes (a string, a path, an integer of at least 1).
PLACEHOLDER = "1"
_GITHUB_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")
_SHELL_VARIABLE = re.compile(r"\$(\{[^}]*\}|[A-Za-z_][A-Za-z0-9_]*)")
_CONTROL_OPERATORS = {"&&", "||", ";", "|", "&", "(", ")", ";;"}
# Words that may stand before a command in a shell line (`then assetpub …`).
_SHELL_PREFIXES = {"then", "else", "do", "!", "time", "exec"}
_SCRIPT_KEYS = {"run", "script", "before_script", "after_script"}


def _relative(path: Path) -> str:
    return str(path.relative_to(EXAMPLES))


@pytest.mark.parametrize("path", PROVIDER_CONFIGS, ids=_relative)
def test_provider_config_is_accepted_by_the_loader(path: Path) -> None:
    config = load_file_config(path, path.parent)
    assert config.origins, f"{path.name} configures no origin"
    assert all(spec.url.startswith("s3://") for spec in config.origins)


def test_every_provider_page_shows_its_config() -> None:
    pages = sorted((EXAMPLES.parent / "providers").glob("*.md"))
    assert {page.stem for page in pages} == {
        "aws",
        "r2",
        "minio",
        "seaweedfs",
        "gcs",
        "digitalocean-spaces",
    }
    for page in pages:
        # pymdownx.snippets includes the file the test above loads, so the page shows it.
        assert f'--8<-- "providers/{page.stem}.toml"' in page.read_text(), page.name
        assert (EXAMPLES / "providers" / f"{page.stem}.toml") in PROVIDER_CONFIGS


# The IAM action each S3 API operation needs. A copy reads its source and writes its target;
# a HEAD is a read.
_IAM_ACTIONS = {
    "ListObjectsV2": {"s3:ListBucket"},
    "HeadObject": {"s3:GetObject"},
    "GetObject": {"s3:GetObject"},
    "PutObject": {"s3:PutObject"},
    "CreateMultipartUpload": {"s3:PutObject"},
    "UploadPart": {"s3:PutObject"},
    "CompleteMultipartUpload": {"s3:PutObject"},
    "AbortMultipartUpload": {"s3:AbortMultipartUpload"},
    "CopyObject": {"s3:GetObject", "s3:PutObject"},
    "UploadPartCopy": {"s3:GetObject", "s3:PutObject"},
    "DeleteObjects": {"s3:DeleteObject"},
    "DeleteObject": {"s3:DeleteObject"},
}


def test_iam_policy_grants_every_operation_the_s3_origin_sends() -> None:
    policy = json.loads((EXAMPLES / "providers" / "aws-iam-policy.json").read_text())
    granted: set[str] = set()
    for statement in policy["Statement"]:
        actions = statement["Action"]
        granted.update([actions] if isinstance(actions, str) else actions)
    # An operation missing from the table is one the docs' policy has not been checked for.
    needed = set().union(*(_IAM_ACTIONS[operation] for operation in OPERATION_NAMES))
    assert needed <= granted, f"the policy lacks {sorted(needed - granted)}"
    assert "cloudfront:CreateInvalidation" in granted  # --invalidate, the only CloudFront call


def test_bucket_policy_is_json() -> None:
    policy = json.loads((EXAMPLES / "providers" / "aws-bucket-policy.json").read_text())
    assert policy["Statement"]


def logical_lines(script: str) -> Iterator[str]:
    """The script's lines with backslash-newline continuations joined, as the shell reads them."""
    pending = ""
    for line in script.splitlines():
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        yield pending + line
        pending = ""
    if pending:
        yield pending


def assetpub_invocations(script: str) -> Iterator[list[str]]:
    """The arguments of every `assetpub …` command in a shell script, variables replaced by
    PLACEHOLDER (so `s3://previews/pr-$PR` stays one word)."""
    for line in logical_lines(script):
        line = _GITHUB_EXPRESSION.sub(PLACEHOLDER, line)
        line = _SHELL_VARIABLE.sub(PLACEHOLDER, line)
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.commenters = "#"
        lexer.whitespace_split = True
        command: list[str] = []
        for token in [*lexer, ";"]:
            if token not in _CONTROL_OPERATORS:
                command.append(token)
                continue
            while command and (command[0] in _SHELL_PREFIXES or _is_assignment(command[0])):
                command.pop(0)
            if command and command[0] == "assetpub":
                yield command[1:]
            command = []


def _is_assignment(word: str) -> bool:
    return re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", word) is not None


def scripts_in(document: Any) -> Iterator[str]:
    """Every shell script of a GitHub Actions workflow (`run:`) or a GitLab CI file (`script:`,
    `before_script:`, `after_script:`), wherever it is nested."""
    if isinstance(document, dict):
        for key, value in document.items():
            if key in _SCRIPT_KEYS:
                yield from [value] if isinstance(value, str) else value
            else:
                yield from scripts_in(value)
    elif isinstance(document, list):
        for item in document:
            yield from scripts_in(item)


def check_with_the_cli(args: list[str]) -> None:
    """Parse `assetpub ARGS` with the CLI's own click objects, as a run would, without running
    it: click.UsageError for an unknown command or option, a missing argument or a bad value."""
    group_args: list[str] = []
    remaining = list(args)
    takes_value = {
        name
        for param in cli.params
        if isinstance(param, click.Option) and not param.is_flag and not param.count
        for name in param.opts
    }
    while remaining and remaining[0].startswith("-"):
        option = remaining.pop(0)
        group_args.append(option)
        if option in takes_value and remaining:
            group_args.append(remaining.pop(0))
    if not remaining:
        raise click.UsageError(f"no command in `assetpub {shlex.join(args)}`")
    name, *command_args = remaining
    with cli.make_context("assetpub", [*group_args, name], resilient_parsing=False) as ctx:
        command = cli.get_command(ctx, name)
        if command is None:
            raise click.UsageError(f"no such command {name!r}")
        command.make_context(name, command_args, parent=ctx, resilient_parsing=False).close()


def _recipe_invocations(path: Path) -> list[list[str]]:
    if path == PACKAGE_JSON:
        scripts = json.loads(path.read_text())["scripts"].values()
    else:
        scripts = scripts_in(yaml.safe_load(path.read_text()))
    return [args for script in scripts for args in assetpub_invocations(script)]


@pytest.mark.parametrize("path", [*CI_RECIPES, PACKAGE_JSON], ids=_relative)
def test_every_assetpub_line_of_a_recipe_parses_with_the_cli(path: Path) -> None:
    invocations = _recipe_invocations(path)
    assert invocations, f"no `assetpub` command found in {path.name}"
    for args in invocations:
        try:
            check_with_the_cli(args)
        except click.UsageError as exc:
            pytest.fail(f"{_relative(path)}: `assetpub {shlex.join(args)}`: {exc.format_message()}")


def test_the_recipes_cover_publish_gc_rollback_and_previews() -> None:
    used = {args[0] for path in CI_RECIPES for args in _recipe_invocations(path)}
    assert {"publish", "gc", "rollback", "releases", "delete-prefix"} <= used
    names = {_relative(path) for path in CI_RECIPES}
    assert "gitlab/.gitlab-ci.yml" in names
    assert {f"github/workflows/{n}.yml" for n in ("publish", "gc", "rollback", "preview")} <= names


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("assetpub publish dist", [["publish", "dist"]]),
        (
            'assetpub publish dist \\\n  --origin "s3://b/pr-$PR" \\\n  --public-url "$URL"',
            [["publish", "dist", "--origin", "s3://b/pr-1", "--public-url", "1"]],
        ),
        ("pipx install assetpub && assetpub -v gc --keep 5", [["-v", "gc", "--keep", "5"]]),
        (
            'if [ -n "$ID" ]; then\n  assetpub rollback "$ID"\nelse\n  assetpub rollback\nfi',
            [["rollback", "1"], ["rollback"]],
        ),
        ("X=1 assetpub status; echo assetpub status", [["status"]]),
        (
            "assetpub releases --origin s3://b/${{ github.event.number }}  # a comment",
            [["releases", "--origin", "s3://b/1"]],
        ),
        ("vite build && assetpub publish dist --dry-run", [["publish", "dist", "--dry-run"]]),
    ],
)
def test_assetpub_invocations(script: str, expected: list[list[str]]) -> None:
    assert list(assetpub_invocations(script)) == expected


@pytest.mark.parametrize(
    "args",
    [
        ["publish", "dist", "--orgin", "s3://b/site"],  # misspelled option
        ["publsh", "dist"],  # misspelled command
        ["gc", "--keep", "many"],  # not an integer
        ["delete-prefix", "--yes"],  # the origin argument is missing
        ["--verbos", "status"],  # misspelled group option
        ["rollback", "--public-url", "https://x/"],  # publish's option, not rollback's
    ],
)
def test_the_cli_check_refuses_what_a_run_would(args: list[str]) -> None:
    with pytest.raises(click.UsageError):
        check_with_the_cli(args)


@pytest.mark.parametrize(
    "args",
    [
        ["publish", "dist", "--origin", "s3://b/site", "--check-url", "https://x/"],
        ["-v", "--config", "assetpub.toml", "gc", "--keep", "1", "--grace", "0"],
        ["delete-prefix", "s3://b/pr-1", "--yes"],
    ],
)
def test_the_cli_check_accepts_what_a_run_would(args: list[str]) -> None:
    check_with_the_cli(args)
