"""The peak bound: a lower bound on the best peak any placement could reach, per resource and overall.

(The schedule's own bound, on the makespan, is planner/schedule/makespan_bound.py.)

Water-filling relaxation: guests that cannot move are fixed where they are; the movable demand is poured
over the receiving hosts as if it were liquid (no guest sizes, no compatibility), filling each host to the
same share of its own capacity. No placement can beat that level, nor the share a host already has from
guests that cannot leave it. The overall bound is the larger of the CPU and memory bounds.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Protocol

import numpy as np

from planner.model import Cluster
from planner.optimize.encoding import Resource, capacity, demand


class ProblemLike(Protocol):
    """What the per-resource bounds read of a problem (solve.Problem)."""

    @property
    def levels_pct(self) -> Mapping[str, float]: ...


#: Sets of hosts shared by fewer guests than this are not worth a bound of their own.
MIN_CLASS_GUESTS = 10
#: Guests allowed on at most this many hosts get a bound of their own.
FEW_HOSTS = 64


def water_level(fixed: np.ndarray, caps: np.ndarray, movable: float, with_floor: bool = True) -> float:
    """The least share p (fraction) with sum(max(0, p * cap - fixed)) >= movable: the level the
    movable load fills every host to. `with_floor`: at least the highest share of fixed load (then a
    bound on the peak rather than the level to balance towards)."""
    caps = np.maximum(caps.astype(float), 1e-9)
    floor = float(np.max(fixed / caps)) if len(caps) and with_floor else 0.0
    if movable <= 0 or not len(caps):
        return floor
    lo, hi = 0.0, max(floor, (float(fixed.sum()) + movable) / float(caps.sum())) + 1.0
    while hi - lo > 1e-7:
        mid = (lo + hi) / 2
        if float(np.maximum(0.0, mid * caps - fixed).sum()) >= movable:
            hi = mid
        else:
            lo = mid
    return max(hi, floor)


def resource_bound(
    cluster: Cluster,
    resource: Resource,
    receivers: Sequence[str],
    stuck: Mapping[str, bool],
    leaving: frozenset[str] = frozenset(),
    with_floor: bool = True,
) -> float:
    """The bound (percent) for one resource over the hosts in `receivers` (without the floor: the
    level the movable load fills hosts to)."""
    index = {h: i for i, h in enumerate(receivers)}
    caps = np.array([capacity(cluster, h, resource) for h in receivers], dtype=float)
    fixed = np.zeros(len(receivers))
    movable = 0.0
    for vm in cluster.vms:
        if stuck.get(vm.uuid, False):
            if vm.host in index:
                fixed[index[vm.host]] += demand(vm, resource)
        elif vm.host in index or vm.uuid in leaving:
            movable += demand(vm, resource)
    return 100.0 * water_level(fixed, caps, movable, with_floor)


def host_classes(
    dests: Mapping[str, tuple[str, ...]], receivers: Collection[str]
) -> tuple[dict[int, tuple[frozenset[str], list[str]]], set[frozenset[str]]]:
    """Guests grouped by their allowed hosts (the tuple candidates shares among guests with the same
    answers): per group, those hosts among `receivers` and the guests' UUIDs; and the sets of hosts
    shared by at least MIN_CLASS_GUESTS guests, neither empty nor every receiver (the classes)."""
    inside = frozenset(receivers)
    groups: dict[int, tuple[frozenset[str], list[str]]] = {}
    for uuid, allowed in dests.items():
        group = groups.get(id(allowed))
        if group is None:
            group = groups[id(allowed)] = (frozenset(allowed) & inside, [])
        group[1].append(uuid)
    shared = {
        s for s, guests in groups.values() if s and len(s) < len(inside) and len(guests) >= MIN_CLASS_GUESTS
    }
    return groups, shared


def class_bound(
    cluster: Cluster,
    resource: Resource,
    receivers: Sequence[str],
    stuck: Mapping[str, bool],
    dests: Mapping[str, tuple[str, ...]],
    leaving: frozenset[str],
) -> float:
    """The water level over each set of hosts that many guests can only run on (a CPU generation and
    newer, say), filled with the guests that must end in it: the highest of them. A guest must end in
    the set when all its allowed hosts lie in it and it either must leave its host or its host is in the
    set; leaving the others out keeps it a bound."""
    groups, shared = host_classes({vm.uuid: dests[vm.uuid] for vm in cluster.vms}, receivers)
    best = 0.0
    for hosts in shared:
        within = {k for k, (s, _) in groups.items() if s <= hosts}
        movable = sum(
            demand(vm, resource)
            for vm in cluster.vms
            if not stuck.get(vm.uuid, False)
            and id(dests[vm.uuid]) in within
            and (vm.uuid in leaving or vm.host in hosts)
        )
        ordered = sorted(hosts)
        at = {h: i for i, h in enumerate(ordered)}
        fixed = np.zeros(len(ordered))
        for vm in cluster.vms:
            if stuck.get(vm.uuid, False) and vm.host in at:
                fixed[at[vm.host]] += demand(vm, resource)
        caps = np.array([capacity(cluster, h, resource) for h in ordered], dtype=float)
        best = max(best, 100.0 * water_level(fixed, caps, movable))
    return best


def guest_bound(
    cluster: Cluster,
    receivers: Sequence[str],
    stuck: Mapping[str, bool],
    dests: Mapping[str, tuple[str, ...]],
    may_stay: Mapping[str, bool],
    weighed: Sequence[Resource],
) -> dict[str, float]:
    """Wherever a guest with few allowed hosts (a hard pin, say) ends, its host carries at least that
    guest and the load that cannot leave it: the least such share over its allowed hosts bounds the
    peak. Guests that may stay on a host outside `receivers` do not count. Per weighed resource, and
    "peak" for the highest of them on one host."""
    inside = set(receivers)
    fixed: dict[str, list[int]] = {}
    for vm in cluster.vms:
        if stuck.get(vm.uuid, False) and vm.host in inside:
            row = fixed.setdefault(vm.host, [0] * len(weighed))
            for i, r in enumerate(weighed):
                row[i] += demand(vm, r)
    caps = {h: [max(1, capacity(cluster, h, r)) for r in weighed] for h in cluster.host_by_name}
    zero = [0] * len(weighed)
    # Per set of allowed hosts: the distinct capacities of its hosts without fixed load (the least
    # share on them only depends on the capacity), and its hosts with fixed load.
    shapes: dict[tuple[int, bool, str], tuple[list[list[int]], list[str]]] = {}
    best = dict.fromkeys([*weighed, "peak"], 0.0)
    for vm in cluster.vms:
        allowed = dests[vm.uuid]
        if stuck.get(vm.uuid, False) or len(allowed) > FEW_HOSTS:
            continue
        home_ok = may_stay.get(vm.uuid, True)
        if home_ok and vm.host not in inside:
            continue
        key = (id(allowed), home_ok, vm.host if home_ok else "")
        shape = shapes.get(key)
        if shape is None:
            hosts = {h for h in allowed if h in inside} | ({vm.host} if home_ok else set())
            empty = {tuple(caps[h]) for h in hosts if h not in fixed}
            shape = ([list(c) for c in empty], [h for h in hosts if h in fixed])
            shapes[key] = shape
        need = [demand(vm, r) for r in weighed]
        rows = [(zero, c) for c in shape[0]] + [(fixed[h], caps[h]) for h in shape[1]]
        if not rows:
            continue
        shares = [[100.0 * (f[i] + need[i]) / c[i] for i in range(len(weighed))] for f, c in rows]
        for i, r in enumerate(weighed):
            best[r] = max(best[r], min(row[i] for row in shares))
        best["peak"] = max(best["peak"], min(max(row) for row in shares))
    return best


def peak_bound(
    cluster: Cluster,
    receivers: Sequence[str],
    stuck: Mapping[str, bool],
    cpu_weight: int = 1,
    memory_weight: int = 1,
    leaving: frozenset[str] = frozenset(),
    dests: Mapping[str, tuple[str, ...]] | None = None,
    may_stay: Mapping[str, bool] | None = None,
) -> dict[str, float]:
    """Per weighed resource ("cpu", "memory"): the level the movable load fills hosts to (what the
    objective balances towards); per weighed resource ("cpu_peak", "memory_peak"), the lower bound on
    that resource's own peak; "peak": the lower bound on the peak, the highest of those, of the
    shares of load that cannot move and, given each guest's allowed hosts (`dests`), of the class and
    guest bounds.

    Guests that must leave a host outside `receivers` (`leaving`, e.g. evacuated) land on them; other
    movable guests outside are left out: counting them could only raise the level.
    """
    out: dict[str, float] = {}
    weighed: list[Resource] = []
    if cpu_weight > 0:
        weighed.append("cpu")
    if memory_weight > 0:
        weighed.append("memory")
    for resource in weighed:
        out[resource] = resource_bound(cluster, resource, receivers, stuck, leaving, with_floor=False)
        out[f"{resource}_peak"] = resource_bound(cluster, resource, receivers, stuck, leaving)
    peak = max((out[f"{r}_peak"] for r in weighed), default=0.0)
    if dests is not None and weighed:
        guests = guest_bound(cluster, receivers, stuck, dests, may_stay or {}, weighed)
        for resource in weighed:
            own = class_bound(cluster, resource, receivers, stuck, dests, leaving)
            out[f"{resource}_peak"] = max(out[f"{resource}_peak"], own, guests[resource])
        peak = max(peak, guests["peak"], *(out[f"{r}_peak"] for r in weighed))
    out["peak"] = peak
    return out


def resource_peak_bounds(p: ProblemLike) -> dict[str, float]:
    """Per resource ("cpu", "memory"), the lower bound on that resource's own peak over the receiving
    hosts: its water level with the floor of load that cannot move, its class bounds and its guest
    bound (computed once, by peak_bound, into the problem's levels; an unweighed resource gets 0)."""
    return {r: p.levels_pct.get(f"{r}_peak", 0.0) for r in ("cpu", "memory")}
