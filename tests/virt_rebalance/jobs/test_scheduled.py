"""`run --scheduled`: the timer wakes it often; it runs once per open policy.window, and otherwise exits
at once without touching libvirt or recording a run."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.virt_rebalance.fakes import write_config
from virt_rebalance.cli import main
from virt_rebalance.config import load_config
from virt_rebalance.jobs.exitcodes import ExitCode
from virt_rebalance.jobs.nightly import not_due
from virt_rebalance.jobs.window import OutsideWindow, opened_at


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute).astimezone()


@pytest.mark.parametrize(
    ("window", "now", "opened"),
    [
        ("22:00-05:00", at(26, 23), at(26, 22)),
        ("22:00-05:00", at(27, 1), at(26, 22)),
        ("01:00-04:30", at(26, 2), at(26, 1)),
        ("00:00-00:00", at(26, 13), at(26, 0)),
        (None, at(26, 0), at(26, 0)),
    ],
    ids=["evening", "after-midnight", "same-day", "all-day", "no-window-is-daily"],
)
def test_opened_at_is_the_start_of_the_open_window(window, now, opened) -> None:
    assert opened_at(window, now) == opened


def test_opened_at_raises_when_closed() -> None:
    with pytest.raises(OutsideWindow):
        opened_at("22:00-05:00", at(26, 12))


def _config(tmp_path: Path, last_started: datetime | None, window: str = "22:00-05:00"):
    config = load_config(write_config(tmp_path, extra=f'[policy]\nwindow = "{window}"\n'))
    if last_started is not None:
        state = Path(config.state_dir)
        state.mkdir(parents=True, exist_ok=True)
        (state / "last-run.json").write_text(json.dumps({"started_at": last_started.isoformat()}))
    return config


@pytest.mark.parametrize(
    ("now", "last", "expected"),
    [
        (at(26, 12), None, ExitCode.OUTSIDE_WINDOW),
        (at(26, 22, 10), None, None),
        (at(26, 22, 10), at(25, 22, 0), None),
        (at(27, 1), at(26, 22, 0), ExitCode.NOTHING_TO_DO),
    ],
    ids=["closed", "first-in-window", "ran-last-night", "ran-tonight"],
)
def test_not_due(tmp_path, now, last, expected) -> None:
    skip = not_due(_config(tmp_path, last), now)
    assert (skip[0] if skip else None) == expected


def test_the_command_exits_at_once_when_not_due(tmp_path, fake_steps) -> None:
    config = _config(tmp_path, datetime.now().astimezone(), window="00:00-00:00")
    result = CliRunner().invoke(main, ["run", "--scheduled", "--config", str(tmp_path / "cluster.toml")])
    assert result.exit_code == ExitCode.NOTHING_TO_DO, result.output
    assert "already started in this window" in result.output
    assert not fake_steps.applied and not (Path(config.state_dir) / "runs").exists()
