"""Evacuate(hosts): every guest that can leave the named hosts does, and nothing moves onto them.

`stays` lists guests (UUIDs) known up front to be unable to leave; the optimizer reports them as Stays
with the reason, and this rule lets them be.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from planner.model import Cluster, Vm
from planner.policy import Policy
from planner.rules.rule import UnaryRule

if TYPE_CHECKING:
    from planner.optimize.encoding import Encoding


#: What a guest left on an evacuated host costs, in percentage points of imbalance.
STAY_PENALTY = 1000


@dataclass(frozen=True)
class Evacuate(UnaryRule):
    kind: ClassVar[str] = "Evacuate"
    hosts: frozenset[str] = frozenset()
    stays: frozenset[str] = frozenset()

    def describe(self) -> str:
        return f"every guest that can leave {', '.join(sorted(self.hosts))} does"

    def barred(self, cluster: Cluster, vm: Vm) -> frozenset[str]:
        return self.hosts

    def may_stay(self, cluster: Cluster, vm: Vm) -> bool:
        return vm.host not in self.hosts or vm.uuid in self.stays

    def encode(self, enc: Encoding) -> None:
        super().encode(enc)
        # A guest allowed to stay (it found no room up front) still should leave if the solver finds room.
        for uuid in sorted(self.stays):
            vm = enc.cluster.vm_by_uuid.get(uuid)
            if vm is not None and vm.host in self.hosts:
                enc.penalize(STAY_PENALTY, enc.on(uuid, vm.host))

    def why_not(self, cluster: Cluster, vm: Vm, host: str) -> str:
        if host == vm.host:
            return f"{vm.name} is still on {host}, which is being evacuated"
        return f"{vm.name} would move onto {host}, which is being evacuated"

    @classmethod
    def instances(cls, cluster: Cluster, policy: Policy, stays: frozenset[str]) -> tuple[Evacuate, ...]:
        return (cls(hosts=frozenset(policy.evacuate), stays=stays),) if policy.evacuate else ()
