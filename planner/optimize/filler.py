"""The water-filling state: every host's load, room and excess, the peaks, and what a move or a swap is
worth by the objective's own terms (objective.py). waterfill.py and exchange.py drive it; churn.py weighs
moves with it too.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Collection, Mapping
from dataclasses import replace

from planner.model import Vm
from planner.optimize.encoding import Resource
from planner.optimize.load_state import INDEX, LoadState, Mover
from planner.optimize.objective import Objective
from planner.optimize.peak_bound import host_classes, resource_peak_bounds
from planner.optimize.solve import Problem, apart_fellows, moving_as_one

#: A host's share above its resource's peak bound plus this many points weighs like the peak.
PEAK_SLACK_PCT = 0.5
#: A class of hosts whose own guests (allowed nowhere else) fill it to within this many points of a
#: resource's level is kept for them (reserved_classes). Measured on 100/2,000, seeds 0-19: 4 seeds
#: missed a peak target with none kept, 1 with 8 points; 1,000/20,000 met them either way.
RESERVE_PCT = 8.0
#: Points above the target peak (the bound plus PEAK_SLACK_PCT) beyond which a host's share counts
#: STEEP times (about the 2 points within which the planner aims to hold each resource's peak).
STEEP_PCT = 1.5
STEEP = 4
#: What a host's share above its target peak weighs, per MiB (or CPU's MiB-equivalent) of load above
#: it, in MiB of excess. The peak's weight is per point of the whole cluster's capacity, so a point
#: of one host counts that weight over the number of receivers, times this: the same pull under the
#: target on 50 hosts as on 5,000, where the peak's own weight gave each host 100 times a MiB of
#: excess at 100 hosts and 1,000 times at 1,000. Measured on 100/2,000 (seeds 0-19) and 1,000/20,000
#: (seeds 0-19), against the peak's weight: gib_moved / min_gib 1.56 -> 1.51 and 1.57 -> 1.52; every
#: 100-host peak within 2 points of its bound; at 1,000 hosts one or two memory peaks 2.2-2.9 above
#: (as many rounds as the clock leaves decide it; the old weight left one at 2.30 that day). 8 moved
#: less (1.47, 1.48) and left three 1,000-host memory peaks 2.4-2.9 above.
OVER_PER_MIB = 16
#: A guest does not land where it and the guests there at least CROWD_SHARE of its size would be above
#: a peak target (Filler.crowds). Counting only those at least as big let two 64 GiB guests land beside
#: two 32 GiB ones on a 302 GiB host: 1,000/20,000 seed 18 then ended at 63.6 % memory against a bound of
#: 60.7, no host having room left for a 32 GiB guest. At half: its gap 2.87 -> 1.4 points; seeds 0-19
#: memory 0.94-2.87 (mean 1.45) -> 0.79-1.90 (mean 1.23), CPU 0.53-1.89 -> 0.53-1.75.
CROWD_SHARE = 0.5
#: Guests of a giving host tried per move, largest first by their share of the host.
GUESTS_PER_HOST = 8


class _Peaks:
    """Per weighed resource, a lazily updated max-heap of the receivers' shares (basis points)."""

    def __init__(self, state: LoadState, receivers: Collection[str], resources: Collection[str]):
        self.state = state
        self.heaps = {r: [(-self.share(h, r, 0), state.version[h], h) for h in receivers] for r in resources}
        for heap in self.heaps.values():
            heapq.heapify(heap)

    def share(self, host: str, r: str, delta: int) -> float:
        i = INDEX[r]
        return 10_000.0 * (self.state.use[host][i] + delta) / self.state.cap[host][i]

    def top_two(self, r: str) -> tuple[tuple[float, str], float]:
        heap = self.heaps[r]
        version = self.state.version
        while heap and heap[0][1] != version[heap[0][2]]:
            heapq.heappop(heap)
        if not heap:
            return (0.0, ""), 0.0
        first = heapq.heappop(heap)
        while heap and heap[0][1] != version[heap[0][2]]:
            heapq.heappop(heap)
        second = -heap[0][0] if heap else 0.0
        heapq.heappush(heap, first)
        return (-first[0], first[2]), second

    def moved(self, hosts: Collection[str], receivers: Collection[str]) -> None:
        for r, heap in self.heaps.items():
            for h in hosts:
                if h in receivers:
                    heapq.heappush(heap, (-self.share(h, r, 0), self.state.version[h], h))


class _Rooms:
    """Per class of allowed hosts (a compatibility class), lazily updated heaps of its receivers: the
    emptiest relative to the level and, per weighed resource, the lowest share of that resource relative
    to its level (so that a guest heavy in CPU finds the hosts light in CPU, and a swap finds its
    partner) and the most room below the level in the resource's own unit (MiB, millicores: a big guest
    needs a big host's room, which a small host light in share does not have)."""

    def __init__(self, state: LoadState, receivers: frozenset[str], levels_bp: Mapping[Resource, int]):
        self.state = state
        self.receivers = receivers
        self.levels = [(INDEX[r], bp / 10_000.0) for r, bp in levels_bp.items()] or [(1, 1.0)]
        #: Heap kinds: 0 fullness, then per weighed resource (its place k in levels) its share at 1 + k
        #: and its room at 1 + len(levels) + k.
        self.kinds = 1 + 2 * len(self.levels)
        self.heaps: dict[int, list[list[tuple[float, int, str]]]] = {}
        self.member_of: dict[str, list[list[list[tuple[float, int, str]]]]] = {}

    def key(self, host: str, kind: int) -> float:
        use, cap = self.state.use[host], self.state.cap[host]
        if kind == 0:
            return max(
                use[i] / (cap[i] * level) if level > 0 else use[i] / cap[i] for i, level in self.levels
            )
        k = kind - 1
        if k >= len(self.levels):
            i, level = self.levels[k - len(self.levels)]
            return -(level * cap[i] - use[i])
        i, level = self.levels[k]
        return use[i] / (cap[i] * level) if level > 0 else use[i] / cap[i]

    def _kind(self, resource: str, room: bool) -> int:
        """The heap kind of `resource`'s share (or, with `room`, its room); fullness when unweighed."""
        k = next((k for k, (i, _) in enumerate(self.levels) if i == INDEX[resource]), None)
        if k is None:
            return 0
        return 1 + k + (len(self.levels) if room else 0)

    def _of(self, dests: tuple[str, ...]) -> list[list[tuple[float, int, str]]]:
        found = self.heaps.get(id(dests))
        if found is None:
            version = self.state.version
            hosts = [h for h in dests if h in self.receivers]
            found = [[(self.key(h, kind), version[h], h) for h in hosts] for kind in range(self.kinds)]
            for heap in found:
                heapq.heapify(heap)
            for h in hosts:
                self.member_of.setdefault(h, []).append(found)
            self.heaps[id(dests)] = found
        return found

    def _draw(self, heap: list[tuple[float, int, str]], want: int, ok: Callable[[str], bool]) -> list[str]:
        """Up to `want` hosts of `heap` that pass `ok`, lowest key first (looking at most at 8)."""
        out: list[str] = []
        version = self.state.version
        held: list[tuple[float, int, str]] = []
        while heap and len(held) < 8 and len(out) < want:
            entry = heapq.heappop(heap)
            if entry[1] != version[entry[2]]:
                continue
            held.append(entry)
            if ok(entry[2]):
                out.append(entry[2])
        for entry in held:
            heapq.heappush(heap, entry)
        return out

    def candidates(self, dests: tuple[str, ...], vm: Vm, exclude: str) -> list[str]:
        """Receivers of `dests` (not `exclude`) with room for `vm`: the emptiest, the two with the most
        MiB below the level (for big guests), the lightest in each weighed resource and the one with the
        most CPU below its level."""
        out: list[str] = []

        def ok(h: str) -> bool:
            return h != exclude and h not in out and self.state.fits(vm, h)

        heaps = self._of(dests)
        memory_room = self._kind("memory", room=True)
        lightest = range(1, 1 + len(self.levels))
        for kind in (0, memory_room, memory_room, *lightest, self._kind("cpu", room=True)):
            out += self._draw(heaps[kind], 1, ok)
        return out

    def lightest(self, dests: tuple[str, ...], resource: str, exclude: str, want: int) -> list[str]:
        """Up to `want` receivers of `dests` (not `exclude`) lightest in `resource` for its level, and as
        many with the most room of it below the level."""
        heaps = self._of(dests)
        out = self._draw(heaps[self._kind(resource, room=False)], want, lambda h: h != exclude)
        more = self._draw(
            heaps[self._kind(resource, room=True)], want, lambda h: h != exclude and h not in out
        )
        return out + more

    def moved(self, hosts: Collection[str]) -> None:
        version = self.state.version
        for h in hosts:
            for heaps in self.member_of.get(h, ()):
                for kind, heap in enumerate(heaps):
                    heapq.heappush(heap, (self.key(h, kind), version[h], h))


def class_needs(
    p: Problem, demand: Mapping[str, tuple[int, int, int]]
) -> dict[frozenset[str], tuple[int, int]]:
    """Per class of hosts (peak_bound.host_classes), what the guests allowed only on its hosts need:
    (millicores, MiB)."""
    groups, shared = host_classes(p.dests, p.receivers)
    # Per group of guests with the same allowed hosts, their summed demand: (cpu, memory).
    sums = {k: (sum(demand[u][0] for u in g), sum(demand[u][1] for u in g)) for k, (_, g) in groups.items()}
    out: dict[frozenset[str], tuple[int, int]] = {}
    for hosts in shared:
        within = [sums[k] for k, (s, _) in groups.items() if s and s <= hosts]
        out[hosts] = (sum(w[0] for w in within), sum(w[1] for w in within))
    return out


def reserved_classes(
    p: Problem, needs: Mapping[frozenset[str], tuple[int, int]], cap: Mapping[str, tuple[int, int, int]]
) -> list[frozenset[str]]:
    """The classes of hosts (a CPU generation and newer, say) that the guests allowed only on them
    fill to within RESERVE_PCT points of a weighed resource's level: the rest of their room is theirs.
    A guest allowed elsewhere too that lands there takes room only they can use, and the class ends
    above the level with guests stuck in it (measured on 100/2,000 generated clusters: memory peaks
    up to 2.9 points above the bound where the class's own guests needed 4-8 points below the level).
    Classes shared by fewer than MIN_CLASS_GUESTS guests, spanning every receiver, or filled to less
    than half the level (a lightly loaded cluster) are left out."""
    out: list[frozenset[str]] = []
    for hosts, own in needs.items():
        for r in p.objective.peak_weight:
            i = INDEX[r]
            need = own[i]
            room = sum(cap[h][i] for h in hosts)
            pct, level = 100.0 * need / max(1, room), p.levels_pct[r]
            if need > 0 and pct >= max(level - RESERVE_PCT, level / 2):
                out.append(hosts)
                break
    return sorted(out, key=sorted)


class Filler:
    """The objective's change for single moves, on a LoadState: every host's excess above the band, the
    move's cost, each resource's peak, and (to pull a peak that many hosts share down together) each
    host's share above its resource's peak bound, weighed like the peak (more steeply far above it)."""

    def __init__(self, p: Problem, mover: Mover, floor_bp: Mapping[str, float]):
        self.p = p
        self.o: Objective = p.objective
        self.mover = mover
        self.state = mover.state
        self.receivers = frozenset(p.receivers)
        self.peaks = _Peaks(self.state, self.receivers, self.o.peak_weight)
        self.floor = floor_bp
        self.costs: dict[str, int] = {}
        self.apart = apart_fellows(p)
        # A hard affinity group moves as one unit: a stand-in guest carrying the whole group's demand.
        self.units: dict[str, tuple[Vm, ...]] = {}
        self.unit_of: dict[str, Vm] = {}
        self.dests: dict[str, tuple[str, ...]] = dict(p.dests)
        for members in moving_as_one(p):
            whole = replace(
                members[0],
                uuid=f"unit:{members[0].uuid}",
                cpu_millicores=sum(m.cpu_demand_millicores for m in members),
                cpu_p95_millicores=None,
                memory_mib=sum(m.memory_mib for m in members),
                vcpus=sum(m.vcpus for m in members),
            )
            self.units[whole.uuid] = members
            common = set.intersection(*(set(p.dests[m.uuid]) for m in members))
            self.dests[whole.uuid] = tuple(h for h in p.dests[members[0].uuid] if h in common)
            self.state.demand[whole.uuid] = (whole.cpu_demand_millicores, whole.memory_mib, whole.vcpus)
            for m in members:
                self.unit_of[m.uuid] = whole
        self.rooms = _Rooms(self.state, self.receivers, self.o.levels_bp)
        self.needs = class_needs(p, self.state.demand)
        self.reserved = reserved_classes(p, self.needs, self.state.cap)
        self.keep_out: dict[int, frozenset[str]] = {}
        bounds = resource_peak_bounds(p)
        self.target_bp: dict[str, float] = {r: 100 * (bounds[r] + PEAK_SLACK_PCT) for r in self.o.peak_weight}
        self.over_weight = OVER_PER_MIB / max(1, len(self.receivers))
        cap = self.state.cap
        # Per host and weighed resource: (objective units per unit above, the threshold in units).
        self.terms = {
            h: [
                (w, self.o.levels_bp[r] * cap[h][INDEX[r]] / 10_000.0, INDEX[r])
                for r, w in self.o.excess_weight.items()
            ]
            for h in self.receivers
        }

    def kept_out(self, vm: Vm) -> frozenset[str]:
        """The hosts of the reserved classes (reserved_classes) that `vm` is not confined to: it lands
        there only when no other host takes it."""
        dests = self.dests[vm.uuid]
        found = self.keep_out.get(id(dests))
        if found is None:
            mine = frozenset(dests)
            found = frozenset().union(*(hosts for hosts in self.reserved if not mine <= hosts))
            self.keep_out[id(dests)] = found
        return found

    def apart_from(self, vm: Vm, host: str) -> bool:
        """Whether a fellow of `vm` in a hard anti-affinity group is on `host` (so `vm` may not go there)."""
        fellows = self.apart.get(vm.uuid)
        return fellows is not None and any(self.state.placement[f] == host for f in fellows)

    def move_cost(self, vm: Vm) -> int:
        """The objective's cost of moving `vm` (computed once per guest)."""
        found = self.costs.get(vm.uuid)
        if found is None:
            found = self.costs[vm.uuid] = self.o.move_cost(vm)
        return found

    def excess(self, host: str, dc: int = 0, dm: int = 0) -> float:
        terms = self.terms.get(host)
        if terms is None:
            return 0.0
        use = self.state.use[host]
        total = 0.0
        for w, thr, i in terms:  # a plain loop: the hottest call of water-filling (swaps weigh 4 a try)
            over = use[i] + (dm if i else dc) - thr
            if over > 0:
                total += w * over
        return total

    def room(self, host: str, i: int) -> float:
        """Units of resource `i` (index) `host` can take before it counts as excess (0 if not weighed)."""
        use = self.state.use[host][i]
        return min((thr - use for _, thr, j in self.terms.get(host, ()) if j == i), default=0.0)

    def over(self, host: str, r: str, delta: int) -> float:
        """Basis points of `r` above its target peak on `host` (receivers only), those beyond STEEP_PCT
        above it counted STEEP times (`over_share`)."""
        if host not in self.receivers:
            return 0.0
        return self.over_share(r, self.peaks.share(host, r, delta))

    def over_share(self, r: str, share_bp: float) -> float:
        """What a share (basis points) of `r` counts above the target peak, in the peak's weight: each
        point up to STEEP_PCT above it once, each point beyond STEEP times, all times `over_weight`.
        Convex, so one host far above the bound costs more than several hosts a little above it, and
        moves that spread its load over them pay."""
        target = self.target_bp[r]
        over = max(0.0, share_bp - target) + (STEEP - 1) * max(0.0, share_bp - target - 100 * STEEP_PCT)
        return self.over_weight * over

    def tops(self) -> dict[str, tuple[float, str, float]]:
        """Per weighed resource: the peak (basis points, at least the floor), its host, the next share."""
        out: dict[str, tuple[float, str, float]] = {}
        for r in self.o.peak_weight:
            (top, host), second = self.peaks.top_two(r)
            out[r] = (max(top, self.floor.get(r, 0.0)), host, second)
        return out

    def leave_gain(self, vm: Vm, src: str, tops: Mapping[str, tuple[float, str, float]]) -> float:
        """What `vm` leaving `src` gains (its excess, its share above the peak bound, the peak when
        `src` holds it, less the move's cost): a bound on any move's gain, the destination adding none."""
        d = self.state.demand[vm.uuid]
        g = self.excess(src) - self.excess(src, -d[0], -d[1])
        g -= self.move_cost(vm) if src == vm.host else 0
        for r, w in self.o.peak_weight.items():
            i = INDEX[r]
            top, host, second = tops[r]
            if host == src:
                low = max(second, self.peaks.share(src, r, -d[i]), self.floor.get(r, 0.0))
                g += self.o.peak_term(r, top) - self.o.peak_term(r, low)
            g += w * (self.over(src, r, 0) - self.over(src, r, -d[i]))
        return g

    def arrive_loss(self, vm: Vm, src: str, dest: str, tops: Mapping[str, tuple[float, str, float]]) -> float:
        """What `vm` arriving on `dest` adds back (excess, share above the bound, a new peak); infinite
        when `dest` would rise above a resource's peak (the heuristics never trade a peak for the rest)."""
        d = self.state.demand[vm.uuid]
        loss = self.excess(dest, d[0], d[1]) - self.excess(dest)
        if dest == vm.host:
            loss -= self.move_cost(vm)
        if dest not in self.receivers:
            return loss
        for r, w in self.o.peak_weight.items():
            i = INDEX[r]
            top, host, second = tops[r]
            at_dest = self.peaks.share(dest, r, d[i])
            if at_dest > top:
                return float("inf")  # no move raises a peak: peak first (the peak term dominates)
            if host == src:
                low = max(second, self.peaks.share(src, r, -d[i]), self.floor.get(r, 0.0))
                loss += self.o.peak_term(r, max(at_dest, low)) - self.o.peak_term(r, low)
            loss += w * (self.over(dest, r, d[i]) - self.over(dest, r, 0))
        return loss

    def gain(self, vm: Vm, src: str, dest: str) -> float:
        """How much the objective drops when `vm` moves from `src` to `dest` (positive: better)."""
        tops = self.tops()
        return self.leave_gain(vm, src, tops) - self.arrive_loss(vm, src, dest, tops)

    def cover(self, host: str, frozen: Collection[str]) -> Vm | None:
        """The smallest guest whose leaving alone brings `host` under every peak bound; None when the
        host is under them, no one guest does, or the guests smaller than it do together."""
        need = [
            self.state.use[host][INDEX[r]] - self.target_bp[r] * self.state.cap[host][INDEX[r]] / 10_000.0
            for r in ("cpu", "memory")
            if r in self.target_bp
        ]
        if all(n <= 0 for n in need):
            return None
        keys = [INDEX[r] for r in ("cpu", "memory") if r in self.target_bp]
        movers = self.movers(host, frozen)
        demand = self.state.demand
        fits = [vm for vm in movers if all(demand[vm.uuid][i] >= n for i, n in zip(keys, need, strict=True))]
        found = min(fits, key=lambda v: (v.memory_mib, v.cpu_demand_millicores, v.uuid), default=None)
        if found is None:
            return None
        smaller = [vm for vm in movers if vm.memory_mib < found.memory_mib]
        if all(sum(demand[vm.uuid][i] for vm in smaller) >= n for i, n in zip(keys, need, strict=True)):
            return None  # the smaller guests make it together: the sweeps move them
        return found

    def crowded(self, host: str, frozen: Collection[str]) -> Vm | None:
        """The guest of `host` that cannot stay beside the guests bigger than it under a peak target:
        the host keeping its biggest guests (in the resource above its target) while they fit, the
        first that would not; None when `host` is under its targets. A host whose big guests alone
        are above the target (two 64 GiB guests on a 190 GiB host) sheds its small guests easily
        and is left there with the big ones once the big hosts have filled up: one of them must go
        first, while they have room."""
        movers = self.movers(host, frozen)
        demand = self.state.demand
        for r in ("memory", "cpu"):
            if r not in self.target_bp:
                continue
            i = INDEX[r]
            limit = self.target_bp[r] * self.state.cap[host][i] / 10_000.0
            if self.state.use[host][i] <= limit:
                continue
            kept = self.state.use[host][i] - sum(demand[vm.uuid][i] for vm in movers)
            for vm in sorted(movers, key=lambda v: (-demand[v.uuid][i], v.uuid)):
                if kept + demand[vm.uuid][i] > limit:
                    return vm
                kept += demand[vm.uuid][i]
        return None

    def crowds(self, vm: Vm, dest: str) -> bool:
        """Whether `vm` and the guests of `dest` at least CROWD_SHARE of its size would be above a
        peak target on `dest` together: the small guests could leave again, but the big ones would be
        stuck there, above the target, once the other hosts have filled up."""
        demand = self.state.demand
        d = demand[vm.uuid]
        for r, target in self.target_bp.items():
            i = INDEX[r]
            big = sum(demand[u][i] for u in self.state.guests[dest] if demand[u][i] >= CROWD_SHARE * d[i])
            if big + d[i] > target * self.state.cap[dest][i] / 10_000.0:
                return True
        return False

    def best_dest(
        self,
        vm: Vm,
        tops: Mapping[str, tuple[float, str, float]] | None = None,
        beat: float = 0.0,
        exclude: str = "",
    ) -> tuple[float, str] | None:
        """The destination (not `exclude`) where moving `vm` lowers the objective most (by more than
        `beat`), with the gain; None: nowhere. Never where `vm` crowds the host (`crowds`): a move that
        lowers a peak there would leave a new peak no later move can lower. A host of a class reserved
        for guests that may run nowhere else (`kept_out`) only when no other host gains."""
        host = self.where(vm)
        if not host or not self.mover.allows(vm):
            return None
        tops = tops or self.tops()
        leave = self.leave_gain(vm, host, tops)
        if leave <= beat:
            return None
        # The best landing outside the reserved classes kept from `vm`, and the best inside them.
        found: list[tuple[float, str] | None] = [None, None]
        out = self.kept_out(vm)
        for dest in self.rooms.candidates(self.dests[vm.uuid], vm, host):
            if (dest not in self.receivers and dest != vm.host) or dest == exclude:
                continue
            if self.apart_from(vm, dest):
                continue
            g = leave - self.arrive_loss(vm, host, dest, tops)
            slot = int(dest in out and dest != vm.host)
            best = found[slot]
            # crowds (a walk over dest's guests) last: only for a landing that would be the best yet
            if g > beat and (best is None or g > best[0]) and not self.crowds(vm, dest):
                found[slot] = (g, dest)
        return found[0] or found[1]

    def where(self, vm: Vm) -> str:
        """The host of a guest, or of a unit's members (None-like "" when they are apart)."""
        members = self.units.get(vm.uuid)
        if members is None:
            return self.state.placement[vm.uuid]
        hosts = {self.state.placement[m.uuid] for m in members}
        return hosts.pop() if len(hosts) == 1 else ""

    def movers(self, host: str, frozen: Collection[str]) -> list[Vm]:
        """The guests of `host` that may move alone, and the units wholly on it."""
        vm_by_uuid = self.state.cluster.vm_by_uuid
        out = [vm_by_uuid[u] for u in self.state.guests[host] if u not in frozen]
        units = {self.unit_of[u].uuid: self.unit_of[u] for u in self.state.guests[host] if u in self.unit_of}
        return out + [w for w in units.values() if self.where(w) == host]

    def shortlist(self, host: str, frozen: Collection[str]) -> list[Vm]:
        """Per memory size on `host`, its busiest and its idlest guest (the others move no better)."""
        sizes: dict[int, list[Vm]] = {}
        for vm in self.movers(host, frozen):
            pick = sizes.get(vm.memory_mib)
            if pick is None:
                sizes[vm.memory_mib] = [vm, vm]
                continue
            key = (vm.cpu_demand_millicores, -vm.dirty_rate_mibps, vm.uuid)
            if key > (pick[0].cpu_demand_millicores, -pick[0].dirty_rate_mibps, pick[0].uuid):
                pick[0] = vm
            if key < (pick[1].cpu_demand_millicores, -pick[1].dirty_rate_mibps, pick[1].uuid):
                pick[1] = vm
        return list({vm.uuid: vm for pair in sizes.values() for vm in pair}.values())

    def best_move(self, host: str, frozen: Collection[str]) -> tuple[float, Vm, str] | None:
        """The move off `host` that lowers the objective most; guests in order of what their leaving
        alone would gain (GUESTS_PER_HOST of them, and as many of those allowed outside a reserved
        class `host` is in), stopping when that cannot beat the best move found."""
        tops = self.tops()
        ranked = sorted(
            ((self.leave_gain(vm, host, tops), vm.uuid) for vm in self.shortlist(host, frozen)),
            reverse=True,
        )
        best: tuple[float, Vm, str] | None = None
        tried = ranked[:GUESTS_PER_HOST]
        if self.reserved and len(ranked) > GUESTS_PER_HOST:
            # On a reserved class's host, the guests allowed elsewhere are asked too: its own guests
            # (often the bigger ones, their leaving worth more) find only the class's other hosts, as
            # full as this one, while the others may leave the class.
            rest = (r for r in ranked[GUESTS_PER_HOST:] if host in self.kept_out(self.units_by_uuid(r[1])))
            tried += itertools.islice(rest, GUESTS_PER_HOST)  # ranked: in order after the first
        for bound, u in tried:
            if bound <= (best[0] if best else 0.0):
                break
            vm = self.units_by_uuid(u)
            found = self.best_dest(vm, tops, best[0] if best else 0.0)
            if found is not None:
                best = (found[0], vm, found[1])
        return best

    def clear_reserved(self, frozen: Collection[str]) -> int:
        """Guests allowed elsewhere leave a reserved class that holds more of a weighed resource than its
        level, or than its own guests need when that is more (its own guests need that room): from the
        hosts furthest above the level first, the heaviest in that resource for their size in the other
        first, each to the host outside it where it adds least to the objective, never above that
        host's band nor into another reserved class with no room to spare; how many moved. These moves
        need not pay alone: they are what lets the class's own guests even out."""
        spare = self._spare()
        moved = 0
        for hosts in self.reserved:
            cap = [sum(self.state.cap[h][k] for h in hosts) for k in (0, 1)]
            for r in self.o.excess_weight:
                i = INDEX[r]
                if spare[hosts][i] >= 0:
                    continue

                # The heaviest in r for their size in the other resource first (as shares of the class).
                j, per = 1 - i, (1.0 / cap[i], 1.0 / cap[1 - i])
                flex = [
                    vm
                    for h in sorted(hosts, key=lambda h: (-self.state.use[h][i] / self.state.cap[h][i], h))
                    for vm in sorted(
                        self.movers(h, frozen),
                        key=lambda v: (
                            self.state.demand[v.uuid][j] * per[1] - self.state.demand[v.uuid][i] * per[0],
                            v.uuid,
                        ),
                    )
                    if vm.uuid not in self.units and h in self.kept_out(vm)
                ]
                for vm in flex:
                    if spare[hosts][i] >= 0:
                        break
                    src = self.where(vm)
                    landing = self._outside(vm, src, hosts, spare)
                    if landing is None:
                        continue
                    d = self.state.demand[vm.uuid]
                    for other, room in spare.items():
                        sign = (src in other) - (landing in other)
                        spare[other] = (room[0] + sign * d[0], room[1] + sign * d[1])
                    self.move(vm, landing)
                    moved += 1
        return moved

    def _spare(self) -> dict[frozenset[str], tuple[float, float]]:
        """Per reserved class: what it holds below its level, or below what its own guests need when
        that is more, per resource (millicores, MiB; negative: above)."""
        out = {}
        for hosts in self.reserved:
            own = self.needs.get(hosts, (0, 0))
            room = [0.0, 0.0]
            for i, r in ((0, "cpu"), (1, "memory")):
                level = self.p.levels_pct.get(r, 100.0) / 100.0
                keep = max(own[i], level * sum(self.state.cap[h][i] for h in hosts))
                room[i] = keep - sum(self.state.use[h][i] for h in hosts)
            out[hosts] = (room[0], room[1])
        return out

    def _outside(
        self, vm: Vm, src: str, hosts: frozenset[str], spare: Mapping[frozenset[str], tuple[float, float]]
    ) -> str | None:
        """The host outside `hosts` where `vm` (on `src`) adds least to the objective, within its band
        and with room to spare in every other reserved class it is in."""
        if not self.mover.allows(vm):
            return None
        tops = self.tops()
        d = self.state.demand[vm.uuid]
        best: tuple[float, str] | None = None
        for dest in self.rooms.candidates(self.dests[vm.uuid], vm, src):
            if dest in hosts or dest not in self.receivers or self.apart_from(vm, dest):
                continue
            if any(self.room(dest, i) < d[i] for _, _, i in self.terms.get(dest, ())):
                continue
            if any(
                dest in c and src not in c and min(room[0] - d[0], room[1] - d[1]) < 0
                for c, room in spare.items()
            ):
                continue
            loss = self.arrive_loss(vm, src, dest, tops)
            if loss < float("inf") and (best is None or loss < best[0]) and not self.crowds(vm, dest):
                best = (loss, dest)
        return best[1] if best else None

    def units_by_uuid(self, uuid: str) -> Vm:
        members = self.units.get(uuid)
        return self.unit_of[members[0].uuid] if members else self.state.cluster.vm_by_uuid[uuid]

    def move(self, vm: Vm, dest: str) -> None:
        src = self.where(vm)
        for member in self.units.get(vm.uuid, (vm,)):
            self.mover.move(member, dest)
        self.peaks.moved((src, dest), self.receivers)
        self.rooms.moved((src, dest))
