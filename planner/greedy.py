"""The greedy baseline: move the largest guest off the most loaded host onto the least loaded host that
can take it, and repeat while the peak drops.

It respects the unary rules (through each guest's allowed hosts), capacity and budgets; guests in rule
groups stay put. Guests that must move (evacuation, a broken pin) go first, largest first. It serves as
the benchmark's baseline, as the optimizer's hint, and as its fallback when the solver runs out of time.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Mapping

from planner.model import Cluster, Vm


class _State:
    """Loads and scores of every host, with lazily updated heaps of the coolest hosts per class."""

    def __init__(self, cluster: Cluster, placement: dict[str, str], cpu_weight: int, memory_weight: int):
        self.cluster = cluster
        self.placement = placement
        self.weights = (cpu_weight > 0, memory_weight > 0)
        self.cap = {
            h.name: (max(1, h.cpu_capacity_millicores), max(1, h.memory_capacity_mib), h.vcpu_capacity)
            for h in cluster.hosts
        }
        self.use = {h.name: [0, 0, 0] for h in cluster.hosts}
        self.guests: dict[str, set[str]] = {h.name: set() for h in cluster.hosts}
        for vm in cluster.vms:
            host = placement[vm.uuid]
            if host in self.use:
                self._add(vm, host, 1)
                self.guests[host].add(vm.uuid)
        self.version = dict.fromkeys(self.use, 0)
        self.heaps: dict[int, list[tuple[float, int, str]]] = {}
        self.member_of: dict[str, list[int]] = {h: [] for h in self.use}

    def _add(self, vm: Vm, host: str, sign: int) -> None:
        use = self.use[host]
        use[0] += sign * vm.cpu_demand_millicores
        use[1] += sign * vm.memory_mib
        use[2] += sign * vm.vcpus

    def score(self, host: str, vm: Vm | None = None, sign: int = 0) -> float:
        use, cap = self.use[host], self.cap[host]
        cpu = use[0] + (sign * vm.cpu_demand_millicores if vm else 0)
        mem = use[1] + (sign * vm.memory_mib if vm else 0)
        shares = [
            s
            for s, on in ((100.0 * cpu / cap[0], self.weights[0]), (100.0 * mem / cap[1], self.weights[1]))
            if on
        ]
        return max(shares, default=0.0)

    def fits(self, vm: Vm, host: str) -> bool:
        use, cap = self.use[host], self.cap[host]
        return (
            use[0] + vm.cpu_demand_millicores <= cap[0]
            and use[1] + vm.memory_mib <= cap[1]
            and use[2] + vm.vcpus <= cap[2]
        )

    def move(self, vm: Vm, dest: str) -> None:
        src = self.placement[vm.uuid]
        self._add(vm, src, -1)
        self._add(vm, dest, 1)
        self.guests[src].discard(vm.uuid)
        self.guests[dest].add(vm.uuid)
        self.placement[vm.uuid] = dest
        for host in (src, dest):
            self.version[host] += 1
            for key in self.member_of[host]:
                heapq.heappush(self.heaps[key], (self.score(host), self.version[host], host))

    def coolest(self, dests: tuple[str, ...], vm: Vm, exclude: str, best_of: int = 1) -> str | None:
        """The least loaded host of `dests` (not `exclude`) with room for `vm`; with `best_of` > 1,
        of that many least loaded hosts with room, the one that ends least loaded after taking it."""
        key = id(dests)
        heap = self.heaps.get(key)
        if heap is None:
            heap = [(self.score(h), self.version[h], h) for h in dests]
            heapq.heapify(heap)
            self.heaps[key] = heap
            for h in dests:
                self.member_of[h].append(key)
        held: list[tuple[float, int, str]] = []
        fitting: list[str] = []
        while heap and len(held) < 64 and len(fitting) < best_of:
            entry = heapq.heappop(heap)
            if entry[1] != self.version[entry[2]]:
                continue
            held.append(entry)
            if entry[2] != exclude and self.fits(vm, entry[2]):
                fitting.append(entry[2])
        for entry in held:
            heapq.heappush(heap, entry)
        return min(fitting, key=lambda h: (self.score(h, vm, 1), h), default=None)


def greedy(
    cluster: Cluster,
    may_stay: Mapping[str, bool],
    dests: Mapping[str, tuple[str, ...]],
    receivers: Collection[str],
    frozen: Collection[str] = (),
    cpu_weight: int = 1,
    memory_weight: int = 1,
    max_migrations: int | None = None,
    max_moved_mib: int | None = None,
    smart: bool = False,
) -> dict[str, str]:
    """A placement reached by greedy moves (every guest included; unmoved guests keep their host).

    The plain baseline stops as soon as the hottest host cannot be relieved. `smart` (the optimizer's
    hint) instead sets such a host aside and goes on with the next, and picks, among the 8 least loaded
    hosts with room, the one that ends least loaded."""
    best_of = 8 if smart else 1
    state = _State(cluster, dict(cluster.placement), cpu_weight, memory_weight)
    moved: set[str] = set()
    mib = 0

    def budget_allows(vm: Vm) -> bool:
        if max_migrations is not None and len(moved | {vm.uuid}) > max_migrations:
            return False
        return max_moved_mib is None or vm.uuid in moved or mib + vm.memory_mib <= max_moved_mib

    def do(vm: Vm, dest: str) -> None:
        nonlocal mib
        if vm.uuid not in moved:
            mib += vm.memory_mib
        moved.add(vm.uuid)
        state.move(vm, dest)

    # Guests that may not stay leave first, largest first.
    leaving = sorted(
        (v for v in cluster.vms if not may_stay[v.uuid] and v.uuid not in frozen),
        key=lambda v: (-v.memory_mib, v.uuid),
    )
    for vm in leaving:
        dest = state.coolest(dests[vm.uuid], vm, vm.host, best_of)
        if dest is not None and budget_allows(vm):
            do(vm, dest)

    # Then relieve the hottest receiving host, one guest at a time, while that lowers the peak.
    hot = [(-state.score(h), state.version[h], h) for h in receivers]
    heapq.heapify(hot)
    steps = 0
    while hot and steps < 4 * len(cluster.vms):
        steps += 1
        neg, ver, host = heapq.heappop(hot)
        if ver != state.version[host]:
            continue
        before = -neg
        guests = sorted(
            (cluster.vm_by_uuid[u] for u in state.guests[host] if u not in frozen),
            key=lambda v: (
                -max(v.cpu_demand_millicores / state.cap[host][0], v.memory_mib / state.cap[host][1]),
                v.uuid,
            ),
        )
        for vm in guests:
            if not budget_allows(vm):
                continue
            dest = state.coolest(dests[vm.uuid], vm, host, best_of)
            if dest is None:
                continue
            if max(state.score(host, vm, -1), state.score(dest, vm, 1)) < before - 1e-9:
                do(vm, dest)
                break
        else:
            if smart:
                continue
            break
        for h in (host, dest):
            if h in receivers:
                heapq.heappush(hot, (-state.score(h), state.version[h], h))
    return state.placement
