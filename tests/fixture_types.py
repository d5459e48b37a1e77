"""Types of the shared fixtures in conftest.py, for annotating test parameters.

Test modules import these as a top-level module, like `checks` and `e2e_support`:
`from fixture_types import MakeBuild, MakeOrigin`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeAlias

from backends import Backend

from assetpub.origins import Origin

# boto3 ships no type information (and boto3-stubs is not a dependency): its clients are Any.
S3Client: TypeAlias = Any

# make_build({relative path: text or bytes}) writes a build folder and returns its path. A
# Mapping, not a dict: a test's dict[str, str] of files is one too.
BuildFiles: TypeAlias = Mapping[str, str | bytes]
MakeBuild: TypeAlias = Callable[[BuildFiles], Path]

# make_origin() returns a fresh, empty origin (memory, folder or S3, by backend_kind).
MakeOrigin: TypeAlias = Callable[[], Origin]

# make_backend() returns a fresh, empty backend of the kind backend_kind names.
MakeBackend: TypeAlias = Callable[[], Backend]

# make_bucket() creates a fresh bucket on the moto server and returns its name.
MakeBucket: TypeAlias = Callable[[], str]
