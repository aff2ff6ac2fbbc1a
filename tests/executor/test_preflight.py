"""executor.preflight directly: `check_move` against the live (fake) hosts, with what is in flight
reserved on the destination, and `check_age` of a plan."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from collectors import constants as c
from executor.preflight import InFlight, check_age, check_move, plan_age_s
from planner.errors import PlanFileError, StalePlanError
from tests.executor.harness import Lab

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    lab = Lab(tmp_path, hosts=3, host_mib=4096)
    lab.guest("a", "h1", memory_mib=1024)
    return lab


def _check(lab: Lab, in_flight: InFlight | None = None) -> str | None:
    m = lab.move("m1", "a", "h1", "h2")
    conns = {name: lab.world.open(host.uri) for name, host in lab.world.hosts.items()}
    return check_move(m, lab.plan(m).snapshot, conns, in_flight or InFlight())


def test_a_running_guest_with_room_may_start(lab: Lab) -> None:
    assert _check(lab) is None


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda lab: lab.world.place(lab.guests["a"], lab.world.hosts["h2"]), "a is already on h2"),
        (lambda lab: lab.world.place(lab.guests["a"], lab.world.hosts["h3"]), "no longer on h1 (moved"),
        (lambda lab: setattr(lab.guests["a"], "run_state", c.VIR_DOMAIN_PAUSED), "not running on h1"),
        (lambda lab: setattr(lab.guests["a"], "job_type", c.VIR_DOMAIN_JOB_UNBOUNDED), "already has a job"),
        (lambda lab: lab.guest("big", "h2", memory_mib=3500), "h2 has no room for a now: memory"),
        (lambda lab: lab.guest("wide", "h2", memory_mib=64, vcpus=64), "h2 has no room for a now: vCPUs"),
    ],
    ids=["already-there", "moved-elsewhere", "paused", "job-running", "memory-full", "vcpus-full"],
)
def test_why_a_move_cannot_start(lab: Lab, change: Callable[[Lab], object], words: str) -> None:
    change(lab)
    reason = _check(lab)
    assert reason is not None and words in reason


@pytest.mark.parametrize(
    ("reserved_mib", "room"),
    [(0, True), (3072, True), (3073, False)],
    ids=["nothing-in-flight", "just-fits-beside-it", "one-mib-too-many"],
)
def test_migrations_in_flight_hold_their_memory_on_the_destination(
    lab: Lab, reserved_mib: int, room: bool
) -> None:
    in_flight = InFlight(frozenset({"elsewhere"}), Counter({"h2": reserved_mib}), Counter())
    assert (_check(lab, in_flight) is None) is room


def test_a_guest_in_flight_counts_once(lab: Lab) -> None:
    """A guest already arriving on the destination is reserved there, not counted again when listed."""
    arriving = lab.guest("arriving", "h2", memory_mib=2500)
    in_flight = InFlight(frozenset({arriving.vm_uuid}), Counter({"h2": 2500}), Counter({"h2": 1}))
    assert _check(lab, in_flight) is None


def test_a_destination_missing_from_the_snapshot(lab: Lab) -> None:
    m = lab.move("m1", "a", "h1", "h2")
    plan = lab.plan(m)
    snapshot = dataclasses.replace(
        plan.snapshot, hosts=tuple(h for h in plan.snapshot.hosts if h.name != "h2")
    )
    conns = {name: lab.world.open(host.uri) for name, host in lab.world.hosts.items()}
    assert check_move(m, snapshot, conns) == "h2 is not in the plan's snapshot"


@pytest.mark.parametrize(
    ("created_at", "age_s"),
    [
        ("2026-01-01T11:00:00+00:00", 3600.0),
        ("2026-01-01T11:00:00Z", 3600.0),
        ("2026-01-01T11:00:00", 3600.0),  # naive: UTC
    ],
    ids=["offset", "zulu", "naive-is-utc"],
)
def test_plan_age(lab: Lab, created_at: str, age_s: float) -> None:
    plan = dataclasses.replace(lab.plan(), created_at=created_at)
    assert plan_age_s(plan, NOW) == age_s


@pytest.mark.parametrize(
    ("age", "force", "refused"),
    [
        (timedelta(minutes=59), False, False),
        (timedelta(minutes=61), False, True),
        (timedelta(minutes=61), True, False),
    ],
    ids=["fresh", "stale", "stale-but-forced"],
)
def test_check_age(lab: Lab, age: timedelta, force: bool, refused: bool) -> None:
    plan = dataclasses.replace(lab.plan(), created_at=(NOW - age).isoformat())
    if refused:
        with pytest.raises(StalePlanError):
            check_age(plan, 3600, NOW, force)
    else:
        check_age(plan, 3600, NOW, force)


def test_a_created_at_that_is_no_time_names_the_field(lab: Lab) -> None:
    with pytest.raises(PlanFileError) as info:
        plan_age_s(dataclasses.replace(lab.plan(), created_at="yesterday"), NOW)
    assert info.value.field == "created_at"
