"""A guest arrives on a host only once the guests a hard rule keeps it apart from have left it.

A live migration's guest counts on its source until the migration ends, so an anti-affinity member sent
to a host its fellow is leaving would share that host with it until the fellow is gone. Found by the
random runs of the schedule property test (tests/planner/test_schedule_properties.py), issue 9.
"""

from __future__ import annotations

from planner.model import Cluster, PlacementRule
from planner.pipeline import make_plan
from planner.plan import Migration
from planner.policy import Budgets, Policy
from planner.rules import check_all, rules_for
from planner.schedule import Schedule, schedule
from tests.builders import make_cluster, make_host, make_vm

GIB = 1024
APART = PlacementRule("anti-affinity", "apart", ("a", "b"))


def _cluster(*rules: PlacementRule, memory_gib: int = 8) -> Cluster:
    """a on h1 and b on h2; both move, b onto h1 (where a was), a onto h3."""
    hosts = [make_host(n, memory_mib=memory_gib * GIB) for n in ("h1", "h2", "h3")]
    vms = [make_vm("a", "h1", memory_mib=GIB), make_vm("b", "h2", memory_mib=GIB)]
    return make_cluster(hosts, vms, rules)


def _schedule(cluster: Cluster, target: dict[str, str]) -> Schedule:
    by_name = {vm.name: vm.uuid for vm in cluster.vms}
    moves = {by_name[name]: host for name, host in target.items()}
    return schedule(cluster, moves, {}, Budgets(max_concurrent=2), rules_for(cluster, Policy()))


def _by_name(plan: Schedule) -> dict[str, Migration]:
    return {m.vm_name: m for m in plan.migrations}


def test_a_member_arrives_only_once_its_fellow_has_left() -> None:
    plan = _schedule(_cluster(APART), {"a": "h3", "b": "h1"})
    moves = _by_name(plan)
    assert moves["b"].depends_on == (moves["a"].id,)
    assert moves["b"].start_s >= moves["a"].start_s + moves["a"].estimated_s


def test_without_the_rule_both_move_at_once() -> None:
    moves = _by_name(_schedule(_cluster(), {"a": "h3", "b": "h1"}))
    assert moves["b"].depends_on == ()
    assert moves["a"].start_s == moves["b"].start_s == 0


def test_a_soft_rule_orders_nothing() -> None:
    soft = PlacementRule("anti-affinity", "apart", ("a", "b"), hard=False)
    moves = _by_name(_schedule(_cluster(soft), {"a": "h3", "b": "h1"}))
    assert moves["b"].depends_on == ()


def test_members_trading_hosts_go_through_a_third_one() -> None:
    """a and b swap: neither may land while the other is there, so one waits on h3 meanwhile."""
    plan = _schedule(_cluster(APART), {"a": "h2", "b": "h1"})
    assert [(m.vm_name, m.destination) for m in plan.migrations if m.temporary] == [("a", "h3")]
    assert plan.unschedulable == ()


def test_a_member_whose_fellow_stays_stays_too_and_says_why() -> None:
    """b cannot land on h1 while a is there, and a has nowhere to go (h3 closed to it by a pin)."""
    pin = PlacementRule("pin", "home", ("a",), hosts=("h1",))
    cluster = _cluster(APART, pin)
    plan = _schedule(cluster, {"b": "h1"})
    assert plan.migrations == ()
    (stay,) = plan.unschedulable
    assert stay.vm_name == "b"
    assert "keeps a, which a hard rule says must leave it before b arrives" in stay.reason


def test_found_by_hypothesis_an_arrival_waits_for_the_fellow_leaving() -> None:
    """v0 (on h2) and v1, v2 (on h0) must run apart; the plan sends v2 to h2 and v0 to h1."""
    hosts = [
        make_host("h0", cpus=2, memory_mib=8 * GIB),
        make_host("h1", cpus=2, memory_mib=16 * GIB),
        make_host("h2", cpus=2, memory_mib=8 * GIB),
    ]
    vms = [make_vm("v0", "h2", vcpus=1, memory_mib=3 * GIB, cpu_millicores=0)] + [
        make_vm(f"v{i}", "h0", vcpus=1, memory_mib=GIB, cpu_millicores=0) for i in range(1, 6)
    ]
    cluster = make_cluster(hosts, vms, [PlacementRule("anti-affinity", "r0", ("v0", "v1", "v2"))])
    policy = Policy(time_limit_s=0.5, min_improvement_pct=0.0)
    plan = make_plan(cluster, policy, Budgets(max_concurrent=2))
    rules = rules_for(cluster, policy)
    placement = dict(cluster.placement)
    for m in sorted(plan.migrations, key=lambda m: m.start_s + m.estimated_s):
        placement[m.vm_uuid] = m.destination
        shared = [v for v in check_all(rules, cluster, placement) if v.host != "h0"]
        assert shared == [], m.vm_name
