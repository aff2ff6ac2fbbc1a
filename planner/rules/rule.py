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

#: What a guest staying against a hard rule costs when it is a known Stay (it found no room up front),
#: in percentage points of imbalance: it still leaves if the solver finds room.
STAY_PENALTY = 1000


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
    """A placement rule. `hard` rules must hold; soft ones only cost in the objective.

    Beyond its two faces, a rule answers for itself wherever the planner is not the solver: what the
    heuristics must leave alone, what a neighbourhood must keep together or apart or see, and where a
    schedule's temporary hop may wait. Rules subclass this protocol to inherit the answers of a rule
    that asks nothing of them.
    """

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
        return []

    def kept_by_heuristics(self, cluster: Cluster) -> frozenset[str]:
        """Guests (UUIDs) the heuristics (greedy, water-filling, anti-churn) leave where they are,
        because only the solver weighs what moving them does to this rule."""
        return NOWHERE

    def needs_every_candidate(self, cluster: Cluster) -> frozenset[str]:
        """Guests (UUIDs) the solver must see with every allowed host: the rule ties them to other
        guests or to hosts, so a short list of the coolest hosts could miss the only good answer."""
        return NOWHERE

    def moves_as_one(self, cluster: Cluster) -> tuple[Vm, ...]:
        """Guests that move only together, as one unit (none: each guest moves alone)."""
        return ()

    def apart_from(self, cluster: Cluster) -> dict[str, frozenset[str]]:
        """Per guest (UUID) this rule keeps from the heuristics, the guests (UUIDs) it only has to stay
        away from: a heuristic may move it to a host none of them is on, which keeps this rule and
        costs nothing (water-filling)."""
        return {}

    def leaves_first(self, cluster: Cluster) -> dict[str, frozenset[str]]:
        """Per guest (UUID), the guests (UUIDs) that must have left a host before it arrives there: a
        schedule orders those departures first (none: only room orders a host's arrivals)."""
        return {}

    def keep_off(self, cluster: Cluster, placement: Placement) -> dict[str, frozenset[str]]:
        """Per guest (UUID), the hosts it may not go to because of where other guests are under
        `placement` (a neighbourhood that does not see those guests must not send it there)."""
        return {}

    def within(self, cluster: Cluster, placement: Placement, inside: frozenset[str]) -> Rule | None:
        """This rule as a neighbourhood sees it, where the guests `inside` (UUIDs) may move and every
        other guest stays at `placement`; None when the neighbourhood's candidates already carry it."""
        return self


@dataclass(frozen=True)
class UnaryRule(Rule):
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

    def within(self, cluster: Cluster, placement: Placement, inside: frozenset[str]) -> Rule | None:
        return None if self.hard else self  # hard: every candidate comes from the allowed hosts

    def check_hop(self, cluster: Cluster, hop: Hop) -> list[Violation]:
        if not self.hard or not self.applies_to(hop.vm) or self.permits(cluster, hop.vm, hop.via):
            return []
        why = self.why_not(cluster, hop.vm, hop.via)
        return [Violation(self.name, why, vm=hop.vm.name, host=hop.via, resolvable=False)]

    def encode(self, enc: Encoding) -> None:
        for vm in self.subjects(enc.cluster):
            for host in enc.domains[vm.uuid]:
                if self.permits(enc.cluster, vm, host):
                    continue
                if host == vm.host and vm.uuid in enc.stays:
                    enc.penalize(STAY_PENALTY, enc.on(vm.uuid, host))
                else:
                    enc.forbid(self, vm.uuid, host)


def unary(rules: Sequence[Rule]) -> list[UnaryRule]:
    """The hard rules about each guest alone: what every guest's domain is built from."""
    return [r for r in rules if isinstance(r, UnaryRule) and r.hard]
