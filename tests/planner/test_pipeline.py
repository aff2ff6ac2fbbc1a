"""make_plan: optimize + schedule + checks, every Plan field filled, and the JSON round trip."""

from __future__ import annotations

import dataclasses

import pytest

import planner.optimize.optimizer
from planner.codec import plan_from_json, plan_to_json
from planner.errors import InputError
from planner.load import host_loads
from planner.model import Cluster
from planner.pipeline import make_plan
from planner.policy import Budgets, Policy
from tests.builders import make_cluster, make_host, make_target, make_vm

GIB = 1024
NOW = "2026-11-26T06:00:00+00:00"


def _lopsided() -> Cluster:
    """h1 carries six busy guests, h2 and h3 nothing."""
    hosts = [make_host(n, cpus=8, memory_mib=32 * GIB) for n in ("h1", "h2", "h3")]
    vms = [
        make_vm(f"v{i}", "h1", memory_mib=4 * GIB, cpu_millicores=1500, dirty_rate_mibps=20) for i in range(6)
    ]
    return make_cluster(hosts, vms)


def test_a_rebalance_plan_moves_guests_with_ordered_estimated_migrations() -> None:
    cluster = _lopsided()
    plan = make_plan(cluster, Policy(time_limit_s=5), Budgets(), now=NOW)
    assert plan.migrations, plan.notes
    assert plan.goal == "rebalance" and plan.created_at == NOW
    assert plan.balance_after.peak_pct < plan.balance_before.peak_pct
    assert [m.id for m in plan.migrations] == [f"m{i}" for i in range(1, len(plan.migrations) + 1)]
    assert all(m.reason and m.estimated_s > 0 and m.bandwidth_mibps > 0 for m in plan.migrations)
    assert 0 < plan.makespan_lower_bound_s <= plan.makespan_s
    assert {m.vm_uuid: m.destination for m in plan.migrations} == {
        u: h for u, h in plan.target.items() if h != cluster.vm_by_uuid[u].host
    }
    assert plan.policy["time_limit_s"] == 5 and plan.budgets.max_concurrent == 8
    assert plan.solver_status and plan.solve_s > 0


def test_an_evacuation_empties_the_host() -> None:
    cluster = _lopsided()
    plan = make_plan(cluster, Policy(evacuate=("h1",), time_limit_s=5), Budgets(), goal="evacuate", now=NOW)
    assert plan.evacuate == ("h1",)
    assert {m.source for m in plan.migrations} == {"h1"}
    assert "h1" not in plan.target.values()


@pytest.mark.parametrize(
    ("goal", "evacuate", "words"),
    [
        pytest.param("evacuate", (), "names at least one host", id="evacuate-nothing"),
        pytest.param("rebalance", ("h1",), "evacuate goal", id="rebalance-with-evacuate"),
    ],
)
def test_a_goal_that_contradicts_the_policy_is_refused(goal: str, evacuate: tuple, words: str) -> None:
    with pytest.raises(InputError, match=words):
        make_plan(_lopsided(), Policy(evacuate=evacuate), Budgets(), goal=goal)  # type: ignore[arg-type]


def test_the_plan_survives_the_json_round_trip() -> None:
    plan = make_plan(_lopsided(), Policy(time_limit_s=5), Budgets(per_migration_mibps=500), now=NOW)
    again = plan_from_json(plan_to_json(plan))
    assert again.migrations == plan.migrations
    assert (again.makespan_s, again.budgets.per_migration_mibps) == (plan.makespan_s, 500)


def test_a_swap_the_schedule_cannot_order_stays_and_the_plan_says_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hosts = [make_host(n, memory_mib=8 * GIB) for n in ("h1", "h2")]
    a, b = make_vm("a", "h1", memory_mib=6 * GIB), make_vm("b", "h2", memory_mib=7 * GIB)
    cluster = make_cluster(hosts, [a, b])
    monkeypatch.setattr(
        planner.optimize.optimizer,
        "optimize",
        lambda c, p, r, held=(): make_target(c, {a.uuid: "h2", b.uuid: "h1"}),
    )
    plan = make_plan(cluster, Policy(), Budgets(), now=NOW)
    assert plan.migrations == ()
    assert dict(plan.target) == cluster.placement
    assert {s.vm_name for s in plan.stays} == {"a", "b"}
    assert plan.after == host_loads(cluster, cluster.placement)


def test_a_swap_with_a_spare_host_goes_through_it(monkeypatch: pytest.MonkeyPatch) -> None:
    hosts = [make_host(n, memory_mib=8 * GIB) for n in ("h1", "h2", "h3")]
    a, b = make_vm("a", "h1", memory_mib=6 * GIB), make_vm("b", "h2", memory_mib=7 * GIB)
    cluster = make_cluster(hosts, [a, b])
    wanted = {a.uuid: "h2", b.uuid: "h1"}
    monkeypatch.setattr(
        planner.optimize.optimizer, "optimize", lambda c, p, r, held=(): make_target(c, wanted)
    )
    plan = make_plan(cluster, Policy(), Budgets(), now=NOW)
    assert dict(plan.target) == wanted
    assert [m.temporary for m in plan.migrations] == [True, False, False]
    assert plan.stays == ()
    assert dataclasses.asdict(plan.after[0]) == dataclasses.asdict(host_loads(cluster, wanted)[0])
