"""The jobs' plan step: the config's policy and budgets reach the planner, for both goals."""

from __future__ import annotations

import itertools

import pytest

from planner.errors import InfeasibleError
from tests.virt_rebalance.sample import sample_cluster
from virt_rebalance.config import Config
from virt_rebalance.jobs import steps


def _with(config: Config, section: str, **values: object) -> Config:
    return config.model_copy(update={section: getattr(config, section).model_copy(update=values)})


@pytest.mark.parametrize(
    ("goal", "evacuate", "left_alone"),
    [("rebalance", (), "g-kvm"), ("evacuate", ("h2",), "g-kvm")],
    ids=["rebalance", "evacuate-h2"],
)
def test_plan_step_follows_the_config(
    config: Config, goal: str, evacuate: tuple[str, ...], left_alone: str
) -> None:
    config = _with(
        _with(config, "policy", time_limit_s=1.0, max_migrations=3), "execute", max_outgoing_per_host=1
    )
    plan = steps.plan(sample_cluster(), config, goal, evacuate)  # type: ignore[arg-type]
    moved = {m.vm_name: m for m in plan.migrations}
    assert plan.goal == goal and 0 < len(moved) <= 3
    assert left_alone not in moved  # only h1 runs its CPU
    if evacuate:
        assert moved["batch"].source == "h2"
        assert all(m.destination != "h2" for m in plan.migrations)
    out_of_h1 = sorted((m.start_s, m.start_s + m.estimated_s) for m in plan.migrations if m.source == "h1")
    assert all(nxt[0] >= prev[1] - 1e-6 for prev, nxt in itertools.pairwise(out_of_h1))  # one at a time


def test_evacuation_beyond_the_configured_budget_is_infeasible(config: Config) -> None:
    config = _with(config, "policy", time_limit_s=1.0, max_migrations=0)
    with pytest.raises(InfeasibleError, match="at most 0 migrations"):
        steps.plan(sample_cluster(), config, "evacuate", ("h2",))
