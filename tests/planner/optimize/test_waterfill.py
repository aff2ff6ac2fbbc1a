"""Water-filling: hosts above the band drain towards those below it, each move paying for itself."""

from __future__ import annotations

from planner.load import host_loads
from planner.model import PlacementRule
from planner.optimize.optimizer import check_placement, optimize
from planner.optimize.solve import build_problem, objective_points
from planner.optimize.waterfill import waterfill
from planner.policy import Policy
from planner.rules import rules_for
from tests.builders import make_cluster, make_host, make_vm


def test_a_big_group_on_a_small_host_moves_as_one_when_that_lowers_the_peak() -> None:
    # The pair (64 + 16 GiB, hard affinity) holds a 96 GiB host at 83%; big hosts sit at 50%.
    small = make_host("small", memory_mib=98304)
    bigs = [make_host(f"big{i}", memory_mib=393216) for i in range(4)]
    pair = [
        make_vm("db0", host="small", memory_mib=65536, cpu_millicores=0),
        make_vm("db1", host="small", memory_mib=16384, cpu_millicores=0),
    ]
    filler = [make_vm(host=f"big{i}", memory_mib=8192, cpu_millicores=0) for i in range(4) for _ in range(24)]
    rules = [PlacementRule("affinity", "db", vms=("db0", "db1"))]
    cluster = make_cluster([small, *bigs], [*pair, *filler], rules)
    policy = Policy()
    p = build_problem(cluster, policy, rules_for(cluster, policy))
    got = waterfill(p, dict(cluster.placement))
    assert got[pair[0].uuid] == got[pair[1].uuid] != "small"
    assert check_placement(cluster, got, policy) == []
    assert objective_points(p, got) < objective_points(p, cluster.placement)


def test_hosts_under_a_fixed_peak_are_still_drained_to_the_level() -> None:
    # h0's guest cannot move (52.7%): the peak stays there, yet the hosts at 50% drain towards 31%.
    hosts = [make_host(f"h{i}") for i in range(8)]
    anchor = make_vm(host="h0", memory_mib=34537, cpu_millicores=0, migratable=False)
    hot = [make_vm(host=f"h{i}", memory_mib=4096, cpu_millicores=0) for i in (1, 2, 3) for _ in range(8)]
    cool = [make_vm(host=f"h{i}", memory_mib=4096, cpu_millicores=0) for i in (4, 5, 6, 7) for _ in range(3)]
    cluster = make_cluster(hosts, [anchor, *hot, *cool])
    target = optimize(cluster, Policy(time_limit_s=3.0))
    shares = {hl.host: hl.memory_pct for hl in host_loads(cluster, target.placement)}
    assert shares["h0"] > 52
    assert max(shares[f"h{i}"] for i in range(1, 8)) <= 37.5  # at most one guest above the level
