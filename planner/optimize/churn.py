"""Anti-churn for the heuristics: undo moves that are not worth their cost.

The greedy pass and the ejection chains chase the peak and may move more than they need. Each moved
guest, dearest first, goes back to its own host when that keeps every host at or below the peak
reached and the imbalance it adds back (each weighed resource's share above the water level, in
percentage points) is smaller than what the move costs (solve.move_cost_points) — the same trade the
CP-SAT objective makes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from planner.model import Cluster, Vm
from planner.optimize.load_state import LoadState, Mover


def _excess(mover: Mover, host: str, levels: tuple[float, float], vm: Vm | None, sign: int) -> float:
    state = mover.state
    use, cap = state.use[host], state.cap[host]
    cpu = use[0] + (sign * vm.cpu_demand_millicores if vm else 0)
    mem = use[1] + (sign * vm.memory_mib if vm else 0)
    out = 0.0
    if state.weights[0]:
        out += max(0.0, 100.0 * cpu / cap[0] - levels[0])
    if state.weights[1]:
        out += max(0.0, 100.0 * mem / cap[1] - levels[1])
    return out


def undo_unworthy(
    mover: Mover,
    receivers: Collection[str],
    may_stay: Mapping[str, bool],
    levels_pct: Mapping[str, float],
    cost: Mapping[str, float],
) -> int:
    """Send moved guests home where the move does not pay for itself; returns how many went home."""
    state = mover.state
    cluster = state.cluster
    peak = max((state.score(h) for h in receivers), default=0.0)
    levels = (levels_pct.get("cpu", 0.0), levels_pct.get("memory", 0.0))
    moved = sorted((cluster.vm_by_uuid[u] for u in mover.moved), key=lambda v: (-cost[v.uuid], v.uuid))
    undone = 0
    for vm in moved:
        home, now = vm.host, state.placement[vm.uuid]
        if home not in receivers or not may_stay[vm.uuid] or not state.fits(vm, home):
            continue
        if state.score(home, vm, 1) > peak:
            continue
        added = (
            _excess(mover, home, levels, vm, 1)
            - _excess(mover, home, levels, None, 0)
            + _excess(mover, now, levels, vm, -1)
            - _excess(mover, now, levels, None, 0)
        )
        if added < cost[vm.uuid]:
            mover.move(vm, home)
            undone += 1
    return undone


def trim(
    cluster: Cluster,
    placement: Mapping[str, str],
    receivers: Collection[str],
    may_stay: Mapping[str, bool],
    levels_pct: Mapping[str, float],
    cost: Mapping[str, float],
    weights: tuple[int, int],
    frozen: Collection[str] = (),
) -> tuple[dict[str, str], int]:
    """`placement` without the moves not worth their cost, and how many were undone."""
    state = LoadState(cluster, dict(placement), *weights)
    mover = Mover(state, None, None)
    mover.moved = {vm.uuid for vm in cluster.vms if placement[vm.uuid] != vm.host and vm.uuid not in frozen}
    undone = undo_unworthy(mover, receivers, may_stay, levels_pct, cost)
    return state.placement, undone
