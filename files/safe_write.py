"""The one way virt-rebalance writes a file: safe as root, atomic, and a full disk is an error, not a traceback.

Every state, summary, plan, report, maintenance and metrics file goes through `write_atomically`:

- the data goes to a new file in the same directory under an unpredictable name, created with
  O_CREAT|O_EXCL|O_NOFOLLOW (tempfile.mkstemp), so nothing planted there in advance is opened or followed;
- it gets its mode (0600; 0640 for metrics, group = the directory's group so node_exporter reads it) with
  fchmod/fchown on the open file, whatever the umask;
- it is fsynced, then renamed over the target. rename(2) replaces a symlink at the target itself: the file
  the link points to is never touched. The directory is fsynced too, so the rename survives a crash.

Directories others may write to (`check_directory`), decided here once:

- writable by every user without the sticky bit: refused (anyone could swap the files between two runs);
- a state directory writable by every user even with the sticky bit (/tmp-like): refused as well;
- a metrics directory with the sticky bit, or any directory owned by another user or writable by a group
  other than root's and ours: a warning naming the reason (node_exporter's textfile directory owned by
  the prometheus user is common; our writes stay safe there, the warning says who could replace them).
"""

from __future__ import annotations

import contextlib
import errno
import grp
import logging
import os
import pwd
import stat
import tempfile
from pathlib import Path
from typing import Literal

from planner.errors import FileWriteError, UnsafeDirectoryError

_log = logging.getLogger("virt_rebalance")

Kind = Literal["state", "metrics", "output"]

STATE_MODE = 0o600
METRICS_MODE = 0o640
DIRECTORY_MODE = 0o755  # the files inside carry their own modes; node_exporter must reach STATE_DIR/metrics

_warned: set[tuple[str, str]] = set()


def write_atomically(path: str | Path, data: str | bytes, *, kind: Kind = "state") -> None:
    """Replace `path` with `data` atomically (see the module docstring); raises FileWriteError.

    `kind` "state" and "metrics" create missing directories and check them (check_directory); "output" (a
    file the user named with -o) needs its directory to exist already.
    """
    path = Path(path)
    directory = path.parent
    if kind == "output":
        if not directory.is_dir():
            raise FileWriteError(str(path), "its directory does not exist")
    else:
        make_directory(directory, kind)
    raw = data.encode() if isinstance(data, str) else data
    mode = METRICS_MODE if kind == "metrics" else STATE_MODE
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise write_error(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), mode)
            if kind == "metrics":
                _share_group(f.fileno(), directory)
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise write_error(path, exc) from None
    _sync_directory(directory)


def make_directory(directory: Path, kind: Kind = "state") -> None:
    """Create `directory` (and its parents) if missing, then check who else may write there."""
    try:
        directory.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    except FileExistsError:
        raise FileWriteError(str(directory), "not a directory (a file is in the way)") from None
    except OSError as exc:
        raise write_error(directory, exc) from None
    check_directory(directory, kind)


def check_directory(directory: Path, kind: Kind = "state") -> str | None:
    """Raise UnsafeDirectoryError for a directory we refuse; return (and warn once about) a risky one."""
    try:
        st = os.stat(directory)
    except OSError as exc:
        raise write_error(directory, exc) from None
    world = bool(st.st_mode & stat.S_IWOTH)
    sticky = bool(st.st_mode & stat.S_ISVTX)
    perms = f"mode {stat.S_IMODE(st.st_mode):04o}"
    if world and not sticky:
        raise UnsafeDirectoryError(
            str(directory), f"writable by every user ({perms}): anyone could replace the files written there"
        )
    if world and kind == "state":
        raise UnsafeDirectoryError(
            str(directory),
            f"shared by every user ({perms}, like /tmp); give the state a directory of its own",
        )
    reason = None
    if world:
        reason = f"writable by every user ({perms}, sticky): others may plant files next to ours"
    elif st.st_uid not in (0, os.geteuid()):
        reason = f"owned by {_user(st.st_uid)}, who can replace the files written there"
    elif st.st_mode & stat.S_IWGRP and st.st_gid not in (0, os.getegid()):
        reason = f"writable by group {_group(st.st_gid)} ({perms}), who can replace the files written there"
    if reason is not None:
        _warn_once(directory, kind, reason)
    return reason


def free_space(path: Path) -> str:
    """The free space where `path` lives, for messages ("12 KiB free"), or why it is unknown."""
    for candidate in (path, *path.parents):
        try:
            st = os.statvfs(candidate)
        except OSError:
            continue
        return f"{_size(st.f_bavail * st.f_frsize)} free"
    return "free space unknown"


def write_error(path: str | Path, exc: OSError) -> FileWriteError:
    """The error for a failed write of `path`: the system's reason, and the free space when it may matter."""
    path = Path(path)
    if exc.errno == errno.ELOOP:
        return FileWriteError(str(path), "it is a symbolic link; refusing to follow it")
    problem = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM):
        problem += f" ({free_space(path)})"
    return FileWriteError(str(path), problem)


def _share_group(fd: int, directory: Path) -> None:
    """Give the file the directory's group (node_exporter's, when it owns the textfile directory)."""
    gid = os.stat(directory).st_gid
    if gid != os.getegid():
        with contextlib.suppress(PermissionError):  # not root and not a member: keep our own group
            os.fchown(fd, -1, gid)


def _sync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _warn_once(directory: Path, kind: Kind, reason: str) -> None:
    if (str(directory), reason) not in _warned:
        _warned.add((str(directory), reason))
        # the application's logger (virt_rebalance.output prints and formats it), without importing the app
        _log.warning(f"{kind} directory {directory} is {reason}", extra={"fields": {"path": str(directory)}})


def _user(uid: int) -> str:
    try:
        return f"user {pwd.getpwuid(uid).pw_name}"
    except KeyError:
        return f"uid {uid}"


def _group(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            break
        value /= 1024
    return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
