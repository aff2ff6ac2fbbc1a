"""One lock per state directory so two runs (nightly, evacuate) never overlap.

The lock on `STATE_DIR/virt-rebalance.lock` (files.lock: the kernel drops it when the process dies, so a
crash never leaves a stale lock behind). The file holds who took it, for the error message.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from files.lock import held
from files.safe_write import make_directory

LOCK_NAME = "virt-rebalance.lock"


@contextmanager
def hold(state_dir: str | Path, job: str) -> Iterator[Path]:
    """Take the lock for `job` or raise files.lock.LockedError naming the holder; released on exit."""
    path = Path(state_dir) / LOCK_NAME
    make_directory(path.parent)
    started = datetime.now(UTC).isoformat(timespec="seconds")
    with held(path, f"{job}, pid {os.getpid()} on {socket.gethostname()}, since {started}"):
        yield path
