"""The GC lease's holder: a lease left by a dead local process is stale at once."""

from __future__ import annotations


def test_a_lease_left_by_a_dead_local_process_is_stale() -> None:
    import os
    import socket
    import subprocess
    import sys

    from assetpub.history.lease import is_stale_local_holder

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    host = socket.gethostname()
    assert is_stale_local_holder(f"{host}:{dead.stdout.strip()}")
    assert not is_stale_local_holder(f"{host}:{os.getpid()}")
    assert not is_stale_local_holder(f"some-other-host:{dead.stdout.strip()}")
    assert not is_stale_local_holder("garbage")
    # No pid assetpub writes: not known dead (os.kill(0, 0) would ask about our process group).
    assert not is_stale_local_holder(f"{host}:0")
    assert not is_stale_local_holder(f"{host}:{2**64}")
