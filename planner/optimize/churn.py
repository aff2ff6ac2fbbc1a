"""Anti-churn for the heuristics: undo moves that are not worth their cost.

The greedy pass, the water-filling and the neighbourhood search may move more
than they need. Each moved guest, dearest first, goes back to its own host when that lowers the
objective as water-filling weighs a move (filler.Filler: the excess it adds back, its share above
the peak bound, the peak, against the move's cost saved): the same trade the CP-SAT objective makes.
A host held under its peak bound is not filled back up just because some other host's load fixes
the peak higher.
"""

from __future__ import annotations

from collections.abc import Collection

from planner.optimize.filler import Filler
from planner.optimize.load_state import LoadState, Mover
from planner.optimize.solve import Problem


def undo_unworthy(fill: Filler, may_stay: dict[str, bool] | None = None) -> int:
    """Send moved guests home where the move does not pay for itself; returns how many went home."""
    state = fill.state
    cluster = state.cluster
    stay_ok = may_stay if may_stay is not None else fill.p.may_stay
    cost = {u: fill.move_cost(cluster.vm_by_uuid[u]) for u in fill.mover.moved}
    moved = sorted((cluster.vm_by_uuid[u] for u in fill.mover.moved), key=lambda v: (-cost[v.uuid], v.uuid))
    undone = 0
    for vm in moved:
        home, now = vm.host, state.placement[vm.uuid]
        if home not in fill.receivers or not stay_ok[vm.uuid] or not state.fits(vm, home):
            continue
        if fill.gain(vm, now, home) > 0:
            fill.move(vm, home)
            undone += 1
    return undone


def trim(p: Problem, placement: dict[str, str], frozen: Collection[str] = ()) -> tuple[dict[str, str], int]:
    """`placement` without the moves not worth their cost, and how many were undone."""
    state = LoadState(p.cluster, dict(placement), p.policy.cpu_weight, p.policy.memory_weight)
    mover = Mover(state, None, None)
    mover.moved = {vm.uuid for vm in p.cluster.vms if placement[vm.uuid] != vm.host and vm.uuid not in frozen}
    fill = Filler(p, mover, {})
    undone = undo_unworthy(fill)
    return state.placement, undone
