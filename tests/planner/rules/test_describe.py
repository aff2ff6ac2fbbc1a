"""What each rule says about itself: the sentence InfeasibleError shows when the rule is in a conflict."""

from __future__ import annotations

import pytest

from planner.rules import (
    Affinity,
    AntiAffinity,
    ClosedHosts,
    CpuCapacity,
    CpuCompatible,
    Evacuate,
    MemoryCapacity,
    MigrationBudget,
    Pin,
    Unmigratable,
)
from planner.rules.rule import Rule


@pytest.mark.parametrize(
    ("rule", "sentence"),
    [
        (Pin("db", frozenset({"db2", "db1"}), frozenset({"h2", "h1"})), "db1, db2 must run on h1, h2 (rule db)"),
        (Pin("web", frozenset({"w"}), frozenset({"h3"}), avoid=True, must=False), "w should stay off h3 (rule web)"),
        (ClosedHosts(), "hosts in maintenance, unreachable or excluded receive no guest"),
        (
            ClosedHosts(excluded=("h4", "h5")),
            "hosts in maintenance, unreachable or excluded receive no guest (excluded: h4, h5)",
        ),
        (Unmigratable(), "guests that cannot migrate stay where they are"),
        (MemoryCapacity(), "each host holds at most its memory capacity"),
        (CpuCapacity(), "each host stays within its vCPU overcommit and its CPU ceiling"),
        (CpuCompatible(), "each guest runs only on hosts that can run its CPU"),
        (Affinity("pair", ("a", "b"), must=False), "a, b should share a host (rule pair)"),
        (AntiAffinity("apart", ("a", "b")), "a, b must run on different hosts (rule apart)"),
        (MigrationBudget(3, 2048), "at most 3 migrations and at most 2.0 GiB moved"),
        (MigrationBudget(), "no migration budget"),
        (Evacuate(hosts=frozenset({"h2", "h1"})), "every guest that can leave h1, h2 does"),
    ],
    ids=[
        "pin", "soft-avoid", "closed", "closed-excluded", "unmigratable", "memory", "cpu", "cpu-compatible",
        "soft-affinity", "anti-affinity", "budget", "no-budget", "evacuate",
    ],
)  # fmt: skip
def test_describe(rule: Rule, sentence: str) -> None:
    assert rule.describe() == sentence
