"""SQLite usage history: append, bounded retention, mean and p95 over a window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from collectors.history import CpuSummary, History
from planner.model import VmState
from tests.builders import make_vm

T0 = datetime(2026, 3, 1, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture
def history(tmp_path: Path) -> History:
    return History(tmp_path / "sub" / "history.sqlite")


def record_series(
    history: History, uuid: str, values: list[int], step: timedelta = timedelta(hours=1)
) -> None:
    for i, cpu in enumerate(values):
        history.record(T0 + i * step, [make_vm(uuid=uuid, cpu_millicores=cpu)], retention=14 * DAY)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([500], CpuSummary(500, 500, 1)),
        ([100, 200, 300, 400], CpuSummary(250, 400, 4)),
        ([10] * 19 + [2000], CpuSummary(110, 10, 20)),  # one spike in 20 is above the 95th percentile
        ([10] * 18 + [2000, 2000], CpuSummary(209, 2000, 20)),
    ],
    ids=["one", "ramp", "one-spike-in-20", "two-spikes-in-20"],
)
def test_mean_and_p95(history: History, values: list[int], expected: CpuSummary) -> None:
    record_series(history, "u1", values)
    assert history.summarise(T0, T0 + len(values) * timedelta(hours=1)) == {"u1": expected}


def test_window_excludes_older_samples(history: History) -> None:
    record_series(history, "u1", [1000, 1000, 0, 0])
    assert history.summarise(T0 + timedelta(hours=2), T0 + timedelta(hours=3))["u1"] == CpuSummary(0, 0, 2)


def test_retention_drops_old_samples(history: History) -> None:
    record_series(history, "u1", [1, 2, 3], step=DAY)
    history.record(T0 + 30 * DAY, [make_vm(uuid="u1")], retention=14 * DAY)
    assert history.count() == 1


def test_only_running_guests_are_sampled(history: History) -> None:
    n = history.record(T0, [make_vm(uuid="a"), make_vm(uuid="b", state=VmState.SHUTOFF)], retention=DAY)
    assert n == 1 and set(history.summarise(T0, T0)) == {"a"}


def test_history_persists_across_opens(tmp_path: Path) -> None:
    with History(tmp_path / "h.sqlite") as h:
        h.record(T0, [make_vm(uuid="a", cpu_millicores=7)], retention=DAY)
    with History(tmp_path / "h.sqlite") as h:
        assert h.summarise(T0, T0)["a"] == CpuSummary(7, 7, 1)
