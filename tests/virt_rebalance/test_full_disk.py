"""A full state directory is an error naming the path and the free space, never a traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from files.safe_write import write_atomically
from planner.errors import FileWriteError
from tests.full_disk import fill, tiny_disk
from virt_rebalance.cli import main
from virt_rebalance.jobs import lock


@pytest.fixture
def full(tmp_path: Path) -> Iterator[Path]:
    """The state directory, on a tmpfs filled to the last byte."""
    with tiny_disk(tmp_path / "state") as state:
        (state / "runs").mkdir()
        fill(state)
        yield state


def test_a_file_on_a_full_disk_is_an_error_naming_it_and_no_temp_file_stays(full: Path) -> None:
    with pytest.raises(FileWriteError, match=r"last-run.json: No space left on device \(0 B free\)"):
        write_atomically(full / "last-run.json", "x" * 10000)
    assert sorted(p.name for p in full.iterdir()) == ["filler", "runs"]


def test_the_lock_on_a_full_disk_is_an_error_naming_it(full: Path) -> None:
    full_lock = r"virt-rebalance.lock: No space left on device \(0 B free\)"
    with pytest.raises(FileWriteError, match=full_lock), lock.hold(full, "run"):
        pass


@pytest.mark.parametrize("command", [["run"], ["evacuate", "h1"]], ids=["run", "evacuate"])
def test_jobs_on_a_full_disk_exit_1_with_the_path_and_the_free_space(
    fake_steps, config_path: Path, full: Path, command: list[str]
) -> None:
    result = CliRunner().invoke(main, [*command, "--config", str(config_path)])
    assert result.exit_code == 1, result.output
    assert f"cannot write {full}" in result.output and "0 B free" in result.output
    assert "Traceback" not in result.output and fake_steps.applied == []


def test_a_summary_that_cannot_be_written_still_shows_the_outcome_and_fails(
    fake_steps, config_path: Path, tmp_path: Path
) -> None:
    with tiny_disk(tmp_path / "state", size="1m") as state:
        fake_steps.apply_hook = lambda: fill(state)
        result = CliRunner().invoke(main, ["run", "--config", str(config_path)])
    assert result.exit_code == 1, result.output
    assert "summary and metrics are not written" in result.output and "0 B free" in result.output
    assert "run done (exit 1): 2 of 2 migration(s) done" in result.output
