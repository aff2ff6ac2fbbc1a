"""Admission: whether a migration may start now, and at what rate. One rule for the schedule and the run.

The list scheduler (run.py) asks it while it builds the timeline; the executor's queue (executor/runner.py)
asks it again before each start, from what really runs. A migration may start when the cluster, its
source's outgoing side and its destination's incoming side each run fewer migrations than their counts
allow (the counts cover the whole migration, its set-up too), and both NICs have bandwidth free once its
set-up is done (setup_s from now: what still sends then holds the link).
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.schedule.links import Links


@dataclass(slots=True)
class Nic:
    """One direction (outgoing or incoming) of a host's NIC at a moment: how many migrations go through
    it, and how much of its bandwidth (MiB/s) is free for one starting now, once that one has set up."""

    running: int
    sendable_mibps: float


def admit(net: Links, running: int, out: Nic, into: Nic, wanted: int) -> int:
    """The rate (MiB/s, at most `wanted`) a migration from `out`'s host into `into`'s may start at now
    while `running` migrations run in the cluster; 0 when a count is spent or less than 1 MiB/s is free
    on either NIC."""
    if running >= net.max_total or out.running >= net.max_out or into.running >= net.max_in:
        return 0
    rate = int(min(wanted, out.sendable_mibps, into.sendable_mibps))
    return rate if rate >= 1 else 0
