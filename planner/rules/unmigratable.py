"""Guests that cannot migrate stay where they are: libvirt said so, or their host is unreachable."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from planner.model import Cluster, HostState, Vm
from planner.policy import Policy
from planner.rules.rule import NOWHERE, UnaryRule


def stuck_reason(cluster: Cluster, vm: Vm) -> str | None:
    """Why `vm` cannot leave its host at all, or None when it can."""
    host = cluster.host_by_name.get(vm.host)
    if host is None:
        return f"its host {vm.host} is not in the snapshot"
    if host.state is HostState.UNREACHABLE:
        return f"its host {vm.host} is unreachable ({host.error or 'no answer'}); its state is unknown"
    if not vm.migratable:
        return f"it cannot migrate: {vm.unmigratable_reason or 'libvirt refuses'}"
    return None


@dataclass(frozen=True)
class Unmigratable(UnaryRule):
    kind: ClassVar[str] = "Unmigratable"

    def describe(self) -> str:
        return "guests that cannot migrate stay where they are"

    def allowed(self, cluster: Cluster, vm: Vm) -> frozenset[str] | None:
        return NOWHERE if stuck_reason(cluster, vm) else None

    def why_not(self, cluster: Cluster, vm: Vm, host: str) -> str:
        return f"{vm.name} must stay on {vm.host}: {stuck_reason(cluster, vm)}"

    @classmethod
    def instances(cls, cluster: Cluster, policy: Policy) -> tuple[Unmigratable, ...]:
        return (cls(),)
