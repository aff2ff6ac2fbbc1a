"""What each rule asks of the heuristics, the neighbourhoods and the hops (the Rule protocol's answers)."""

from __future__ import annotations

import pytest

from planner.model import Cluster, PlacementRule
from planner.policy import Policy
from planner.rules import MigrationBudget, Rule, rules_for
from tests.builders import make_cluster, make_host, make_vm


def _cluster(*rules: PlacementRule) -> Cluster:
    hosts = [make_host(f"h{i}") for i in (1, 2, 3)]
    vms = [make_vm(n, h, uuid=f"u-{n}") for n, h in (("a", "h1"), ("b", "h1"), ("c", "h2"))]
    return make_cluster(hosts, vms, rules)


def _answers(cluster: Cluster, policy: Policy | None = None) -> tuple[Rule, ...]:
    return rules_for(cluster, policy or Policy())


@pytest.mark.parametrize(
    ("rule", "kept", "wide", "as_one"),
    [
        pytest.param(
            PlacementRule("affinity", "g", ("a", "b")),
            {"u-a", "u-b"},
            {"u-a", "u-b"},
            [{"a", "b"}],
            id="affinity",
        ),
        pytest.param(
            PlacementRule("affinity", "g", ("a", "b"), hard=False),
            {"u-a", "u-b"},
            {"u-a", "u-b"},
            [],
            id="soft-affinity",
        ),
        pytest.param(
            PlacementRule("anti-affinity", "g", ("a", "c")),
            {"u-a", "u-c"},
            {"u-a", "u-c"},
            [],
            id="anti-affinity",
        ),
        pytest.param(PlacementRule("pin", "p", ("a",), hosts=("h1",)), set(), {"u-a"}, [], id="pin"),
        pytest.param(
            PlacementRule("avoid", "p", ("c",), hosts=("h1",), hard=False),
            {"u-c"},
            {"u-c"},
            [],
            id="soft-avoid",
        ),
    ],
)
def test_what_a_rule_asks_of_the_heuristics_and_the_solver(
    rule: PlacementRule, kept: set[str], wide: set[str], as_one: list[set[str]]
) -> None:
    cluster = _cluster(rule)
    rules = _answers(cluster)
    assert set().union(*(r.kept_by_heuristics(cluster) for r in rules)) == kept
    assert set().union(*(r.needs_every_candidate(cluster) for r in rules)) == wide
    assert [{vm.name for vm in g} for r in rules if (g := r.moves_as_one(cluster))] == as_one


def test_anti_affinity_keeps_each_member_off_its_fellows_hosts() -> None:
    cluster = _cluster(PlacementRule("anti-affinity", "g", ("a", "c")))
    off = [r.keep_off(cluster, {"u-a": "h3", "u-c": "h2"}) for r in _answers(cluster)]
    assert [o for o in off if o] == [{"u-a": frozenset({"h2"}), "u-c": frozenset({"h3"})}]


def test_a_neighbourhood_sees_the_budget_the_moves_outside_it_leave() -> None:
    cluster = _cluster()
    rules = _answers(cluster, Policy(max_migrations=3, max_moved_mib=10_000, evacuate=("h3",)))
    placement = {"u-a": "h2", "u-b": "h1", "u-c": "h2"}  # a moved, outside the neighbourhood
    seen = [r.within(cluster, placement, frozenset({"u-b", "u-c"})) for r in rules]
    kept = [r for r in seen if r is not None]
    assert [r for r in kept if isinstance(r, MigrationBudget)] == [MigrationBudget(2, 10_000 - 4096)]
    assert {r.name for r in kept} == {
        "MemoryCapacity",
        "CpuCapacity",
        "MigrationBudget",
    }  # unary ones: in domains
