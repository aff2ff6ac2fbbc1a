"""What affinity and anti-affinity share: a named group of guests, hard ("must") or soft ("should").

Only the solver weighs a group: the heuristics leave its members where they are, and the solver sees
them with every allowed host.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from planner.model import Cluster, Placement, Vm
from planner.rules.rule import Rule


@dataclass(frozen=True)
class GuestGroup(Rule):
    rule: str = ""
    vms: tuple[str, ...] = ()
    must: bool = True
    weight: int = 10

    @property
    def hard(self) -> bool:
        return self.must

    def members(self, cluster: Cluster) -> list[Vm]:
        return [cluster.vm_by_name[n] for n in self.vms if n in cluster.vm_by_name]

    def uuids(self, cluster: Cluster) -> frozenset[str]:
        return frozenset(vm.uuid for vm in self.members(cluster))

    def kept_by_heuristics(self, cluster: Cluster) -> frozenset[str]:
        """Whether a group is kept (or how much it costs) depends on all its members: the solver's call."""
        return self.uuids(cluster)

    def needs_every_candidate(self, cluster: Cluster) -> frozenset[str]:
        return self.uuids(cluster)

    def hosts_used(self, cluster: Cluster, placement: Placement) -> Counter[str]:
        return Counter(placement.get(vm.uuid, vm.host) for vm in self.members(cluster))
