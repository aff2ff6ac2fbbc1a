"""Exchanges: two guests trade hosts where no single move pays.

Once water-filling has levelled memory, a host above its CPU level (or its peak bound) can give up
a busy guest only to a host that then rises above its memory level; a single move no longer pays. A
swap does: the busy guest goes to a host light in CPU, and an idle guest of about its memory comes
back, so memory stays level while CPU evens out (and the same with the resources the other way round).
Each swap is weighed by the objective's own terms (filler.Filler: every host's excess, its share
above the peak bound, the peaks, both moves' costs) and made only when it lowers the objective.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from planner.model import Vm
from planner.optimize.filler import Filler
from planner.optimize.load_state import INDEX

#: Guests of a host under pressure tried per swap (those whose leaving alone gains most).
GUESTS_PER_HOST = 3
#: Partner hosts tried per guest (the lightest in the resource the host has too much of).
PARTNER_HOSTS = 2
#: The same for a host that holds a resource's peak above its target: the peak is the dominant term,
#: and the swap that lowers it is often not among the few above (measured: 1,000/20,000, seeds 0-19,
#: mean CPU peak 1.55 -> 1.32 points above its bound, memory 1.68 -> 1.51, 1-2 s more).
PEAK_GUESTS = 8
PEAK_PARTNERS = 8

Tops = Mapping[str, tuple[float, str, float]]


def pressure(fill: Filler, host: str) -> float:
    """What `host` adds to the objective by itself: its excess and its shares above the peak bounds."""
    return fill.excess(host) + sum(w * fill.over(host, r, 0) for r, w in fill.o.peak_weight.items())


def swap_gain(
    fill: Filler, a: Vm, src: str, b: Vm, dest: str, tops: Tops, base: tuple[float, float] | None = None
) -> float:
    """How much the objective drops when `a` goes from `src` to `dest` and `b` from `dest` to `src`;
    minus infinity when either host would lack room. `base`: the two hosts' excess now, when the
    caller has it (a search trying many swaps between the same hosts)."""
    state = fill.state
    da, db = state.demand[a.uuid], state.demand[b.uuid]
    dc, dm, dv = db[0] - da[0], db[1] - da[1], db[2] - da[2]
    for host, sign in ((src, 1), (dest, -1)):
        use, cap = state.use[host], state.cap[host]
        if use[0] + sign * dc > cap[0] or use[1] + sign * dm > cap[1] or use[2] + sign * dv > cap[2]:
            return float("-inf")
    now_src, now_dest = base if base is not None else (fill.excess(src), fill.excess(dest))
    g = now_src - fill.excess(src, dc, dm) + now_dest - fill.excess(dest, -dc, -dm)
    # Each move's cost, or its saving when the guest goes home.
    g -= fill.move_cost(a) * ((dest != a.host) - (src != a.host))
    g -= fill.move_cost(b) * ((src != b.host) - (dest != b.host))
    inside = (src in fill.receivers, dest in fill.receivers)
    for r, w in fill.o.peak_weight.items():
        d = dc if r == "cpu" else dm
        top, holder, second = tops[r]
        now_src, now_dest = fill.peaks.share(src, r, 0), fill.peaks.share(dest, r, 0)
        at_src = fill.peaks.share(src, r, d) if inside[0] else 0.0
        at_dest = fill.peaks.share(dest, r, -d) if inside[1] else 0.0
        if at_src > top or at_dest > top:
            return float("-inf")  # no swap raises a peak
        if holder in (src, dest):
            low = max(second, at_src, at_dest, fill.floor.get(r, 0.0))
            g += fill.o.peak_term(r, top) - fill.o.peak_term(r, low)
        if inside[0]:
            g += w * (fill.over_share(r, now_src) - fill.over_share(r, at_src))
        if inside[1]:
            g += w * (fill.over_share(r, now_dest) - fill.over_share(r, at_dest))
    return g


def _heavy(fill: Filler, host: str) -> str:
    """The resource `host` has most too much of (relative to its peak bound)."""
    shares = {r: fill.peaks.share(host, r, 0) - fill.target_bp[r] for r in fill.target_bp}
    return max(shares, key=lambda r: (shares[r], r)) if shares else "memory"


def best_swap(fill: Filler, host: str, frozen: Collection[str]) -> tuple[float, Vm, Vm, str] | None:
    """The swap of a guest of `host` with one of a host light in what `host` has too much of that
    lowers the objective most; None when none does. A host holding a peak above its target looks
    wider (PEAK_GUESTS, PEAK_PARTNERS)."""
    tops = fill.tops()
    heavy = _heavy(fill, host)
    i = INDEX[heavy]
    mine = [vm for vm in fill.shortlist(host, frozen) if vm.uuid not in fill.units and fill.mover.allows(vm)]
    cap = fill.state.cap[host]
    j = 1 - i  # the other resource: a guest carrying much of the heavy one and little of it goes first
    mine.sort(
        key=lambda v: (fill.state.demand[v.uuid][j] / cap[j] - fill.state.demand[v.uuid][i] / cap[i], v.uuid)
    )
    best: tuple[float, Vm, Vm, str] | None = None
    allowed_on = AllowedOn(fill)
    wide = any(holder == host and top > fill.target_bp[r] for r, (top, holder, _) in tops.items())
    guests, partners = (PEAK_GUESTS, PEAK_PARTNERS) if wide else (GUESTS_PER_HOST, PARTNER_HOSTS)
    here = fill.excess(host)
    for a in mine[:guests]:
        for dest in fill.rooms.lightest(fill.dests[a.uuid], heavy, host, partners):
            if fill.apart_from(a, dest):
                continue
            base = (here, fill.excess(dest))
            for b in _partners(fill, a, host, dest, frozen, allowed_on, i):
                g = swap_gain(fill, a, host, b, dest, tops, base)
                if g > (best[0] if best else 0.0):
                    best = (g, a, b, dest)
    return best


class AllowedOn:
    """Whether a guest may go to a host, with each class of allowed hosts made a set once."""

    def __init__(self, fill: Filler):
        self.fill = fill
        self.sets: dict[int, frozenset[str]] = {}

    def __call__(self, vm: Vm, host: str) -> bool:
        dests = self.fill.dests[vm.uuid]
        found = self.sets.get(id(dests))
        if found is None:
            found = self.sets[id(dests)] = frozenset(dests)
        return host in found or (host == vm.host and self.fill.p.may_stay[vm.uuid])


def _partners(
    fill: Filler, a: Vm, src: str, dest: str, frozen: Collection[str], allowed_on: AllowedOn, heavy: int
) -> list[Vm]:
    """Guests of `dest` that may go to `src` in exchange for `a` and bring less of the `heavy`
    resource (index) than `a` takes: per memory size, the one that brings least CPU (CPU heavy), or
    the one whose CPU is closest to `a`'s (memory heavy: CPU stays where it is)."""
    picks: dict[int, tuple[int, str]] = {}
    demand = fill.state.demand
    most, cpu = demand[a.uuid][heavy], demand[a.uuid][0]
    for u in fill.state.guests[dest]:
        d = demand[u]
        if d[heavy] >= most or u in frozen or u in fill.unit_of:
            continue
        key = (d[0] if heavy == 0 else abs(d[0] - cpu), u)
        pick = picks.get(d[1])
        if pick is None or key < pick:
            picks[d[1]] = key
    by_uuid = fill.state.cluster.vm_by_uuid
    out: list[Vm] = []
    for _, u in sorted(picks.values()):  # in a fixed order: ties go the same way on every run
        b = by_uuid[u]
        if not allowed_on(b, src) or not fill.mover.allows(b, extra=1, extra_mib=a.memory_mib):
            continue
        if fill.apart_from(b, src):
            continue
        out.append(b)
    return out


def swap_once(fill: Filler, host: str, frozen: Collection[str]) -> list[str]:
    """Make `host`'s best swap (best_swap); the hosts it touched (none when no swap pays)."""
    found = best_swap(fill, host, frozen)
    if found is None:
        return []
    _, a, b, dest = found
    fill.move(a, dest)
    fill.move(b, host)
    return [host, dest]
