"""Two runs never overlap: the second gets LockedError naming the first."""

from __future__ import annotations

import subprocess
import sys

import pytest

from files.lock import LockedError
from virt_rebalance.jobs import lock


def test_second_holder_is_refused_with_the_first_named(tmp_path) -> None:
    with lock.hold(tmp_path, "nightly run"):
        # flock is per open file: another process is the honest test.
        code = (
            "import sys; from virt_rebalance.jobs import lock\n"
            "from files.lock import LockedError\n"
            f"try:\n    with lock.hold({str(tmp_path)!r}, 'evacuate h1'): sys.exit(0)\n"
            "except LockedError as e: print(e.holder); sys.exit(9)\n"
        )
        other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert other.returncode == 9
    assert "nightly run, pid" in other.stdout


def test_lock_is_released_after_use(tmp_path) -> None:
    with lock.hold(tmp_path, "first"):
        pass
    with lock.hold(tmp_path, "second") as path:
        assert "second" in path.read_text()


def test_same_process_twice_is_refused(tmp_path) -> None:
    with lock.hold(tmp_path, "first"), pytest.raises(LockedError) as exc, lock.hold(tmp_path, "second"):
        pass
    assert "first" in exc.value.holder
