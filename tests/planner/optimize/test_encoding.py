"""The CP-SAT encoding: conflicts named through assumptions, hints taken whole, balance terms."""

from __future__ import annotations

import pytest

from planner.errors import InfeasibleError
from planner.optimize.encoding import Encoding, share_bp
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


def test_how_far_a_peak_rises_above_a_level_is_hinted_with_the_peak_and_minimised() -> None:
    vms = [make_vm(host="h1", memory_mib=8192) for _ in range(4)]
    cluster = make_cluster([make_host("h1"), make_host("h2")], vms)
    enc = Encoding(cluster, {v.uuid: ("h1", "h2") for v in vms})
    peak = enc.peak("memory", ("h1", "h2"))
    level = share_bp(2 * 8192, 65536) - 50  # half a point under an even split
    above = enc.above(peak, level)
    enc.minimize([(1, above)])
    enc.hint({v.uuid: "h1" for v in vms})  # all on h1: 50 % of it
    hint = dict(zip(enc.model.proto.solution_hint.vars, enc.model.proto.solution_hint.values, strict=True))
    assert hint[above.index] == hint[peak.index] - level == share_bp(4 * 8192, 65536) - level
    sol = enc.solve(2.0, 0, 2)
    assert sol.status == "optimal"
    assert sorted(sol.placement.values()) == ["h1", "h1", "h2", "h2"]  # only the split gets near it


def test_a_solve_ends_on_deterministic_time_never_on_a_wall_clock_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """OR-Tools 9.15 aborts the process when a wall-clock limit lands between its taking a complete
    hint as the first solution and the start of the parallel search: no solve sets one."""
    from ortools.sat.python import cp_model

    seen: list[tuple[float, float]] = []
    real = cp_model.CpSolver.solve

    def spy(self: cp_model.CpSolver, model: cp_model.CpModel, *args: object) -> object:
        p = self.parameters
        seen.append((p.max_time_in_seconds, p.max_deterministic_time))
        return real(self, model, *args)

    monkeypatch.setattr(cp_model.CpSolver, "solve", spy)
    vms = [make_vm(host="h1", memory_mib=1024) for _ in range(4)]
    cluster = make_cluster([make_host("h1"), make_host("h2")], vms)
    optimize(cluster, Policy(time_limit_s=2.0))  # a small cluster: the whole-cluster solve
    enc = Encoding(cluster, {v.uuid: ("h1", "h2") for v in vms})
    enc.minimize([(1, enc.peak("memory", ("h1", "h2")))])
    enc.hint({v.uuid: "h1" for v in vms})
    enc.solve(2.0, 0, 2)
    unlimited = cp_model.CpSolver().parameters.max_time_in_seconds
    assert len(seen) >= 2
    assert all(wall == unlimited and 0 < det < unlimited for wall, det in seen)
