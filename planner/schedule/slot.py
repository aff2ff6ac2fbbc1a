"""Where a leg sits on the timeline (its start, reserved rate and cost), and what a leg costs at a rate."""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache

from planner.schedule.graph import Leg
from planner.schedule.links import Links
from planner.schedule.precopy import Limits, Precopy, estimate


@dataclass(frozen=True, slots=True)
class Slot:
    """Where one leg sits on the timeline: when it starts, its reserved rate and its pre-copy cost."""

    leg: int
    start_s: float
    bandwidth_mibps: int
    cost: Precopy

    @property
    def end_s(self) -> float:
        return self.start_s + self.cost.duration_s


@cache
def _cost(
    memory_mib: int,
    rate_mibps: int,
    dirty_mibps: int,
    limits: Limits,
    resident_mib: int | None,
    disk_mib: int,
    disk_write_kibps: int,
) -> Precopy:
    return estimate(
        memory_mib, rate_mibps, dirty_mibps, limits, resident_mib, disk_mib, disk_write_kibps / 1024
    )


def cost_at(leg: Leg, rate_mibps: int, net: Links) -> Precopy:
    """A leg's cost at `rate_mibps`, from its guest's size, resident memory and dirty rate, and the local
    disks it copies first; on a calibrated link, at the rate really reached there, its set-up time, and
    what is really sent against the model's bytes."""
    vm = leg.vm
    link = net.calibrated(leg.source, leg.destination)
    limits = replace(net.limits, setup_s=net.setup_s if link is None else link.setup_s)
    reached = rate_mibps if link is None else max(1, round(rate_mibps * link.rate_factor))
    cost = _cost(
        vm.memory_mib,
        reached,
        vm.dirty_rate_mibps,
        limits,
        vm.memory_used_mib,
        vm.local_disk_mib,
        vm.disk_write_kibps,
    )
    if link is None:
        return cost
    sent = link.sent_fixed_mib + cost.sent_mib * link.sent_factor
    return replace(cost, sent_mib=sent, duration_s=link.setup_s + sent / reached, model_mib=cost.sent_mib)


def full_cost(leg: Leg, net: Links) -> Precopy:
    """A leg's cost at its full path rate: the fastest it can ever go."""
    return cost_at(leg, net.path_mibps(leg.source, leg.destination), net)
