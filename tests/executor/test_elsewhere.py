"""Budgets hold against any migrator: migrations libvirt reports that the run did not start count.

What a host shows is read by executor.elsewhere (a table of libvirt's answers, then fake hosts); the runner
makes a move wait for them, and skips it with the reason at the deadline or after wait_for_others_s.
"""

from __future__ import annotations

import contextlib
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from collectors import constants as c
from collectors.seam import VirtError
from executor.elsewhere import Elsewhere, Others, read_others
from tests.executor.harness import Lab, statuses
from tests.fakes.migration import FakeMigration, Fault
from tests.fakes.world import FakeDomain

OUT, IN = c.VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT, c.VIR_DOMAIN_JOB_OPERATION_MIGRATION_IN
UNSUPPORTED = VirtError("Operation not supported: only on the source host", c.VIR_ERR_OPERATION_UNSUPPORTED)
GONE = VirtError("Domain not found", c.VIR_ERR_NO_DOMAIN)


class Stub:
    """A domain answering jobInfo/jobStats as told (a value, or an error to raise)."""

    def __init__(self, name: str, job: Any, stats: Any = None) -> None:
        self.vm_name, self.job, self.stats = name, job, stats

    def name(self) -> str:
        return self.vm_name

    def UUIDString(self) -> str:
        return f"uuid-{self.vm_name}"

    def jobInfo(self) -> list[int]:
        return _answer(self.job)

    def jobStats(self, flags: int = 0) -> dict[str, Any]:
        return _answer(self.stats)


class StubHost:
    def __init__(self, *doms: Stub) -> None:
        self.doms = list(doms)

    def listAllDomains(self, flags: int = 0) -> list[Stub]:
        return self.doms


def _answer(value: Any) -> Any:
    if isinstance(value, BaseException):
        raise value
    return value


def job(kind: int) -> list[int]:
    return [kind] + [0] * 11


@pytest.mark.parametrize(
    ("job_info", "stats", "expected"),
    [
        (job(c.VIR_DOMAIN_JOB_NONE), None, Others()),
        (job(c.VIR_DOMAIN_JOB_UNBOUNDED), {"type": 2, "operation": OUT}, Others(outgoing=("g",))),
        (job(c.VIR_DOMAIN_JOB_UNBOUNDED), {"type": 2, "operation": IN}, Others(incoming=("g",))),
        (UNSUPPORTED, None, Others(incoming=("g",))),
        (job(c.VIR_DOMAIN_JOB_UNBOUNDED), {"type": 2}, Others(outgoing=("g",))),
        (job(c.VIR_DOMAIN_JOB_UNBOUNDED), {"type": 2, "operation": 9}, Others()),
        (GONE, None, Others()),
        (job(c.VIR_DOMAIN_JOB_UNBOUNDED), GONE, Others()),
    ],
    ids=["no-job", "out", "in-by-operation", "in-destination-refuses", "no-operation-counts", "backup", "gone",
         "gone-meanwhile"],
)  # fmt: skip
def test_what_a_guest_shows_is_a_direction(job_info: Any, stats: Any, expected: Others) -> None:
    assert read_others(StubHost(Stub("g", job_info, stats)), frozenset()) == expected  # type: ignore[arg-type]


def test_another_error_is_the_callers() -> None:
    broken = StubHost(Stub("g", VirtError("Cannot recv data")))
    with pytest.raises(VirtError, match="Cannot recv"):
        read_others(broken, frozenset())  # type: ignore[arg-type]


def test_our_own_guests_are_left_out() -> None:
    host = StubHost(Stub("a", job(2), {"operation": OUT}), Stub("b", job(2), {"operation": OUT}))
    assert read_others(host, frozenset({"uuid-a"})) == Others(outgoing=("b",))  # type: ignore[arg-type]


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return Lab(tmp_path, hosts=3)


def migrate_outside(lab: Lab, guest: FakeDomain, destination: str, mibps: int = 100) -> threading.Thread:
    """A migration started by someone else (libvirt directly): returns once libvirt shows it running."""

    def run() -> None:
        with contextlib.suppress(VirtError):  # aborted by the test
            guest.migrateToURI3(
                lab.world.hosts[destination].uri,
                {"migrate_uri": f"tcp://{destination}", "bandwidth": mibps},
                c.VIR_MIGRATE_LIVE | c.VIR_MIGRATE_PEER2PEER | c.VIR_MIGRATE_UNDEFINE_SOURCE,
            )

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    while guest.job_type == c.VIR_DOMAIN_JOB_NONE:
        time.sleep(0.001)
    return thread


def test_fake_hosts_show_both_sides_of_a_migration(lab: Lab) -> None:
    guest = lab.guest("x", "h1", memory_mib=50, migrate_fault=Fault(at=0.2, kind="stall"))
    thread = migrate_outside(lab, guest, "h2")
    h1, h2 = (lab.world.open(lab.world.hosts[h].uri) for h in ("h1", "h2"))
    assert read_others(h1, frozenset()) == Others(outgoing=("x",))
    assert read_others(h2, frozenset()) == Others(incoming=("x",))
    guest.abortJob()
    thread.join()
    assert (read_others(h1, frozenset()), read_others(h2, frozenset())) == (Others(), Others())
    assert lab.where("x") == ["h1"]


def test_elsewhere_reads_a_host_once_per_max_age(lab: Lab) -> None:
    lab.guest("x", "h1")
    now = [0.0]
    conns = {"h1": lab.world.open(lab.world.hosts["h1"].uri)}
    elsewhere = Elsewhere(conns, max_age_s=1.0, clock=lambda: now[0])
    for _ in range(3):
        assert elsewhere.on("h1", frozenset()) == Others()
    assert lab.world.calls["Connection.listAllDomains"] == 1
    now[0] = 1.0
    elsewhere.on("h1", frozenset())
    assert lab.world.calls["Connection.listAllDomains"] == 2
    assert elsewhere.on("h9", frozenset()) is None  # a host that cannot be opened


def only(lab: Lab, name: str) -> FakeMigration:
    (found,) = [j for j in lab.world.migrations if j.dom.vm_name == name]
    return found


@pytest.mark.parametrize(
    ("foreign_to", "move", "budget"),
    [
        ("h2", ("h1", "h3"), {"max_outgoing_per_host": 1}),
        ("h3", ("h2", "h3"), {"max_incoming_per_host": 1}),
        ("h2", ("h3", "h2"), {"max_concurrent": 1}),
    ],
    ids=["outgoing", "incoming", "cluster"],
)
def test_a_migration_started_elsewhere_holds_the_budget(
    lab: Lab, foreign_to: str, move: tuple[str, str], budget: dict[str, int]
) -> None:
    foreign = lab.guest("foreign", "h1", memory_mib=100)
    lab.guest("ours", move[0], memory_mib=20)
    thread = migrate_outside(lab, foreign, foreign_to, mibps=200)
    report = lab.apply(lab.plan(lab.move("m1", "ours", *move), **budget))
    thread.join()
    assert statuses(report) == {"m1": "done"}
    assert only(lab, "ours").started >= only(lab, "foreign").ended  # it waited for the other
    assert (lab.where("foreign"), lab.where("ours")) == ([foreign_to], [move[1]])


def test_within_the_budget_a_migration_elsewhere_does_not_hold(lab: Lab) -> None:
    foreign = lab.guest("foreign", "h1", memory_mib=50, migrate_fault=Fault(at=0.2, kind="stall"))
    lab.guest("ours", "h1", memory_mib=20)
    thread = migrate_outside(lab, foreign, "h2")
    report = lab.apply(lab.plan(lab.move("m1", "ours", "h1", "h3"), max_outgoing_per_host=2))
    foreign.abortJob()
    thread.join()
    assert statuses(report) == {"m1": "done"}


def test_at_the_deadline_a_waiting_move_is_skipped_with_the_reason(lab: Lab) -> None:
    foreign = lab.guest("foreign", "h1", memory_mib=50, migrate_fault=Fault(at=0.2, kind="stall"))
    lab.guest("ours", "h1", memory_mib=20)
    thread = migrate_outside(lab, foreign, "h2")
    deadline = datetime.now(UTC) + timedelta(seconds=0.5)
    report = lab.apply(
        lab.plan(lab.move("m1", "ours", "h1", "h3"), max_outgoing_per_host=1),
        lab.config(stall_timeout_s=600),
        deadline=deadline,
    )
    foreign.abortJob()
    thread.join()
    (outcome,) = report.outcomes
    assert outcome.status == "skipped"
    assert "deadline" in outcome.reason and "while it waited" in outcome.reason
    assert "1 migration(s) out of h1 not started by this run (foreign)" in outcome.reason
    assert lab.where("ours") == ["h1"]


def test_a_move_waits_at_most_wait_for_others_s(lab: Lab) -> None:
    foreign = lab.guest("foreign", "h1", memory_mib=50, migrate_fault=Fault(at=0.2, kind="stall"))
    lab.guest("ours", "h1", memory_mib=20)
    lab.guest("free", "h2", memory_mib=20)
    thread = migrate_outside(lab, foreign, "h2")
    plan = lab.plan(
        lab.move("m1", "ours", "h1", "h3"), lab.move("m2", "free", "h2", "h3"), max_outgoing_per_host=1
    )
    report = lab.apply(plan, lab.config(wait_for_others_s=0.3))
    foreign.abortJob()
    thread.join()
    assert statuses(report) == {"m1": "skipped", "m2": "done"}
    assert "waited longer than wait_for_others_s (0.3s)" in report.outcomes[0].reason


def test_a_count_of_zero_is_no_limit_against_migrations_elsewhere_too(lab: Lab) -> None:
    foreign = lab.guest("foreign", "h1", memory_mib=50, migrate_fault=Fault(at=0.2, kind="stall"))
    lab.guest("ours", "h1", memory_mib=20)
    thread = migrate_outside(lab, foreign, "h2")
    unlimited = {"max_outgoing_per_host": 0, "max_incoming_per_host": 0, "max_concurrent": 0}
    report = lab.apply(lab.plan(lab.move("m1", "ours", "h1", "h3"), **unlimited))
    foreign.abortJob()
    thread.join()
    assert statuses(report) == {"m1": "done"}  # as the schedule reads 0, it did not wait
