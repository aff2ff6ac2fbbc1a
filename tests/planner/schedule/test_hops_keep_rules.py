"""A temporary hop is a placement too: its guest waits only where every hard rule of the plan allows.

The two cases measured in issue 9: under `max_migrations = 2` a swap's hop made a third migration, and in
an evacuation of h3 a swap hopped through h3, the host being emptied.
"""

from __future__ import annotations

import dataclasses

import pytest

from planner.model import Cluster, PlacementRule
from planner.policy import Budgets, Policy
from planner.rules import rules_for
from planner.schedule import Schedule, schedule
from tests.builders import make_cluster, make_host, make_vm

GIB = 1024


def _swap(*spare: str, rules: tuple[PlacementRule, ...] = ()) -> tuple[Cluster, dict[str, str]]:
    """a (6 GiB on h1) and b (7 GiB on h2) trade places on 8 GiB hosts: one of them must hop."""
    a = make_vm("a", "h1", memory_mib=6 * GIB)
    b = make_vm("b", "h2", memory_mib=7 * GIB)
    hosts = [make_host(n, memory_mib=8 * GIB) for n in ("h1", "h2", *spare)]
    return make_cluster(hosts, [a, b], rules), {a.uuid: "h2", b.uuid: "h1"}


def _plan(cluster: Cluster, target: dict[str, str], policy: Policy) -> Schedule:
    return schedule(cluster, target, {}, Budgets(), rules_for(cluster, policy))


def _hops(plan: Schedule) -> list[tuple[str, str]]:
    return [(m.vm_name, m.destination) for m in plan.migrations if m.temporary]


@pytest.mark.parametrize(
    ("policy", "migrations", "hops"),
    [
        pytest.param(Policy(max_migrations=2), 0, [], id="two-migrations-leave-no-room-for-a-hop"),
        pytest.param(Policy(max_migrations=3), 3, [("a", "h3")], id="three-migrations-allow-it"),
        pytest.param(Policy(max_moved_mib=13 * GIB), 0, [], id="the-hop-moves-a-again"),
        pytest.param(Policy(max_moved_mib=19 * GIB), 3, [("a", "h3")], id="room-in-the-memory-budget"),
    ],
)
def test_a_hop_counts_against_the_migration_budget(policy: Policy, migrations: int, hops: list) -> None:
    cluster, target = _swap("h3")
    plan = _plan(cluster, target, policy)
    assert len(plan.migrations) == migrations
    assert _hops(plan) == hops
    if not migrations:
        assert {s.vm_name for s in plan.unschedulable} == {"a", "b"}
        assert "keeps every hard rule" in " ".join(s.reason for s in plan.unschedulable)


def test_a_hop_never_goes_through_a_host_being_evacuated() -> None:
    cluster, target = _swap("h3")
    plan = _plan(cluster, target, Policy(evacuate=("h3",)))
    assert plan.migrations == ()
    assert {s.vm_name for s in plan.unschedulable} == {"a", "b"}


def test_an_evacuation_hops_through_another_host() -> None:
    cluster, target = _swap("h3", "h4")
    plan = _plan(cluster, target, Policy(evacuate=("h3",)))
    assert _hops(plan) == [("a", "h4")]


@pytest.mark.parametrize(
    ("rule", "hops"),
    [
        pytest.param(PlacementRule("affinity", "together", ("a", "c")), [("b", "h3")], id="affinity"),
        pytest.param(PlacementRule("pin", "stay", ("a",), hosts=("h1", "h2")), [("b", "h3")], id="pin"),
        pytest.param(PlacementRule("avoid", "off", ("b",), hosts=("h3",)), [("a", "h3")], id="avoid"),
    ],
)
def test_a_hop_keeps_the_hopping_guests_rules(rule: PlacementRule, hops: list) -> None:
    """The guest the rule names does not wait on h3; the other one does."""
    cluster, target = _swap("h3", rules=(rule,))
    if rule.kind == "affinity":  # c shares h1 with a; h1 has room for it
        c = make_vm("c", "h1", memory_mib=GIB // 2)
        cluster = make_cluster(cluster.hosts, [*cluster.vms, c], cluster.rules)
    assert _hops(_plan(cluster, target, Policy())) == hops


@pytest.mark.parametrize(("spare_millicores", "hops"), [(1000, [("a", "h3")]), (400, [])])
def test_a_hop_keeps_the_cpu_ceiling(spare_millicores: int, hops: list) -> None:
    """h3 has memory for a and b, and CPU for them (500 millicores each) or not, under its ceiling."""
    cluster, target = _swap("h3")
    h3 = cluster.host_by_name["h3"]
    busy = make_vm(
        "busy", "h3", memory_mib=GIB // 2, cpu_millicores=h3.cpu_capacity_millicores - spare_millicores
    )
    cluster = make_cluster(cluster.hosts, [*cluster.vms, busy])
    assert _hops(_plan(cluster, target, Policy())) == hops


def test_a_hop_never_goes_through_a_host_over_its_capacity_at_the_start() -> None:
    """h3 runs over its CPU ceiling until d leaves it. Moving one guest at a time, d leaves first and a
    could wait on h3; but the timeline runs both at once, so a would land on h3 while d is still there
    (found by Hypothesis, issue 9). h3 receives no guest, so a and b stay."""
    cluster, target = _swap()
    hosts = [*cluster.hosts, make_host("h3", cpus=2, memory_mib=8 * GIB), make_host("h4", memory_mib=2 * GIB)]
    vms = [*(dataclasses.replace(vm, cpu_millicores=0) for vm in cluster.vms)]
    vms.append(make_vm("d", "h3", memory_mib=GIB, cpu_millicores=1874))
    busy = make_cluster(hosts, vms)
    plan = _plan(busy, {**target, vms[-1].uuid: "h4"}, Policy())
    assert _hops(plan) == []
    assert {s.vm_name for s in plan.unschedulable} == {"a", "b"}
    assert [(m.vm_name, m.destination) for m in plan.migrations] == [("d", "h4")]
