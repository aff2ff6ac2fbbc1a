"""Mutable per-host loads for the heuristics (greedy, water-filling), with lazily updated heaps of the
coolest hosts per class of allowed destinations, and the migration budget they spend."""

from __future__ import annotations

import heapq
import math
from collections.abc import Collection

from planner.model import Cluster, Vm

#: Where each resource sits in a host's use and capacity rows.
INDEX = {"cpu": 0, "memory": 1}
#: Host sizes (memory capacity) are told apart in steps of 1/6 octave (about 12%).
SIZE_STEPS_PER_OCTAVE = 6


class LoadState:
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
        self.demand = {vm.uuid: (vm.cpu_demand_millicores, vm.memory_mib, vm.vcpus) for vm in cluster.vms}
        self.guests: dict[str, set[str]] = {h.name: set() for h in cluster.hosts}
        for vm in cluster.vms:
            host = placement[vm.uuid]
            if host in self.use:
                self._add(vm, host, 1)
                self.guests[host].add(vm.uuid)
        self.version = dict.fromkeys(self.use, 0)
        self.current = {h: self._score(h, 0, 0) for h in self.use}
        self.touched: list[str] = []
        self.heaps: dict[tuple[int, bool], list[list[tuple[float, int, str]]]] = {}
        self.member_of: dict[str, list[tuple[list[tuple[float, int, str]], int]]] = {h: [] for h in self.use}

    def _add(self, vm: Vm, host: str, sign: int) -> None:
        use = self.use[host]
        use[0] += sign * vm.cpu_demand_millicores
        use[1] += sign * vm.memory_mib
        use[2] += sign * vm.vcpus

    def _score(self, host: str, cpu_delta: int, mem_delta: int) -> float:
        use, cap = self.use[host], self.cap[host]
        cpu = 100.0 * (use[0] + cpu_delta) / cap[0] if self.weights[0] else 0.0
        mem = 100.0 * (use[1] + mem_delta) / cap[1] if self.weights[1] else 0.0
        return cpu if cpu > mem else mem

    def score(self, host: str, vm: Vm | None = None, sign: int = 0) -> float:
        """The host's score now, or once `vm` arrives (sign 1) or leaves (sign -1)."""
        if vm is None or sign == 0:
            return self.current[host]
        d = self.demand[vm.uuid]
        return self._score(host, sign * d[0], sign * d[1])

    def fits(self, vm: Vm, host: str) -> bool:
        use, cap, d = self.use[host], self.cap[host], self.demand[vm.uuid]
        return use[0] + d[0] <= cap[0] and use[1] + d[1] <= cap[1] and use[2] + d[2] <= cap[2]

    def move(self, vm: Vm, dest: str) -> None:
        src = self.placement[vm.uuid]
        self._add(vm, src, -1)
        self._add(vm, dest, 1)
        self.guests[src].discard(vm.uuid)
        self.guests[dest].add(vm.uuid)
        self.placement[vm.uuid] = dest
        for host in (src, dest):
            self.version[host] += 1
            self.current[host] = self._score(host, 0, 0)
            self.touched.append(host)
            for heap, kind in self.member_of[host]:
                heapq.heappush(heap, (self.key(host, kind), self.version[host], host))

    def key(self, host: str, kind: int) -> float:
        """What a heap orders hosts by: 0 the score, 1 the CPU share, 2 the memory share."""
        if kind == 0:
            return self.current[host]
        return self.use[host][kind - 1] / self.cap[host][kind - 1]

    def _heaps(self, dests: tuple[str, ...], by_size: bool) -> list[list[tuple[float, int, str]]]:
        """Heaps of `dests`, coolest first: one by score; or, `by_size`, per host size
        (SIZE_STEPS_PER_OCTAVE) one by CPU share and one by memory share, so that a guest heavy in one
        resource finds the hosts light in it."""
        key = (id(dests), by_size)
        heaps = self.heaps.get(key)
        if heaps is None:
            parts: dict[int, list[str]] = {}
            for h in dests:
                size = round(SIZE_STEPS_PER_OCTAVE * math.log2(self.cap[h][1])) if by_size else 0
                parts.setdefault(size, []).append(h)
            kinds = [k for k, on in ((1, self.weights[0]), (2, self.weights[1])) if on] if by_size else [0]
            heaps = []
            for part in parts.values():
                for kind in kinds or [0]:
                    heap = [(self.key(h, kind), self.version[h], h) for h in part]
                    heapq.heapify(heap)
                    heaps.append(heap)
                    for h in part:
                        self.member_of[h].append((heap, kind))
            self.heaps[key] = heaps
        return heaps

    def coolest(self, dests: tuple[str, ...], vm: Vm, exclude: str, smart: bool = False) -> str | None:
        """The least loaded host of `dests` (not `exclude`) with room for `vm`; `smart`: see candidates."""
        found = self.candidates(dests, vm, exclude, 1, smart)
        return found[0] if found else None

    def candidates(
        self, dests: tuple[str, ...], vm: Vm, exclude: str, count: int, smart: bool = True
    ) -> list[str]:
        """Up to `count` hosts of `dests` (not `exclude`) with room for `vm`, those that end least loaded
        first. `smart`: drawn from the two least loaded hosts with room of each heap (see _heaps: big guests
        find big hosts, memory-heavy ones hosts with free memory); otherwise the least loaded host with room."""
        fitting: list[str] = []
        for heap in self._heaps(dests, smart):
            held: list[tuple[float, int, str]] = []
            found = 0
            while heap and len(held) < 32 and found < (2 if smart else 1):
                entry = heapq.heappop(heap)
                if entry[1] != self.version[entry[2]]:
                    continue
                held.append(entry)
                if entry[2] != exclude and self.fits(vm, entry[2]):
                    fitting.append(entry[2])
                    found += 1
            for entry in held:
                heapq.heappush(heap, entry)
        return sorted(set(fitting), key=lambda h: (self.score(h, vm, 1), h))[:count]


class Mover:
    """The state plus the migration budget: which guests have moved, how much memory that is."""

    def __init__(self, state: LoadState, max_migrations: int | None, max_moved_mib: int | None):
        self.state = state
        self.limits = (max_migrations, max_moved_mib)
        self.moved: set[str] = set()
        self.mib = 0

    def allows(self, vm: Vm, extra: int = 0, extra_mib: int = 0) -> bool:
        count, mib = self.limits
        new = vm.uuid not in self.moved
        if count is not None and len(self.moved) + extra + new > count:
            return False
        return mib is None or self.mib + extra_mib + (vm.memory_mib if new else 0) <= mib

    def move(self, vm: Vm, dest: str) -> None:
        if dest == vm.host and vm.uuid in self.moved:
            self.moved.discard(vm.uuid)
            self.mib -= vm.memory_mib
        elif dest != vm.host and vm.uuid not in self.moved:
            self.moved.add(vm.uuid)
            self.mib += vm.memory_mib
        self.state.move(vm, dest)


def by_size(state: LoadState, host: str, guests: Collection[Vm]) -> list[Vm]:
    """Guests largest first, by their share of `host`'s most used resource."""
    cap = state.cap[host]
    return sorted(
        guests, key=lambda v: (-max(v.cpu_demand_millicores / cap[0], v.memory_mib / cap[1]), v.uuid)
    )
