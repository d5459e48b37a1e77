import io

import pytest
from fixture_types import MakeBuild

from assetpub.cli.render import Reporter, human_bytes
from assetpub.commands.publish import publish
from assetpub.origins.memory import MemoryOrigin
from assetpub.settings import PublishSettings


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal_only(
    make_build: MakeBuild, monkeypatch: pytest.MonkeyPatch
) -> None:
    build = make_build(
        {
            "index.html": "".join(f"<img src=i{n}.png>" for n in range(30)),
            **{f"i{n}.png": f"{n}".encode() for n in range(30)},
        }
    )
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    with Reporter().progress() as hooks:
        publish(PublishSettings(build, ()), hooks, origins=[MemoryOrigin("bar")])
    assert "Uploading" in terminal.getvalue() and "100%" in terminal.getvalue()

    piped = io.StringIO()
    monkeypatch.setattr("sys.stderr", piped)
    with Reporter().progress() as hooks:
        publish(PublishSettings(build, ()), hooks, origins=[MemoryOrigin("pipe")])
    assert piped.getvalue() == ""


def test_human_bytes() -> None:
    assert [human_bytes(n) for n in (0, 1023, 1536, 5 * 1024**2, 3 * 1024**4)] == [
        "0 B",
        "1023 B",
        "1.5 KB",
        "5.0 MB",
        "3072.0 GB",
    ]
