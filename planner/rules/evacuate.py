"""Evacuate(hosts): every guest that can leave the named hosts does, and nothing moves onto them.

Guests known up front to be unable to leave are the optimizer's Stays, with the reason; the encoding lets
them stay at a cost (so they still leave where the solver finds room) and the final check excuses them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from planner.model import Cluster, Vm
from planner.policy import Policy
from planner.rules.rule import UnaryRule


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

    def why_not(self, cluster: Cluster, vm: Vm, host: str) -> str:
        if host == vm.host:
            return f"{vm.name} is still on {host}, which is being evacuated"
        return f"{vm.name} would move onto {host}, which is being evacuated"

    @classmethod
    def instances(cls, cluster: Cluster, policy: Policy) -> tuple[Evacuate, ...]:
        return (cls(hosts=frozenset(policy.evacuate)),) if policy.evacuate else ()
