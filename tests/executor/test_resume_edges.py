"""Resuming a run that died mid-migration, when the hosts are not simply at rest: one cannot be
reached, or libvirt's migration job is still running."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from collectors import constants as c
from tests.executor.harness import Lab, statuses, two_guest_lab, two_moves
from tests.executor.test_journal import crash_during


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return two_guest_lab(tmp_path)


def test_resume_with_the_source_unreachable_fails_the_interrupted_move(lab: Lab) -> None:
    plan = two_moves(lab)
    crash_during(lab, plan, "m1")
    lab.world.hosts["h1"].alive = False
    report = lab.apply(plan, resume=True)
    assert statuses(report) == {"m1": "failed", "m2": "skipped"}
    assert "interrupted earlier; a host cannot be reached" in report.outcomes[0].reason
    assert "depends on m1" in report.outcomes[1].reason
    assert lab.world.migrations == []


def test_resume_waits_for_a_job_still_running_then_carries_on(lab: Lab) -> None:
    plan = two_moves(lab)
    crash_during(lab, plan, "m1")
    guest = lab.guests["a"]
    guest.job_type = c.VIR_DOMAIN_JOB_UNBOUNDED  # libvirtd still runs the migration we started
    threading.Timer(0.2, lambda: setattr(guest, "job_type", c.VIR_DOMAIN_JOB_NONE)).start()  # it fails
    report = lab.apply(plan, resume=True)
    assert statuses(report) == {"m1": "done", "m2": "done"}
    assert (lab.where("a"), lab.where("b")) == (["h2"], ["h3"])
    assert len(lab.world.migrations) == 2  # m1 ran again after the job ended
