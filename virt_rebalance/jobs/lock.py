"""One lock per state directory so two runs (nightly, evacuate) never overlap.

An advisory fcntl lock on `STATE_DIR/virt-rebalance.lock`: the kernel drops it when the process dies, so a
crash never leaves a stale lock behind. The file holds who took it, for the error message.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from files.safe_write import make_directory, write_error
from planner.errors import LockedError

LOCK_NAME = "virt-rebalance.lock"


@contextmanager
def hold(state_dir: str | Path, job: str) -> Iterator[Path]:
    """Take the lock for `job` or raise LockedError naming the holder; released on exit."""
    path = Path(state_dir) / LOCK_NAME
    make_directory(path.parent)
    try:  # never through a symlink planted at the lock's name
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise write_error(path, exc) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 512, 0).decode(errors="replace").strip() or "unknown holder"
            raise LockedError(str(path), holder) from None
        started = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            os.ftruncate(fd, 0)
            os.pwrite(
                fd, f"{job}, pid {os.getpid()} on {socket.gethostname()}, since {started}\n".encode(), 0
            )
        except OSError as exc:
            raise write_error(path, exc) from None
        try:
            yield path
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
