"""The solve layer: candidate restriction, and the trades the solver makes."""

from __future__ import annotations

import pytest

from planner.model import PlacementRule
from planner.optimize.optimizer import optimize
from planner.optimize.solve import (
    build_problem,
    candidate_domains,
    kept_by_heuristics,
)
from planner.policy import Policy
from planner.rules import rules_for
from tests.builders import make_cluster, make_host, make_vm


@pytest.mark.parametrize(
    ("field", "low", "high"),
    [("dirty_rate_mibps", 0, 400), ("memory_mib", 4096, 8192)],
    ids=["calmer", "smaller"],
)
def test_for_equal_gain_the_cheaper_guest_moves(field: str, low: int, high: int) -> None:
    # Two guests whose move balances the same (CPU decides), one cheaper to move.
    hosts = [make_host("h1"), make_host("h2")]
    base = {"cpu_millicores": 4000, "memory_mib": 4096}
    cheap = make_vm("cheap", host="h1", **(base | {field: low}))
    dear = make_vm("dear", host="h1", **(base | {field: high}))
    cluster = make_cluster(hosts, [cheap, dear])
    target = optimize(cluster, Policy(time_limit_s=2.0, memory_weight=0))
    assert target.placement[cheap.uuid] == "h2" and target.placement[dear.uuid] == "h1"


def test_small_problems_keep_every_candidate_and_large_ones_a_few() -> None:
    hosts = [make_host(f"h{i}") for i in range(40)]
    vms = [make_vm(host="h0", memory_mib=512) for _ in range(600)]
    cluster = make_cluster(hosts, vms)
    policy = Policy(candidates_per_vm=4)
    p = build_problem(cluster, policy, rules_for(cluster, policy))
    hint = dict(cluster.placement)
    scores = {h.name: 0.0 for h in hosts} | {"h0": 90.0}
    domains = candidate_domains(p, hint, scores)
    assert max(len(d) for d in domains.values()) <= 4 + 2
    small = make_cluster(hosts[:3], vms[:5])
    ps = build_problem(small, policy, rules_for(small, policy))
    assert all(len(d) == 3 for d in candidate_domains(ps, dict(small.placement), scores).values())


def test_guests_of_group_rules_and_soft_pins_are_left_to_the_solver() -> None:
    vms = [make_vm(f"v{i}") for i in range(5)]
    rules = [
        PlacementRule("affinity", "a", vms=("v0", "v1"), hard=False),
        PlacementRule("anti-affinity", "b", vms=("v2",)),
        PlacementRule("pin", "c", vms=("v3",), hosts=("h1",), hard=False),
        PlacementRule("pin", "d", vms=("v4",), hosts=("h1",)),
    ]
    cluster = make_cluster([make_host("h1")], vms, rules)
    p = build_problem(cluster, Policy(), rules_for(cluster, Policy()))
    assert kept_by_heuristics(p) == {v.uuid for v in vms[:4]}
