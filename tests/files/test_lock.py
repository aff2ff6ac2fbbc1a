"""files.lock, the one flock: taken once, named when refused, emptied and free again on release or death."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from files.lock import LockedError, held, release, take
from planner.errors import FileWriteError


def test_a_second_taker_is_refused_with_the_holder_named(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    fd = take(path, "nightly run, pid 1")
    try:
        with pytest.raises(LockedError) as exc:
            take(path, "evacuate h1")
        assert (exc.value.path, exc.value.holder) == (str(path), "nightly run, pid 1")
        assert "another run holds" in str(exc.value)
    finally:
        release(fd)
    assert path.read_text() == ""  # emptied on release
    with held(path, "evacuate h1"):
        assert path.read_text() == "evacuate h1\n"


def test_the_lock_file_is_private(tmp_path: Path) -> None:
    with held(tmp_path / "x.lock", "me") as path:
        assert path.stat().st_mode & 0o777 == 0o600


def test_a_symlink_at_the_locks_name_is_not_followed(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").write_text("keep")
    (tmp_path / "x.lock").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(FileWriteError):
        take(tmp_path / "x.lock", "me")
    assert (tmp_path / "elsewhere").read_text() == "keep"


def test_a_lock_whose_holder_was_killed_is_free(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    code = (
        "import os, sys, time; from pathlib import Path; from files.lock import take\n"
        f"take(Path({str(path)!r}), 'doomed'); print('held', flush=True); time.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "held"
        with pytest.raises(LockedError, match="doomed"):
            take(path, "me")
    finally:
        child.kill()
        child.wait()
    fd = take(path, "me")  # the kernel dropped the dead holder's lock
    release(fd)
