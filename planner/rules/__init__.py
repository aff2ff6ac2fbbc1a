"""The placement rules, registered in one explicit tuple (no directory scanning).

Each class builds its instances from the snapshot and the policy; `rules_for` collects them in this
order. Unary rules (those restricting each guest alone) come first: optimize/candidates.py reads them to build
every guest's domain before any solving.
"""

from __future__ import annotations

from collections.abc import Sequence

from planner.model import Cluster, Placement
from planner.optimize.encoding import Resource
from planner.policy import Policy
from planner.rules.affinity import Affinity
from planner.rules.anti_affinity import AntiAffinity
from planner.rules.closed_hosts import ClosedHosts
from planner.rules.cpu_capacity import CpuCapacity
from planner.rules.cpu_compatible import CpuCompatible
from planner.rules.evacuate import Evacuate
from planner.rules.memory_capacity import MemoryCapacity
from planner.rules.migration_budget import MigrationBudget
from planner.rules.pin import Pin
from planner.rules.rule import Rule, UnaryRule
from planner.rules.storage_capacity import StorageCapacity
from planner.rules.unmigratable import Unmigratable
from planner.violation import Violation

RULES = (
    Unmigratable,
    CpuCompatible,
    ClosedHosts,
    Evacuate,
    Pin,
    StorageCapacity,
    MemoryCapacity,
    CpuCapacity,
    Affinity,
    AntiAffinity,
    MigrationBudget,
)


def rules_for(cluster: Cluster, policy: Policy) -> tuple[Rule, ...]:
    """Every rule that applies to `cluster` under `policy` (built once per plan)."""
    return tuple(rule for kind in RULES for rule in kind.instances(cluster, policy))


def capacity_rule(resource: Resource) -> str:
    """The name of the rule that keeps each host within `resource`: what a guest without room waits for."""
    return MemoryCapacity().name if resource == "memory" else CpuCapacity().name


def check_all(
    rules: Sequence[Rule], cluster: Cluster, placement: Placement, stays: frozenset[str] = frozenset()
) -> list[Violation]:
    """Every hard rule's check on `placement`. A guest of `stays` (UUIDs: known up front to be unable
    to leave, reported with its reason) is excused for staying where it is."""
    excused = {cluster.vm_by_uuid[u].name for u in stays if placement.get(u) == cluster.vm_by_uuid[u].host}
    return [
        v for r in rules if r.hard for v in r.check(cluster, placement) if v.vm is None or v.vm not in excused
    ]


__all__ = [
    "RULES",
    "Affinity",
    "AntiAffinity",
    "ClosedHosts",
    "CpuCapacity",
    "CpuCompatible",
    "Evacuate",
    "MemoryCapacity",
    "MigrationBudget",
    "Pin",
    "Rule",
    "StorageCapacity",
    "UnaryRule",
    "Unmigratable",
    "capacity_rule",
    "check_all",
    "rules_for",
]
