"""Watching one running migration through jobStats: progress numbers, and when to step in.

`Watch.observe(now, stats)` turns one jobStats reading into a `Sample` (MiB, MiB/s, round, ETA) and a
decision: abort on a stall (no bytes moved for `stall_s`) or on running past the time limit (the estimate
times the configured factor), or switch to post-copy when pre-copy does not converge: still sending after
`postcopy_after_rounds` rounds. Not on time alone: a migration's fixed start-up cost makes small ones late
anyway, and post-copy is a commitment (the guest cannot be aborted back to its source afterwards).
Pure: the runner does the calling.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from collectors import constants as c

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Sample:
    elapsed_s: float
    total_mib: float
    processed_mib: float
    remaining_mib: float
    rate_mibps: float
    dirty_mibps: float
    round: int
    eta_s: float | None


@dataclass(frozen=True, slots=True)
class Decision:
    action: Literal["abort", "postcopy"]
    reason: str


def sample(stats: dict[str, Any], elapsed_s: float) -> Sample | None:
    """The numbers of one jobStats reading; None when no job is running (not started yet, or over)."""
    if stats.get("type", c.VIR_DOMAIN_JOB_NONE) == c.VIR_DOMAIN_JOB_NONE:
        return None
    page = stats.get("memory_page_size", 4096) or 4096

    def both(name: str) -> float:  # a storage migration copies disks (disk_*) before the memory
        return float(stats.get(f"memory_{name}", 0) + stats.get(f"disk_{name}", 0)) / MIB

    remaining = both("remaining")
    rate = both("bps")
    return Sample(
        elapsed_s=elapsed_s,
        total_mib=both("total"),
        processed_mib=both("processed"),
        remaining_mib=remaining,
        rate_mibps=rate,
        dirty_mibps=stats.get("memory_dirty_rate", 0) * page / MIB,
        round=int(stats.get("memory_iteration", 0)),
        eta_s=remaining / rate if rate > 0 else None,
    )


class Watch:
    """Progress and stall bookkeeping for one migration, started at `started` (monotonic seconds)."""

    def __init__(
        self,
        started: float,
        stall_s: float,
        limit_s: float | None = None,
        postcopy_after_rounds: int | None = None,
    ) -> None:
        self.started = started
        self.stall_s = stall_s
        self.limit_s = limit_s
        self.postcopy_after_rounds = postcopy_after_rounds
        self.last_progress = started
        self.processed = -1
        self.disk_processed = 0  # bytes of local disks copied (the source's job alone reports them)
        self.postcopy = False
        self.stopping = False
        self.last: Sample | None = None

    def observe(self, now: float, stats: dict[str, Any]) -> tuple[Sample | None, Decision | None]:
        elapsed = now - self.started
        s = sample(stats, elapsed)
        if s is not None:
            self.last = s
            moved = int(stats.get("memory_processed", 0)) + int(stats.get("disk_processed", 0))
            if moved > self.processed:
                self.processed, self.last_progress = moved, now
            self.disk_processed = max(self.disk_processed, int(stats.get("disk_processed", 0)))
        return s, self._decide(now, elapsed, s)

    def _decide(self, now: float, elapsed: float, s: Sample | None) -> Decision | None:
        if self.stopping or self.postcopy:  # a post-copy migration cannot be aborted: let it finish
            return None
        if now - self.last_progress > self.stall_s:
            self.stopping = True
            return Decision("abort", f"stalled: no progress for {now - self.last_progress:.1f}s")
        if self.limit_s is not None and elapsed > self.limit_s:
            self.stopping = True
            return Decision("abort", f"took longer than its limit of {self.limit_s:.1f}s")
        rounds = self.postcopy_after_rounds
        if rounds is not None and s is not None and s.remaining_mib > 0 and s.round >= rounds:
            self.postcopy = True
            return Decision("postcopy", f"pre-copy not converging (round {s.round}): switching to post-copy")
        return None
