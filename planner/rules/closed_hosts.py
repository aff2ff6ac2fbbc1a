"""Hosts in maintenance, unreachable or excluded by the operator receive no guest.

Guests already there may stay (unless an Evacuate rule says otherwise) and may leave.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from planner.model import Cluster, Vm
from planner.policy import Policy
from planner.rules.rule import UnaryRule


@dataclass(frozen=True)
class ClosedHosts(UnaryRule):
    kind: ClassVar[str] = "ClosedHosts"
    excluded: tuple[str, ...] = ()
    _closed: dict[int, tuple[Cluster, frozenset[str]]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def describe(self) -> str:
        extra = f" (excluded: {', '.join(self.excluded)})" if self.excluded else ""
        return f"hosts in maintenance, unreachable or excluded receive no guest{extra}"

    def closed(self, cluster: Cluster) -> frozenset[str]:
        hit = self._closed.get(id(cluster))
        if hit is None or hit[0] is not cluster:
            names = {h.name for h in cluster.hosts if not h.accepts_guests} | set(self.excluded)
            hit = (cluster, frozenset(names))
            self._closed[id(cluster)] = hit
        return hit[1]

    def barred(self, cluster: Cluster, vm: Vm) -> frozenset[str]:
        return self.closed(cluster)

    def why_not(self, cluster: Cluster, vm: Vm, host: str) -> str:
        h = cluster.host_by_name.get(host)
        state = "excluded" if host in self.excluded or h is None else h.state.value
        return f"{host} receives no guest ({state}), yet {vm.name} would move there"

    @classmethod
    def instances(cls, cluster: Cluster, policy: Policy) -> tuple[ClosedHosts, ...]:
        return (cls(excluded=tuple(policy.exclude)),)
