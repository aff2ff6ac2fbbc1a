"""The objective, written once: what a placement costs, per resource, in comparable integer units.

For each weighed resource (CPU and memory, each with its own weight from the policy):

- its peak, the highest share of capacity over the receiving hosts (basis points), weighed so that one
  point of peak counts as much as 1 % of the receivers' whole capacity in excess: it dominates, so the
  peak goes as low as its bound allows before anything else is traded. Within the band above the level
  (where the threshold calls a host even) a point of peak weighs a quarter of that (IN_BAND_PARTS): on
  a few small hosts a move no longer pays for a few tenths of a point of a peak that is already even,
  while on a large cluster the peak still outweighs any one host's excess;
- its excess, summed over every receiving host: the load above the resource's level plus the policy's
  band (MiB for memory; millicores for CPU, converted to MiB at the receivers' ratio of memory to CPU
  capacity, so that one CPU excess and one memory excess of the same share of the cluster weigh alike).

Each moved guest costs `policy.move_cost()` MiB of excess per MiB it moves (its memory, raised by its
dirty rate, `dirty_rate_cost` more per 100 MiB/s, and the local disks it copies), plus a fixed cost
(FIXED_MOVE_PCT of an average host's memory) so that for equal gain fewer moves win.
So a move pays when it removes more excess than that share of its own size: the same trade on 50 hosts
as on 5,000. The unit is 1/UNITS_PER_MIB MiB; everything is an integer, as CP-SAT needs.

`encode` adds these terms to a CP-SAT encoding, `value` scores a placement with the very same terms
(a neighbourhood's answer is kept only when it scores better), and the encoding's hint fills every
term's variable with the same arithmetic (encoding.excess_units, encoding.share_bp).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from planner.model import Cluster, Vm
from planner.optimize.encoding import BP, Encoding, Resource, capacity, demand, excess_units, share_bp
from planner.policy import Policy

#: Objective units per MiB (so a move's cost and the CPU conversion keep some precision as integers).
UNITS_PER_MIB = 8
#: What every move costs besides its size, as a share (percent) of an average receiver's memory: for
#: equal gain fewer moves win, and a tiny guest is not moved for a sliver of excess.
FIXED_MOVE_PCT = 0.5
#: Below the level plus band a point of peak weighs 1/IN_BAND_PARTS of its weight above it. The lab
#: demo's snapshot (4 hosts of 10 GiB, 12 guests) planned 6 moves at full weight, the sixth buying 0.6
#: points of memory peak on hosts at 9 % memory (level 7.7, band 2); at a quarter it plans 5 with the
#: same CPU peak (tests/planner/optimize/test_objective.py).
IN_BAND_PARTS = 4
RESOURCES: tuple[Resource, ...] = ("cpu", "memory")


@dataclass(frozen=True)
class Objective:
    """The integer weights of every term, computed once for the whole problem (a neighbourhood keeps
    them, so its answers compare with the whole's)."""

    #: Per weighed resource: the level plus band (basis points) above which a host's load is excess.
    levels_bp: Mapping[Resource, int]
    #: Per weighed resource: units per MiB or millicore of excess.
    excess_weight: Mapping[Resource, int]
    #: Per weighed resource: units per basis point of peak.
    peak_weight: Mapping[Resource, int]
    move_cost_per_mib: float
    dirty_rate_cost: float
    #: Units of one point of an average receiver's capacity: what a soft rule's weight of 1 costs.
    host_point: int = 1

    @classmethod
    def build(
        cls, cluster: Cluster, policy: Policy, receivers: Sequence[str], levels_pct: Mapping[str, float]
    ) -> Objective:
        cap = {r: sum(capacity(cluster, h, r) for h in receivers) for r in RESOURCES}
        mib_per = {"memory": 1.0, "cpu": cap["memory"] / max(1, cap["cpu"])}
        weights = {"cpu": policy.cpu_weight, "memory": policy.memory_weight}
        band = policy.band()
        levels: dict[Resource, int] = {}
        excess: dict[Resource, int] = {}
        peak: dict[Resource, int] = {}
        for r in RESOURCES:
            if weights[r] <= 0:
                continue
            levels[r] = round((levels_pct.get(r, 0.0) + band) * BP)
            excess[r] = max(1, round(weights[r] * UNITS_PER_MIB * mib_per[r]))
            # One point (100 bp) of peak weighs as much as 1 % of the capacity (in MiB) in excess.
            peak[r] = max(1, round(weights[r] * UNITS_PER_MIB * cap["memory"] / (100 * BP)))
        host_point = max(1, round(UNITS_PER_MIB * cap["memory"] / max(1, len(receivers)) / 100))
        return cls(levels, excess, peak, policy.move_cost(), policy.dirty_rate_cost, host_point)

    def move_cost(self, vm: Vm) -> int:
        """What moving `vm` costs, in objective units."""
        calm = 1.0 + self.dirty_rate_cost * vm.dirty_rate_mibps / 100.0
        fixed = FIXED_MOVE_PCT * self.host_point
        copied = vm.memory_mib * calm + vm.local_disk_mib
        return round(fixed + UNITS_PER_MIB * self.move_cost_per_mib * copied)

    def peak_term(self, r: Resource, peak_bp: float) -> float:
        """What a peak of `peak_bp` (basis points) of `r` costs: the peak's whole weight above the
        level plus band, a 1/IN_BAND_PARTS of it below (the heuristics price a change of peak with it)."""
        inside, above = self.peak_weights(r)
        return inside * peak_bp + above * max(peak_bp, self.levels_bp[r])

    def peak_weights(self, r: Resource) -> tuple[int, int]:
        """The peak's weight per basis point below the level plus band, and what adds to it above."""
        inside = self.peak_weight[r] // IN_BAND_PARTS
        return inside, self.peak_weight[r] - inside

    def host_excess(self, cluster: Cluster, host: str, use: Mapping[Resource, int]) -> int:
        """The excess terms of one host with `use` (per resource, in its unit), in objective units."""
        return sum(
            w * excess_units(use[r], capacity(cluster, host, r), self.levels_bp[r])
            for r, w in self.excess_weight.items()
        )

    def encode(
        self,
        enc: Encoding,
        receivers: Sequence[str],
        movable: Sequence[Vm],
        outside_peak_pct: Mapping[str, float],
    ) -> None:
        """Minimise every term over the encoding's variables; `movable` guests pay their move, and each
        soft rule's weight counts as that many points of an average host's capacity in excess."""
        terms: list[tuple[int, Any]] = []
        for r in self.peak_weight:
            floor = round(outside_peak_pct.get(r, 0.0) * BP)
            inside, above = self.peak_weights(r)
            peak = enc.peak(r, receivers, floor)
            terms += [(inside, peak), (above, enc.above(peak, self.levels_bp[r]))]
            terms += [(self.excess_weight[r], e) for e in enc.excess(r, receivers, self.levels_bp[r])]
        terms += [(self.move_cost(vm), enc.moved(vm)) for vm in movable]
        enc.minimize(terms, penalty_scale=self.host_point)

    def value(
        self,
        cluster: Cluster,
        placement: Mapping[str, str],
        receivers: Sequence[str],
        outside_peak_pct: Mapping[str, float],
    ) -> int:
        """The objective of `encode` for a placement (soft rules aside): lower is better."""
        use = {h: dict.fromkeys(RESOURCES, 0) for h in receivers}
        total = 0
        for vm in cluster.vms:
            host = placement.get(vm.uuid, vm.host)
            if host in use:
                for r in RESOURCES:
                    use[host][r] += demand(vm, r)
            if host != vm.host:
                total += self.move_cost(vm)
        for r in self.peak_weight:
            shares = [share_bp(use[h][r], capacity(cluster, h, r)) for h in receivers]
            floor = round(outside_peak_pct.get(r, 0.0) * BP)
            total += round(self.peak_term(r, max([floor, *shares])))
        return total + sum(self.host_excess(cluster, h, use[h]) for h in receivers)
