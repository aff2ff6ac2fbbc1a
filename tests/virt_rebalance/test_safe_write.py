"""Files written as root: never through a planted symlink, unpredictable temp names, private modes, and
directories others may write to refused or warned about."""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from executor.journal import Journal
from files.safe_write import check_directory, write_atomically
from planner.errors import FileWriteError, UnsafeDirectoryError
from tests.virt_rebalance.sample import sample_plan
from virt_rebalance.jobs import lock, maintenance, metrics
from virt_rebalance.jobs.summary import build

NOBODY = 65534


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A file outside the directory we write to, standing for /etc/shadow: it must stay untouched."""
    target = tmp_path / "etc" / "shadow"
    target.parent.mkdir()
    target.write_text("root:secret\n")
    return target


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_a_symlink_at_the_metrics_file_and_at_its_old_temp_name_is_replaced_not_followed(
    tmp_path: Path, outside: Path
) -> None:
    directory = tmp_path / "textfile"
    directory.mkdir()
    prom = directory / "virt-rebalance-run.prom"
    prom.symlink_to(outside)
    (directory / "virt-rebalance-run.prom.tmp").symlink_to(outside)
    summary = build("run", sample_plan(), "done", 0, datetime.now(UTC))
    metrics.write(prom, summary, 1.0)
    assert outside.read_text() == "root:secret\n"
    assert not prom.is_symlink() and prom.read_text().startswith("# HELP")
    assert _mode(prom) == 0o640
    assert (directory / "virt-rebalance-run.prom.tmp").is_symlink()  # never used, never followed


def test_state_files_are_private_and_leave_no_temp_file(tmp_path: Path, outside: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "last-run.json").symlink_to(outside)
    (state / "maintenance.tmp").symlink_to(outside)
    write_atomically(state / "last-run.json", "{}\n")
    maintenance.mark(state, ["h1"], "evacuate")
    assert outside.read_text() == "root:secret\n"
    for name in ("last-run.json", "maintenance.json"):
        assert _mode(state / name) == 0o600 and not (state / name).is_symlink()
    assert sorted(p.name for p in state.iterdir()) == ["last-run.json", "maintenance.json", "maintenance.tmp"]


def test_metrics_take_the_directorys_group(tmp_path: Path) -> None:
    directory = tmp_path / "textfile"
    directory.mkdir()
    os.chown(directory, -1, NOBODY)
    write_atomically(directory / "x.prom", "x 1\n", kind="metrics")
    assert (directory / "x.prom").stat().st_gid == NOBODY


@pytest.mark.parametrize(
    ("mode", "kind", "refused"),
    [
        (0o777, "state", True),
        (0o777, "metrics", True),
        (0o1777, "state", True),
        (0o1777, "metrics", False),
        (0o755, "state", False),
    ],
    ids=["world-state", "world-metrics", "sticky-state", "sticky-metrics", "private"],
)
def test_directories_writable_by_others(tmp_path: Path, mode: int, kind: str, refused: bool) -> None:
    directory = tmp_path / "d"
    directory.mkdir()
    directory.chmod(mode)
    if refused:
        with pytest.raises(UnsafeDirectoryError, match=r"(writable|shared) by every user"):
            write_atomically(directory / "f", "x", kind=kind)  # type: ignore[arg-type]
        assert list(directory.iterdir()) == []
    else:
        write_atomically(directory / "f", "x", kind=kind)  # type: ignore[arg-type]
        assert (directory / "f").read_text() == "x"


def test_a_directory_owned_by_another_user_is_a_warning_naming_them(tmp_path: Path, capsys) -> None:
    directory = tmp_path / "textfile"
    directory.mkdir()
    os.chown(directory, NOBODY, NOBODY)
    reason = check_directory(directory, "metrics")
    assert reason is not None and "nobody" in reason
    write_atomically(directory / "x.prom", "x 1\n", kind="metrics")
    assert "textfile" in capsys.readouterr().err


def test_output_into_a_missing_directory_is_a_clean_error(tmp_path: Path) -> None:
    with pytest.raises(FileWriteError, match="its directory does not exist"):
        write_atomically(tmp_path / "missing" / "plan.json", "{}", kind="output")


def test_a_symlink_at_the_lock_or_the_journal_is_refused(tmp_path: Path, outside: Path) -> None:
    (tmp_path / lock.LOCK_NAME).symlink_to(outside)
    with pytest.raises(FileWriteError, match="symbolic link"), lock.hold(tmp_path, "run"):
        pass
    (tmp_path / "journal.sqlite").symlink_to(outside)
    with pytest.raises(FileWriteError, match="symbolic link"):
        Journal(tmp_path, sample_plan())
    assert outside.read_text() == "root:secret\n"


def test_lock_and_journal_are_private(tmp_path: Path) -> None:
    with lock.hold(tmp_path, "run") as path:
        assert _mode(path) == 0o600
    journal = Journal(tmp_path, sample_plan())
    journal.lock()
    journal.close()
    assert _mode(tmp_path / "journal.sqlite") == 0o600
    assert _mode(tmp_path / "apply.lock") == 0o600
