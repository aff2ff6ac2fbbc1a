"""How much waits behind each leg: the longest chain of legs that may have to wait for it to end.

A leg's guest cannot take its next leg before this one ends (a hop's onward leg), and an arrival at a
host that lacks room there when the plan starts (as earliest.py counts room: the host's limit minus every
guest placed there) may have to wait for the host's departures. A leg's tail is its own full-rate
duration plus the longest tail among the legs that may wait for it; where such waits form a cycle (a swap
whose legs both lack room) the chain is cut where it would come back. The timeline starts legs with long
tails first, so that the legs which unblock room chains (a hop's first leg, departures from a host whose
arrivals wait for room) start as early as the budgets allow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from planner.model import Cluster
from planner.schedule.graph import Leg
from planner.schedule.room import Need, limits, need, usage


@dataclass(frozen=True, slots=True)
class RoomChains:
    """Per leg: its tail, and whether it is in a chain at all (it waits, or something waits for it)."""

    tails: list[float]
    chained: list[bool]


def room_chains(
    cluster: Cluster, legs: Sequence[Leg], follows: Mapping[int, int], duration: Sequence[float]
) -> RoomChains:
    """Per leg, `duration` of itself plus the longest tail of the legs that may wait for it.

    `follows` maps each hop's onward leg to the leg it follows; `duration` is each leg's full-rate
    duration. Legs no longer in play may be given a duration of 0 and no place in `follows`.
    """
    held, cap = usage(cluster), limits(cluster)
    leaving: dict[str, list[int]] = {}
    for i, leg in enumerate(legs):
        leaving.setdefault(leg.source, []).append(i)
    after: list[list[int]] = [[] for _ in legs]
    chained = [False] * len(legs)
    for onward, first in follows.items():
        after[first].append(onward)
        chained[first] = chained[onward] = True
    for j, leg in enumerate(legs):
        short = need(leg.vm) - (cap[leg.destination] - held[leg.destination])
        for i in _cover(legs, leaving.get(leg.destination, []), short):
            if legs[i].vm.uuid != leg.vm.uuid:
                after[i].append(j)
                chained[i] = chained[j] = True
    tail: list[float | None] = [None] * len(legs)
    on_path = [False] * len(legs)
    for root in range(len(legs)):
        if tail[root] is not None:
            continue
        stack = [(root, 0)]  # depth-first, each leg with the index of the next leg waiting for it to visit
        on_path[root] = True
        while stack:
            i, k = stack[-1]
            if k < len(after[i]):
                stack[-1] = (i, k + 1)
                j = after[i][k]
                if tail[j] is None and not on_path[j]:
                    on_path[j] = True
                    stack.append((j, 0))
                continue
            stack.pop()
            on_path[i] = False
            tail[i] = duration[i] + max((tail[j] or 0.0 for j in after[i]), default=0.0)
    return RoomChains([t or 0.0 for t in tail], chained)


def _cover(legs: Sequence[Leg], departures: Sequence[int], short: Need) -> list[int]:
    """The departures an arrival lacking `short` room waits for: the biggest first, until they cover it
    (with every departure as big as the last one taken). None when no room is short."""
    taken: list[int] = []
    freed = Need()
    for i in sorted(departures, key=lambda i: (-legs[i].vm.memory_mib, -legs[i].vm.vcpus)):
        if short.fits_in(freed) and (not taken or need(legs[i].vm) != need(legs[taken[-1]].vm)):
            break
        taken.append(i)
        freed = freed + need(legs[i].vm)
    return taken
