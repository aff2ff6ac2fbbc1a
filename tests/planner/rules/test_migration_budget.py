from __future__ import annotations

import pytest

from planner.policy import Policy
from planner.rules import MigrationBudget
from tests.builders import make_cluster, make_host, make_vm
from tests.planner.rules.solving import solved


@pytest.mark.parametrize(
    ("budget", "units"),
    [
        (MigrationBudget(max_migrations=1), ["migrations"]),
        (MigrationBudget(max_moved_mib=4096), ["MiB"]),
        (MigrationBudget(max_migrations=5, max_moved_mib=10**6), []),
    ],
    ids=["count", "mib", "within"],
)
def test_check(budget: MigrationBudget, units: list[str]) -> None:
    vms = [make_vm(host="h1", memory_mib=4096) for _ in range(2)]
    cluster = make_cluster([make_host("h1"), make_host("h2")], vms)
    assert [v.unit for v in budget.check(cluster, {v.uuid: "h2" for v in vms})] == units


@pytest.mark.parametrize(
    ("policy_budget", "moves"),
    [({"max_migrations": 1}, 1), ({"max_moved_mib": 8192}, 2)],
    ids=["count", "mib"],
)
def test_solver_stays_within_the_budget(policy_budget: dict[str, int], moves: int) -> None:
    vms = [make_vm(host="h1", memory_mib=4096) for _ in range(8)]
    policy = Policy(time_limit_s=2.0, min_improvement_pct=0, **policy_budget)
    target = solved(make_cluster([make_host("h1"), make_host("h2")], vms), policy)
    assert len(target.reasons) == moves
