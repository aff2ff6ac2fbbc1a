"""A storage migration's estimate: the disk copy (allocation plus writes meanwhile), then the memory."""

from __future__ import annotations

import pytest

from planner.schedule.precopy import Limits, disk_copy_mib, estimate


@pytest.mark.parametrize(
    ("disk", "rate", "writes", "sent"),
    [(0, 100, 50, 0), (1000, 100, 0, 1000), (1000, 100, 50, 2000), (1000, 100, 100, 30000)],
    ids=["no-disk", "idle", "half-rate-writer", "never-catches-up"],
)
def test_disk_copy_sends_the_allocation_and_what_is_written_meanwhile(
    disk: float, rate: float, writes: float, sent: float
) -> None:
    assert disk_copy_mib(disk, rate, writes) == pytest.approx(sent)


def test_disk_copy_comes_before_the_memory_and_shares_its_rate() -> None:
    limits = Limits(setup_s=2.0)
    memory = estimate(1024, 100, 0, limits)
    both = estimate(1024, 100, 0, limits, disk_mib=2048, disk_write_mibps=1)
    assert both.disk_mib == pytest.approx(2048 / 0.99 + 1 * memory.sent_mib / 100)
    assert both.sent_mib == pytest.approx(memory.sent_mib + both.disk_mib)
    assert both.duration_s == pytest.approx(2.0 + both.sent_mib / 100)
    assert both.downtime_s == memory.downtime_s
