"""How sizes, times and loads read in reports."""

from __future__ import annotations

from planner.plan import HostLoad


def size(mib: float) -> str:
    """512 MiB, 4.0 GiB, 1.2 TiB."""
    if mib >= 1024 * 1024:
        return f"{mib / 1024 / 1024:.1f} TiB"
    if mib >= 1024:
        return f"{mib / 1024:.1f} GiB"
    return f"{mib:.0f} MiB"


def duration(seconds: float) -> str:
    """0.4s, 42s, 3m 05s, 1h 02m."""
    if seconds < 10:
        return f"{seconds:.1f}s"
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60:02d}s"
    return f"{s // 3600}h {s % 3600 // 60:02d}m"


def cpu(load: HostLoad) -> str:
    """45% (3.6/8.0 cores)."""
    used, cap = load.cpu_millicores / 1000, load.cpu_capacity_millicores / 1000
    return f"{load.cpu_pct:.0f}% ({used:.1f}/{cap:.1f} cores)"


def memory(load: HostLoad) -> str:
    """62% (10.0/16.0 GiB)."""
    used, cap = load.memory_mib / 1024, load.memory_capacity_mib / 1024
    return f"{load.memory_pct:.0f}% ({used:.1f}/{cap:.1f} GiB)"
