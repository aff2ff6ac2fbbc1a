"""A guest goes only to hosts that can run its CPU signature (libvirt's verdict, kept in the snapshot)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from planner.model import Cluster, Vm
from planner.policy import Policy
from planner.rules.rule import NOWHERE, UnaryRule


@dataclass(frozen=True)
class CpuCompatible(UnaryRule):
    kind: ClassVar[str] = "CpuCompatible"
    _sets: dict[tuple[int, str], tuple[Cluster, frozenset[str]]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def describe(self) -> str:
        return "each guest runs only on hosts that can run its CPU"

    def allowed(self, cluster: Cluster, vm: Vm) -> frozenset[str]:
        key = (id(cluster), vm.cpu_signature)
        hit = self._sets.get(key)
        if hit is None or hit[0] is not cluster:
            hosts = cluster.compatibility.get(vm.cpu_signature)
            hit = (cluster, frozenset(hosts) if hosts is not None else NOWHERE)
            self._sets[key] = hit
        return hit[1]

    def why_not(self, cluster: Cluster, vm: Vm, host: str) -> str:
        return f"{host} cannot run the CPU of {vm.name} (signature {vm.cpu_signature or 'unknown'})"

    @classmethod
    def instances(cls, cluster: Cluster, policy: Policy) -> tuple[CpuCompatible, ...]:
        return (cls(),)
