"""Helpers for rule tests: solve a small cluster and check the answer."""

from __future__ import annotations

from planner.model import Cluster
from planner.optimize.optimizer import Target, check_placement, optimize
from planner.policy import Policy

FAST = Policy(time_limit_s=2.0, min_improvement_pct=0.0)


def solved(cluster: Cluster, policy: Policy = FAST) -> Target:
    target = optimize(cluster, policy)
    assert check_placement(cluster, target.placement, policy) == []
    return target
