"""The CP-SAT encoding: conflicts named through assumptions, hints taken whole, balance terms."""

from __future__ import annotations

import pytest

from planner.errors import InfeasibleError
from planner.optimize.encoding import Encoding
from planner.optimize.optimizer import optimize
from planner.policy import Policy
from planner.rules import Evacuate, MemoryCapacity, MigrationBudget
from tests.builders import make_cluster, make_host, make_vm


def test_an_evacuation_over_budget_names_both_rules() -> None:
    vms = [make_vm(host="h1") for _ in range(3)]
    cluster = make_cluster([make_host("h1"), make_host("h2")], vms)
    with pytest.raises(InfeasibleError) as err:
        optimize(cluster, Policy(time_limit_s=2.0, evacuate=("h1",), max_migrations=1))
    text = " ".join(err.value.conflicts)
    assert "every guest that can leave h1 does" in text and "at most 1 migrations" in text


def test_assumptions_map_back_to_rule_objects() -> None:
    vms = [make_vm(host="h1", memory_mib=40000) for _ in range(2)]
    cluster = make_cluster([make_host("h1"), make_host("h2")], vms)
    evacuate, memory = Evacuate(hosts=frozenset({"h1"})), MemoryCapacity()
    enc = Encoding(cluster, {v.uuid: ("h2",) for v in vms} | {vms[0].uuid: ("h1", "h2")}, explain=True)
    for rule in (evacuate, memory, MigrationBudget(max_migrations=5)):
        rule.encode(enc)
    enc.minimize([])
    sol = enc.solve(2.0, 0, 2)
    assert sol.status == "infeasible"
    assert set(sol.conflicts) == {evacuate, memory}


def test_a_complete_hint_is_the_first_solution() -> None:
    vms = [make_vm(host="h1", memory_mib=1024) for _ in range(4)]
    cluster = make_cluster([make_host("h1"), make_host("h2")], vms)
    enc = Encoding(cluster, {v.uuid: ("h1", "h2") for v in vms})
    peak = enc.peak("memory", ("h1", "h2"))
    enc.minimize([(1, peak)])
    hint = {v.uuid: "h2" if i < 2 else "h1" for i, v in enumerate(vms)}
    enc.hint(hint)
    sol = enc.solve(2.0, 0, 2)
    assert sol.status == "optimal"
    assert sorted(sol.placement.values()) == ["h1", "h1", "h2", "h2"]
