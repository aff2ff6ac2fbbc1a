"""The network and concurrency budgets a schedule must keep, read from Budgets and the hosts.

A host's NIC rate (MiB/s, each direction) comes from `Budgets.host_nic_mibps`, else `Host.nic_mibps`.
A budget of 0 or less means "no limit" for the per-migration cap and for every concurrency count.
`calibration` is what the journal taught per host pair (Budgets.links): slot.cost_at uses it, with each
link's own set-up time; `limits.setup_s` is the shortest set-up of any link, so the schedule reserves a
link's bandwidth from the earliest moment any migration may send (never later than it does).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from planner.model import Cluster
from planner.policy import ANY_LINK, Budgets, LinkCalibration, link_key
from planner.schedule.precopy import Limits


@dataclass(frozen=True, slots=True)
class Links:
    nic_mibps: dict[str, int]
    per_migration_mibps: float
    max_out: float
    max_in: float
    max_total: float
    limits: Limits
    calibration: dict[str, LinkCalibration] = field(default_factory=dict)

    setup_s: float = 0.0  # the configured set-up, for the links with no calibration

    def calibrated(self, source: str, destination: str) -> LinkCalibration | None:
        """What `source` -> `destination` learned, else what all links learned, else None."""
        return self.calibration.get(link_key(source, destination)) or self.calibration.get(ANY_LINK)

    def path_mibps(self, source: str, destination: str) -> int:
        """The fastest a migration from `source` to `destination` may go when it has both NICs alone."""
        fastest = min(self.nic_mibps[source], self.nic_mibps[destination], self.per_migration_mibps)
        return max(1, int(fastest))


def links(cluster: Cluster, budgets: Budgets) -> Links:
    def cap(value: int) -> float:
        return float(value) if value > 0 else math.inf

    nic = {h.name: budgets.host_nic_mibps.get(h.name, h.nic_mibps) for h in cluster.hosts}
    return Links(
        nic_mibps={h: max(1, rate) for h, rate in nic.items()},
        per_migration_mibps=cap(budgets.per_migration_mibps),
        max_out=cap(budgets.max_outgoing_per_host),
        max_in=cap(budgets.max_incoming_per_host),
        max_total=cap(budgets.max_concurrent),
        limits=Limits(
            downtime_limit_ms=budgets.downtime_limit_ms,
            max_rounds=budgets.max_rounds,
            setup_s=min([budgets.setup_s, *(c.setup_s for c in budgets.links.values())]),
            auto_converge=budgets.auto_converge,
        ),
        calibration=dict(budgets.links),
        setup_s=budgets.setup_s,
    )
