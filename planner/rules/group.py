"""What affinity and anti-affinity share: a named group of guests, hard ("must") or soft ("should")."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from planner.model import Cluster, Placement, Vm


@dataclass(frozen=True)
class GuestGroup:
    rule: str = ""
    vms: tuple[str, ...] = ()
    must: bool = True
    weight: int = 10

    @property
    def hard(self) -> bool:
        return self.must

    def members(self, cluster: Cluster) -> list[Vm]:
        return [cluster.vm_by_name[n] for n in self.vms if n in cluster.vm_by_name]

    def hosts_used(self, cluster: Cluster, placement: Placement) -> Counter[str]:
        return Counter(placement.get(vm.uuid, vm.host) for vm in self.members(cluster))
