"""Water-filling: drain the hosts above the band towards the hosts below it, by the objective's own terms.

Starting from a placement (the current one), guests that may not stay leave first; then the big guests
a host above a peak target cannot keep (its cover, or the one that does not fit beside the bigger
ones), while the big hosts have room for them; then, hosts with the
most excess first (objective.py's excess terms, every weighed resource), each host gives up the guest
whose move lowers the objective most: the excess it removes from its host, less any it adds where it
lands, less its move cost, plus what it does to each resource's peak (the dominant term, so a big guest
on a small host moves when that is what lowers the peak, even if it overshoots the level). Destinations
come from the guest's own class of allowed hosts (its compatibility class), the least loaded with room
first, and the lightest in each resource (a guest heavy in CPU finds the hosts light in CPU), so each
class fills from the bottom like water. A host stops giving when no move pays; a host that receives
above the band becomes a giver in turn. Where no single move pays, swaps follow (exchange.py) and, for
the host holding a peak, chains (chain.py: its guest goes where another host's guests make room), then
single moves again. A class of hosts reserved for its own guests (filler.reserved_classes) that guests
allowed elsewhere hold above its level lets them go to hosts outside it with room within their band,
at the start and again once the sweeps have levelled the rest (then one more sweep: its own guests
even out in the room they left; measured on 100/2,000, seeds 0-19: memory peaks 0.41-2.63 -> 0.41-1.95
points above the bound, CPU excess left 1.8-5.9 -> 2.0-3.7 %). No move or swap raises a resource's
peak: the peak term dominates the objective, and a heuristic that traded it for many hosts' excess
would leave the peak for the solver to undo. No move lands a guest where it and the guests at least half
as big as it would be above a peak target: the small guests could leave again, the big ones would be
stuck there as the next peak.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Collection, Mapping

from planner.optimize.chain import chain_once
from planner.optimize.exchange import pressure, swap_once
from planner.optimize.filler import Filler
from planner.optimize.load_state import LoadState, Mover
from planner.optimize.solve import Problem, kept_by_heuristics

#: Rounds of swaps in a sweep, each followed by single moves again.
EXCHANGE_ROUNDS = 2
#: Sweeps over every host in a last polish, at most (one that finds nothing ends it).
SWEEPS = 6


def waterfill(
    p: Problem, placement: Mapping[str, str], max_moves: int | None = None, sweeps: int = 1
) -> dict[str, str]:
    """`placement` drained host by host towards the level, each move paying for itself, in up to
    `sweeps` sweeps over every host (SWEEPS for a last polish: a start leaves the rest of its time
    to the neighbourhood search)."""
    pol = p.policy
    state = LoadState(p.cluster, dict(placement), pol.cpu_weight, pol.memory_weight)
    mover = Mover(state, pol.max_migrations, pol.max_moved_mib)
    moved = [vm for vm in p.cluster.vms if placement[vm.uuid] != vm.host]
    mover.moved = {vm.uuid for vm in moved}
    mover.mib = sum(vm.memory_mib for vm in moved)
    fill = Filler(p, mover, {r: pct * 100 for r, pct in p.outside_peak_pct.items()})
    frozen = kept_by_heuristics(p) - fill.apart.keys()
    # Guests that may not stay leave first, largest first, to the least loaded host with room.
    for vm in sorted(p.cluster.vms, key=lambda v: (-v.memory_mib, v.uuid)):
        if p.may_stay[vm.uuid] or vm.uuid in frozen or state.placement[vm.uuid] != vm.host:
            continue
        dest = state.coolest(p.dests[vm.uuid], vm, vm.host, True)
        if dest is not None and mover.allows(vm):
            fill.move(vm, dest)
    # Hosts above a peak bound that one guest brings under it and its smaller guests do not (the smallest
    # such guest, its cover), or whose big guests alone are above it (the one that cannot stay,
    # crowded), the biggest first, while the big hosts still have room for them: the excess alone would
    # not pay for a big guest that leaves its host far below the level, and the peak needs it gone.
    # (A cover the smaller guests could replace left its host far below the level, for others to fill
    # back: on 100/2,000 with memory alone, 15-23 % more memory moved than the excess.)
    covers = [
        c for h in fill.receivers if (c := fill.cover(h, frozen) or fill.crowded(h, frozen)) is not None
    ]
    for vm in sorted(covers, key=lambda v: (-v.memory_mib, -v.cpu_demand_millicores, v.uuid)):
        landing = fill.best_dest(vm)
        if landing is not None:
            fill.move(vm, landing[1])
    # A reserved class held above its level by guests allowed elsewhere lets them go, once at the
    # start and once the sweeps have levelled the rest (then one more sweep: its own guests even out).
    limit = max_moves if max_moves is not None else 4 * len(p.cluster.vms)
    steps = fill.clear_reserved(frozen)
    # Sweeps over every host: what a move is worth on one host changes as the peaks and the other hosts
    # change, so a host that found nothing is asked again in the next sweep, until a sweep finds nothing.
    for _ in range(sweeps):
        made = _sweep(fill, frozen, limit - steps)
        steps += made
        if not made or steps >= limit:
            break
    cleared = fill.clear_reserved(frozen) if steps < limit else 0
    if cleared:
        steps += cleared
        steps += _sweep(fill, frozen, limit - steps)
    return state.placement


def _sweep(fill: Filler, frozen: Collection[str], limit: int) -> int:
    """Single moves from every host, then swaps where no single move pays (a host above its CPU level
    among hosts level in memory), and single moves again where the swaps opened room, while the swaps
    pay; how many guests moved. Within a sweep, hosts no step touched since they last found nothing
    are not asked again."""
    steps = _hottest_first(
        fill, fill.excess, lambda h: _move_once(fill, h, frozen), limit, set(fill.receivers)
    )
    swapped = set(fill.receivers)
    for _ in range(EXCHANGE_ROUNDS):
        swaps = _hottest_first(
            fill,
            lambda h: pressure(fill, h),
            lambda h: swap_once(fill, h, frozen) or chain_once(fill, h, frozen),
            limit - steps,
            swapped,
        )
        if not swaps:
            break
        steps += 2 * swaps
        drained = set(swapped)
        steps += _hottest_first(
            fill, fill.excess, lambda h: _move_once(fill, h, frozen), limit - steps, drained
        )
        swapped |= drained
    return steps


def _move_once(fill: Filler, host: str, frozen: Collection[str]) -> list[str]:
    """Make `host`'s best single move; the hosts whose excess it changed, with the hosts that hold a
    peak (they give again, even if they found no move before: what pays for them changes as the hosts
    below them drain). None when no move pays."""
    move = fill.best_move(host, frozen)
    if move is None:
        return []
    _, vm, to = move
    fill.move(vm, to)
    return [host, to, *(fill.peaks.top_two(r)[0][1] for r in fill.o.peak_weight)]


def _hottest_first(
    fill: Filler,
    heat: Callable[[str], float],
    step: Callable[[str], list[str]],
    limit: int,
    touched: set[str],
) -> int:
    """`step` on the host of `touched` with the most `heat` while any has some, each host again once a
    step touched it, at most `limit` times; how many steps were made. `touched` ends as the hosts the
    steps touched (where the next pass should look)."""
    state = fill.state
    queue = [(-heat(h), state.version[h], h) for h in touched if h in fill.receivers and heat(h) > 0]
    heapq.heapify(queue)
    touched.clear()
    steps = 0
    while queue and steps < limit:
        _, version, host = heapq.heappop(queue)
        if version != state.version[host]:
            continue
        moved = step(host)
        if not moved:
            continue
        steps += 1
        touched.update(moved)
        for h in set(moved):
            if h in fill.receivers and (hot := heat(h)) > 0:
                heapq.heappush(queue, (-hot, state.version[h], h))
    return steps
