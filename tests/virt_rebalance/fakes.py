"""Replace the jobs' three steps (collect, plan, apply) with hand-made data, for CLI and job tests."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from executor.report import MigrationOutcome, ProgressEvent
from planner.model import Cluster
from planner.plan import Plan
from tests.virt_rebalance.sample import empty_plan, plan_for, sample_cluster
from virt_rebalance.config import Config, load_config
from virt_rebalance.jobs import steps

CONFIG = """
state_dir = "{state}"

[[hosts]]
name = "h1"
uri = "qemu+unix:///system?socket=/tmp/h1"
migration_uri = "tcp://10.0.0.1"

[[hosts]]
name = "h2"
uri = "qemu+unix:///system?socket=/tmp/h2"
migration_uri = "tcp://10.0.0.2"

[[hosts]]
name = "h3"
uri = "qemu+unix:///system?socket=/tmp/h3"
migration_uri = "tcp://10.0.0.3"
"""


def write_config(tmp_path: Path, extra: str = "", top: str = "") -> Path:
    """The three-host test config; `top` goes before the first table, `extra` after the hosts."""
    path = tmp_path / "cluster.toml"
    path.write_text(top + CONFIG.format(state=tmp_path / "state") + extra)
    return path


@dataclass
class FakeSteps:
    """What the fake steps return, and what they were called with."""

    cluster: Cluster = field(default_factory=sample_cluster)
    moves: list[tuple[str, str]] = field(default_factory=lambda: [("web-1", "h2"), ("db-1", "h3")])
    history_samples: int = 288  # a day of 5-minute samples
    evacuate_moves: list[tuple[str, str]] = field(
        default_factory=lambda: [("web-1", "h2"), ("web-2", "h3"), ("db-1", "h2")]
    )
    outcome: Callable[[str], tuple[str, str]] = lambda mid: ("done", "")
    collected: list[float | None] = field(default_factory=list)
    planned: list[Cluster] = field(default_factory=list)
    planned_goals: list[str] = field(default_factory=list)
    applied: list[dict[str, Any]] = field(default_factory=list)
    apply_hook: Callable[[], object] = lambda: None  # what happens on the side while migrations run

    def collect(self, config: Config, *, window_hours: float | None = None) -> Cluster:
        self.collected.append(window_hours)
        return self.cluster

    def plan(
        self,
        cluster: Cluster,
        config: Config,
        goal: str = "rebalance",
        evacuate: tuple = (),
        *,
        time_limit_s: float | None = None,
    ) -> Plan:
        self.planned.append(cluster)
        self.planned_goals.append(goal)
        if goal == "evacuate":
            return plan_for(cluster, self.evacuate_moves, goal="evacuate", evacuate=evacuate)
        return plan_for(cluster, self.moves) if self.moves else empty_plan()

    def apply(
        self,
        plan: Plan,
        config: Config,
        *,
        deadline=None,
        progress=None,
        resume: bool = False,
        interrupt=None,
        force: bool = False,
    ) -> SimpleNamespace:
        self.applied.append({"plan": plan, "deadline": deadline, "force": force})
        self.apply_hook()
        outcomes = []
        for n, m in enumerate(plan.migrations, start=1):
            status, reason = self.outcome(m.id)
            if progress is not None:
                head = {
                    "migration_id": m.id,
                    "vm_name": m.vm_name,
                    "source": m.source,
                    "destination": m.destination,
                }
                sent = m.memory_mib * 1.1 if status == "done" else 0.0
                progress(ProgressEvent(kind="started", **head, total=len(plan.migrations), finished=n - 1))
                progress(ProgressEvent(kind=status, **head, elapsed_s=m.estimated_s, processed_mib=sent,
                                       message=reason, total=len(plan.migrations), finished=n))  # fmt: skip
            done = status == "done"
            outcomes.append(
                MigrationOutcome.of(
                    m, status, reason,  # type: ignore[arg-type]
                    actual_s=m.estimated_s if done else None, actual_mib=m.memory_mib * 1.1 if done else None,
                )
            )  # fmt: skip
        done = sum(o.status == "done" for o in outcomes)
        status = "done" if done == len(outcomes) else "failed" if done == 0 else "partial"
        if interrupt is not None and interrupt.requested and status != "done":
            status = "interrupted"
        return SimpleNamespace(status=status, outcomes=tuple(outcomes), warnings=())


@pytest.fixture
def fake_steps(monkeypatch: pytest.MonkeyPatch) -> FakeSteps:
    fake = FakeSteps()
    monkeypatch.setattr(steps, "collect", fake.collect)
    monkeypatch.setattr(steps, "plan", fake.plan)
    monkeypatch.setattr(steps, "apply", fake.apply)
    monkeypatch.setattr(steps, "history_samples", lambda config, now: fake.history_samples)
    return fake


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    return write_config(tmp_path)


@pytest.fixture
def config(config_path: Path) -> Config:
    return load_config(config_path)
