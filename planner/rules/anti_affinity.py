"""Anti-affinity: no two guests of a group share a host. Soft: each guest sharing costs `weight`."""

from __future__ import annotations

from dataclasses import dataclass

from planner.model import Cluster, Placement
from planner.optimize.encoding import Encoding
from planner.policy import Policy
from planner.rules.group import GuestGroup
from planner.rules.rule import Hop
from planner.violation import Violation


@dataclass(frozen=True)
class AntiAffinity(GuestGroup):
    @property
    def name(self) -> str:
        return f"AntiAffinity({self.rule})"

    def describe(self) -> str:
        return f"{', '.join(self.vms)} {'must' if self.must else 'should'} run on different hosts (rule {self.rule})"

    def check(self, cluster: Cluster, placement: Placement) -> list[Violation]:
        if not self.must:
            return []
        return [
            Violation(
                self.name, f"{n} guests of the group share {host}", host=host, value=n, limit=1, unit="guests"
            )
            for host, n in sorted(self.hosts_used(cluster, placement).items())
            if n > 1
        ]

    def apart_from(self, cluster: Cluster) -> dict[str, frozenset[str]]:
        """Hard or soft, a member that moves to a host none of its fellows is on keeps the rule."""
        uuids = self.uuids(cluster)
        return {u: uuids - {u} for u in uuids}

    def keep_off(self, cluster: Cluster, placement: Placement) -> dict[str, frozenset[str]]:
        """Each member keeps off the hosts its fellows are on."""
        if not self.must:
            return {}
        where = {vm.uuid: placement.get(vm.uuid, vm.host) for vm in self.members(cluster)}
        return {u: frozenset(h for other, h in where.items() if other != u) for u in where}

    def leaves_first(self, cluster: Cluster) -> dict[str, frozenset[str]]:
        """A member arrives on a host only once every fellow there has left it: else the two share
        it until the fellow's migration ends."""
        return self.apart_from(cluster) if self.must else {}

    def check_hop(self, cluster: Cluster, hop: Hop) -> list[Violation]:
        """No fellow member on the hop's host, now or arriving while the guest waits there."""
        if not self.must or hop.vm.name not in self.vms:
            return []
        return [
            v
            for placement in (hop.now, hop.then)
            for v in self.check(cluster, placement)
            if v.host == hop.via
        ][:1]

    def encode(self, enc: Encoding) -> None:
        uuids = [vm.uuid for vm in self.members(enc.cluster)]
        hosts = sorted({h for u in uuids for h in enc.domains[u]})
        # At most one member per host (soft: every member beyond the first costs).
        for host in hosts:
            if self.must:
                enc.require(self, sum(enc.on(u, host) for u in uuids) <= 1)
            else:
                extra = enc.beyond(f"shared[{self.rule},{host}]", [(u, host) for u in uuids], 1)
                enc.penalize(self.weight, extra)

    @classmethod
    def instances(cls, cluster: Cluster, policy: Policy) -> tuple[AntiAffinity, ...]:
        return tuple(
            cls(rule=r.name, vms=tuple(r.vms), must=r.hard, weight=r.weight)
            for r in cluster.rules
            if r.kind == "anti-affinity"
        )
