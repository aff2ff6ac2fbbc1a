"""The placement rules, registered in one explicit tuple (no directory scanning).

Each class builds its instances from the snapshot and the policy; `rules_for` collects them in this
order. Unary rules (those restricting each guest alone) come first: optimize/candidates.py reads them to build
every guest's domain before any solving.
"""

from __future__ import annotations

from planner.model import Cluster
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
from planner.rules.unmigratable import Unmigratable

RULES = (
    Unmigratable,
    CpuCompatible,
    ClosedHosts,
    Evacuate,
    Pin,
    MemoryCapacity,
    CpuCapacity,
    Affinity,
    AntiAffinity,
    MigrationBudget,
)


def rules_for(cluster: Cluster, policy: Policy, stays: frozenset[str] = frozenset()) -> tuple[Rule, ...]:
    """Every rule that applies to `cluster` under `policy`; `stays` are guests allowed to stay on
    an evacuated host (known up front to be unable to leave)."""
    return tuple(rule for kind in RULES for rule in kind.instances(cluster, policy, stays))


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
    "UnaryRule",
    "Unmigratable",
    "rules_for",
]
