"""Pin a guest to some hosts (kind "pin") or keep it off some hosts (kind "avoid").

Hard: a unary restriction. Soft: each guest off its pinned hosts (or on an avoided one) costs `weight`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from planner.model import Cluster, Placement, Vm
from planner.policy import Policy
from planner.rules.rule import NOWHERE, UnaryRule
from planner.violation import Violation

if TYPE_CHECKING:
    from planner.optimize.encoding import Encoding


@dataclass(frozen=True)
class Pin(UnaryRule):
    kind: ClassVar[str] = "Pin"
    rule: str = ""
    vms: frozenset[str] = frozenset()
    hosts: frozenset[str] = frozenset()
    avoid: bool = False
    must: bool = True
    weight: int = 10

    @property
    def name(self) -> str:
        return f"{'Avoid' if self.avoid else 'Pin'}({self.rule})"

    @property
    def hard(self) -> bool:
        return self.must

    def describe(self) -> str:
        verb = "must" if self.must else "should"
        where = "stay off" if self.avoid else "run on"
        return (
            f"{', '.join(sorted(self.vms))} {verb} {where} {', '.join(sorted(self.hosts))} (rule {self.rule})"
        )

    def applies_to(self, vm: Vm) -> bool:
        return vm.name in self.vms

    def subjects(self, cluster: Cluster) -> Sequence[Vm]:
        return [cluster.vm_by_name[n] for n in sorted(self.vms) if n in cluster.vm_by_name]

    def needs_every_candidate(self, cluster: Cluster) -> frozenset[str]:
        return frozenset(vm.uuid for vm in self.subjects(cluster))

    def kept_by_heuristics(self, cluster: Cluster) -> frozenset[str]:
        """A soft pin only costs: whether moving its guests pays is the solver's call."""
        return NOWHERE if self.must else self.needs_every_candidate(cluster)

    def allowed(self, cluster: Cluster, vm: Vm) -> frozenset[str] | None:
        return self.hosts if self.must and not self.avoid and vm.name in self.vms else None

    def barred(self, cluster: Cluster, vm: Vm) -> frozenset[str]:
        return self.hosts if self.must and self.avoid and vm.name in self.vms else frozenset()

    def may_stay(self, cluster: Cluster, vm: Vm) -> bool:
        if not self.must or vm.name not in self.vms:
            return True
        return (vm.host in self.hosts) != self.avoid

    def why_not(self, cluster: Cluster, vm: Vm, host: str) -> str:
        return f"{vm.name} {'is on avoided' if self.avoid else 'is off its pinned hosts, on'} {host}"

    def check(self, cluster: Cluster, placement: Placement) -> list[Violation]:
        return super().check(cluster, placement) if self.must else []

    def encode(self, enc: Encoding) -> None:
        if self.must:
            super().encode(enc)
            return
        for vm in self.subjects(enc.cluster):
            on = sum(enc.on(vm.uuid, h) for h in self.hosts if h in enc.cluster.host_by_name)
            enc.penalize(self.weight, on if self.avoid else 1 - on)

    @classmethod
    def instances(cls, cluster: Cluster, policy: Policy) -> tuple[Pin, ...]:
        return tuple(
            cls(
                rule=r.name,
                vms=frozenset(r.vms),
                hosts=frozenset(r.hosts),
                avoid=r.kind == "avoid",
                must=r.hard,
                weight=r.weight,
            )
            for r in cluster.rules
            if r.kind in ("pin", "avoid")
        )
