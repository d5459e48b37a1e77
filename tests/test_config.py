from pathlib import Path

import pytest

from assetpub.errors import ConfigError
from assetpub.origins import OriginSpec
from assetpub.settings import (
    DEFAULT_ORIGIN,
    load_file_config,
    parse_file_config,
    resolve_origins,
    validate_public_url,
)


def test_assetpub_toml_wins_over_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.assetpub]\npublic_url = "https://a/"\n')
    assert load_file_config(None, tmp_path).public_url == "https://a/"
    (tmp_path / "assetpub.toml").write_text('public_url = "https://b/"\n')
    assert load_file_config(None, tmp_path).public_url == "https://b/"


def test_full_config(tmp_path: Path) -> None:
    (tmp_path / "assetpub.toml").write_text(
        """
origins = [
  "file:///srv/www",
  {url = "s3://bucket/site", endpoint_url = "http://minio:9000", addressing_style = "path"},
]
strict = true
concurrency = 4
entry_patterns = ["*.html"]
include_dotfiles = [".htaccess"]
[[headers]]
pattern = "*.pdf"
cache_control = "public, max-age=3600"
"""
    )
    config = load_file_config(None, tmp_path)
    assert config.origins[1] == OriginSpec(
        url="s3://bucket/site", endpoint_url="http://minio:9000", addressing_style="path"
    )
    assert config.strict is True and config.concurrency == 4
    assert config.entry_patterns == ("*.html",)
    assert config.header_rules[0].matches("docs/a.pdf")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("colour = 1", "unknown config key 'colour'"),
        ("origins = [{url = 's3://b', endpont_url = 'x'}]", "unknown origin key 'endpont_url'"),
        ("strict = 'yes'", "'strict' must be a bool"),
        (
            "origins = [{url = 's3://bkt', max_connections = 'x'}]",
            "'max_connections' must be a int",
        ),
        ("origins = [{url = 's3://bkt', checksums = 'never'}]", "checksums must be one of"),
        ("keep = '5'", "'keep' must be a int"),
        ("concurrency = true", "'concurrency' must be a int"),
        ("[[headers]]\ncache_control = 'x'", "needs a 'pattern'"),
        ("origins = [", "invalid TOML"),
        ("exclude = '*.map'", "'exclude' must be a list"),
        ("include = [1]", "'include' must be a list of strings"),
        ("exclude = ['*.map', '[z-a].js']", "'exclude': '\\[z-a\\].js' is not a valid pattern"),
        ("include = ['']", "'include': '' is no pattern"),
    ],
)
def test_bad_config_is_one_clear_error(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "assetpub.toml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_file_config(None, tmp_path)


def test_origins_flags_then_env_then_file_then_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ASSETPUB_ORIGIN", raising=False)
    config = parse_file_config(
        {"origins": [{"url": "s3://bkt/p", "region": "auto"}, "file:///srv"]}, "x"
    )
    assert [s.url for s in resolve_origins((), parse_file_config({}, "x"), None)] == [
        DEFAULT_ORIGIN
    ]
    assert [s.url for s in resolve_origins((), config, None)] == ["s3://bkt/p", "file:///srv"]
    monkeypatch.setenv("ASSETPUB_ORIGIN", "s3://envbkt/a, file:///tmp/x")
    assert [s.url for s in resolve_origins((), config, None)] == ["s3://envbkt/a", "file:///tmp/x"]
    flagged = resolve_origins(("s3://bkt/p",), config, "http://127.0.0.1:9000")
    # The flag names a configured origin: its options still apply, and --endpoint-url wins.
    assert flagged == (
        OriginSpec(url="s3://bkt/p", region="auto", endpoint_url="http://127.0.0.1:9000"),
    )


def test_same_origin_twice_is_an_error() -> None:
    with pytest.raises(ConfigError, match="twice"):
        resolve_origins(("s3://bkt/p", "s3://bkt/p"), parse_file_config({}, "x"), None)


def test_public_url_validation() -> None:
    assert validate_public_url("https://cdn.example.com") == "https://cdn.example.com/"
    assert validate_public_url("//cdn.example.com/app/") == "//cdn.example.com/app/"
    with pytest.raises(ConfigError, match="absolute URL"):
        validate_public_url("cdn.example.com")


def test_explicit_config_file(tmp_path: Path) -> None:
    custom = tmp_path / "deploy.toml"
    custom.write_text('public_url = "https://c/"\n')
    assert load_file_config(custom, tmp_path).public_url == "https://c/"
    pyproject = tmp_path / "sub" / "pyproject.toml"
    pyproject.parent.mkdir()
    pyproject.write_text("[tool.assetpub]\nstrict = true\n")
    assert load_file_config(pyproject, tmp_path).strict is True
    with pytest.raises(ConfigError, match="does not exist"):
        load_file_config(tmp_path / "missing.toml", tmp_path)


def test_the_connection_pool_is_never_smaller_than_the_upload_pool(tmp_path: Path) -> None:
    from assetpub.settings import FileConfig, publish_settings

    wide = publish_settings(FileConfig(), tmp_path, origins=["s3://bkt/p"], concurrency=32)
    assert wide.concurrency == 32 and wide.origins[0].max_connections == 32
    narrow = publish_settings(FileConfig(), tmp_path, origins=["s3://bkt/p"], concurrency=4)
    assert narrow.origins[0].max_connections == 16  # the default stays when it is larger
    assert publish_settings(FileConfig(), tmp_path, origins=["s3://bkt/p"]).read_cache is True
    assert not publish_settings(FileConfig(cache=False), tmp_path, origins=["x"]).read_cache
    assert not publish_settings(FileConfig(), tmp_path, origins=["x"], no_cache=True).read_cache


def test_timeouts_and_the_lease_wait(tmp_path: Path) -> None:
    from assetpub.settings import publish_settings

    (tmp_path / "assetpub.toml").write_text(
        'lease_wait = "90s"\norigins = [{url = "s3://bucket/site", read_timeout = 2.5}]\n'
    )
    config = load_file_config(None, tmp_path)
    assert config.origins[0].read_timeout == 2.5
    assert OriginSpec("s3://bucket/site").read_timeout == 30
    assert publish_settings(config, tmp_path).lease_wait == 90
    assert publish_settings(config, tmp_path, lease_wait="2m").lease_wait == 120  # the flag wins
    # A repository of its own below tmp_path: the search stops at its root and finds nothing.
    (tmp_path / "none" / ".git").mkdir(parents=True)
    assert publish_settings(load_file_config(None, tmp_path / "none"), tmp_path).lease_wait == 300
    with pytest.raises(ConfigError, match="lease_wait: invalid duration"):
        publish_settings(config, tmp_path, lease_wait="soon")
    with pytest.raises(ConfigError, match="read_timeout must be positive"):
        OriginSpec("s3://bucket/site", read_timeout=0)


def test_include_and_exclude_flags_add_to_the_config(tmp_path: Path) -> None:
    """The flags' patterns come after the config's (a flag's `!pattern` can re-include), so a
    flag never silently drops what the config keeps out; a bad one is refused by its flag."""
    from assetpub.settings import publish_settings

    (tmp_path / "assetpub.toml").write_text('include = ["*.html"]\nexclude = ["*.map"]\n')
    config = load_file_config(None, tmp_path)
    build = tmp_path / "dist"
    settings = publish_settings(
        config, build, origins=[str(tmp_path / "o")], include=["assets/"], exclude=["drafts/"]
    )
    assert settings.include == ("*.html", "assets/")
    assert settings.exclude == ("*.map", "drafts/")
    assert settings.selection.selects("assets/a.js")
    assert not settings.selection.selects("drafts/a.html")
    with pytest.raises(ConfigError, match="^--exclude: '!' is not a valid pattern"):
        publish_settings(config, build, origins=[str(tmp_path / "o")], exclude=["!"])
