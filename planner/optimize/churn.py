"""Anti-churn for the heuristics: undo moves that are not worth their cost.

The greedy pass, the water-filling and the neighbourhood search may move more
than they need. Each moved guest, dearest first, goes back to its own host when that lowers the
objective as water-filling weighs a move (filler.Filler: the excess it adds back, its share above
the peak bound, the peak, against the move's cost saved): the same trade the CP-SAT objective makes.
A host held under its peak bound is not filled back up just because some other host's load fixes
the peak higher. Then shortcuts: where a guest moved onto a host that itself gave a guest away (x from
a to b, y from b to c), x goes on to c and y back home when that is no worse (for guests alike in size,
the same loads for one move fewer).
"""

from __future__ import annotations

from collections.abc import Collection

from planner.optimize.exchange import AllowedOn, swap_gain
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


def shortcut(fill: Filler, frozen: Collection[str]) -> int:
    """For each guest y moved away from its home b, a guest x that moved onto b from elsewhere goes on
    to y's host instead and y goes home, when the objective (filler's weighing of the two moves, the
    move y saves included) does not rise; how many guests went home so."""
    state = fill.state
    by_uuid = state.cluster.vm_by_uuid
    arrived: dict[str, list[str]] = {}
    for u in sorted(fill.mover.moved):
        if u not in frozen and u not in fill.unit_of:
            arrived.setdefault(state.placement[u], []).append(u)
    allowed_on = AllowedOn(fill)
    saved = 0
    for u in sorted(fill.mover.moved):
        y = by_uuid[u]
        home, now = y.host, state.placement[u]
        if home == now or u in frozen or u in fill.unit_of or home not in fill.receivers:
            continue
        if not fill.p.may_stay[u] or now not in fill.receivers:
            continue
        came = arrived.get(home)
        if not came:
            continue
        tops = fill.tops()
        best: tuple[float, str] | None = None
        for x_uuid in came:
            x = by_uuid[x_uuid]
            if state.placement[x_uuid] != home or x_uuid == u or not allowed_on(x, now):
                continue
            if fill.apart_from(x, now):
                continue
            g = swap_gain(fill, x, home, y, now, tops)
            if g >= 0 and (best is None or g > best[0]):
                best = (g, x_uuid)
        if best is None:
            continue
        x = by_uuid[best[1]]
        fill.move(x, now)
        fill.move(y, home)
        arrived[home].remove(x.uuid)
        arrived.setdefault(now, []).append(x.uuid)
        saved += 1
    return saved


def trim(p: Problem, placement: dict[str, str], frozen: Collection[str] = ()) -> tuple[dict[str, str], int]:
    """`placement` without the moves not worth their cost, and how many were undone (sent home, or
    saved by a shortcut)."""
    state = LoadState(p.cluster, dict(placement), p.policy.cpu_weight, p.policy.memory_weight)
    mover = Mover(state, None, None)
    mover.moved = {vm.uuid for vm in p.cluster.vms if placement[vm.uuid] != vm.host and vm.uuid not in frozen}
    fill = Filler(p, mover, {})
    undone = undo_unworthy(fill)
    undone += shortcut(fill, frozen)
    return state.placement, undone
