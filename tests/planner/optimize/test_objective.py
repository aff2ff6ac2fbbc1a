"""The objective, written once: per resource peak and every host's excess, moves in comparable units."""

from __future__ import annotations

import pytest

from planner.optimize.objective import FIXED_MOVE_PCT, UNITS_PER_MIB, Objective
from planner.optimize.optimizer import optimize
from planner.optimize.solve import build_problem, objective_points
from planner.policy import Policy
from planner.rules import rules_for
from tests.builders import make_cluster, make_host, make_vm


@pytest.mark.parametrize(
    ("memory", "dirty", "mib"),
    [(1024, 0, 512), (4096, 0, 2048), (4096, 100, 4096), (0, 500, 0)],
    ids=["1GiB", "4GiB", "4GiB-dirty", "empty"],
)
def test_a_move_costs_half_its_mib_at_the_default_threshold_raised_by_dirty_rate(
    memory: int, dirty: int, mib: int
) -> None:
    vm = make_vm(memory_mib=memory, dirty_rate_mibps=dirty)
    cluster = make_cluster([make_host("h1")], [vm])
    objective = Objective.build(cluster, Policy(), ("h1",), {"cpu": 0.0, "memory": 0.0})
    fixed = FIXED_MOVE_PCT / 100 * 65536  # of the host's 64 GiB
    assert objective.move_cost(vm) == pytest.approx(UNITS_PER_MIB * (fixed + mib), abs=1)


def test_value_counts_peak_every_hosts_excess_and_moves() -> None:
    a = make_vm(host="h1", memory_mib=16384, cpu_millicores=0)
    cluster = make_cluster([make_host("h1"), make_host("h2")], [a])
    policy = Policy(cpu_weight=0, band_pct=0.0)
    p = build_problem(cluster, policy, rules_for(cluster, policy))
    o = p.objective
    assert p.levels_pct["memory"] == pytest.approx(12.5)
    stay = objective_points(p, {a.uuid: "h1"})
    move = objective_points(p, {a.uuid: "h2"})
    # 25 % peak; 12.5 % of 64 GiB above the level on h1.
    assert stay == o.peak_weight["memory"] * 2500 + o.excess_weight["memory"] * 8192
    assert move - stay == o.move_cost(a)


def test_cpu_excess_weighs_like_memory_excess_of_the_same_share() -> None:
    cluster = make_cluster([make_host("h1"), make_host("h2")], [])
    o = Objective.build(cluster, Policy(), ("h1", "h2"), {"cpu": 10.0, "memory": 10.0})
    cpu_cap = cluster.hosts[0].cpu_capacity_millicores
    mem_cap = cluster.hosts[0].memory_capacity_mib
    one_pct_cpu = o.excess_weight["cpu"] * cpu_cap / 100
    one_pct_mem = o.excess_weight["memory"] * mem_cap / 100
    assert one_pct_cpu == pytest.approx(one_pct_mem, rel=0.02)


@pytest.mark.parametrize("hosts", [4, 40], ids=["small", "ten-times"])
def test_the_same_policy_gives_the_same_kind_of_plan_at_any_size(hosts: int) -> None:
    # Each group of four hosts: one at 50 % memory with 8 x 4 GiB guests, three at 25 %: the level is
    # 31.25 %: three guests per hot host bring every host to the level, the third removing 2.7 GiB for
    # 2 GiB of cost; the same three per group on 4 and on 40 hosts.
    hs = [make_host(f"h{i}") for i in range(hosts)]
    vms = []
    for i in range(hosts):
        count = 8 if i % 4 == 0 else 4
        vms += [make_vm(host=f"h{i}", memory_mib=4096, cpu_millicores=0) for _ in range(count)]
    cluster = make_cluster(hs, vms)
    target = optimize(cluster, Policy(time_limit_s=5.0, cpu_weight=0, min_improvement_pct=0.0))
    assert len(target.moves) == 3 * hosts // 4  # three per hot host, each ending at the level
