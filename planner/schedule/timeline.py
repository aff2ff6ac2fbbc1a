"""An event-driven list scheduler: each leg starts as soon as its destination has room, its hop's first
leg is done, and the budgets allow (run.py); then the dependencies are read off what it did (graph.py).

When nothing runs and nothing fits, a hop planned up front (graph.with_hops, for its own order of moves)
whose guest now fits at its target goes straight there; else graph.unblock looks at each guest's next
leg, and a leg that stays takes its onward legs with it: the guest stays where that leg starts.
Hops that only help the timeline (a swap that could wait for other departures, but then chains its two
legs behind them) are tried up front and kept where the plan ends sooner (swaps.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from planner.model import Cluster
from planner.schedule.graph import (
    Leg,
    Ordering,
    dependents,
    first_legs,
    hop_violations,
    leaves_first,
    progress,
    topological,
    unblock,
    with_hops,
)
from planner.schedule.links import Links
from planner.schedule.run import Run
from planner.schedule.slot import Slot, cost_at, full_cost
from planner.schedule.swaps import swap_hops

if TYPE_CHECKING:
    from planner.rules.rule import Rule

__all__ = ["MAX_TRIES", "NEAR", "Slot", "chain_tails", "cost_at", "full_cost", "timeline"]


def chain_tails(ordering: Ordering, net: Links) -> list[float]:
    """For each leg, the longest chain of full-rate durations from its start to the end of its dependents."""
    after = dependents(ordering)
    tail = [0.0] * len(ordering.legs)
    for i in reversed(topological(ordering)):
        tail[i] = full_cost(ordering.legs[i], net).duration_s + max((tail[j] for j in after[i]), default=0.0)
    return tail


#: Candidate hops the timeline tries up front, at most.
MAX_TRIES = 8
#: A first pass within this share of the budget floor (_budget_floor) tries no hops.
NEAR = 0.02


def timeline(
    cluster: Cluster, target: Mapping[str, str], net: Links, rules: Sequence[Rule] = ()
) -> tuple[Ordering, tuple[Slot, ...]]:
    """Legs carrying `cluster` to `target`, their dependencies, and when each starts at what rate.

    A first pass plans hops only where the moves get stuck; then each candidate hop (the ones that pass
    needed, then swaps.swap_hops) is tried up front on top of those kept so far, and kept where the plan
    ends sooner. No hop beats the busiest NIC or the cluster-wide budget: none is tried when the first
    pass is that close to them. Every hop keeps the hard rules of `rules` while its guest waits.
    """
    learned: dict[str, str] = {}
    best = _timeline(cluster, target, net, {}, learned, rules)
    legs, stays = first_legs(cluster, target)
    legs, follows = with_hops(cluster, legs, stays, [], rules)
    if _makespan(best) <= (1 + NEAR) * _budget_floor(legs, net):
        return best
    early: dict[str, str] = {}
    tried: set[str] = set()
    for uuid, via in [*learned.items(), *swap_hops(cluster, legs, follows, rules)]:
        if uuid in tried or len(tried) >= MAX_TRIES:
            continue
        tried.add(uuid)
        other = _timeline(cluster, target, net, {**early, uuid: via}, {}, rules)
        if _makespan(other) < _makespan(best) - 1e-6:
            best, early = other, {**early, uuid: via}
    return best


def _budget_floor(legs: Sequence[Leg], net: Links) -> float:
    """A floor no hop can lower: the most full-rate seconds a NIC (one direction) must carry, and every
    full-rate second over the cluster-wide concurrency budget (a hop only adds to both)."""
    load: dict[tuple[str, bool], float] = {}
    for leg in legs:
        sent = full_cost(leg, net).sent_mib
        for host, out in ((leg.source, True), (leg.destination, False)):
            load[host, out] = load.get((host, out), 0.0) + sent / net.nic_mibps[host]
    busy = sum(full_cost(leg, net).duration_s for leg in legs) / net.max_total
    return max(busy, *load.values(), 0.0)


def _makespan(result: tuple[Ordering, tuple[Slot, ...]]) -> float:
    return max((s.end_s for s in result[1]), default=0.0)


def _timeline(
    cluster: Cluster,
    target: Mapping[str, str],
    net: Links,
    early: Mapping[str, str],
    learned: dict[str, str],
    rules: Sequence[Rule],
) -> tuple[Ordering, tuple[Slot, ...]]:
    """One pass: the guests in `early` (UUID -> host) go through that host from the start; the hops this
    pass needed because nothing ran and nothing fitted are added to `learned`."""
    notes: list[str] = []
    legs, stays = first_legs(cluster, target)
    legs, follows = with_hops(cluster, legs, stays, notes, rules)
    apart = leaves_first(cluster, rules)
    run = Run(cluster, legs, follows, net, apart)
    for i, leg in enumerate(list(legs)):
        if leg.vm.uuid in early and not leg.temporary and i not in follows:
            at_start = progress(legs, (), range(len(legs)))
            if hop_violations(cluster, leg.vm, early[leg.vm.uuid], rules, at_start):
                continue
            run.hop(i, early[leg.vm.uuid])
            notes.append(
                f"{leg.vm.name} goes through {early[leg.vm.uuid]} from the start: the plan ends sooner"
            )
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
        live = {*run.done, *run.pending, *(i for _, i in run.running)}
        now = progress(legs, run.done, live)
        way = unblock(cluster, [legs[i] for i in ready], run.held, hops, stays, rules, now, apart)
        i = next(i for i in ready if legs[i] is way.leg)
        if way.via is None:
            assert way.stay is not None
            run.drop(i)
            # One record per guest: it stays where this leg starts, whatever with_hops expected.
            stays[:] = [s for s in stays if s.vm_uuid != way.stay.vm_uuid] + [way.stay]
        else:
            hops[way.leg.vm.uuid] = hops.get(way.leg.vm.uuid, 0) + 1
            run.hop(i, way.via)
            learned[way.leg.vm.uuid] = way.via
            notes.append(way.note)
    return run.result(stays, notes)
