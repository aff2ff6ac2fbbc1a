"""The streaming queue when libvirt misbehaves: a call failing on one guest, a host dying mid-migration,
a plan naming a dependency it does not hold. Every migration still gets an honest outcome."""

from __future__ import annotations

from pathlib import Path

import pytest

from executor.apply import apply_plan
from executor.report import ProgressEvent
from tests.executor.harness import Lab, statuses


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return Lab(tmp_path, hosts=3)


@pytest.mark.parametrize(
    ("method", "status", "words"),
    [
        ("jobStats", "done", None),
        ("migrateSetMaxDowntime", "done", "cannot set the downtime limit"),
        ("info", "skipped", "cannot check the hosts"),
    ],
    ids=["job-stats-fails", "downtime-call-fails", "info-fails"],
)
def test_a_failing_call_on_one_guest(lab: Lab, method: str, status: str, words: str | None) -> None:
    lab.guest("bad", "h1", memory_mib=200).fail.add(method)
    lab.guest("good", "h1", memory_mib=100)
    plan = lab.plan(
        lab.move("m1", "bad", "h1", "h2", bandwidth_mibps=400), lab.move("m2", "good", "h1", "h3")
    )
    report = lab.apply(plan)
    assert statuses(report) == {"m1": status, "m2": "done"}
    assert lab.where("good") == ["h3"]
    messages = [e.message or "" for e in lab.events if e.migration_id == "m1"] + [report.outcomes[0].reason]
    if words is not None:
        assert any(words in m and method in m for m in messages)
    if status == "skipped":
        assert lab.where("bad") == ["h1"] and not any(j.dom.vm_name == "bad" for j in lab.world.migrations)


def test_source_host_dies_mid_migration(lab: Lab) -> None:
    lab.guest("a", "h1", memory_mib=300)
    plan = lab.plan(lab.move("m1", "a", "h1", "h2", bandwidth_mibps=300))

    def kill_on_progress(event: ProgressEvent) -> None:
        if event.kind == "progress":
            lab.world.hosts["h1"].alive = False

    report = apply_plan(plan, lab.config(), opener=lab.world.open, progress=kill_on_progress)
    (outcome,) = report.outcomes
    assert outcome.status == "failed"
    assert "h1 unreachable" in outcome.reason
    assert report.status == "failed"


def test_dependency_missing_from_the_plan_is_skipped(lab: Lab) -> None:
    lab.guest("a", "h1")
    lab.guest("b", "h2")
    plan = lab.plan(lab.move("m1", "a", "h1", "h2", depends_on=("m9",)), lab.move("m2", "b", "h2", "h3"))
    report = lab.apply(plan)
    assert statuses(report) == {"m1": "skipped", "m2": "done"}
    assert report.outcomes[0].reason == "depends on m9, which is not in the plan"
    assert lab.where("a") == ["h1"]


def test_a_broken_progress_display_does_not_stop_migrations(lab: Lab) -> None:
    lab.guest("a", "h1")

    def broken(event: ProgressEvent) -> None:
        raise RuntimeError("terminal gone")

    plan = lab.plan(lab.move("m1", "a", "h1", "h2"))
    report = apply_plan(plan, lab.config(), opener=lab.world.open, progress=broken)
    assert statuses(report) == {"m1": "done"} and lab.where("a") == ["h2"]
