"""What every rule is: one small frozen value with two faces, `check` (pure) and `encode` (CP-SAT).

A `UnaryRule` restricts each guest on its own: where it may go (`allowed`, `barred`) and whether it may
stay where it is (`may_stay`). Its check and encoding follow from those three answers, so they cannot
drift apart; optimize/candidates.py uses the same answers to build each guest's domain before any solving.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Protocol

from planner.model import Cluster, Placement, Vm
from planner.violation import Violation

if TYPE_CHECKING:
    from planner.optimize.encoding import Encoding

NOWHERE: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Hop:
    """A temporary hop a schedule considers: `vm` waits on `via` on its way to its target.

    `now` is where every guest is when it gets there (itself on `via`), `then` where every guest is once
    every other planned move is done while it still waits there; `migrations` and `moved_mib` count the
    whole schedule's migrations with this hop's extra one.
    """

    vm: Vm
    via: str
    now: Placement
    then: Placement
    migrations: int
    moved_mib: int


class Rule(Protocol):
    """A placement rule. `hard` rules must hold; soft ones only cost in the objective."""

    @property
    def name(self) -> str: ...

    @property
    def hard(self) -> bool: ...

    def describe(self) -> str:
        """The rule in words, for conflicts ("guests web1, web2 must share a host")."""
        ...

    def check(self, cluster: Cluster, placement: Placement) -> list[Violation]: ...

    def encode(self, enc: Encoding) -> None: ...

    def check_hop(self, cluster: Cluster, hop: Hop) -> list[Violation]:
        """What this rule says against `hop`: a schedule's temporary stop is a placement too."""
        ...


@dataclass(frozen=True)
class UnaryRule:
    """A rule about each guest alone. Subclasses override `allowed`, `barred` and/or `may_stay`."""

    kind: ClassVar[str] = "UnaryRule"

    @property
    def name(self) -> str:
        return self.kind

    @property
    def hard(self) -> bool:
        return True

    def describe(self) -> str:
        return self.kind

    def applies_to(self, vm: Vm) -> bool:
        return True

    def subjects(self, cluster: Cluster) -> Sequence[Vm]:
        """The guests this rule is about: every guest unless a subclass names a few."""
        return cluster.vms

    @property
    def about_everyone(self) -> bool:
        return type(self).subjects is UnaryRule.subjects

    def allowed(self, cluster: Cluster, vm: Vm) -> frozenset[str] | None:
        """Hosts the guest may move to; None when this rule does not narrow them."""
        return None

    def barred(self, cluster: Cluster, vm: Vm) -> frozenset[str]:
        """Hosts the guest may not move to."""
        return NOWHERE

    def may_stay(self, cluster: Cluster, vm: Vm) -> bool:
        return True

    def why_not(self, cluster: Cluster, vm: Vm, host: str) -> str:
        """Why `vm` may not end on `host`, in words."""
        return f"{vm.name} may not run on {host}"

    def permits(self, cluster: Cluster, vm: Vm, host: str) -> bool:
        if host == vm.host:
            return self.may_stay(cluster, vm)
        allowed = self.allowed(cluster, vm)
        return (allowed is None or host in allowed) and host not in self.barred(cluster, vm)

    def check(self, cluster: Cluster, placement: Placement) -> list[Violation]:
        out = []
        for vm in self.subjects(cluster):
            host = placement.get(vm.uuid, vm.host)
            if not self.permits(cluster, vm, host):
                out.append(
                    Violation(
                        self.name, self.why_not(cluster, vm, host), vm=vm.name, host=host, resolvable=False
                    )
                )
        return out

    def check_hop(self, cluster: Cluster, hop: Hop) -> list[Violation]:
        if not self.hard or not self.applies_to(hop.vm) or self.permits(cluster, hop.vm, hop.via):
            return []
        why = self.why_not(cluster, hop.vm, hop.via)
        return [Violation(self.name, why, vm=hop.vm.name, host=hop.via, resolvable=False)]

    def encode(self, enc: Encoding) -> None:
        for vm in self.subjects(enc.cluster):
            for host in enc.domains[vm.uuid]:
                if not self.permits(enc.cluster, vm, host):
                    enc.forbid(self, vm.uuid, host)
