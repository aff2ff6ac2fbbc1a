"""Usage from bulk getAllDomainStats readings: CPU as a rate, memory in use, the measured dirty rate.

Pure arithmetic on the stats dicts libvirt returns; `collectors.guests` makes the two readings.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from collectors import constants as c

Stats = Mapping[str, Any]


def cpu_millicores(before: Stats | None, after: Stats, seconds: float) -> int:
    """CPU used between two readings `seconds` apart: 1000 = one host CPU busy the whole time."""
    if before is None or seconds <= 0 or "cpu.time" not in before or "cpu.time" not in after:
        return 0
    used_ns = int(after["cpu.time"]) - int(before["cpu.time"])
    return max(0, round(used_ns / seconds / 1e6))


def memory_used_mib(stats: Stats) -> int | None:
    """Guest memory in use: from the balloon driver's own view when the guest reports it (available -
    unused), else the QEMU process's resident size capped at the guest's current memory."""
    if "balloon.available" in stats and "balloon.unused" in stats:
        return max(0, int(stats["balloon.available"]) - int(stats["balloon.unused"])) // 1024
    if "balloon.rss" in stats:
        rss = int(stats["balloon.rss"])
        if "balloon.current" in stats:
            rss = min(rss, int(stats["balloon.current"]))
        return rss // 1024
    return None


def dirty_rate_mibps(stats: Stats) -> int | None:
    """The dirty rate libvirt measured (startDirtyRateCalc), or None when it has no measurement."""
    if stats.get("dirtyrate.calc_status") != c.VIR_DOMAIN_DIRTYRATE_MEASURED:
        return None
    mb = stats.get("dirtyrate.megabytes_per_second")
    return None if mb is None else int(mb)


def measuring(stats: Stats) -> bool:
    return stats.get("dirtyrate.calc_status") == c.VIR_DOMAIN_DIRTYRATE_MEASURING
