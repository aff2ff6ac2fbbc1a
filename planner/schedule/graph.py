"""The order of moves: a move waits for the moves that make room for it on its destination.

First a sequence: moves are taken one at a time, each when its destination has room with every earlier
move done (sequential feasibility). When nothing fits, the moves left wait for each other (a cycle, such
as a swap): one of them goes through a host that has room now (a temporary hop), or, when no host has,
it stays where it is, with a "cannot, because" record. Then the dependencies: an arrival waits for the
shortest run of earlier departures from its host that makes room for it and every earlier arrival. The
waited-for runs of one host nest and point backwards in the sequence, so the graph is acyclic and any run
that respects it keeps every host within its limit, whatever the timing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import networkx as nx

from planner.model import Cluster, Vm
from planner.plan import Stay
from planner.schedule.room import Need, limits, need, usage


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
    unschedulable: tuple[Stay, ...]
    notes: tuple[str, ...]


def order(cluster: Cluster, target: Mapping[str, str]) -> Ordering:
    """Legs and dependencies that carry `cluster` to `target` with room at every moment."""
    pending: list[Leg] = []
    stays: list[Stay] = []
    for vm in cluster.vms:
        goal = target.get(vm.uuid, vm.host)
        if goal == vm.host:
            continue
        if not vm.migratable:
            stays.append(_stay(vm, vm.unmigratable_reason or "it cannot be live-migrated", resolvable=False))
        elif goal not in cluster.host_by_name:
            stays.append(_stay(vm, f"its target {goal} is not a host of this cluster", resolvable=False))
        else:
            pending.append(Leg(vm, vm.host, goal))
    notes: list[str] = []
    sequence = _sequence(cluster, pending, stays, notes)
    depends_on = _dependencies(cluster, sequence)
    graph = nx.DiGraph()
    graph.add_nodes_from(range(len(sequence)))
    graph.add_edges_from((d, i) for i, ds in enumerate(depends_on) for d in ds)
    reduced = nx.transitive_reduction(graph)
    direct = tuple(tuple(sorted(reduced.predecessors(i))) for i in range(len(sequence)))
    return Ordering(tuple(sequence), direct, tuple(stays), tuple(notes))


def _sequence(cluster: Cluster, pending: list[Leg], stays: list[Stay], notes: list[str]) -> list[Leg]:
    """Legs in an order where each fits once every earlier one is done; cycles hopped or dropped."""
    held, cap = usage(cluster), limits(cluster)
    sequence: list[Leg] = []
    hopped: list[str] = []  # a guest once per hop
    while pending:
        progress = False
        for leg in list(pending):
            if need(leg.vm).fits_in(cap[leg.destination] - held[leg.destination]):
                pending.remove(leg)
                sequence.append(leg)
                held[leg.destination] = held[leg.destination] + need(leg.vm)
                held[leg.source] = held[leg.source] - need(leg.vm)
                progress = True
        if progress or not pending:
            continue
        cycle = _waiting_cycle(pending)
        if len(cycle) == 1:  # it waits for room nobody will free: the target does not fit without it
            (leg,) = cycle
            pending.remove(leg)
            staying = [s.vm_name for s in stays if s.host == leg.destination]
            why = f"{leg.destination} has no room for it even after every planned departure"
            stays.append(
                _stay(leg.vm, why + (f" ({', '.join(staying)} stay there)" if staying else ""), leg.source)
            )
            continue
        names = ", ".join(f"{g.vm.name} ({g.source} -> {g.destination})" for g in cycle)
        for leg in sorted(cycle, key=lambda g: (g.vm.memory_mib, g.vm.name)):
            via = (
                None if hopped.count(leg.vm.uuid) >= 2 else _host_with_room(cluster, leg, held, cap, pending)
            )
            if via is not None:
                hopped.append(leg.vm.uuid)
                pending[pending.index(leg)] = Leg(leg.vm, via, leg.destination)
                pending.insert(0, Leg(leg.vm, leg.source, via, temporary=True))
                notes.append(f"{leg.vm.name} goes through {via} to break a cycle: {names}")
                break
        else:
            # Keep a guest where it is; one already on a temporary host only when nothing else can stay.
            leg = min(cycle, key=lambda g: (g.vm.uuid in hopped, g.vm.memory_mib, g.vm.name))
            pending.remove(leg)
            why = f"these moves wait for each other and no host has room for a temporary hop: {names}"
            stays.append(_stay(leg.vm, why, leg.source))
    return sequence


def _waiting_cycle(pending: list[Leg]) -> list[Leg]:
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


def _dependencies(cluster: Cluster, sequence: list[Leg]) -> list[set[int]]:
    """Per leg, the earlier legs it waits for: its hop's first leg, and the departures making its room."""
    deps: list[set[int]] = [set() for _ in sequence]
    arrived: dict[str, int] = {}
    for i, leg in enumerate(sequence):
        if leg.vm.uuid in arrived:
            deps[i].add(arrived[leg.vm.uuid])
        arrived[leg.vm.uuid] = i
    held, cap = usage(cluster), limits(cluster)
    departures: dict[str, list[int]] = {h: [] for h in cap}
    taken = dict.fromkeys(cap, 0)
    for i, leg in enumerate(sequence):
        host = leg.destination
        held[host] = held[host] + need(leg.vm)
        while not held[host].fits_in(cap[host]):
            # Sequential feasibility guarantees an earlier departure is left to count.
            held[host] = held[host] - need(sequence[departures[host][taken[host]]].vm)
            taken[host] += 1
        deps[i].update(departures[host][: taken[host]])
        departures[leg.source].append(i)
    return deps


def _host_with_room(
    cluster: Cluster, leg: Leg, held: Mapping[str, Need], cap: Mapping[str, Need], pending: list[Leg]
) -> str | None:
    """The roomiest host that can take `leg`'s guest now and keeps its hard rules."""
    best: tuple[int, str] | None = None
    for host in cluster.hosts:
        if host.name in (leg.source, leg.destination) or not host.accepts_guests:
            continue
        if not cluster.can_run(leg.vm, host) or not _rules_allow(cluster, leg.vm, host.name, pending):
            continue
        left = cap[host.name] - held[host.name] - need(leg.vm)
        if left.memory_mib >= 0 and left.vcpus >= 0 and (best is None or left.memory_mib > best[0]):
            best = (left.memory_mib, host.name)
    return best[1] if best else None


def _rules_allow(cluster: Cluster, vm: Vm, host: str, pending: list[Leg]) -> bool:
    """Whether a short stay on `host` keeps `vm`'s hard pin, avoid and anti-affinity rules."""
    visits: dict[str, set[str]] = {}  # guest name -> every host it is on at some moment
    for v in cluster.vms:
        visits[v.name] = {v.host}
    for leg in pending:
        visits[leg.vm.name] |= {leg.source, leg.destination}
    for rule in cluster.rules:
        if not rule.hard or vm.name not in rule.vms:
            continue
        if rule.kind == "pin" and host not in rule.hosts:
            return False
        if rule.kind == "avoid" and host in rule.hosts:
            return False
        if rule.kind == "anti-affinity" and any(
            host in visits.get(n, set()) for n in rule.vms if n != vm.name
        ):
            return False
    return True


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


def _stay(vm: Vm, why: str, host: str | None = None, resolvable: bool = True) -> Stay:
    """`vm` stays on `host` (where it is now, unless a temporary hop already took it elsewhere)."""
    if host is not None and host != vm.host:
        why += f"; it stays on {host}, where a temporary hop took it"
    return Stay(vm.uuid, vm.name, host or vm.host, rule="schedule", reason=why, resolvable=resolvable)
