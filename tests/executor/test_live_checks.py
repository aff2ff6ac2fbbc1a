"""The check just before each migration starts, and the plan's age: what the operator reads when a
move is skipped or a plan is refused."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest

from collectors import constants as c
from planner.errors import PlanFileError, StalePlanError
from tests.executor.harness import Lab, statuses


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return Lab(tmp_path, hosts=3)


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        (lambda lab: lab.world.place(lab.guests["a"], lab.world.hosts["h2"]), "a is already on h2"),
        (lambda lab: setattr(lab.guests["a"], "job_type", c.VIR_DOMAIN_JOB_UNBOUNDED), "already has a job"),
        (
            lambda lab: lab.guest("wide", "h2", memory_mib=64, vcpus=64),
            "h2 has no room for a now: vCPUs 64 + 1",
        ),
        (lambda lab: lab.world.place(lab.guests["a"], lab.world.hosts["h3"]), "no longer on h1"),
    ],
    ids=["already-on-destination", "job-running", "destination-vcpus-full", "moved-elsewhere"],
)
def test_live_check_skips_with_a_reason(lab: Lab, setup: Callable[[Lab], object], words: str) -> None:
    lab.guest("a", "h1")
    plan = lab.plan(lab.move("m1", "a", "h1", "h2"))
    setup(lab)
    report = lab.apply(plan)
    assert statuses(report) == {"m1": "skipped"}
    assert words in report.outcomes[0].reason
    assert lab.world.migrations == []


def test_destination_missing_from_the_snapshot_is_skipped(lab: Lab) -> None:
    lab.guest("a", "h1")
    plan = lab.plan(lab.move("m1", "a", "h1", "h2"))
    smaller = dataclasses.replace(
        plan.snapshot, hosts=tuple(h for h in plan.snapshot.hosts if h.name != "h2")
    )
    report = lab.apply(dataclasses.replace(plan, snapshot=smaller))
    assert statuses(report) == {"m1": "skipped"}
    assert "h2 is not in the plan's snapshot" in report.outcomes[0].reason


@pytest.mark.parametrize(
    ("created_at", "force", "outcome"),
    [
        ("yesterday", False, PlanFileError),
        ("2020-01-01T00:00:00", False, StalePlanError),
        ("2020-01-01T00:00:00+00:00", True, "done"),
    ],
    ids=["not-iso", "naive-time-is-utc-and-stale", "forced"],
)
def test_plan_age(lab: Lab, created_at: str, force: bool, outcome: object) -> None:
    lab.guest("a", "h1")
    plan = dataclasses.replace(lab.plan(lab.move("m1", "a", "h1", "h2")), created_at=created_at)
    if isinstance(outcome, type):
        with pytest.raises(outcome):
            lab.apply(plan, force=force)
        assert lab.world.migrations == [] and lab.where("a") == ["h1"]
    else:
        assert lab.apply(plan, force=force).status == outcome
