"""Usage arithmetic on getAllDomainStats dicts."""

from __future__ import annotations

from typing import Any

import pytest

from collectors import constants as c
from collectors import usage


@pytest.mark.parametrize(
    ("before", "after", "seconds", "millicores"),
    [
        ({"cpu.time": 0}, {"cpu.time": 2_000_000_000}, 2.0, 1000),
        ({"cpu.time": 5}, {"cpu.time": 5}, 2.0, 0),
        ({"cpu.time": 0}, {"cpu.time": 1_500_000_000}, 0.5, 3000),
        (None, {"cpu.time": 10}, 2.0, 0),
        ({"cpu.time": 100}, {"cpu.time": 50}, 1.0, 0),
        ({}, {}, 1.0, 0),
    ],
    ids=["one-cpu", "idle", "three-cpus", "new-guest", "restarted", "inactive"],
)
def test_cpu_rate(
    before: dict[str, Any] | None, after: dict[str, Any], seconds: float, millicores: int
) -> None:
    assert usage.cpu_millicores(before, after, seconds) == millicores


@pytest.mark.parametrize(
    ("stats", "mib"),
    [
        ({"balloon.available": 1048576, "balloon.unused": 524288, "balloon.rss": 900000}, 512),
        ({"balloon.rss": 300000, "balloon.current": 262144}, 256),
        ({"balloon.rss": 102400, "balloon.current": 262144}, 100),
        ({}, None),
    ],
    ids=["guest-reported", "rss-capped-at-current", "rss", "none"],
)
def test_memory_used(stats: dict[str, Any], mib: int | None) -> None:
    assert usage.memory_used_mib(stats) == mib


@pytest.mark.parametrize(
    ("stats", "rate", "measuring"),
    [
        (
            {"dirtyrate.calc_status": c.VIR_DOMAIN_DIRTYRATE_MEASURED, "dirtyrate.megabytes_per_second": 42},
            42,
            False,
        ),
        ({"dirtyrate.calc_status": c.VIR_DOMAIN_DIRTYRATE_MEASURING}, None, True),
        ({"dirtyrate.calc_status": c.VIR_DOMAIN_DIRTYRATE_UNSTARTED}, None, False),
        ({}, None, False),
    ],
    ids=["measured", "measuring", "unstarted", "unsupported"],
)
def test_dirty_rate(stats: dict[str, Any], rate: int | None, measuring: bool) -> None:
    assert usage.dirty_rate_mibps(stats) == rate
    assert usage.measuring(stats) is measuring
