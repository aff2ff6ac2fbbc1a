"""Chains: the host holding a peak gives a guest to a host that makes room for it by giving one on.

Where no single move or swap lowers a peak, it is often because the guest that must leave carries
both resources (a 16 GiB guest busy on 5 cores) and every host with room for its memory sits at the
CPU peak, while the hosts with CPU to spare have no memory for it. A chain splits it: the guest goes
to a host with room for its memory, which gives a CPU-heavy, memory-light guest on to a host with CPU
to spare (or, when no one guest makes the room, up to CHAIN_SET guests, each to its own best host).
Before chains, generated clusters ended with the peak's host 2-3 points above the memory bound and no
single move or swap that lowered it: 100/2,000 seed 6, and 1,000/20,000 seed 18 with a band of 1 point.

A chain is weighed by the objective's own terms (filler.Filler), as its moves made in turn, and made
only when they together lower the objective. It is tried only for a host holding a peak above
its target: the peak dominates the objective, and elsewhere moves and swaps do the work.
"""

from __future__ import annotations

from collections.abc import Collection

from planner.model import Vm
from planner.optimize.filler import Filler
from planner.optimize.load_state import INDEX

#: Guests of the peak's host tried (those whose leaving gains most), hosts tried for each, and guests
#: of such a host tried as the one to give on.
CHAIN_GUESTS = 6
CHAIN_HOSTS = 6
CHAIN_LINKS = 2
#: Guests a host may give on at most to make room, when no one of them makes enough.
CHAIN_SET = 3

#: A chain: (gain, the guest that leaves the peak's host, where it goes, and the guests that make room
#: there, each with where it goes).
Chain = tuple[float, Vm, str, tuple[tuple[Vm, str], ...]]


def best_chain(fill: Filler, host: str, frozen: Collection[str]) -> Chain | None:
    """The best chain off `host` when it holds a resource's peak above its target; None when `host`
    holds no such peak or no chain lowers the objective."""
    tops = fill.tops()
    held = [r for r, (top, holder, _) in tops.items() if holder == host and top > fill.target_bp[r]]
    if not held:
        return None
    ranked = sorted(
        ((fill.leave_gain(vm, host, tops), vm.uuid, vm) for vm in fill.shortlist(host, frozen)),
        key=lambda t: (-t[0], t[1]),
    )
    best: Chain | None = None
    for leave, _, a in ranked[:CHAIN_GUESTS]:
        if leave <= 0 or a.uuid in fill.units or not fill.mover.allows(a, extra=1):
            continue
        # The hosts lightest in memory and in the resource whose peak `host` holds (and those with most
        # room of it): where `a` fits, or nearly.
        dests = fill.dests[a.uuid]
        hosts = dict.fromkeys(fill.rooms.lightest(dests, "memory", host, CHAIN_HOSTS // 2))
        hosts.update(dict.fromkeys(fill.rooms.lightest(dests, held[0], host, CHAIN_HOSTS // 2)))
        for dest in hosts:
            for makers in _room_makers(fill, a, dest, frozen):
                found = _chain_gain(fill, a, host, dest, makers)
                if found is not None and found[0] > (best[0] if best else 0.0):
                    best = (found[0], a, dest, found[1])
    return best


def _room_makers(fill: Filler, a: Vm, dest: str, frozen: Collection[str]) -> list[list[Vm]]:
    """Sets of guests of `dest` whose leaving makes room there for `a` under every peak target and
    capacity: the CHAIN_LINKS smallest in memory (the cheapest to move on) that make it alone, or,
    when none does, up to CHAIN_SET guests that make it together, those carrying most of what is
    missing per MiB first; none when `a` fits already or they cannot make room."""
    state = fill.state
    da = state.demand[a.uuid]
    use, cap = state.use[dest], state.cap[dest]
    need: list[float] = [use[i] + da[i] - cap[i] for i in range(3)]
    for r, target in fill.target_bp.items():
        i = INDEX[r]
        need[i] = max(need[i], use[i] + da[i] - target * cap[i] / 10_000.0)
    short = [i for i, n in enumerate(need) if n > 0]
    if not short:
        return []
    mine = [
        state.cluster.vm_by_uuid[u]
        for u in state.guests[dest]
        if u not in frozen and u not in fill.unit_of and u != a.uuid
    ]
    alone = sorted(
        (b for b in mine if all(state.demand[b.uuid][i] >= need[i] for i in short)),
        key=lambda v: (v.memory_mib, v.uuid),
    )
    if alone:
        return [[b] for b in alone[:CHAIN_LINKS]]
    # Most of the missing resources per MiB first: the cheapest room to make.
    mine.sort(
        key=lambda v: (-sum(state.demand[v.uuid][i] / need[i] for i in short) / max(1, v.memory_mib), v.uuid)
    )
    picked: list[Vm] = []
    left = list(need)
    for b in mine:
        if all(left[i] <= 0 for i in short) or len(picked) == CHAIN_SET:
            break
        if any(state.demand[b.uuid][i] > 0 and left[i] > 0 for i in short):
            picked.append(b)
            left = [left[i] - state.demand[b.uuid][i] for i in range(3)]
    return [picked] if all(left[i] <= 0 for i in short) else []


def _chain_gain(
    fill: Filler, a: Vm, src: str, dest: str, makers: list[Vm]
) -> tuple[float, tuple[tuple[Vm, str], ...]] | None:
    """The gain of `makers` leaving `dest`, each for its best landing then (not `src`), then `a`
    going from `src` to `dest`, with those landings; None when one has no landing, the budget does not
    allow them all, or `a` then does not fit on `dest`. The moves are made and undone (the gains are
    each move's own, in turn)."""
    if not fill.mover.allows(a, extra=len(makers), extra_mib=sum(b.memory_mib for b in makers)):
        return None
    made: list[tuple[Vm, str]] = []
    total = 0.0
    try:
        for b in makers:
            landing = fill.best_dest(b, beat=float("-inf"), exclude=src)
            if landing is None:
                return None
            fill.move(b, landing[1])
            made.append((b, landing[1]))
            total += landing[0]
        if not fill.state.fits(a, dest) or fill.crowds(a, dest) or fill.apart_from(a, dest):
            return None
        total += fill.gain(a, src, dest)
    finally:
        for b, _ in reversed(made):
            fill.move(b, dest)
    return total, tuple(made)


def chain_once(fill: Filler, host: str, frozen: Collection[str]) -> list[str]:
    """Make `host`'s best chain (best_chain); the hosts it touched (none when no chain pays)."""
    found = best_chain(fill, host, frozen)
    if found is None:
        return []
    _, a, dest, makers = found
    for b, to in makers:
        fill.move(b, to)
    fill.move(a, dest)
    return [host, dest, *(to for _, to in makers)]
