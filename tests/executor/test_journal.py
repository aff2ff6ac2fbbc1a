"""The journal: reapplying never migrates twice, resume reconciles with the hosts, stale plans, the lock."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from executor.journal import Journal
from files.lock import LockedError
from planner.errors import ConfigError, ExecutionError, FileWriteError, StalePlanError
from tests.executor.harness import Lab, statuses, two_guest_lab, two_moves


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return two_guest_lab(tmp_path)


def test_applying_twice_migrates_nobody_twice(lab: Lab) -> None:
    plan = two_moves(lab)
    assert lab.apply(plan).status == "done"
    again = lab.apply(plan)
    assert again.status == "nothing-to-do"
    assert all(o.earlier and "earlier run" in o.reason for o in again.outcomes)
    assert len(lab.world.migrations) == 2


def crash_during(lab: Lab, plan, mid: str) -> None:
    """What a SIGKILL mid-migration leaves: the journal says started; the hosts say whatever they say."""
    journal = Journal(lab.config().state_dir, plan)
    journal.add(plan.migrations)
    journal.set(mid, "started")
    journal.close()


@pytest.mark.parametrize(
    ("guest_on", "expected", "migrations"),
    [
        ("h2", {"m1": "done", "m2": "done"}, 1),  # libvirtd finished it without us
        ("h1", {"m1": "done", "m2": "done"}, 2),  # it never happened: run it again
        ("h3", {"m1": "failed", "m2": "skipped"}, 0),  # somewhere unexpected: a person must look
    ],
    ids=["finished-meanwhile", "stayed-on-source", "elsewhere"],
)
def test_resume_reconciles_started_migrations(
    lab: Lab, guest_on: str, expected: dict, migrations: int
) -> None:
    plan = two_moves(lab)
    crash_during(lab, plan, "m1")
    lab.world.place(lab.guests["a"], lab.world.hosts[guest_on])
    report = lab.apply(plan, resume=True)
    assert statuses(report) == expected
    assert len(lab.world.migrations) == migrations
    assert len(lab.where("a")) == 1


def test_resume_accepts_a_shut_off_leftover_on_the_source_and_says_so(lab: Lab) -> None:
    plan = two_moves(lab)
    crash_during(lab, plan, "m1")
    moved = lab.guests["a"]
    lab.world.place(moved, lab.world.hosts["h2"])
    left = replace(moved, run_state=5, migration=None)  # libvirt kept the source's definition
    lab.world.place(left, lab.world.hosts["h1"])
    lab.world.place(moved, lab.world.hosts["h2"])
    report = lab.apply(plan, resume=True)
    assert statuses(report) == {"m1": "done", "m2": "done"}
    assert "shut-off definition of a on h1" in report.outcomes[0].reason
    assert lab.world.hosts["h1"].domains[moved.vm_uuid].run_state == 5  # never undefined by us


def test_interrupted_run_needs_resume(lab: Lab) -> None:
    plan = two_moves(lab)
    crash_during(lab, plan, "m1")
    with pytest.raises(ExecutionError, match="--resume"):
        lab.apply(plan)


@pytest.mark.parametrize(
    ("age_s", "kwargs", "refused"),
    [(7200, {}, True), (7200, {"force": True}, False), (60, {}, False)],
    ids=["stale", "stale-forced", "fresh"],
)
def test_plan_age(lab: Lab, age_s: float, kwargs: dict, refused: bool) -> None:
    plan = lab.plan(lab.move("m1", "a", "h1", "h2"), age_s=age_s)
    if refused:
        with pytest.raises(StalePlanError, match="older than the allowed 60 min"):
            lab.apply(plan)
        assert lab.world.migrations == []
    else:
        assert lab.apply(plan, **kwargs).status == "done"


def test_a_second_run_is_locked_out(lab: Lab) -> None:
    plan = two_moves(lab)
    holder = Journal(lab.config().state_dir, plan)
    holder.lock()
    with pytest.raises(LockedError, match="pid"):
        lab.apply(plan)
    holder.close()
    assert lab.apply(plan).status == "done"


def test_unknown_host_is_refused_before_anything_moves(lab: Lab) -> None:
    plan = lab.plan(lab.move("m1", "a", "h1", "h9"))
    with pytest.raises(ConfigError, match="h9"):
        lab.apply(plan)


def test_unreachable_host_skips_its_moves(lab: Lab) -> None:
    lab.world.hosts["h3"].alive = False
    report = lab.apply(lab.plan(lab.move("m1", "a", "h1", "h2"), lab.move("m2", "b", "h2", "h3")))
    assert statuses(report) == {"m1": "done", "m2": "skipped"}
    assert "cannot connect to h3" in report.outcomes[1].reason


def test_journal_records_states_and_actuals(lab: Lab) -> None:
    plan = two_moves(lab)
    lab.apply(plan)
    journal = Journal(lab.config().state_dir, plan)
    entries = journal.entries()
    assert {e.state for e in entries.values()} == {"done"}
    assert all(e.started_at and e.actual_s and e.actual_mib for e in entries.values())


def test_unusable_state_dir_is_an_error_not_a_traceback(lab: Lab) -> None:
    (lab.tmp / "state").write_text("a file where the directory should be")
    with pytest.raises(FileWriteError, match="state: not a directory"):
        lab.apply(two_moves(lab))


def test_each_run_records_its_time_against_the_migrations_estimate(lab: Lab, tmp_path: Path) -> None:
    import sqlite3

    from planner.policy import Budgets

    plan = two_moves(lab)
    plan = replace(plan, makespan_s=7.5, budgets=replace(Budgets(), apply_overhead_s=2.5))
    first = lab.apply(plan)
    lab.apply(plan)  # nothing left to do
    db = sqlite3.connect(tmp_path / "state" / "journal.sqlite")
    rows = db.execute(
        "SELECT status, carried_out, elapsed_s, estimated_s FROM runs ORDER BY rowid"
    ).fetchall()
    db.close()
    assert [r[:2] for r in rows] == [("done", 2), ("nothing-to-do", 0)]
    assert 0 < rows[0][2] <= first.elapsed_s and rows[0][3] == 5.0  # the learned overhead aside
