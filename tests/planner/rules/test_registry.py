"""The one explicit registry: which rules a cluster and a policy give, in order."""

from __future__ import annotations

from planner.model import PlacementRule
from planner.policy import Policy
from planner.rules import (
    RULES,
    Affinity,
    AntiAffinity,
    ClosedHosts,
    CpuCapacity,
    CpuCompatible,
    Evacuate,
    MemoryCapacity,
    MigrationBudget,
    Pin,
    UnaryRule,
    Unmigratable,
    rules_for,
)
from tests.builders import make_cluster, make_host, make_vm


def test_unary_rules_come_first_in_the_registry() -> None:
    kinds = [issubclass(k, UnaryRule) for k in RULES]
    assert kinds == sorted(kinds, reverse=True)


def test_rules_for_builds_one_instance_per_operator_rule_and_policy_knob() -> None:
    rules = [
        PlacementRule("affinity", "a", vms=("x", "y")),
        PlacementRule("anti-affinity", "b", vms=("x", "z"), hard=False, weight=3),
        PlacementRule("avoid", "c", vms=("x",), hosts=("h1",)),
    ]
    cluster = make_cluster([make_host("h1")], [make_vm(n) for n in "xyz"], rules)
    plain = rules_for(cluster, Policy())
    assert [type(r) for r in plain] == [
        Unmigratable,
        CpuCompatible,
        ClosedHosts,
        Pin,
        MemoryCapacity,
        CpuCapacity,
        Affinity,
        AntiAffinity,
    ]
    full = rules_for(cluster, Policy(evacuate=("h1",), max_migrations=2, exclude=("h9",)))
    evac = next(r for r in full if isinstance(r, Evacuate))
    assert evac.hosts == {"h1"}
    assert next(r for r in full if isinstance(r, ClosedHosts)).excluded == ("h9",)
    assert isinstance(full[-1], MigrationBudget) and full[-1].max_migrations == 2
    soft = next(r for r in plain if isinstance(r, AntiAffinity))
    assert (soft.hard, soft.weight, soft.name) == (False, 3, "AntiAffinity(b)")
    assert next(r for r in plain if isinstance(r, Pin)).name == "Avoid(c)"
