"""Chains: the host holding a peak gives a guest to a host that makes room for it by giving one on.

Where no single move or swap lowers a peak, it is often because the guest that must leave carries
both resources (a 16 GiB guest busy on 5 cores) and every host with room for its memory sits at the
CPU peak, while the hosts with CPU to spare have no memory for it. A chain splits it: the guest goes
to a host with room for its memory, which gives a CPU-heavy, memory-light guest on to a host with CPU
to spare. Measured on generated clusters (1,000/20,000 seed 18, 100/2,000 seed 6), the peak's host
was then left 2-3 points above the memory bound with no single move or swap that lowers it.

A chain is weighed by the objective's own terms (filler.Filler), as the two moves made in turn, and
made only when the two together lower the objective. It is tried only for a host holding a peak above
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


def best_chain(fill: Filler, host: str, frozen: Collection[str]) -> tuple[float, Vm, str, Vm, str] | None:
    """The best chain off `host` when it holds a resource's peak above its target: (gain, the guest
    that leaves `host`, where it goes, the guest that makes room there, where that one goes); None when
    `host` holds no such peak or no chain lowers the objective."""
    tops = fill.tops()
    held = [r for r, (top, holder, _) in tops.items() if holder == host and top > fill.target_bp[r]]
    if not held:
        return None
    ranked = sorted(
        ((fill.leave_gain(vm, host, tops), vm.uuid, vm) for vm in fill.shortlist(host, frozen)),
        key=lambda t: (-t[0], t[1]),
    )
    best: tuple[float, Vm, str, Vm, str] | None = None
    for leave, _, a in ranked[:CHAIN_GUESTS]:
        if leave <= 0 or a.uuid in fill.units or not fill.mover.allows(a, extra=1):
            continue
        hosts = dict.fromkeys(fill.rooms.lightest(fill.dests[a.uuid], "memory", host, CHAIN_HOSTS // 2))
        hosts.update(dict.fromkeys(fill.rooms.lightest(fill.dests[a.uuid], held[0], host, CHAIN_HOSTS // 2)))
        for dest in hosts:
            for b in _room_makers(fill, a, dest, frozen):
                g = _chain_gain(fill, a, host, dest, b)
                if g is not None and g[0] > (best[0] if best else 0.0):
                    best = (g[0], a, dest, b, g[1])
    return best


def _room_makers(fill: Filler, a: Vm, dest: str, frozen: Collection[str]) -> list[Vm]:
    """Guests of `dest` whose leaving makes room there for `a` under every peak target and capacity:
    the CHAIN_LINKS smallest in memory (the cheapest to move on); none when `a` fits already."""
    state = fill.state
    da = state.demand[a.uuid]
    use, cap = state.use[dest], state.cap[dest]
    need: list[float] = [use[i] + da[i] - cap[i] for i in range(3)]
    for r, target in fill.target_bp.items():
        i = INDEX[r]
        need[i] = max(need[i], use[i] + da[i] - target * cap[i] / 10_000.0)
    if all(n <= 0 for n in need):
        return []
    found = [
        fill.state.cluster.vm_by_uuid[u]
        for u in state.guests[dest]
        if u not in frozen and u not in fill.unit_of and u != a.uuid
        if all(state.demand[u][i] >= n for i, n in enumerate(need) if n > 0)
    ]
    found.sort(key=lambda v: (v.memory_mib, v.uuid))
    return [b for b in found if fill.mover.allows(b, extra=1, extra_mib=a.memory_mib)][:CHAIN_LINKS]


def _chain_gain(fill: Filler, a: Vm, src: str, dest: str, b: Vm) -> tuple[float, str] | None:
    """The gain of `b` leaving `dest` for its best landing (not `src`), then `a` going from `src` to
    `dest`, with that landing; None when `b` has no landing or `a` then does not fit on `dest`.
    The two moves are made and undone (the gains are each move's own, in turn)."""
    landing = fill.best_dest(b, beat=float("-inf"), exclude=src)
    if landing is None:
        return None
    first, to = landing
    fill.move(b, to)
    try:
        if not fill.state.fits(a, dest) or fill.crowds(a, dest):
            return None
        if a.uuid in fill.apart and any(fill.state.placement[f] == dest for f in fill.apart[a.uuid]):
            return None
        second = fill.gain(a, src, dest)
    finally:
        fill.move(b, dest)
    return first + second, to


def chain_once(fill: Filler, host: str, frozen: Collection[str]) -> list[str]:
    """Make `host`'s best chain (best_chain); the hosts it touched (none when no chain pays)."""
    found = best_chain(fill, host, frozen)
    if found is None:
        return []
    _, a, dest, b, to = found
    fill.move(b, to)
    fill.move(a, dest)
    return [host, dest, to]
