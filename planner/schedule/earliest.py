"""How soon each leg could end, and each host take its arrivals, in ANY order: floors under every schedule.

A leg runs at most at its full path rate (timeline.full_cost), so it lasts at least its full-rate duration
and sends at least its full-rate bytes. It cannot start before
- its guest is at its source: a leg that starts elsewhere than where its guest runs now (a hop's onward
  leg) waits for one of that guest's legs into its source to end;
- its destination has room: room at a host only grows when a departure ends (arrivals take room), so if
  the destination lacks room for the guest when the plan starts (its limit minus every guest placed there,
  as room.py counts it), departures whose guests together cover the shortfall (in memory and in vCPUs)
  must have ended: it waits until the departures that could have ended by then cover it.

The true finish times x of any run satisfy x >= F(x), F the duration plus the latest of those waits, and
F is monotone. Iterating y <- F(y) from 0 stays below x at every step (y <= x gives F(y) <= F(x) <= x), so
every iterate is a floor; we stop when nothing changes, or after a cap. Nothing here reads the order or
the dependencies a scheduler chose: only the legs, the snapshot's room and the links.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from planner.model import Cluster
from planner.schedule.graph import Leg
from planner.schedule.links import Links
from planner.schedule.room import Need, limits, need, usage
from planner.schedule.timeline import full_cost

#: Sweeps of the iteration at most; each sweep's result is already a valid floor.
MAX_SWEEPS = 200


def earliest_finishes(cluster: Cluster, legs: Sequence[Leg], net: Links) -> list[float]:
    """Per leg, a time no run of these legs can finish it before (see the module docstring)."""
    duration = [full_cost(leg, net).duration_s for leg in legs]
    leaving: dict[str, list[int]] = {}
    for i, leg in enumerate(legs):
        leaving.setdefault(leg.source, []).append(i)
    arriving = [
        [
            j
            for j, other in enumerate(legs)
            if other.vm.uuid == leg.vm.uuid and other.destination == leg.source
        ]
        if leg.source != leg.vm.host
        else []
        for leg in legs
    ]
    room = _room_at_start(cluster)
    short = [need(leg.vm) - room[leg.destination] for leg in legs]
    finish = [0.0] * len(legs)
    for _ in range(MAX_SWEEPS):
        changed = False
        freed = {host: _freed(legs, out, finish) for host, out in leaving.items()}
        for i, leg in enumerate(legs):
            here = min((finish[j] for j in arriving[i]), default=0.0)
            value = duration[i] + max(here, _room_by(short[i], freed.get(leg.destination, [])))
            if value > finish[i] + 1e-9:
                finish[i], changed = value, True
        if not changed:
            break
    return finish


def room_waits(cluster: Cluster, legs: Sequence[Leg], net: Links, finish: Sequence[float]) -> float:
    """A floor from each host's arrivals waiting for room, given floors `finish` under each leg's end.

    Until some departure from a host could have ended (time t), the arrivals started there fit in the room
    it had at the start plus what the departures ending by t free; the others still have to cross its
    incoming NIC (and its incoming concurrency budget) after t.
    """
    room, best = _room_at_start(cluster), 0.0
    for host in room:
        into = [i for i, leg in enumerate(legs) if leg.destination == host]
        out = sorted((finish[i], i) for i, leg in enumerate(legs) if leg.source == host)
        if not into or not out:
            continue
        short = sum((need(legs[i].vm) for i in into), Need()) - room[host]
        sent = {i: full_cost(legs[i], net).sent_mib for i in into}
        busy = {i: full_cost(legs[i], net).duration_s for i in into}
        for t, j in out:
            if short.nothing_short:
                break
            left_mib = max(
                _least(into, sent, lambda i: legs[i].vm.memory_mib, short.memory_mib),
                _least(into, sent, lambda i: legs[i].vm.vcpus, short.vcpus),
            )
            left_s = max(
                _least(into, busy, lambda i: legs[i].vm.memory_mib, short.memory_mib),
                _least(into, busy, lambda i: legs[i].vm.vcpus, short.vcpus),
            )
            best = max(best, t + left_mib / net.nic_mibps[host], t + left_s / net.max_in)
            short = short - need(legs[j].vm)
    return best


def _room_at_start(cluster: Cluster) -> dict[str, Need]:
    held = usage(cluster)
    return {host: cap - held[host] for host, cap in limits(cluster).items()}


def _freed(
    legs: Sequence[Leg], departures: Sequence[int], finish: Sequence[float]
) -> list[tuple[float, Need]]:
    """A host's departures by when they could end at the earliest, with the room freed up to each."""
    out, total = [], Need()
    for j in sorted(departures, key=lambda j: finish[j]):
        total = total + need(legs[j].vm)
        out.append((finish[j], total))
    return out


def _room_by(short: Need, freed: Sequence[tuple[float, Need]]) -> float:
    """The earliest moment departures could have freed `short` more room: only departures that could have
    ended by then count, and any set of them that covers the shortfall has one ending that late.
    0 when no room is short, or when even every departure falls short (the plan could not hold the leg
    then: we claim nothing)."""
    if short.nothing_short:
        return 0.0
    return next((t for t, room in freed if short.fits_in(room)), 0.0)


def _least(items: Sequence[int], cost: dict[int, float], size: Callable[[int], int], amount: int) -> float:
    """The least total `cost` of items covering `amount` of `size`, items taken in fractions (a floor)."""
    total = 0.0
    for i in sorted((i for i in items if size(i) > 0), key=lambda i: cost[i] / size(i)):
        if amount <= 0:
            break
        part = min(amount, size(i))
        total += cost[i] * part / size(i)
        amount -= part
    return total
