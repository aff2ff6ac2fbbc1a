"""A guest the schedule leaves behind is held where it stays and the target planned again around it.

Found by random runs of the schedule property test (issue 9): the optimizer's target kept a hard affinity
group together only with a swap the schedule could not order (no host had room for a hop), so the swap's
guests stayed while their fellow moved, and the final placement split the group (PlannerBugError "final
placement").
"""

from __future__ import annotations

import pytest

import planner.optimize.optimizer
from planner.errors import InfeasibleError
from planner.model import Cluster, PlacementRule
from planner.optimize.optimizer import Target
from planner.pipeline import make_plan
from planner.plan import Stay
from planner.policy import Budgets, Policy
from tests.builders import make_cluster, make_host, make_target, make_vm

GIB = 1024


def test_the_guests_of_a_swap_that_cannot_run_are_held_and_their_group_stays_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """b and c must share a host (h2). The first target swaps a and b and sends c after b; no host has
    room for a hop, so a and b stay: the second target, holding them, leaves c with b."""
    hosts = [make_host(n, memory_mib=8 * GIB) for n in ("h1", "h2")]
    a, b = make_vm("a", "h1", memory_mib=6 * GIB), make_vm("b", "h2", memory_mib=7 * GIB)
    c = make_vm("c", "h2", memory_mib=GIB // 2)
    cluster = make_cluster(hosts, [a, b, c], [PlacementRule("affinity", "together", ("b", "c"))])
    asked: list[set[str]] = []

    def optimize(c_: Cluster, p: Policy, r: object, held: tuple[Stay, ...] = ()) -> Target:
        asked.append({s.vm_name for s in held})
        if held:
            return make_target(cluster, dict(cluster.placement))
        return make_target(cluster, {a.uuid: "h2", b.uuid: "h1", c.uuid: "h1"})

    monkeypatch.setattr(planner.optimize.optimizer, "optimize", optimize)
    plan = make_plan(cluster, Policy(), Budgets())
    assert asked == [set(), {"a", "b"}]
    assert plan.migrations == ()
    assert {s.vm_name: s.rule for s in plan.stays} == {"a": "schedule", "b": "schedule"}
    assert dict(plan.target) == cluster.placement


def test_found_by_hypothesis_a_group_that_cannot_be_joined_is_infeasible_and_says_why() -> None:
    """v0 (pinned to h0, h1) must share a host with v3 (on h2, 6 GiB). Joining them on h1 needs v3 and
    v1 to trade h1 and h2, and no host has room for a hop (h0 runs over its CPU ceiling)."""
    hosts = [
        make_host("h0", cpus=2, memory_mib=8 * GIB),
        make_host("h1", cpus=2, memory_mib=8 * GIB),
        make_host("h2", cpus=8, memory_mib=8 * GIB),
    ]
    spec = [("v0", "h0", 1, 0), ("v1", "h1", 3, 0), ("v2", "h0", 1, 1077), ("v3", "h2", 6, 1289)]
    spec += [("v4", "h0", 1, 0), ("v5", "h0", 1, 0), ("v6", "h0", 1, 1874)]
    vms = [
        make_vm(
            n, h, uuid=f"00000000-0000-0000-0000-{i:012d}", vcpus=1, memory_mib=m * GIB, cpu_millicores=mc
        )
        for i, (n, h, m, mc) in enumerate(spec)
    ]
    rules = [
        PlacementRule("affinity", "r1", ("v0", "v3")),
        PlacementRule("pin", "r2", ("v0",), hosts=("h0", "h1")),
    ]
    cluster = make_cluster(hosts, vms, rules)
    with pytest.raises(InfeasibleError) as caught:
        make_plan(cluster, Policy(time_limit_s=0.5, min_improvement_pct=0.0), Budgets(max_concurrent=2))
    said = " ".join(caught.value.conflicts)
    assert "v0, v3 must share a host" in said
    assert "v1 cannot move: these moves wait for each other" in said


def test_a_member_bound_for_the_host_its_fellow_cannot_leave_stays_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """a and b must run apart. The target swaps a (h1) and c (h2) and sends b to h1; h3 has no room for
    a hop, so a stays on h1, and b, which would land beside it, stays on h3 (the anti-affinity form of
    the final-placement bug: two members sharing h1)."""
    hosts = [make_host(n, memory_mib=8 * GIB) for n in ("h1", "h2", "h3")]
    a, c = make_vm("a", "h1", memory_mib=6 * GIB), make_vm("c", "h2", memory_mib=7 * GIB)
    b, filler = make_vm("b", "h3", memory_mib=GIB), make_vm("filler", "h3", memory_mib=3 * GIB)
    cluster = make_cluster(hosts, [a, b, c, filler], [PlacementRule("anti-affinity", "apart", ("a", "b"))])
    wanted = {**cluster.placement, a.uuid: "h2", c.uuid: "h1", b.uuid: "h1"}
    monkeypatch.setattr(planner.optimize.optimizer, "optimize", lambda *args: make_target(cluster, wanted))
    plan = make_plan(cluster, Policy(), Budgets())
    assert plan.migrations == ()
    reasons = {s.vm_name: s.reason for s in plan.stays}
    assert set(reasons) == {"a", "b", "c"}
    assert "h1 keeps a, which a hard rule says must leave it before b arrives" in reasons["b"]
