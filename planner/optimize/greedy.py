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
from planner.optimize.load_state import LoadState, Mover, by_size

#: How close to the target the smart pass brings the hottest host before it stops moving guests.
TARGET_SLACK_PCT = 0.5


def cheapest_cover_first(state: LoadState, host: str, guests: list[Vm], target_pct: float) -> list[Vm]:
    """`guests` with, first, the smallest one whose leaving brings `host` down to `target_pct`."""
    use, cap = state.use[host], state.cap[host]
    need_cpu = use[0] - target_pct / 100 * cap[0] if state.weights[0] else 0.0
    need_mem = use[1] - target_pct / 100 * cap[1] if state.weights[1] else 0.0
    covers = [g for g in guests if g.cpu_demand_millicores >= need_cpu and g.memory_mib >= need_mem]
    if not covers:
        return guests
    best = min(covers, key=lambda g: (g.memory_mib, g.cpu_demand_millicores, g.uuid))
    return [best, *(g for g in guests if g is not best)]


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
    target_pct: float | None = None,
) -> dict[str, str]:
    """A placement reached by greedy moves (every guest included; unmoved guests keep their host).

    The plain baseline stops as soon as the hottest host cannot be relieved. `smart` (the optimizer's
    hint) instead sets such a host aside and goes on with the next, picks among the least loaded hosts
    of each size the one that ends least loaded. Given `target_pct` (the level the peak could reach), it tries first the guest that
    alone brings its host down to the target for the least memory moved (fewer GiB moved)."""
    state = LoadState(cluster, dict(cluster.placement), cpu_weight, memory_weight)
    mover = Mover(state, max_migrations, max_moved_mib)

    # Guests that may not stay leave first, largest first.
    leaving = sorted(
        (v for v in cluster.vms if not may_stay[v.uuid] and v.uuid not in frozen),
        key=lambda v: (-v.memory_mib, v.uuid),
    )
    for vm in leaving:
        dest = state.coolest(dests[vm.uuid], vm, vm.host, smart)
        if dest is not None and mover.allows(vm):
            mover.move(vm, dest)

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
        if target_pct is not None and before <= target_pct + TARGET_SLACK_PCT:
            break  # every host is at the level the peak could reach: further moves only churn
        guests = by_size(state, host, [cluster.vm_by_uuid[u] for u in state.guests[host] if u not in frozen])
        if target_pct is not None:
            guests = cheapest_cover_first(state, host, guests, target_pct)
        for vm in guests:
            if not mover.allows(vm):
                continue
            dest = state.coolest(dests[vm.uuid], vm, host, smart)
            if dest is None:
                continue
            if max(state.score(host, vm, -1), state.score(dest, vm, 1)) < before - 1e-9:
                mover.move(vm, dest)
                break
        else:
            if smart:
                continue
            break
        for h in (host, dest):
            if h in receivers:
                heapq.heappush(hot, (-state.score(h), state.version[h], h))
    return state.placement
