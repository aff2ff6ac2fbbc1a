"""Capacity at every moment: a guest in flight counts on both hosts (reserved on its destination from the
start of its migration, released on its source at the end).

Two checks, both on memory, vCPUs and measured CPU against room.limits: along the estimated timeline,
and for ANY run that respects the dependencies (the executor starts legs when it can, not at the estimated second). For
the second, a host's worst moment is when some set C of its departures is done and every arrival whose
departures-it-waits-for lie in C has started; only unions of those waited-for sets need trying.
"""

from __future__ import annotations

from collections.abc import Sequence

from planner.errors import PlannerBugError
from planner.model import Cluster
from planner.schedule.graph import Ordering, topological
from planner.schedule.room import Need, limits, need, usage
from planner.schedule.timeline import Slot
from planner.violation import Violation

_MAX_UNIONS = 512


def check_continuous(cluster: Cluster, ordering: Ordering, slots: Sequence[Slot]) -> list[Violation]:
    return (
        _along_timeline(cluster, ordering, slots)
        + _any_order(cluster, ordering)
        + _storage(cluster, ordering)
    )


def _storage(cluster: Cluster, ordering: Ordering) -> list[Violation]:
    """Local disks copied to a host stay there (a source's copy is kept until verified and removed, and
    not counted as freed), so a host's storage holds at every moment exactly when it holds every copy."""
    arriving: dict[str, int] = {}
    for leg in ordering.legs:
        arriving[leg.destination] = arriving.get(leg.destination, 0) + leg.vm.local_disk_mib
    out = []
    for host, mib in sorted(arriving.items()):
        room = cluster.host_by_name[host].storage_capacity_mib
        if mib and mib > (room or 0):
            out.append(
                Violation("continuous-storage", f"{host} over storage", None, host, mib, room or 0, "MiB")
            )
    return out


def assert_continuous(cluster: Cluster, ordering: Ordering, slots: Sequence[Slot]) -> None:
    """Raise PlannerBugError when a host could go over its limit at some moment."""
    violations = check_continuous(cluster, ordering, slots)
    if violations:
        raise PlannerBugError("schedule", violations)


def _along_timeline(cluster: Cluster, ordering: Ordering, slots: Sequence[Slot]) -> list[Violation]:
    legs, cap, held = ordering.legs, limits(cluster), usage(cluster)
    ends = {s.leg: s.end_s for s in slots}
    out = [
        Violation(
            "continuous-order",
            f"{legs[s.leg].vm.name} starts before a move it waits for ends",
            legs[s.leg].vm.name,
        )
        for s in slots
        if any(ends[d] > s.start_s + 1e-9 for d in ordering.depends_on[s.leg])
    ]
    # Departures before arrivals at the same instant: a leg that waits for another starts when it ends.
    events = sorted(
        [(s.start_s, 1, s.leg) for s in slots] + [(s.end_s, 0, s.leg) for s in slots],
    )
    for moment, kind, i in events:
        leg = legs[i]
        if kind == 0:
            held[leg.source] = held[leg.source] - need(leg.vm)
            continue
        held[leg.destination] = held[leg.destination] + need(leg.vm)
        out += _over(leg.destination, held[leg.destination], cap[leg.destination], f"at {moment:.1f} s")
    return out


def _any_order(cluster: Cluster, ordering: Ordering) -> list[Violation]:
    legs, cap, held = ordering.legs, limits(cluster), usage(cluster)
    ancestors = _ancestors(ordering)
    out: list[Violation] = []
    for host in cap:
        departures = {i for i, leg in enumerate(legs) if leg.source == host}
        arrivals = [i for i, leg in enumerate(legs) if leg.destination == host]
        waited = {i: frozenset(ancestors[i] & departures) for i in arrivals}
        for done in _unions(set(waited.values())):
            load = held[host]
            for i in arrivals:
                if waited[i] <= done:
                    load = load + need(legs[i].vm)
            for i in done:
                load = load - need(legs[i].vm)
            out += _over(host, load, cap[host], f"once {len(done)} departure(s) are done, in some order")
    return out


def _ancestors(ordering: Ordering) -> list[set[int]]:
    out: list[set[int]] = [set() for _ in ordering.legs]
    for i in topological(ordering):
        for d in ordering.depends_on[i]:
            out[i] |= {d} | out[d]
    return out


def _unions(sets: set[frozenset[int]]) -> set[frozenset[int]]:
    """Every union of some of `sets` (with the empty set), up to a cap; for nested sets, the sets."""
    out: set[frozenset[int]] = {frozenset()}
    for s in sorted(sets, key=len):
        out |= {s | u for u in out}
        if len(out) > _MAX_UNIONS:
            break
    return out


def _over(host: str, load: Need, cap: Need, when: str) -> list[Violation]:
    out = []
    if load.memory_mib > cap.memory_mib:
        out.append(
            Violation(
                "continuous-memory",
                f"{host} over memory {when}",
                None,
                host,
                load.memory_mib,
                cap.memory_mib,
                "MiB",
            )
        )
    if load.vcpus > cap.vcpus:
        out.append(
            Violation(
                "continuous-vcpus", f"{host} over vCPUs {when}", None, host, load.vcpus, cap.vcpus, "vCPUs"
            )
        )
    if load.cpu_millicores > cap.cpu_millicores:
        out.append(
            Violation(
                "continuous-cpu",
                f"{host} over its CPU ceiling {when}",
                None,
                host,
                load.cpu_millicores,
                cap.cpu_millicores,
                "millicores",
            )
        )
    return out
