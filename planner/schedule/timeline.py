"""An event-driven list scheduler: each leg starts as soon as its destination has room, its hop's first
leg is done, and the budgets allow; then the dependencies are read off what it did (graph.py).

Room counts a guest in flight on both hosts: reserved on its destination at the start, released on its
source at the end. Every running migration holds a bandwidth reservation on its source's outgoing NIC and
its destination's incoming NIC (the executor passes it to libvirt as the migration's bandwidth), so
migrations never slow each other and each costs what the pre-copy model says at its rate. Sharing a link
is a choice: a leg that could only get part of a link starts now only if it would end no later than by
waiting for the full rate (a slower migration re-sends more dirty memory). Among the legs that could
start, the one with the most work behind it goes first: the busiest NIC it uses, the arrivals waiting
for room on its source, or its own length; the best-placed leg that lacks room keeps it from others.

When nothing runs and nothing fits, a hop planned up front (graph.with_hops, for its own order of moves)
whose guest now fits at its target goes straight there; else graph.unblock looks at each guest's next
leg, and a leg that stays takes its onward legs with it: the guest stays where that leg starts.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from planner.model import Cluster
from planner.plan import Stay
from planner.schedule.graph import (
    Event,
    Leg,
    Ordering,
    dependencies,
    dependents,
    first_legs,
    topological,
    unblock,
    with_hops,
)
from planner.schedule.links import Links
from planner.schedule.precopy import Limits, Precopy, estimate
from planner.schedule.room import limits, need, usage


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
    memory_mib: int, rate_mibps: int, dirty_mibps: int, limits: Limits, resident_mib: int | None
) -> Precopy:
    return estimate(memory_mib, rate_mibps, dirty_mibps, limits, resident_mib)


def cost_at(leg: Leg, rate_mibps: int, net: Links) -> Precopy:
    """A leg's pre-copy cost at `rate_mibps`, from its guest's size, resident memory and dirty rate."""
    vm = leg.vm
    return _cost(vm.memory_mib, rate_mibps, vm.dirty_rate_mibps, net.limits, vm.memory_used_mib)


def full_cost(leg: Leg, net: Links) -> Precopy:
    """A leg's cost at its full path rate: the fastest it can ever go."""
    return cost_at(leg, net.path_mibps(leg.source, leg.destination), net)


def chain_tails(ordering: Ordering, net: Links) -> list[float]:
    """For each leg, the longest chain of full-rate durations from its start to the end of its dependents."""
    after = dependents(ordering)
    tail = [0.0] * len(ordering.legs)
    for i in reversed(topological(ordering)):
        tail[i] = full_cost(ordering.legs[i], net).duration_s + max((tail[j] for j in after[i]), default=0.0)
    return tail


def timeline(cluster: Cluster, target: Mapping[str, str], net: Links) -> tuple[Ordering, tuple[Slot, ...]]:
    """Legs carrying `cluster` to `target`, their dependencies, and when each starts at what rate."""
    notes: list[str] = []
    legs, stays = first_legs(cluster, target)
    legs, follows = with_hops(cluster, legs, stays, notes)
    run = _Run(cluster, legs, follows, net)
    hops: dict[str, int] = {}
    for leg in legs:
        hops[leg.vm.uuid] = hops.get(leg.vm.uuid, 0) + leg.temporary
    while run.pending or run.running:
        run.start_what_fits(keep_room=True)
        if not run.running:  # room kept for a leg that nothing running will make room for
            run.start_what_fits(keep_room=False)
        if run.running:
            run.finish_next()
            continue
        if not run.pending:
            break
        # Nothing runs and nothing fits: the ready legs (each guest's next one) wait for each other.
        ready = [i for i in run.pending if run.ready(i)]
        straight = next(filter(None, map(run.straight, ready)), None)
        if straight:
            notes.append(straight)
            continue
        way = unblock(cluster, [legs[i] for i in ready], run.held, hops, stays)
        i = next(i for i in ready if legs[i] is way.leg)
        if way.via is None:
            assert way.stay is not None
            run.drop(i)
            # One record per guest: it stays where this leg starts, whatever with_hops expected.
            stays[:] = [s for s in stays if s.vm_uuid != way.stay.vm_uuid] + [way.stay]
        else:
            hops[way.leg.vm.uuid] = hops.get(way.leg.vm.uuid, 0) + 1
            run.hop(i, way.via)
            notes.append(way.note)
    return run.result(stays, notes)


class _Run:
    """The scheduler's state at `now`: what holds each host, each NIC, and what waits."""

    def __init__(self, cluster: Cluster, legs: list[Leg], follows: dict[int, int], net: Links) -> None:
        self.cluster, self.legs, self.net = cluster, legs, net
        self.held, self.cap = usage(cluster), limits(cluster)
        self.pending: list[int] = list(range(len(legs)))
        self.first_leg = dict(follows)  # a hop's onward leg -> the leg it follows
        self.onward: dict[int, float] = {}  # memo of _onward_s
        self.needs = [need(leg.vm) for leg in legs]
        self.done: set[int] = set()
        self.running: list[tuple[float, int]] = []
        self.slots: dict[int, Slot] = {}
        self.events: list[Event] = []
        self.now = 0.0
        self.free_out, self.free_in = dict(net.nic_mibps), dict(net.nic_mibps)
        self.n_out = dict.fromkeys(net.nic_mibps, 0)
        self.n_in = dict.fromkeys(net.nic_mibps, 0)
        self.left_out = dict.fromkeys(net.nic_mibps, 0.0)  # full-rate seconds not yet started, per NIC
        self.left_in = dict.fromkeys(net.nic_mibps, 0.0)
        for i in self.pending:
            self._count(i, +1)

    def _count(self, i: int, sign: int) -> None:
        leg = self.legs[i]
        sent = full_cost(leg, self.net).sent_mib
        self.left_out[leg.source] += sign * sent / self.net.nic_mibps[leg.source]
        self.left_in[leg.destination] += sign * sent / self.net.nic_mibps[leg.destination]

    def _onward_s(self, i: int) -> float:
        """The full-rate duration of leg `i` and of the legs that follow it (a hop's onward legs)."""
        if i not in self.onward:
            self.onward[i] = full_cost(self.legs[i], self.net).duration_s + sum(
                self._onward_s(j) for j, first in self.first_leg.items() if first == i
            )
        return self.onward[i]

    def _priority(self, i: int, waiting_on: Mapping[str, float]) -> tuple[float, int]:
        """Most work behind it first: its own chain (and the longest one waiting for room it frees),
        or the full-rate work left on either NIC it uses, or on the incoming side of its source."""
        leg = self.legs[i]
        work = max(
            self._onward_s(i) + waiting_on.get(leg.source, 0.0),
            self.left_out[leg.source],
            self.left_in[leg.destination],
            self.left_in[leg.source],
        )
        return -work, i

    def ready(self, i: int) -> bool:
        """Whether leg `i`'s guest is at its source: it is no hop's onward leg, or that hop is done."""
        return i not in self.first_leg or self.first_leg[i] in self.done

    def _fits(self, i: int) -> bool:
        dst = self.legs[i].destination
        return self.needs[i].fits_in(self.cap[dst] - self.held[dst])

    def start_what_fits(self, keep_room: bool) -> None:
        if len(self.running) >= self.net.max_total:
            return
        waiting_on: dict[str, float] = {}  # per host, the longest chain of a ready leg lacking room there
        candidates = []  # ready legs lacking room (they keep it), or whose source can send now
        for i in filter(self.ready, self.pending):
            src, dst = self.legs[i].source, self.legs[i].destination
            if not self._fits(i):
                waiting_on[dst] = max(waiting_on.get(dst, 0.0), self._onward_s(i))
                candidates.append(i)
            elif self.n_out[src] < self.net.max_out and self.free_out[src] >= 1:
                candidates.append(i)
        kept: set[str] = set()  # destinations whose room is kept for a better-placed leg
        for i in sorted(candidates, key=lambda i: self._priority(i, waiting_on)):
            leg = self.legs[i]
            src, dst = leg.source, leg.destination
            if dst in kept:
                continue
            if not self._fits(i):
                if keep_room:
                    kept.add(dst)
                continue
            if self.n_out[src] >= self.net.max_out or self.n_in[dst] >= self.net.max_in:
                continue
            if len(self.running) >= self.net.max_total:
                return
            rate = self._rate(i)
            if rate:
                self._start(i, rate)

    def _rate(self, i: int) -> int:
        """The rate to start leg `i` at now, or 0 to wait for a faster one."""
        leg = self.legs[i]
        best = self.net.path_mibps(leg.source, leg.destination)
        rate = int(min(best, self.free_out[leg.source], self.free_in[leg.destination]))
        if rate < 1:
            return 0
        if rate < best:
            later = max(
                self._when_free(leg.source, best, out=True), self._when_free(leg.destination, best, out=False)
            )
            if (
                self.now + cost_at(leg, rate, self.net).duration_s
                > later + full_cost(leg, self.net).duration_s
            ):
                return 0
        return rate

    def _when_free(self, host: str, wanted: int, out: bool) -> float:
        """When `host`'s NIC (one direction) will have `wanted` MiB/s free, as running legs end."""
        have, at = (self.free_out if out else self.free_in)[host], self.now
        for end, j in sorted(self.running):
            if have >= wanted:
                break
            if (self.legs[j].source if out else self.legs[j].destination) == host:
                have += self.slots[j].bandwidth_mibps
                at = end
        return at

    def _start(self, i: int, rate: int) -> None:
        leg = self.legs[i]
        slot = Slot(i, self.now, rate, cost_at(leg, rate, self.net))
        self.slots[i] = slot
        self.pending.remove(i)
        heapq.heappush(self.running, (slot.end_s, i))
        self.events.append(("start", i))
        self.held[leg.destination] = self.held[leg.destination] + self.needs[i]
        self.free_out[leg.source] -= rate
        self.free_in[leg.destination] -= rate
        self.n_out[leg.source] += 1
        self.n_in[leg.destination] += 1
        self._count(i, -1)

    def finish_next(self) -> None:
        """Advance to the next end of a migration and release what every leg ending then held."""
        self.now = self.running[0][0]
        while self.running and self.running[0][0] <= self.now:
            _, j = heapq.heappop(self.running)
            leg = self.legs[j]
            self.events.append(("end", j))
            self.done.add(j)
            self.held[leg.source] = self.held[leg.source] - self.needs[j]
            self.free_out[leg.source] += self.slots[j].bandwidth_mibps
            self.free_in[leg.destination] += self.slots[j].bandwidth_mibps
            self.n_out[leg.source] -= 1
            self.n_in[leg.destination] -= 1

    def drop(self, i: int) -> None:
        """Leg `i` will not run, so neither will the legs that follow it (its guest never gets there)."""
        self.pending.remove(i)
        self._count(i, -1)
        for onward in [j for j, first in self.first_leg.items() if first == i]:
            self.drop(onward)

    def straight(self, i: int) -> str | None:
        """Send a stuck hop's guest straight to its target if that has room now (with_hops planned the hop
        for its own order of moves, not the timeline's); a note saying so, else None."""
        chain = [i]
        while onward := [j for j, first in self.first_leg.items() if first == chain[-1]]:
            chain.append(onward[0])
        leg, goal = self.legs[i], self.legs[chain[-1]]
        if not leg.temporary or goal.temporary or goal.destination == leg.source:
            return None
        if not self.needs[i].fits_in(self.cap[goal.destination] - self.held[goal.destination]):
            return None
        for j in chain[1:]:
            self.pending.remove(j)
            self._count(j, -1)
            del self.first_leg[j]
        self._count(i, -1)
        self.legs[i] = Leg(leg.vm, leg.source, goal.destination)
        self._count(i, +1)
        self.onward.clear()
        return f"{leg.vm.name} goes straight to {goal.destination} after all, not through {leg.destination}"

    def hop(self, i: int, via: str) -> None:
        """Send leg `i`'s guest to `via` first; the onward leg waits for that one."""
        leg = self.legs[i]
        self._count(i, -1)
        self.onward.clear()
        self.legs[i] = Leg(leg.vm, leg.source, via, temporary=True)
        self.legs.append(Leg(leg.vm, via, leg.destination))
        self.needs.append(need(leg.vm))
        onward = len(self.legs) - 1
        self.first_leg[onward] = i
        self.pending.append(onward)
        self._count(i, +1)
        self._count(onward, +1)

    def result(self, stays: list[Stay], notes: list[str]) -> tuple[Ordering, tuple[Slot, ...]]:
        """The started legs, numbered in start order, with dependencies read off the events."""
        order = [i for kind, i in self.events if kind == "start"]
        new = {old: n for n, old in enumerate(order)}
        legs = [self.legs[i] for i in order]
        events: list[Event] = [(kind, new[i]) for kind, i in self.events]
        ordering = Ordering(tuple(legs), dependencies(self.cluster, legs, events), tuple(stays), tuple(notes))
        slots = tuple(
            Slot(new[s.leg], s.start_s, s.bandwidth_mibps, s.cost)
            for s in sorted(self.slots.values(), key=lambda s: new[s.leg])
        )
        return ordering, slots
