"""Shared fixtures: real S3 servers over HTTP for the whole session (moto's server mode;
SeaweedFS and s3rver from tests/s3_servers.py, started only when a test asks for them),
factories for buckets and build folders, and for the browser tests real webpack builds of
sample_site and one headless Chromium (tests/e2e_support.py).

Credentials are dummies and the endpoint is loopback: no test reaches the network.
"""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from backends import (
    KINDS,
    S3_ENDPOINT_FIXTURES,
    Backend,
    folder_backend,
    memory_backend,
    s3_backend,
)

if TYPE_CHECKING:
    from e2e_support import Tools, WebpackBuild
    from fault_proxy import FaultProxy
    from fixture_types import BuildFiles, MakeBackend, MakeBucket, MakeBuild, MakeOrigin, S3Client
    from history_support import Published

    from assetpub.commands.publish import PublishResult

# Set before boto3 is imported anywhere, so no test ever picks up a developer's real account.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }
)
# No session token: SeaweedFS takes a request that carries one for STS credentials and answers
# InvalidAccessKeyId for a static key (moto and s3rver ignore it).
for _name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
    os.environ.pop(_name, None)
# publish's read cache (build/cache.py) goes to a folder of this session, never the user's.
os.environ["ASSETPUB_CACHE_DIR"] = tempfile.mkdtemp(prefix="assetpub-test-cache-")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """URL of a moto S3 server on loopback, shared by the whole test session."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture(scope="session")
def seaweedfs_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a SeaweedFS S3 gateway on loopback (skipped without `weed`, unless
    ASSETPUB_REQUIRE_E2E=1), shared by the whole test session."""
    from s3_servers import seaweedfs

    with seaweedfs(tmp_path_factory.mktemp("seaweedfs")) as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def s3rver_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of an s3rver on loopback: an endpoint that ignores conditional writes (skipped
    without Node.js, unless ASSETPUB_REQUIRE_E2E=1)."""
    from s3_servers import s3rver

    with s3rver(tmp_path_factory.mktemp("s3rver")) as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def _fault_proxy_server(s3_endpoint: str) -> Iterator[FaultProxy]:
    from fault_proxy import FaultProxy

    proxy = FaultProxy(s3_endpoint).start()
    try:
        yield proxy
    finally:
        proxy.close()


@pytest.fixture
def fault_proxy(_fault_proxy_server: FaultProxy) -> Iterator[FaultProxy]:
    """The fault-injecting proxy (tests/fault_proxy.py) in front of the session's moto server,
    with no rules armed; whatever a test arms is cleared after it."""
    _fault_proxy_server.reset()
    yield _fault_proxy_server
    _fault_proxy_server.reset()


def client_for(endpoint: str) -> S3Client:
    import boto3

    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")


def new_bucket(client: S3Client) -> str:
    name = f"test-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_client(s3_endpoint: str) -> S3Client:
    return client_for(s3_endpoint)


@pytest.fixture
def make_bucket(s3_client: S3Client) -> MakeBucket:
    """Create a fresh, uniquely named bucket on the moto server and return its name."""

    return lambda: new_bucket(s3_client)


@pytest.fixture
def make_build(tmp_path: Path) -> MakeBuild:
    """Write a build folder from {relative path: text or bytes} and return its path."""

    counter = iter(range(1_000_000))

    def make(files: BuildFiles) -> Path:
        root = tmp_path / f"build{next(counter)}"
        root.mkdir()
        for rel, content in files.items():
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        return root

    return make


@pytest.fixture(params=KINDS)
def backend_kind(request: pytest.FixtureRequest) -> str:
    """Which storage the backend fixtures give: tests using them run on memory, folder and S3
    (the moto server and SeaweedFS, over HTTP) alike, since the contract is the same. A test
    that needs storage shared across processes narrows it with
    `@pytest.mark.parametrize("backend_kind", ACROSS_PROCESSES)`."""
    return str(request.param)


@pytest.fixture
def make_backend(backend_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> MakeBackend:
    """A factory of fresh, empty backends of `backend_kind` (see tests/backends.py)."""
    counter = iter(range(1_000_000))

    def make() -> Backend:
        n = next(counter)
        if backend_kind == "memory":
            return memory_backend(f"test-{uuid.uuid4().hex[:12]}")
        if backend_kind == "folder":
            return folder_backend(tmp_path / f"origin{n}")
        endpoint = request.getfixturevalue(S3_ENDPOINT_FIXTURES[backend_kind])
        client = client_for(endpoint)
        return s3_backend(client, endpoint, new_bucket(client), backend_kind)

    return make


@pytest.fixture
def backend(make_backend: MakeBackend) -> Backend:
    return make_backend()


@pytest.fixture
def make_origin(make_backend: MakeBackend) -> MakeOrigin:
    """A factory of fresh, empty origins, each on a backend of its own."""
    return lambda: make_backend().open()


@pytest.fixture
def published(make_build: MakeBuild, backend: Backend) -> Published:
    """An origin with v1, v2, v3 published, and what each left live (the history tests); on
    the storage of `backend`, so a test can open it again (e.g. behind the dry-run wrapper)."""
    from history_support import live_files, site

    from assetpub.commands.publish import publish
    from assetpub.settings import PublishSettings

    origin = backend.open()
    results: list[PublishResult] = []
    lives: list[dict[str, bytes]] = []
    for version in (1, 2, 3):
        build = make_build(site(version))
        results.append(publish(PublishSettings(build, (), message=f"v{version}"), origins=[origin]))
        lives.append(live_files(origin))
    return origin, results, lives


# -- browser tests (e2e) ----------------------------------------------------------------------


@pytest.fixture(scope="session")
def e2e_tools() -> Tools:
    """Node.js, npm and Chromium: skipped without them, unless ASSETPUB_REQUIRE_E2E=1."""
    from e2e_support import require_tools

    return require_tools()


@pytest.fixture(scope="session")
def sample_site_copy(e2e_tools: Tools, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of sample_site with its node_modules, which the builds below share."""
    from e2e_support import copy_sample_site, install_node_modules

    site = tmp_path_factory.mktemp("sample_site") / "site"
    copy_sample_site(site)
    how = install_node_modules(site, e2e_tools)
    print(f"sample_site copied (node_modules: {how})")
    return site


def _webpack_build(site: Path, tools: Tools, release: str) -> WebpackBuild:
    from e2e_support import build_with_webpack

    built = build_with_webpack(site, site.parent / f"build-{release}", tools, release)
    print(f"sample_site release {release} built by webpack in {built.seconds:.1f} s")
    return built


@pytest.fixture(scope="session")
def webpack_build(sample_site_copy: Path, e2e_tools: Tools) -> WebpackBuild:
    """sample_site built by real webpack into a temporary folder (release A, what the
    committed dist/ holds); the committed dist/ is never touched."""
    return _webpack_build(sample_site_copy, e2e_tools, "A")


@pytest.fixture(scope="session")
def webpack_build_b(sample_site_copy: Path, e2e_tools: Tools) -> WebpackBuild:
    """sample_site's release B: the same sources built with SAMPLE_SITE_RELEASE=B, so its
    entry JS, CSS and lazy chunks differ from release A's (new content hashes)."""
    return _webpack_build(sample_site_copy, e2e_tools, "B")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Debian chromium driven by Playwright (executable_path: `playwright
    install`, which downloads browsers, is never needed); each test opens its own contexts."""
    from e2e_support import find_chromium, unavailable

    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("Playwright's Python package is not installed (pip install '.[test]')")
    chromium = find_chromium()
    if chromium is None:
        unavailable("Chromium is needed for the browser tests (apt-get install chromium)")
    with sync_playwright() as pw:
        launched = pw.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield launched
        launched.close()
