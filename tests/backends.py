"""The one backend fixture's machinery: every origin a test talks to is a Backend.

A Backend is one storage place (a memory store, a folder, a prefix of a fresh bucket on the
moto server over HTTP) and the ways tests reach it: `open()` a fresh client on it, as a separate
process would (optionally behind the dry-run wrapper, through the same `open_origins` every
command uses), `cli_args` to point a subprocess at it, and back doors (`seed`,
`write_outside`) that bypass assetpub to set up state quickly.

conftest.py turns this into the fixtures `backend_kind` (memory, folder, s3 on moto, seaweedfs:
SeaweedFS's S3 gateway, a real object store; tests/s3_servers.py), `make_backend`,
`backend` and `make_origin`. Tests whose origin must be shared with other processes or separate
clients override the kinds with `@pytest.mark.parametrize("backend_kind", ACROSS_PROCESSES)`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from assetpub.origins import Origin, OriginSpec, open_origins
from assetpub.origins.memory import shared_memory_origin

KINDS = ("memory", "folder", "s3", "seaweedfs")
# A memory store lives in one process: crash tests (forked children) and tests of separate
# clients racing need storage every opener reaches on its own.
ACROSS_PROCESSES = ("folder", "s3", "seaweedfs")
# The kinds that are S3 endpoints over HTTP, and the session fixture that yields each endpoint.
# s3rver is not in KINDS: it ignores conditional writes, which the shared contract tests use;
# tests/test_s3rver.py asks for it by name.
S3_ENDPOINT_FIXTURES = {
    "s3": "s3_endpoint",
    "seaweedfs": "seaweedfs_endpoint",
    "s3rver": "s3rver_endpoint",
}


@dataclass
class Backend:
    kind: str  # one of KINDS
    spec: OriginSpec
    seed: Callable[[Iterable[str]], None]  # tiny objects at these keys, written directly
    # Writes a key next to the origin (the bucket's root, the folder's parent), not inside it.
    write_outside: Callable[[str, bytes], None] | None

    @property
    def is_s3(self) -> bool:
        """Whether this is a bucket prefix on an S3 server (moto, SeaweedFS, s3rver)."""
        return self.kind in S3_ENDPOINT_FIXTURES

    def open(self, dry_run: bool = False, **overrides: Any) -> Origin:
        """A fresh client on this storage; `overrides` are OriginSpec fields."""
        return open_origins([replace(self.spec, **overrides)], dry_run=dry_run)[0]

    @property
    def cli_args(self) -> list[str]:
        """The command-line options that name this origin, for a subprocess."""
        endpoint = ["--endpoint-url", self.spec.endpoint_url] if self.spec.endpoint_url else []
        return ["--origin", self.spec.url, *endpoint]


def memory_backend(name: str) -> Backend:
    def seed(keys: Iterable[str]) -> None:
        store = shared_memory_origin(name)
        for key in keys:
            store.objects[key] = b"x"

    return Backend("memory", OriginSpec(url=f"memory://{name}"), seed, None)


def folder_backend(container: Path) -> Backend:
    """An origin at container/site, so that container itself is "outside" it."""
    root = container / "site"

    def seed(keys: Iterable[str]) -> None:
        for key in keys:
            (root / key).parent.mkdir(parents=True, exist_ok=True)
            (root / key).write_bytes(b"x")

    def write_beside(name: str, data: bytes) -> None:
        (container / name).parent.mkdir(parents=True, exist_ok=True)
        (container / name).write_bytes(data)

    return Backend("folder", OriginSpec(url=str(root)), seed, write_beside)


def s3_backend(s3_client: Any, endpoint: str, bucket: str, kind: str = "s3") -> Backend:
    """The prefix site/ of `bucket` on the S3 server at `endpoint` (moto, or the server `kind`
    names)."""

    def seed(keys: Iterable[str]) -> None:
        with ThreadPoolExecutor(16) as pool:
            puts = [
                pool.submit(s3_client.put_object, Bucket=bucket, Key=f"site/{key}", Body=b"x")
                for key in keys
            ]
        for put in puts:
            put.result()  # a failed seed fails the test here, not as a puzzling miss later

    def write_in_bucket(name: str, data: bytes) -> None:
        s3_client.put_object(Bucket=bucket, Key=name, Body=data)

    spec = OriginSpec(url=f"s3://{bucket}/site", endpoint_url=endpoint)
    return Backend(kind, spec, seed, write_in_bucket)
