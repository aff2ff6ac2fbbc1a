"""The rules are built once per plan, and the guests that cannot move are found once: every stage
(optimizer, water-filling, solver, schedule, final check) asks the same rule values (issue 9: following an
evacuation's hosts once passed `rules_for` five times and recomputed the stays three times)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

import planner.optimize.optimizer
import planner.rules
from planner.model import PlacementRule
from planner.pipeline import make_plan
from planner.policy import Budgets, Policy
from tests.builders import make_cluster, make_host, make_vm

GIB = 1024


def _counting(calls: Counter[str], name: str, real: Callable[..., Any]) -> Callable[..., Any]:
    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[name] += 1
        return real(*args, **kwargs)

    return counted


@pytest.mark.parametrize(
    ("goal", "policy"),
    [
        pytest.param("rebalance", Policy(time_limit_s=2, min_improvement_pct=0.0), id="rebalance"),
        pytest.param("evacuate", Policy(time_limit_s=2, evacuate=("h1",)), id="evacuate"),
    ],
)
def test_a_plan_builds_its_rules_and_stays_once(
    monkeypatch: pytest.MonkeyPatch, goal: str, policy: Policy
) -> None:
    hosts = [make_host(n, cpus=8, memory_mib=16 * GIB) for n in ("h1", "h2", "h3")]
    vms = [make_vm(f"v{i}", "h1", memory_mib=2 * GIB, cpu_millicores=1000) for i in range(5)]
    rules = [
        PlacementRule("anti-affinity", "apart", ("v0", "v1")),
        PlacementRule("pin", "home", ("v2",), hosts=("h1", "h2")),
    ]
    cluster = make_cluster(hosts, vms, rules)
    calls: Counter[str] = Counter()
    for module, name in (
        (planner.rules, "rules_for"),
        (planner.optimize.optimizer, "rules_for"),
        (planner.optimize.optimizer, "upfront_stays"),
    ):
        monkeypatch.setattr(module, name, _counting(calls, name, getattr(module, name)))
    plan = make_plan(cluster, policy, Budgets(), goal=goal)  # type: ignore[arg-type]
    assert plan.migrations
    assert calls == {"rules_for": 1, "upfront_stays": 1}
