"""An exclusive advisory lock on a file (fcntl.flock), the one both the run lock and the journal take.

The kernel drops the lock when its process dies, so a crash never leaves a stale lock behind. The file
holds who took it (emptied on release), for the error the next taker gets.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from files.safe_write import write_error
from planner.errors import VirtRebalanceError


class LockedError(VirtRebalanceError):
    """Another run holds the lock at `path`; `holder` is what it wrote there (who, since when)."""

    def __init__(self, path: str, holder: str) -> None:
        self.path = path
        self.holder = holder
        super().__init__(f"another run holds {path} ({holder})")


def take(path: Path, holder: str) -> int:
    """Lock `path` (created with mode 0600, never through a symlink) and write `holder` into it; the open
    descriptor that holds the lock, for `release`. LockedError naming the holder when another process has
    it; FileWriteError when the file cannot be opened or written."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise write_error(path, exc) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        other = os.pread(fd, 512, 0).decode(errors="replace").strip() or "unknown holder"
        os.close(fd)
        raise LockedError(str(path), other) from None
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{holder}\n".encode(), 0)
    except OSError as exc:
        release(fd)
        raise write_error(path, exc) from None
    return fd


def release(fd: int) -> None:
    """Empty the lock file and let the lock go (closing the descriptor drops it)."""
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
    os.close(fd)


@contextmanager
def held(path: Path, holder: str) -> Iterator[Path]:
    """`take` for the length of a with block."""
    fd = take(path, holder)
    try:
        yield path
    finally:
        release(fd)
