"""The list scheduler's state while it runs: what holds each host and each NIC, what runs, what waits.

Room counts a guest in flight on both hosts: reserved on its destination at the start, released on its
source at the end. Every running migration holds a bandwidth reservation on its source's outgoing NIC and
its destination's incoming NIC (the executor passes it to libvirt as the migration's bandwidth), so
migrations never slow each other and each costs what the pre-copy model says at its rate. The reservation
covers its transfer only, [start + setup_s, end): nothing is sent during the set-up, so a leg may begin
its set-up while the one before it on a link still sends (the concurrency counts cover [start, end]).
A leg starting now needs its rate free at now + setup_s; from then on the commitments only fall until a
later start, which checks itself (so the run also wakes setup_s before each end). Whether a leg may start
and at what rate is admission.py's answer, the one the executor asks too; each host's NIC is two
`Direction` records (outgoing, incoming). Sharing a link is a
choice: a leg that could only get part of a link starts now only if it would end no later than by waiting
for the full rate (a slower migration re-sends more dirty memory).

Among the legs that could start, the one with the most work behind it goes first: the busiest NIC it
uses, the arrivals waiting for room on its source, or its own length; among equals, the one with the
longest room chain behind it (tails.py), then one in a room chain at all. The best-placed leg that lacks
room keeps it from others; a leg that others wait for (its room chain is longer than its own legs) and
whose links are busy keeps its room on the destination, and its links from worse-placed legs that would
not end before it could use them.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass
from math import inf

from planner.model import Cluster
from planner.plan import Stay
from planner.schedule.admission import Nic, admit
from planner.schedule.graph import Apart, Event, Leg, Ordering, blocked_by, dependencies
from planner.schedule.links import Links
from planner.schedule.room import Need, limits, need, usage
from planner.schedule.slot import Slot, cost_at, full_cost
from planner.schedule.tails import room_chains


@dataclass(slots=True)
class Direction(Nic):
    """One direction of a host's NIC as the scheduler tracks it: besides what admission reads (migrations
    through it, bandwidth free at now + setup_s), the bandwidth free now (less every running leg's rate)
    and the full-rate seconds of the legs not yet started through it (the work waiting on it)."""

    free_mibps: float
    left_s: float = 0.0


def _direction(mibps: int) -> Direction:
    return Direction(running=0, sendable_mibps=mibps, free_mibps=mibps)


class Run:
    """The scheduler's state at `now`: what holds each host, each NIC, and what waits."""

    def __init__(
        self, cluster: Cluster, legs: list[Leg], follows: dict[int, int], net: Links, apart: Apart
    ) -> None:
        self.cluster, self.legs, self.net, self.apart = cluster, legs, net, apart
        self.at = dict(cluster.placement)  # where each guest is: on its source until its leg ends
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
        self.out = {h: _direction(rate) for h, rate in net.nic_mibps.items()}  # each host's outgoing side
        self.into = {h: _direction(rate) for h, rate in net.nic_mibps.items()}  # and its incoming side
        for i in self.pending:
            self._count(i, +1)
        self._rechain()

    def _rechain(self) -> None:
        """Room chains (tails.py) over the legs still pending, after the legs changed."""
        self.onward.clear()
        live = set(self.pending)
        durations = [
            full_cost(leg, self.net).duration_s if i in live else 0.0 for i, leg in enumerate(self.legs)
        ]
        self.chains = room_chains(self.cluster, self.legs, self.first_leg, durations)

    def _count(self, i: int, sign: int) -> None:
        leg = self.legs[i]
        sent = full_cost(leg, self.net).sent_mib
        self.out[leg.source].left_s += sign * sent / self.net.nic_mibps[leg.source]
        self.into[leg.destination].left_s += sign * sent / self.net.nic_mibps[leg.destination]

    def _onward_s(self, i: int) -> float:
        """The full-rate duration of leg `i` and of the legs that follow it (a hop's onward legs)."""
        if i not in self.onward:
            self.onward[i] = full_cost(self.legs[i], self.net).duration_s + sum(
                self._onward_s(j) for j, first in self.first_leg.items() if first == i
            )
        return self.onward[i]

    def _priority(self, i: int, waiting_on: Mapping[str, float]) -> tuple[float, float, bool, int]:
        """Most work behind it first: its own chain (and the longest one waiting for room it frees),
        or the full-rate work left on either NIC it uses, or on the incoming side of its source; among
        equals, the longest room chain behind its own legs, then a leg in a room chain at all."""
        leg = self.legs[i]
        work = max(
            self._onward_s(i) + waiting_on.get(leg.source, 0.0),
            self.out[leg.source].left_s,
            self.into[leg.destination].left_s,
            self.into[leg.source].left_s,
        )
        return -work, self._onward_s(i) - self.chains.tails[i], not self.chains.chained[i], i

    def ready(self, i: int) -> bool:
        """Whether leg `i`'s guest is at its source: it is no hop's onward leg, or that hop is done."""
        return i not in self.first_leg or self.first_leg[i] in self.done

    def _fits(self, i: int) -> bool:
        dst = self.legs[i].destination
        return self.needs[i].fits_in(self.cap[dst] - self.held[dst])

    def start_what_fits(self, keep_room: bool) -> None:
        if len(self.running) >= self.net.max_total:
            return
        self._commit()
        waiting_on: dict[str, float] = {}  # per host, the longest chain of a ready leg lacking room there
        candidates = []  # ready legs lacking room (they keep it), that others wait for, or that can send now
        for i in filter(self.ready, self.pending):
            src, dst = self.legs[i].source, self.legs[i].destination
            if blocked_by(self.legs[i], self.at, self.apart):
                continue  # it waits for a guest to leave its destination, not for room
            if not self._fits(i):
                waiting_on[dst] = max(waiting_on.get(dst, 0.0), self._onward_s(i))
                candidates.append(i)
            elif self._unblocks(i) or (
                self.out[src].running < self.net.max_out and self.out[src].sendable_mibps >= 1
            ):
                candidates.append(i)
        kept: set[str] = set()  # destinations whose room is kept for a better-placed leg
        reserved: dict[str, Need] = {}  # room kept for better-placed legs waiting for their links
        claimed: dict[tuple[str, str], float] = {}  # and their links, until when they could start
        for i in sorted(candidates, key=lambda i: self._priority(i, waiting_on)):
            leg = self.legs[i]
            src, dst = leg.source, leg.destination
            if dst in kept:
                continue
            if not self.needs[i].fits_in(self.cap[dst] - self.held[dst] - reserved.get(dst, Need())):
                if keep_room:
                    kept.add(dst)
                continue
            if len(self.running) >= self.net.max_total:
                return
            rate = self._rate(i)
            until = min(claimed.get(("out", src), inf), claimed.get(("in", dst), inf))
            if rate and self.now + cost_at(leg, rate, self.net).duration_s <= until + 1e-9:
                self._start(i, rate)  # ends before any better-placed leg could use its links
            elif keep_room and self._unblocks(i):
                reserved[dst] = reserved.get(dst, Need()) + self.needs[i]
                at = self._free_at(i)
                for link in (("out", src), ("in", dst)):
                    claimed[link] = min(claimed.get(link, inf), at)

    def _unblocks(self, i: int) -> bool:
        """Whether legs may wait for leg `i` to end, beyond its own guest's onward legs."""
        return self.chains.tails[i] > self._onward_s(i) + 1e-9

    def _rate(self, i: int) -> int:
        """The rate to start leg `i` at now (admission.py: within the counts and the free bandwidth), or 0
        to wait: for a count or bandwidth, or for a faster rate than the links give now."""
        leg = self.legs[i]
        best = self.net.path_mibps(leg.source, leg.destination)
        rate = admit(self.net, len(self.running), self.out[leg.source], self.into[leg.destination], best)
        if not rate:
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

    def _commit(self) -> None:
        """What each NIC (each direction) has free at now + setup_s, when a leg starting now first sends:
        the running legs ending by then hold nothing."""
        for nic in (*self.out.values(), *self.into.values()):
            nic.sendable_mibps = nic.free_mibps
        sends_at = self.now + self.net.limits.setup_s
        for end, j in self.running:
            if end <= sends_at + 1e-9:
                leg, rate = self.legs[j], self.slots[j].bandwidth_mibps
                self.out[leg.source].sendable_mibps += rate
                self.into[leg.destination].sendable_mibps += rate

    def _when_free(self, host: str, wanted: int, out: bool) -> float:
        """The earliest start at which `host`'s NIC (one direction) runs fewer migrations than its
        concurrency budget and has `wanted` MiB/s free from that start + setup_s on, as running legs end."""
        setup = self.net.limits.setup_s
        mine = [
            (end, self.slots[j].bandwidth_mibps)
            for end, j in self.running
            if (self.legs[j].source if out else self.legs[j].destination) == host
        ]
        base = (self.out if out else self.into)[host].free_mibps
        most = self.net.max_out if out else self.net.max_in
        for at in sorted({self.now, *(max(self.now, end - s) for end, _ in mine for s in (0.0, setup))}):
            busy = sum(end > at + 1e-9 for end, _ in mine)
            have = base + sum(rate for end, rate in mine if end <= at + setup + 1e-9)
            if have >= wanted and busy < most:
                return at
        return max((end for end, _ in mine), default=self.now)

    def _free_at(self, i: int) -> float:
        """When leg `i` could start at its full path rate, as far as its links go."""
        leg = self.legs[i]
        best = self.net.path_mibps(leg.source, leg.destination)
        return max(
            self._when_free(leg.source, best, out=True), self._when_free(leg.destination, best, out=False)
        )

    def _start(self, i: int, rate: int) -> None:
        leg = self.legs[i]
        slot = Slot(i, self.now, rate, cost_at(leg, rate, self.net))
        self.slots[i] = slot
        self.pending.remove(i)
        heapq.heappush(self.running, (slot.end_s, i))
        self.events.append(("start", i))
        self.held[leg.destination] = self.held[leg.destination] + self.needs[i]
        for nic in (self.out[leg.source], self.into[leg.destination]):
            nic.free_mibps -= rate
            nic.sendable_mibps -= rate
            nic.running += 1
        self._count(i, -1)

    def finish_next(self) -> None:
        """Advance to the next end of a migration, or to setup_s before one (a leg starting then sends
        once that one is done), and release what every leg ending by then held."""
        setup = self.net.limits.setup_s
        self.now = min(
            [self.running[0][0], *(end - setup for end, _ in self.running if end - setup > self.now + 1e-9)]
        )
        while self.running and self.running[0][0] <= self.now:
            _, j = heapq.heappop(self.running)
            leg = self.legs[j]
            self.events.append(("end", j))
            self.done.add(j)
            self.at[leg.vm.uuid] = leg.destination
            self.held[leg.source] = self.held[leg.source] - self.needs[j]
            for nic in (self.out[leg.source], self.into[leg.destination]):
                nic.free_mibps += self.slots[j].bandwidth_mibps
                nic.running -= 1

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
        if blocked_by(goal, self.at, self.apart):
            return None
        for j in chain[1:]:
            self.pending.remove(j)
            self._count(j, -1)
            del self.first_leg[j]
        self._count(i, -1)
        self.legs[i] = Leg(leg.vm, leg.source, goal.destination)
        self._count(i, +1)
        self._rechain()
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
        self._rechain()

    def result(self, stays: list[Stay], notes: list[str]) -> tuple[Ordering, tuple[Slot, ...]]:
        """The started legs, numbered in start order, with dependencies read off the events."""
        order = [i for kind, i in self.events if kind == "start"]
        new = {old: n for n, old in enumerate(order)}
        legs = [self.legs[i] for i in order]
        events: list[Event] = [(kind, new[i]) for kind, i in self.events]
        ordering = Ordering(
            tuple(legs), dependencies(self.cluster, legs, events, self.apart), tuple(stays), tuple(notes)
        )
        slots = tuple(
            Slot(new[s.leg], s.start_s, s.bandwidth_mibps, s.cost)
            for s in sorted(self.slots.values(), key=lambda s: new[s.leg])
        )
        return ordering, slots
