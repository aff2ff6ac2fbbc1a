"""Affinity: the guests of a group run on one host. Soft: each extra host the group spans costs `weight`."""

from __future__ import annotations

from dataclasses import dataclass

from planner.model import Cluster, Placement, Vm
from planner.optimize.encoding import Encoding
from planner.policy import Policy
from planner.rules.group import GuestGroup
from planner.rules.rule import Hop
from planner.violation import Violation


@dataclass(frozen=True)
class Affinity(GuestGroup):
    @property
    def name(self) -> str:
        return f"Affinity({self.rule})"

    def describe(self) -> str:
        return f"{', '.join(self.vms)} {'must' if self.must else 'should'} share a host (rule {self.rule})"

    def check(self, cluster: Cluster, placement: Placement) -> list[Violation]:
        used = self.hosts_used(cluster, placement)
        if not self.must or len(used) <= 1:
            return []
        spread = ", ".join(f"{h} ({n})" for h, n in sorted(used.items()))
        return [
            Violation(
                self.name, f"group spans {len(used)} hosts: {spread}", value=len(used), limit=1, unit="hosts"
            )
        ]

    def moves_as_one(self, cluster: Cluster) -> tuple[Vm, ...]:
        return tuple(self.members(cluster)) if self.must else ()

    def check_hop(self, cluster: Cluster, hop: Hop) -> list[Violation]:
        """A member waits only where its group is or goes: a hop elsewhere would split it further."""
        if not self.must or hop.vm.name not in self.vms:
            return []
        others = [vm for vm in self.members(cluster) if vm.uuid != hop.vm.uuid]
        together = {p.get(vm.uuid, vm.host) for p in (hop.now, hop.then) for vm in others}
        if not others or hop.via in together:
            return []
        why = f"{hop.vm.name} would wait on {hop.via}, away from its group on {', '.join(sorted(together))}"
        return [Violation(self.name, why, vm=hop.vm.name, host=hop.via)]

    def encode(self, enc: Encoding) -> None:
        uuids = [vm.uuid for vm in self.members(enc.cluster)]
        if len(uuids) < 2:
            return
        if self.must:
            enc.same_host(self, uuids)
            return
        # A host counts as used when any member ends on it; every host beyond the first costs.
        hosts = sorted({h for u in uuids for h in enc.domains[u]})
        used = [enc.any_of(f"uses[{self.rule},{h}]", [(u, h) for u in uuids]) for h in hosts]
        enc.penalize(self.weight, sum(used) - 1)

    @classmethod
    def instances(cls, cluster: Cluster, policy: Policy) -> tuple[Affinity, ...]:
        return tuple(
            cls(rule=r.name, vms=tuple(r.vms), must=r.hard, weight=r.weight)
            for r in cluster.rules
            if r.kind == "affinity"
        )
