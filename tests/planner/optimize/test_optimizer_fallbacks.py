"""When CP-SAT gives no answer: the greedy placement is used if it keeps every hard rule, otherwise the
error says what the greedy pass broke; an infeasible answer with no rule to blame still says so."""

from __future__ import annotations

from typing import Any

import pytest

from planner.errors import InfeasibleError
from planner.model import PlacementRule
from planner.optimize import optimizer
from planner.optimize.encoding import Solution
from planner.optimize.optimizer import check_placement, optimize
from planner.policy import Policy
from tests.builders import make_cluster, make_host, make_vm

POLICY = Policy(time_limit_s=1.0, min_improvement_pct=0.0)


def solver_says(monkeypatch: pytest.MonkeyPatch, status: str) -> None:
    def fake_solve(*args: Any, **kwargs: Any) -> Solution:
        return Solution(status, {}, (), 0.0)  # type: ignore[arg-type]

    monkeypatch.setattr(optimizer, "solve", fake_solve)


def test_no_answer_in_time_falls_back_to_a_valid_greedy_placement(monkeypatch: pytest.MonkeyPatch) -> None:
    solver_says(monkeypatch, "unknown")
    vms = [make_vm(host="h1", memory_mib=16384) for _ in range(3)]
    cluster = make_cluster([make_host("h1"), make_host("h2")], vms)
    target = optimize(cluster, POLICY)
    assert target.status == "greedy"
    assert "the solver found no placement in time; using the greedy placement" in target.notes
    assert check_placement(cluster, target.placement, POLICY) == []
    assert set(target.placement.values()) == {"h1", "h2"}  # the greedy pass still spread them


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("unknown", "no placement keeping every hard rule was found in"),
        ("infeasible", "no single rule could be blamed"),
    ],
    ids=["no-answer-greedy-broken", "infeasible-nothing-to-blame"],
)
def test_no_usable_answer_is_infeasible(monkeypatch: pytest.MonkeyPatch, status: str, words: str) -> None:
    solver_says(monkeypatch, status)
    vms = [make_vm("w0", host="h1"), make_vm("w1", host="h2")]  # apart, against their rule
    rules = [PlacementRule("affinity", "web", vms=("w0", "w1"))]
    cluster = make_cluster([make_host("h1"), make_host("h2")], vms, rules)
    with pytest.raises(InfeasibleError) as err:
        optimize(cluster, POLICY)
    assert words in str(err.value)
    if status == "unknown":
        assert "the greedy pass broke:" in str(err.value) and "web" in str(err.value)
