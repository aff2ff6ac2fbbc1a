"""Budgets: at most `max_migrations` guests move and at most `max_moved_mib` of memory moves in one plan."""

from __future__ import annotations

from dataclasses import dataclass

from planner.model import Cluster, Placement
from planner.optimize.encoding import Encoding
from planner.policy import Policy
from planner.rules.rule import Hop, Rule
from planner.violation import Violation


@dataclass(frozen=True)
class MigrationBudget(Rule):
    max_migrations: int | None = None
    max_moved_mib: int | None = None
    name: str = "MigrationBudget"
    hard: bool = True

    def describe(self) -> str:
        parts = []
        if self.max_migrations is not None:
            parts.append(f"at most {self.max_migrations} migrations")
        if self.max_moved_mib is not None:
            parts.append(f"at most {self.max_moved_mib / 1024:.1f} GiB moved")
        return " and ".join(parts) or "no migration budget"

    def check(self, cluster: Cluster, placement: Placement) -> list[Violation]:
        moved = [vm for vm in cluster.vms if placement.get(vm.uuid, vm.host) != vm.host]
        return self._over(len(moved), sum(vm.memory_mib for vm in moved))

    def check_hop(self, cluster: Cluster, hop: Hop) -> list[Violation]:
        """A hop is one more migration, and its guest's memory moves once more."""
        return self._over(hop.migrations, hop.moved_mib)

    def _over(self, migrations: int, mib: int) -> list[Violation]:
        out = []
        if self.max_migrations is not None and migrations > self.max_migrations:
            out.append(
                Violation(
                    self.name,
                    "too many migrations",
                    value=migrations,
                    limit=self.max_migrations,
                    unit="migrations",
                )
            )
        if self.max_moved_mib is not None and mib > self.max_moved_mib:
            out.append(
                Violation(self.name, "too much memory moved", value=mib, limit=self.max_moved_mib, unit="MiB")
            )
        return out

    def within(self, cluster: Cluster, placement: Placement, inside: frozenset[str]) -> MigrationBudget:
        """What the moves outside the neighbourhood leave of the budget."""
        outside = [vm for vm in cluster.vms if vm.uuid not in inside and placement[vm.uuid] != vm.host]
        count, mib = self.max_migrations, self.max_moved_mib
        return MigrationBudget(
            None if count is None else count - len(outside),
            None if mib is None else mib - sum(vm.memory_mib for vm in outside),
        )

    def encode(self, enc: Encoding) -> None:
        movers = [vm for vm in enc.cluster.vms if any(h != vm.host for h in enc.domains[vm.uuid])]
        if self.max_migrations is not None:
            enc.require(self, sum(enc.moved(vm) for vm in movers) <= self.max_migrations)
        if self.max_moved_mib is not None:
            enc.require(self, sum(vm.memory_mib * enc.moved(vm) for vm in movers) <= self.max_moved_mib)

    @classmethod
    def instances(cls, cluster: Cluster, policy: Policy) -> tuple[MigrationBudget, ...]:
        if policy.max_migrations is None and policy.max_moved_mib is None:
            return ()
        return (cls(max_migrations=policy.max_migrations, max_moved_mib=policy.max_moved_mib),)
