"""Ejection chains: relieve the hottest host when no single move can.

When every host sits near the water level, a big guest on the hottest host fits nowhere without making
that host the new peak. An ejection chain moves it anyway, to a host with room for it, and then moves
smaller guests off that host to others, until every host touched is below the old peak. A chain is
tried in full and undone if it fails, so the peak never rises. A host no chain can relieve (its guests
are tied by a rule, say) is set aside and the next hottest is tried, so that the others still come down
for when the solver's repair frees it.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Mapping

from planner.model import Vm
from planner.optimize.load_state import Mover, by_size

MAX_ROUNDS_PER_HOST = 2
TRIES = 4


def _chain(
    mover: Mover,
    vm: Vm,
    dest: str,
    limit: float,
    dests: Mapping[str, tuple[str, ...]],
    frozen: Collection[str],
    source: str,
) -> list[tuple[Vm, str]] | None:
    """Move `vm` to `dest`, then eject smaller guests from `dest` until it is below `limit`.
    Returns the moves made (to undo), or None after undoing them when that fails."""
    state = mover.state
    cluster = state.cluster
    done: list[tuple[Vm, str]] = [(vm, state.placement[vm.uuid])]
    mover.move(vm, dest)
    ok = state.score(dest) < limit
    if not ok:
        others = [cluster.vm_by_uuid[u] for u in state.guests[dest] if u not in frozen and u != vm.uuid]
        for guest in by_size(state, dest, others):
            if guest.memory_mib > vm.memory_mib or not mover.allows(guest):
                continue
            for target in state.candidates(dests[guest.uuid], guest, dest, TRIES):
                if target != source and state.score(target, guest, 1) < limit:
                    done.append((guest, dest))
                    mover.move(guest, target)
                    break
            if state.score(dest) < limit:
                ok = True
                break
    if ok:
        return done
    for moved, back in reversed(done):
        mover.move(moved, back)
    return None


def eject_peak(
    mover: Mover,
    dests: Mapping[str, tuple[str, ...]],
    receivers: Collection[str],
    frozen: Collection[str],
    stop_pct: float = 0.0,
) -> int:
    """Lower the peak with ejection chains, hottest host first, until it is at `stop_pct`; returns how
    many chains were made."""
    state = mover.state
    cluster = state.cluster
    hot = [(-state.score(h), state.version[h], h) for h in receivers]
    heapq.heapify(hot)
    state.touched.clear()
    chains = 0
    for _ in range(MAX_ROUNDS_PER_HOST * len(hot) + 10):
        while hot and hot[0][1] != state.version[hot[0][2]]:
            heapq.heappop(hot)
        if not hot:
            break
        host = hot[0][2]
        if state.score(host) <= stop_pct:
            break
        limit = state.score(host) - 1e-6
        guests = [cluster.vm_by_uuid[u] for u in state.guests[host] if u not in frozen]
        relieved = False
        for vm in by_size(state, host, guests):
            if not mover.allows(vm):
                continue
            for dest in state.candidates(dests[vm.uuid], vm, host, TRIES):
                if (
                    _chain(mover, vm, dest, limit, dests, frozen, host) is not None
                    and state.score(host) < limit
                ):
                    relieved = True
                    break
            if relieved:
                break
        if not relieved:
            heapq.heappop(hot)  # set aside (until a chain touches it): the solver's repair may free it
            continue
        chains += 1
        for h in state.touched:
            if h in receivers:
                heapq.heappush(hot, (-state.score(h), state.version[h], h))
        state.touched.clear()
    return chains
