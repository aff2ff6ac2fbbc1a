"""Peak repair under a migration budget: each neighbourhood gets what the moves outside it leave."""

from __future__ import annotations

import time

import pytest

from benchmarks.generator import generate
from planner.optimize.optimizer import check_placement
from planner.optimize.repair import repair
from planner.optimize.solve import baseline, build_problem, objective_points
from planner.policy import Policy
from planner.rules import rules_for


@pytest.mark.parametrize(
    ("budget", "seed"),
    [
        ({"max_migrations": 3}, 1),
        ({"max_migrations": 3}, 3),
        ({"max_moved_mib": 65536}, 2),
    ],
    ids=["count-seed1", "count-seed3", "mib-seed2"],
)
def test_repair_keeps_the_whole_plan_within_the_budget(budget: dict[str, int], seed: int) -> None:
    cluster = generate(16, 300, seed)
    policy = Policy(time_limit_s=2.0, **budget)  # type: ignore[arg-type]
    p = build_problem(cluster, policy, rules_for(cluster, policy))
    hint = baseline(p)
    notes: list[str] = []
    got = repair(p, dict(hint), time.monotonic() + 1.2, notes)
    moved = [v for v in cluster.vms if got[v.uuid] != v.host]
    assert len(moved) <= budget.get("max_migrations", len(cluster.vms))
    assert sum(v.memory_mib for v in moved) <= budget.get("max_moved_mib", 1 << 40)
    assert check_placement(cluster, got, policy) == []
    assert objective_points(p, got) <= objective_points(p, hint)  # never worse than the hint
    assert notes and notes[0].startswith("peak repair:")


def test_the_round_budget_comes_from_the_policys_limit_not_the_deadline() -> None:
    # A far deadline does not buy more rounds: the budget is counted from the policy's limit (a
    # limit of 4 s gives rounds of 0.5 s and a budget of two; 1 s, a budget of one, below
    # MIN_SEARCH: none), so a machine's load changes how many rounds fit only when the deadline
    # cuts the search short.
    cluster = generate(16, 300, 1)
    for limit, most in ((1.0, 0), (4.0, 2)):
        policy = Policy(time_limit_s=limit)
        p = build_problem(cluster, policy, rules_for(cluster, policy))
        notes: list[str] = []
        repair(p, dict(baseline(p)), time.monotonic() + 60.0, notes)
        rounds = int(notes[0].split(": ")[1].split()[0])
        assert min(1, most) <= rounds <= most


def test_a_round_stops_on_deterministic_time_only_however_near_the_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each round's CP-SAT solve gets the round length as its (deterministic) time, whether the
    # deadline is far or already past: the clock never cuts a round (Encoding.solve sets no
    # wall-clock limit), so the same cluster gets the same rounds.
    from planner.optimize.encoding import Encoding, Solution

    asked: list[float] = []
    solve = Encoding.solve

    def spy(self: Encoding, time_s: float, seed: int, workers: int) -> Solution:
        asked.append(time_s)
        return solve(self, time_s, seed, workers)

    monkeypatch.setattr(Encoding, "solve", spy)
    cluster = generate(16, 300, 1)
    policy = Policy(time_limit_s=4.0)  # rounds of 0.5 s, a budget of two
    p = build_problem(cluster, policy, rules_for(cluster, policy))
    repair(p, dict(baseline(p)), time.monotonic() + 60.0, [])
    assert asked and all(t == 0.5 for t in asked)
    asked.clear()
    repair(p, dict(baseline(p)), time.monotonic() - 1.0, [])  # past its deadline: the minimum rounds
    assert asked and all(t == 0.5 for t in asked)
