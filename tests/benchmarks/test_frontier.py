"""The least-moving placement the frontier benchmark asks CP-SAT for (small clusters; the real sizes stay
out of the suite)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from benchmarks.frontier import Limits, as_planned, excess_of, least_moved, main, run
from planner.model import PlacementRule
from planner.optimize.solve import Problem, build_problem
from planner.policy import Policy
from planner.rules import rules_for
from tests.builders import make_cluster, make_host, make_vm

GIB = 1024


def _two_hosts(*rules: PlacementRule) -> Problem:
    """h1 holds guests of 4, 4, 1 and 1 GiB; h2, as big, is empty: memory's level is 5 GiB a host."""
    hosts = [make_host("h1", memory_mib=16 * GIB), make_host("h2", memory_mib=16 * GIB)]
    sizes = {"big-a": 4, "big-b": 4, "small-a": 1, "small-b": 1}
    vms = [make_vm(n, "h1", memory_mib=s * GIB, cpu_millicores=10) for n, s in sizes.items()]
    cluster = make_cluster(hosts, vms, rules)
    policy = Policy(cpu_weight=0)
    return build_problem(cluster, policy, rules_for(cluster, policy))


def _level(p: Problem) -> Limits:
    """Every host at memory's level (a few MiB of rounding aside)."""
    return Limits({"memory": p.levels_pct["memory"] + 0.01}, {"memory": 8})


def test_the_least_moving_level_placement_moves_exactly_the_excess() -> None:
    p = _two_hosts()
    found = least_moved(p, p.cluster.placement, _level(p), 5.0, 0)
    # One 4 GiB guest and one 1 GiB guest: 5 GiB, the excess, and nothing less can level the hosts.
    assert found["status"] == "optimal"
    assert found["gib_moved"] == found["gib_bound"] == 5.0


def test_the_least_moving_placement_keeps_every_hard_rule() -> None:
    # With both small guests pinned to h1 only the 4 GiB ones can move: no placement is level.
    pin = PlacementRule("pin", "small-stay", ("small-a", "small-b"), ("h1",))
    found = least_moved(_two_hosts(pin), _two_hosts(pin).cluster.placement, _level(_two_hosts(pin)), 5.0, 0)
    assert found["status"] == "infeasible"
    assert found["gib_moved"] is None and found["gib_bound"] is None


def test_a_plan_keeps_its_own_limits_so_the_same_balance_never_costs_more_than_it() -> None:
    p = _two_hosts()
    moved = {vm.uuid: ("h2" if vm.name in ("big-a", "small-a", "small-b") else "h1") for vm in p.cluster.vms}
    limits = as_planned(p, moved)
    assert limits.excess["memory"] == excess_of(p, moved, "memory") > 0
    found = least_moved(p, moved, limits, 5.0, 0)
    # 6 GiB moved leaves 4 / 6 GiB: one 4 GiB guest alone leaves 6 / 4, the same peak and excess.
    assert found["gib_moved"] == 4.0


def test_run_puts_both_frontiers_beside_the_planners_row() -> None:
    out = run(12, 120, 2, 0.5, 2.0, Policy(cpu_weight=0))
    planned = out["gib_moved"] / out["min_gib"]
    assert out["as_planned"]["status"] in ("optimal", "feasible")
    assert out["as_planned"]["ratio_bound"] <= out["as_planned"]["ratio_moved"] <= planned + 1e-3
    assert out["targets"]["status"] in ("optimal", "feasible", "unknown", "infeasible")


def test_cli_prints_a_table_and_json_rows() -> None:
    result = CliRunner().invoke(
        main, ["--hosts", "8", "--guests", "60", "--seeds", "0-1", "--time-limit", "0.3", "--solve-s", "1"]
    )
    assert result.exit_code == 0, result.output
    head, _, body = result.output.partition("\n[")
    assert head.splitlines()[0].split()[:4] == ["hosts", "guests", "seed", "planned"]
    rows = json.loads("[" + body)
    assert [r["seed"] for r in rows] == [0, 1]
    assert all({"as_planned", "targets"} <= set(r) for r in rows)


def test_a_host_no_guest_can_reach_still_counts_its_load_above_the_level() -> None:
    # h3 holds a 12 GiB guest pinned there, and no other guest may go there: the model has no variable
    # on it, yet its load above the level (about 4.7 GiB) is part of what the limit allows.
    hosts = [make_host(h, memory_mib=16 * GIB) for h in ("h1", "h2", "h3")]
    sizes = {"big-a": 4, "big-b": 4, "small-a": 1, "small-b": 1}
    vms = [make_vm(n, "h1", memory_mib=s * GIB, cpu_millicores=10) for n, s in sizes.items()]
    vms.append(make_vm("stuck", "h3", memory_mib=12 * GIB, cpu_millicores=10))
    rules = (
        PlacementRule("pin", "stuck-stays", ("stuck",), ("h3",)),
        PlacementRule("avoid", "not-h3", tuple(sizes), ("h3",)),
    )
    cluster = make_cluster(hosts, vms, rules)
    policy = Policy(cpu_weight=0)
    p = build_problem(cluster, policy, rules_for(cluster, policy))
    start = excess_of(p, cluster.placement, "memory")
    h3_alone = excess_of(p, {**cluster.placement, vms[0].uuid: "h2"}, "memory")  # big-a off h1
    assert 0 < h3_alone < start
    # Allowing only h3's own excess, h1 (10 GiB, level about 7.3) must give a 4 GiB guest; counting
    # h3's excess as nothing, h1's would fit in the limit and nothing would move.
    limits = Limits({"memory": 100.0}, {"memory": h3_alone})
    assert least_moved(p, cluster.placement, limits, 5.0, 0)["gib_moved"] == 4.0
