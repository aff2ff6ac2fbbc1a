"""The order of moves: a move waits for the moves that make room for it on its destination.

The timeline (timeline.py) starts a leg only when its destination has room, counting every guest in
flight on both hosts; what it did, in order, is a sequence of events. From it, each arrival waits for the
shortest run of its host's departures, in the order they ended, that makes room for it and every arrival
started before it. Those runs nest and point backwards in time, so the graph is acyclic, and any run that
respects it keeps every host within its limit, whatever the timing.

When nothing runs and nothing fits, the legs left wait for each other (a cycle, such as a swap): one of
them goes through a host that has room now (a temporary hop), or, when no host has, it stays where it is,
with a "cannot, because" record; so does a leg whose destination would have no room even after every
planned departure.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import networkx as nx

from planner.model import Cluster, Vm
from planner.plan import Stay
from planner.schedule.room import Need, capacity, limits, need, usage
from planner.violation import Violation

if TYPE_CHECKING:
    from planner.rules.rule import Rule


@dataclass(frozen=True, slots=True)
class Leg:
    """One live migration of `vm` from `source` to `destination`; `temporary` marks a hop's first leg."""

    vm: Vm
    source: str
    destination: str
    temporary: bool = False


@dataclass(frozen=True, slots=True)
class Ordering:
    """Legs and, per leg index, the indices of the legs it waits for (direct dependencies only)."""

    legs: tuple[Leg, ...]
    depends_on: tuple[tuple[int, ...], ...]
    unschedulable: tuple[Stay, ...] = ()
    notes: tuple[str, ...] = ()


#: What happened, in order: ("start", leg index) when a leg reserved its destination, ("end", i) when done.
Event = tuple[Literal["start", "end"], int]


def first_legs(cluster: Cluster, target: Mapping[str, str]) -> tuple[list[Leg], list[Stay]]:
    """One leg per guest whose target differs from where it runs; guests that cannot move, as Stays."""
    legs: list[Leg] = []
    stays: list[Stay] = []
    for vm in cluster.vms:
        goal = target.get(vm.uuid, vm.host)
        if goal == vm.host:
            continue
        if not vm.migratable:
            stays.append(stay(vm, vm.unmigratable_reason or "it cannot be live-migrated", resolvable=False))
        elif goal not in cluster.host_by_name:
            stays.append(stay(vm, f"its target {goal} is not a host of this cluster", resolvable=False))
        else:
            legs.append(Leg(vm, vm.host, goal))
    return legs, stays


#: Per guest (UUID), the guests (UUIDs) that must have left a host before it arrives there.
Apart = Mapping[str, frozenset[str]]


def leaves_first(cluster: Cluster, rules: Sequence[Rule]) -> Apart:
    """What every hard rule of `rules` says must leave a host before each guest arrives there."""
    out: dict[str, frozenset[str]] = {}
    for rule in rules:
        if rule.hard:
            for uuid, them in rule.leaves_first(cluster).items():
                out[uuid] = out.get(uuid, frozenset()) | them
    return out


def blocked_by(leg: Leg, at: Mapping[str, str], apart: Apart) -> list[str]:
    """The guests (UUIDs) still on `leg`'s destination (`at`: where each guest is) that must leave it
    before `leg`'s guest arrives."""
    return sorted(u for u in apart.get(leg.vm.uuid, ()) if at.get(u) == leg.destination)


def with_hops(
    cluster: Cluster, legs: list[Leg], stays: list[Stay], notes: list[str], rules: Sequence[Rule]
) -> tuple[list[Leg], dict[int, int]]:
    """Plan the temporary hops up front, one leg at a time (sequential feasibility); a hop keeps every
    hard rule of `rules`.

    Returns the legs with each hopped guest's leg split in two, and for each onward leg the index of
    the leg it follows. Legs that must stay are dropped and recorded in `stays`.
    """
    held, cap = usage(cluster), limits(cluster)
    at, apart = dict(cluster.placement), leaves_first(cluster, rules)
    work = list(legs)
    follows: dict[int, int] = {}
    pending, done, dropped = list(range(len(work))), set(), set()
    hops: dict[str, int] = {}
    while pending:
        free = [i for i in pending if follows.get(i, -1) in done or i not in follows]
        taken = [i for i in free if _take(work[i], held, cap, at, apart)]
        done.update(taken)
        pending = [i for i in pending if i not in done]
        if taken or not pending:
            continue
        live = [i for i in range(len(work)) if i not in dropped]
        now = progress(work, done, live)
        way = unblock(cluster, [work[i] for i in free], held, hops, stays, rules, now, apart)
        i = next(i for i in free if work[i] is way.leg)
        if way.via is None:
            assert way.stay is not None
            stays.append(way.stay)
            pending.remove(i)
            dropped.add(i)
            continue
        hops[way.leg.vm.uuid] = hops.get(way.leg.vm.uuid, 0) + 1
        notes.append(way.note)
        work[i] = Leg(way.leg.vm, way.leg.source, way.via, temporary=True)
        work.append(Leg(way.leg.vm, way.via, way.leg.destination))
        follows[len(work) - 1] = i
        pending.append(len(work) - 1)
    kept = [i for i in range(len(work)) if i not in dropped]
    new = {old: n for n, old in enumerate(kept)}
    return [work[i] for i in kept], {new[j]: new[i] for j, i in follows.items() if j in new}


def _take(leg: Leg, held: dict[str, Need], cap: Mapping[str, Need], at: dict[str, str], apart: Apart) -> bool:
    """Move `leg`'s guest at once (sequentially) if its destination has room and holds no guest that
    must leave it first."""
    if not need(leg.vm).fits_in(cap[leg.destination] - held[leg.destination]):
        return False
    if blocked_by(leg, at, apart):
        return False
    at[leg.vm.uuid] = leg.destination
    held[leg.destination] = held[leg.destination] + need(leg.vm)
    held[leg.source] = held[leg.source] - need(leg.vm)
    return True


def dependencies(
    cluster: Cluster, legs: Sequence[Leg], events: Sequence[Event], apart: Apart
) -> tuple[tuple[int, ...], ...]:
    """Per leg, the legs it must wait for (direct ones only), derived from a capacity-safe event order
    that also let no guest arrive where a guest it must follow (`apart`) still was."""
    deps: list[set[int]] = [set() for _ in legs]
    left: dict[tuple[str, str], int] = {}  # (guest UUID, host) -> the leg that took it off that host
    arrived: dict[str, int] = {}  # a hop's onward leg starts where its first leg arrived
    held, cap = usage(cluster), limits(cluster)
    ended: dict[str, list[int]] = {h: [] for h in cap}  # departures per host, in the order they ended
    taken = dict.fromkeys(cap, 0)
    for kind, i in events:
        leg = legs[i]
        if kind == "end":
            ended[leg.source].append(i)
            left[leg.vm.uuid, leg.source] = i
            continue
        deps[i].update(
            left[u, leg.destination] for u in apart.get(leg.vm.uuid, ()) if (u, leg.destination) in left
        )
        if leg.vm.uuid in arrived:
            deps[i].add(arrived[leg.vm.uuid])
        arrived[leg.vm.uuid] = i
        host = leg.destination
        held[host] = held[host] + need(leg.vm)
        while not held[host].fits_in(cap[host]):  # the event order had room, so a departure is left
            held[host] = held[host] - need(legs[ended[host][taken[host]]].vm)
            taken[host] += 1
        deps[i].update(ended[host][: taken[host]])
    graph = nx.DiGraph()
    graph.add_nodes_from(range(len(legs)))
    graph.add_edges_from((d, i) for i, ds in enumerate(deps) for d in ds)
    reduced = nx.transitive_reduction(graph)
    return tuple(tuple(sorted(reduced.predecessors(i))) for i in range(len(legs)))


@dataclass(frozen=True, slots=True)
class Unblock:
    """How to get stuck legs moving: send `leg`'s guest through `via`, or keep it where it is (`stay`)."""

    leg: Leg
    via: str | None = None
    stay: Stay | None = None
    note: str = ""


def unblock(
    cluster: Cluster,
    pending: Sequence[Leg],
    held: Mapping[str, Need],
    hops: Mapping[str, int],
    stays: Sequence[Stay],
    rules: Sequence[Rule],
    now: Progress,
    apart: Apart,
) -> Unblock:
    """When nothing runs and no pending leg fits: a temporary hop that breaks a cycle (through a host
    with room where waiting keeps every hard rule of `rules`), else one leg stays."""
    cycle = _waiting_cycle(pending)
    if len(cycle) == 1:  # it waits for room nobody will free: the target does not fit without it
        (leg,) = cycle
        staying = [s.vm_name for s in stays if s.host == leg.destination]
        where = (
            f"{leg.destination}, where a temporary hop was to take it," if leg.temporary else leg.destination
        )
        why = f"{where} has no room for it even after every planned departure"
        fellows = blocked_by(leg, ChainMap(now.now, cluster.placement), apart)
        if fellows:
            names = ", ".join(cluster.vm_by_uuid[u].name for u in fellows)
            why = f"{where} keeps {names}, which a hard rule says must leave it before {leg.vm.name} arrives"
        elif staying:
            why += f" ({', '.join(staying)} {'stays' if len(staying) == 1 else 'stay'} there)"
        return Unblock(leg, stay=stay(leg.vm, why, leg.source))
    names = ", ".join(f"{g.vm.name} ({g.source} -> {g.destination})" for g in cycle)
    for leg in sorted(cycle, key=lambda g: (g.vm.memory_mib, g.vm.name)):
        tried = leg.temporary or hops.get(leg.vm.uuid, 0) >= 2
        via = None if tried else _host_with_room(cluster, leg, held, rules, now)
        if via is not None:
            return Unblock(leg, via=via, note=f"{leg.vm.name} goes through {via} to break a cycle: {names}")
    # Keep a guest where it is; one already on a temporary host only when no other can stay.
    leg = min(cycle, key=lambda g: (g.vm.uuid in hops, g.vm.memory_mib, g.vm.name))
    why = (
        "these moves wait for each other and no host has room for a temporary hop where waiting keeps "
        f"every hard rule: {names}"
    )
    return Unblock(leg, stay=stay(leg.vm, why, leg.source))


def _waiting_cycle(pending: Sequence[Leg]) -> list[Leg]:
    """A cycle of legs each waiting for the next to leave its destination; or one leg nothing can help."""
    waits = nx.DiGraph()
    waits.add_nodes_from(range(len(pending)))
    leaving: dict[str, list[int]] = {}
    for i, leg in enumerate(pending):
        leaving.setdefault(leg.source, []).append(i)
    waits.add_edges_from((i, j) for i, leg in enumerate(pending) for j in leaving.get(leg.destination, []))
    try:
        return [pending[edge[0]] for edge in nx.find_cycle(waits)]
    except nx.NetworkXNoCycle:
        stuck = [i for i in waits if waits.out_degree(i) == 0]
        return [pending[max(stuck, key=lambda i: (pending[i].vm.memory_mib, pending[i].vm.name))]]


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a schedule stands when it looks for a temporary hop: each guest's host now and once every
    live leg is done (UUID -> host; guests not named are where they run), and the legs that will run."""

    now: dict[str, str]
    then: dict[str, str]
    migrations: int = 0
    moved_mib: int = 0


def progress(legs: Sequence[Leg], done: Collection[int], live: Collection[int]) -> Progress:
    """The progress of a schedule whose legs `done` ended and whose legs `live` (done ones included)
    will run. A guest's later legs have higher indices (a hop's onward leg is appended)."""
    now = {legs[i].vm.uuid: legs[i].destination for i in sorted(done)}
    then = {legs[i].vm.uuid: legs[i].destination for i in sorted(live)}
    return Progress(now, then, len(live), sum(legs[i].vm.memory_mib for i in live))


def _host_with_room(
    cluster: Cluster, leg: Leg, held: Mapping[str, Need], rules: Sequence[Rule], now: Progress
) -> str | None:
    """The roomiest host that can take `leg`'s guest now within its capacity (not merely within what an
    overloaded host held at the start) and where waiting keeps every hard rule."""
    roomy: list[tuple[int, int, str]] = []
    for n, host in enumerate(cluster.hosts):
        if host.name in (leg.source, leg.destination) or not host.accepts_guests:
            continue
        if not cluster.can_run(leg.vm, host):
            continue
        left = capacity(host) - held[host.name] - need(leg.vm)
        if Need().fits_in(left):
            roomy.append((-left.memory_mib, n, host.name))
    return next((h for _, _, h in sorted(roomy) if not hop_violations(cluster, leg.vm, h, rules, now)), None)


def hop_violations(
    cluster: Cluster, vm: Vm, via: str, rules: Sequence[Rule], now: Progress
) -> list[Violation]:
    """What the hard rules say against `vm` waiting on `via` (one more migration) at `now`."""
    from planner.rules.rule import Hop  # the rules pull in the solver; the executor needs none of them

    hop = Hop(
        vm=vm,
        via=via,
        now=ChainMap({vm.uuid: via}, now.now, cluster.placement),
        then=ChainMap({vm.uuid: via}, now.then, cluster.placement),
        migrations=now.migrations + 1,
        moved_mib=now.moved_mib + vm.memory_mib,
    )
    return [v for rule in rules if rule.hard for v in rule.check_hop(cluster, hop)]


def dependents(ordering: Ordering) -> list[list[int]]:
    """Per leg index, the legs that wait for it directly."""
    out: list[list[int]] = [[] for _ in ordering.legs]
    for i, deps in enumerate(ordering.depends_on):
        for d in deps:
            out[d].append(i)
    return out


def topological(ordering: Ordering) -> list[int]:
    """Leg indices, each after every leg it waits for."""
    pending = [len(d) for d in ordering.depends_on]
    after = dependents(ordering)
    out = [i for i, n in enumerate(pending) if n == 0]
    for i in out:  # the list grows while we walk it
        for j in after[i]:
            pending[j] -= 1
            if pending[j] == 0:
                out.append(j)
    return out


def stay(vm: Vm, why: str, host: str | None = None, resolvable: bool = True) -> Stay:
    """`vm` stays on `host` (where it is now, unless a temporary hop already took it elsewhere)."""
    if host is not None and host != vm.host:
        why += f"; it stays on {host}, where a temporary hop took it"
    return Stay(
        vm_uuid=vm.uuid,
        vm_name=vm.name,
        host=host or vm.host,
        rule="schedule",
        reason=why,
        resolvable=resolvable,
    )
