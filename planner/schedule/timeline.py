"""An event-driven list scheduler: each leg starts as soon as its dependencies are done and budgets allow.

Every running migration holds a bandwidth reservation on its source's outgoing NIC and its destination's
incoming NIC (the executor passes it to libvirt as the migration's bandwidth), so migrations never slow
each other and each one costs what the pre-copy model says at its rate. Sharing a link is a choice: a leg
that could only get part of a link starts now only if it would end no later than by waiting for the full
rate (a slower migration re-sends more dirty memory). Among the legs ready at a moment, the one with the
most work behind it goes first: the longest chain it heads, or the busiest NIC it uses.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from functools import cache

from planner.errors import PlannerBugError
from planner.schedule.graph import Ordering, dependents, topological
from planner.schedule.links import Links
from planner.schedule.precopy import Precopy, estimate
from planner.violation import Violation


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


def full_costs(ordering: Ordering, net: Links) -> list[Precopy]:
    """Each leg's cost at its full path rate: the fastest it can ever go."""
    return [
        estimate(
            leg.vm.memory_mib,
            net.path_mibps(leg.source, leg.destination),
            leg.vm.dirty_rate_mibps,
            net.limits,
        )
        for leg in ordering.legs
    ]


def chain_tails(ordering: Ordering, full: list[Precopy]) -> list[float]:
    """For each leg, the longest chain of full-rate durations from its start to the end of its dependents."""
    after = dependents(ordering)
    tail = [0.0] * len(ordering.legs)
    for i in reversed(topological(ordering)):
        tail[i] = full[i].duration_s + max((tail[j] for j in after[i]), default=0.0)
    return tail


def timeline(ordering: Ordering, net: Links) -> tuple[Slot, ...]:
    """Place every leg of an acyclic `ordering` on a timeline that keeps the budgets in `net`."""
    legs = ordering.legs
    full = full_costs(ordering, net)
    tail = chain_tails(ordering, full)

    @cache
    def cost(i: int, rate: int) -> Precopy:
        return estimate(legs[i].vm.memory_mib, rate, legs[i].vm.dirty_rate_mibps, net.limits)

    free_out, free_in = dict(net.nic_mibps), dict(net.nic_mibps)
    n_out = dict.fromkeys(net.nic_mibps, 0)
    n_in = dict.fromkeys(net.nic_mibps, 0)
    left_out = dict.fromkeys(net.nic_mibps, 0.0)  # seconds of full-rate sending not yet started, per NIC
    left_in = dict.fromkeys(net.nic_mibps, 0.0)
    for i, leg in enumerate(legs):
        left_out[leg.source] += full[i].sent_mib / net.nic_mibps[leg.source]
        left_in[leg.destination] += full[i].sent_mib / net.nic_mibps[leg.destination]
    waiting = [len(d) for d in ordering.depends_on]
    after = dependents(ordering)
    ready = {i for i, n in enumerate(waiting) if n == 0}
    running: list[tuple[float, int]] = []
    slots: dict[int, Slot] = {}
    now = 0.0

    def when_free(host_free: dict[str, int], host: str, wanted: int, end_of: str) -> float:
        """When `host`'s NIC (one direction) will have `wanted` MiB/s free, as running legs end."""
        have, at = host_free[host], now
        for end, j in sorted(running):
            if have >= wanted:
                break
            if getattr(legs[j], end_of) == host:
                have += slots[j].bandwidth_mibps
                at = end
        return at

    while ready or running:
        by_priority = sorted(
            ready,
            key=lambda i: (
                -max(tail[i], left_out[legs[i].source], left_in[legs[i].destination]),
                i,
            ),
        )
        for i in by_priority:
            src, dst = legs[i].source, legs[i].destination
            if n_out[src] >= net.max_out or n_in[dst] >= net.max_in or len(running) >= net.max_total:
                continue
            best = net.path_mibps(src, dst)
            rate = int(min(best, free_out[src], free_in[dst]))
            if rate < 1:
                continue
            if rate < best:
                later = max(
                    when_free(free_out, src, best, "source"), when_free(free_in, dst, best, "destination")
                )
                if now + cost(i, rate).duration_s > later + full[i].duration_s:
                    continue
            slot = Slot(i, now, rate, cost(i, rate))
            slots[i] = slot
            ready.discard(i)
            heapq.heappush(running, (slot.end_s, i))
            free_out[src] -= rate
            free_in[dst] -= rate
            n_out[src] += 1
            n_in[dst] += 1
            left_out[src] -= full[i].sent_mib / net.nic_mibps[src]
            left_in[dst] -= full[i].sent_mib / net.nic_mibps[dst]
        if not running:
            break  # nothing runs and nothing can start: only a cycle does that, reported below
        now, finished = heapq.heappop(running)
        for j in [finished] + [heapq.heappop(running)[1] for _ in range(_ending_at(running, now))]:
            src, dst = legs[j].source, legs[j].destination
            free_out[src] += slots[j].bandwidth_mibps
            free_in[dst] += slots[j].bandwidth_mibps
            n_out[src] -= 1
            n_in[dst] -= 1
            for k in after[j]:
                waiting[k] -= 1
                if waiting[k] == 0:
                    ready.add(k)
    if len(slots) < len(legs):
        stuck = [legs[i].vm.name for i in range(len(legs)) if i not in slots]
        raise PlannerBugError(
            "schedule", [Violation("schedule-order", f"these legs never became ready: {', '.join(stuck)}")]
        )
    return tuple(sorted(slots.values(), key=lambda s: (s.start_s, s.leg)))


def _ending_at(running: list[tuple[float, int]], moment: float) -> int:
    return sum(1 for end, _ in running if end <= moment)
