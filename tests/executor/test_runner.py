"""The streaming queue on fake hosts: order, budgets, stalls, limits, failures, deadline, live checks."""

from __future__ import annotations

import itertools
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.executor.harness import Lab, statuses
from tests.fakes.migration import Fault


def overlap(jobs: list) -> int:
    """The most of `jobs` (FakeMigration) running at one moment."""
    edges = sorted([(j.started, 1) for j in jobs] + [(j.ended, -1) for j in jobs], key=lambda e: (e[0], e[1]))
    return max(itertools.accumulate(d for _, d in edges), default=0)


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return Lab(tmp_path, hosts=4)


def test_dependency_runs_after_what_it_waits_for(lab: Lab) -> None:
    lab.guest("a", "h1")
    lab.guest("b", "h2")
    plan = lab.plan(lab.move("m2", "b", "h2", "h3", depends_on=("m1",)), lab.move("m1", "a", "h1", "h2"))
    report = lab.apply(plan)
    assert report.status == "done"
    first, second = lab.world.migrations
    assert (first.dom.vm_name, second.dom.vm_name) == ("a", "b")
    assert second.started >= first.ended
    assert (lab.where("a"), lab.where("b")) == (["h2"], ["h3"])


def test_streams_instead_of_batch_and_wait(lab: Lab) -> None:
    lab.guest("long", "h1", memory_mib=200)
    lab.guest("s1", "h2", memory_mib=50)
    lab.guest("s2", "h3", memory_mib=50)
    plan = lab.plan(
        lab.move("L", "long", "h1", "h4", bandwidth_mibps=100),
        lab.move("S1", "s1", "h2", "h4", bandwidth_mibps=100),
        lab.move("S2", "s2", "h3", "h4", bandwidth_mibps=100),
        max_concurrent=2,
    )
    lab.apply(plan)
    jobs = {j.dom.vm_name: j for j in lab.world.migrations}
    assert jobs["s2"].started < jobs["long"].ended  # started as soon as S1 freed a slot


@pytest.mark.parametrize(
    ("budget", "key"),
    [
        ({"max_outgoing_per_host": 2}, lambda j: j.source.name),
        ({"max_incoming_per_host": 1, "max_outgoing_per_host": 4}, lambda j: j.destination.name),
        ({"max_concurrent": 3, "max_outgoing_per_host": 6}, lambda j: "cluster"),
    ],
    ids=["outgoing-per-host", "incoming-per-host", "cluster"],
)
def test_concurrency_caps_hold(lab: Lab, budget: dict, key) -> None:
    moves = []
    for i in range(6):  # long enough that a busy machine starts the next before the first ends
        lab.guest(f"g{i}", "h1", memory_mib=150)
        moves.append(lab.move(f"m{i}", f"g{i}", "h1", f"h{2 + i % 3}", bandwidth_mibps=150))
    report = lab.apply(lab.plan(*moves, **{"max_incoming_per_host": 6, **budget}))
    assert report.status == "done"
    groups = {}
    for j in lab.world.migrations:
        groups.setdefault(key(j), []).append(j)
    cap = next(iter(budget.values()))
    assert max(overlap(g) for g in groups.values()) == cap


def test_nic_bandwidth_budget_holds(lab: Lab) -> None:
    for i in range(4):
        lab.guest(f"g{i}", "h1", memory_mib=60)
    moves = (lab.move(f"m{i}", f"g{i}", "h1", "h2", bandwidth_mibps=150) for i in range(4))
    plan = lab.plan(*moves, nic_mibps=300, max_outgoing_per_host=4, max_incoming_per_host=4, setup_s=0)
    lab.apply(plan)
    assert overlap(lab.world.migrations) == 2


@pytest.mark.parametrize(
    ("setup_s", "most_at_once"),
    [(0, 1), (30, 2)],
    ids=["no-setup-one-link-one-at-a-time", "next-one-sets-up-while-the-last-sends"],
)
def test_a_migration_takes_the_link_only_after_its_setup(lab: Lab, setup_s: float, most_at_once: int) -> None:
    # The fake has no set-up phase, so a migration started during another's expected set-up overlaps it.
    for i in range(2):
        lab.guest(f"g{i}", "h1", memory_mib=60)
    moves = (lab.move(f"m{i}", f"g{i}", "h1", "h2", bandwidth_mibps=150) for i in range(2))
    plan = lab.plan(*moves, nic_mibps=150, max_outgoing_per_host=4, max_incoming_per_host=4, setup_s=setup_s)
    lab.apply(plan)
    assert overlap(lab.world.migrations) == most_at_once


@pytest.mark.parametrize(
    ("guest", "options", "estimated_s", "words"),
    [
        ({"migrate_fault": Fault(at=0.3, kind="stall")}, {"stall_timeout_s": 0.3}, 5, "stalled"),
        ({"dirty_rate_mibps": 95}, {"auto_converge": False}, 0.2, "longer than its limit"),
    ],
    ids=["stall", "time-limit"],
)
def test_abort_leaves_guest_running_on_source(
    lab: Lab, guest: dict, options: dict, estimated_s: float, words: str
) -> None:
    dom = lab.guest("a", "h1", **guest)
    budgets = {k: options.pop(k) for k in ("auto_converge",) if k in options}  # the plan's, the rest config
    plan = lab.plan(lab.move("m1", "a", "h1", "h2", bandwidth_mibps=100, estimated_s=estimated_s), **budgets)
    report = lab.apply(plan, lab.config(time_limit_factor=2.0, time_limit_floor_s=0, **options))
    (outcome,) = report.outcomes
    assert outcome.status == "aborted"
    assert words in outcome.reason and "h1 (running)" in outcome.reason
    assert lab.where("a") == ["h1"] and dom.run_state == 1
    assert report.status == "failed"


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("continue", {"m1": "failed", "m2": "skipped", "m3": "done"}),
        ("stop", {"m1": "failed", "m2": "skipped", "m3": "not-started"}),
    ],
    ids=["continue", "stop"],
)
def test_failure_policy(lab: Lab, policy: str, expected: dict) -> None:
    lab.guest("a", "h1", migrate_fault=Fault(at=0.2))
    lab.guest("b", "h2")
    lab.guest("c", "h3")
    plan = lab.plan(
        lab.move("m1", "a", "h1", "h2"),
        lab.move("m2", "b", "h2", "h4", depends_on=("m1",)),
        lab.move("m3", "c", "h3", "h4"),
        max_concurrent=1,
    )
    report = lab.apply(plan, lab.config(failure_policy=policy))
    assert statuses(report) == expected
    assert lab.where("a") == ["h1"]
    assert "qemu unexpectedly closed" in report.outcomes[0].reason
    assert report.status == ("partial" if policy == "continue" else "failed")


def test_nothing_starts_after_the_deadline_running_ones_finish(lab: Lab) -> None:
    moves = []
    for name, host in (("a", "h1"), ("b", "h2"), ("c", "h3")):
        lab.guest(name, host)
        moves.append(lab.move(f"m{name}", name, host, "h4", bandwidth_mibps=20))  # about 5 s each
    # A deadline a busy machine still starts the first move before.
    deadline, mono_deadline = datetime.now(UTC) + timedelta(seconds=3), time.monotonic() + 3
    report = lab.apply(lab.plan(*moves, max_concurrent=1), deadline=deadline)
    assert statuses(report) == {"ma": "done", "mb": "not-started", "mc": "not-started"}
    assert "deadline" in report.outcomes[1].reason
    assert lab.world.migrations[0].ended > mono_deadline  # the running one finished after it


def test_moved_by_hand_skips_it_and_its_dependents(lab: Lab) -> None:
    lab.guest("a", "h1")
    lab.guest("b", "h2")
    plan = lab.plan(lab.move("m1", "a", "h1", "h2"), lab.move("m2", "b", "h2", "h3", depends_on=("m1",)))
    lab.world.place(lab.guests["a"], lab.world.hosts["h4"])  # an operator moved it
    report = lab.apply(plan)
    assert statuses(report) == {"m1": "skipped", "m2": "skipped"}
    assert "no longer on h1" in report.outcomes[0].reason and "h4" in report.outcomes[0].reason
    assert "depends on m1" in report.outcomes[1].reason
    assert lab.world.migrations == []


@pytest.mark.parametrize(
    ("setup", "words"),
    [
        (lambda lab: lab.guest("big", "h2", memory_mib=4000), "no room"),
        (lambda lab: setattr(lab.guests["a"], "run_state", 3), "not running"),
    ],
    ids=["destination-full", "guest-paused"],
)
def test_live_check_skips(lab: Lab, setup, words: str) -> None:
    lab.guest("a", "h1")
    plan = lab.plan(lab.move("m1", "a", "h1", "h2"))
    setup(lab)
    report = lab.apply(plan)
    assert statuses(report) == {"m1": "skipped"} and words in report.outcomes[0].reason


def test_postcopy_when_precopy_does_not_converge(lab: Lab) -> None:
    lab.guest("a", "h1", dirty_rate_mibps=150)
    plan = lab.plan(lab.move("m1", "a", "h1", "h2", bandwidth_mibps=100), auto_converge=False)
    report = lab.apply(plan, lab.config(postcopy=True, postcopy_after_rounds=2))
    assert statuses(report) == {"m1": "done"}
    assert any(e.kind == "postcopy" for e in lab.events)


def test_client_managed_migration(lab: Lab) -> None:
    lab.guest("a", "h1")
    report = lab.apply(
        lab.plan(lab.move("m1", "a", "h1", "h2")), lab.config(managed="client", peer2peer=False)
    )
    assert statuses(report) == {"m1": "done"} and lab.where("a") == ["h2"]


def test_progress_and_actuals_are_reported(lab: Lab) -> None:
    lab.guest("a", "h1")
    report = lab.apply(lab.plan(lab.move("m1", "a", "h1", "h2", estimated_s=0.5, estimated_mib=100)))
    (o,) = report.outcomes
    assert o.actual_mib == pytest.approx(100, abs=1) and 0 < o.actual_s < 2
    kinds = [e.kind for e in lab.events]
    assert kinds[0] == "started" and "progress" in kinds and kinds[-1] == "done"
    assert all(e.total == 1 for e in lab.events)


def test_downtime_limit_is_set_on_the_running_job(lab: Lab) -> None:
    lab.guest("a", "h1", memory_mib=200)
    report = lab.apply(lab.plan(lab.move("m1", "a", "h1", "h2", bandwidth_mibps=100), downtime_limit_ms=1000))
    assert statuses(report) == {"m1": "done"}
    assert lab.world.migrations[0].downtime_s == 1.0
    assert lab.world.calls["Domain.migrateSetMaxDowntime"] == 1
