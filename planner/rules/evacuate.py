"""Evacuate(hosts): every guest that can leave the named hosts does, and nothing moves onto them.

Guests known up front to be unable to leave are the optimizer's Stays, with the reason; the encoding lets
them stay at a cost (so they still leave where the solver finds room) and the final check excuses them.
An evacuation moves only what it must: a guest of another host moving costs BYSTANDER_PENALTY, less than
a guest left behind, so it moves only to make room the evacuated guests need.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from planner.model import Cluster, Vm
from planner.policy import Policy
from planner.rules.rule import STAY_PENALTY, UnaryRule

if TYPE_CHECKING:
    from planner.optimize.encoding import Encoding

#: What moving a guest of a host not being evacuated costs in an evacuation, in percentage points of
#: imbalance: more than the balance it could buy, less than a guest left on an evacuated host.
BYSTANDER_PENALTY = STAY_PENALTY // 4


@dataclass(frozen=True)
class Evacuate(UnaryRule):
    kind: ClassVar[str] = "Evacuate"
    hosts: frozenset[str] = frozenset()

    def describe(self) -> str:
        return f"every guest that can leave {', '.join(sorted(self.hosts))} does"

    def barred(self, cluster: Cluster, vm: Vm) -> frozenset[str]:
        return self.hosts

    def may_stay(self, cluster: Cluster, vm: Vm) -> bool:
        return vm.host not in self.hosts

    def encode(self, enc: Encoding) -> None:
        super().encode(enc)
        # Guests of other hosts move only to make room (each move costs more than any balance it buys).
        for vm in enc.cluster.vms:
            if vm.host not in self.hosts and any(h != vm.host for h in enc.domains[vm.uuid]):
                enc.penalize(BYSTANDER_PENALTY, enc.moved(vm))

    def why_not(self, cluster: Cluster, vm: Vm, host: str) -> str:
        if host == vm.host:
            return f"{vm.name} is still on {host}, which is being evacuated"
        return f"{vm.name} would move onto {host}, which is being evacuated"

    @classmethod
    def instances(cls, cluster: Cluster, policy: Policy) -> tuple[Evacuate, ...]:
        return (cls(hosts=frozenset(policy.evacuate)),) if policy.evacuate else ()
