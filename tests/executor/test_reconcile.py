"""executor.reconcile directly: the journal's word against what the (fake) hosts show, before a run.

done stays done; an interrupted move is done when the guest runs on its destination only, run again when
it runs on its source only, failed (for a person) otherwise; everything else is simply tried again."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from collectors import constants as c
from executor.journal import Journal
from executor.reconcile import reconcile
from planner.plan import Plan
from tests.executor.harness import Lab


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    lab = Lab(tmp_path, hosts=3)
    lab.guest("a", "h1")
    return lab


@pytest.fixture
def plan(lab: Lab) -> Plan:
    return lab.plan(lab.move("m1", "a", "h1", "h2"))


@pytest.fixture
def journal(lab: Lab, plan: Plan) -> Iterator[Journal]:
    journal = Journal(lab.config().state_dir, plan)
    journal.add(plan.migrations)
    yield journal
    journal.close()


def _reconcile(lab: Lab, plan: Plan, journal: Journal, hosts: tuple[str, ...] = ("h1", "h2", "h3")):
    conns = {h: lab.world.open(lab.world.hosts[h].uri) for h in hosts}
    return reconcile(plan.migrations, journal, conns, lab.config())


@pytest.mark.parametrize("state", ["planned", "skipped", "failed", "aborted"])
def test_what_did_not_finish_is_tried_again(lab: Lab, plan: Plan, journal: Journal, state: str) -> None:
    journal.set("m1", state, "earlier")
    done = _reconcile(lab, plan, journal)
    assert ([m.id for m in done.todo], done.earlier) == (["m1"], {})


def test_done_is_never_run_again(lab: Lab, plan: Plan, journal: Journal) -> None:
    journal.set("m1", "done", "", 1.5, 100.0)
    done = _reconcile(lab, plan, journal)
    (outcome,) = done.earlier.values()
    assert done.todo == []
    assert (outcome.status, outcome.earlier, outcome.actual_s, outcome.actual_mib) == (
        "done",
        True,
        1.5,
        100.0,
    )


def _on(host: str) -> Callable[[Lab], object]:
    return lambda lab: lab.world.place(lab.guests["a"], lab.world.hosts[host])


def _paused_on_source(lab: Lab) -> None:
    lab.guests["a"].run_state = c.VIR_DOMAIN_PAUSED


@pytest.mark.parametrize(
    ("change", "status", "journal_state", "words"),
    [
        (_on("h2"), "done", "done", "finished after the earlier run was interrupted"),
        (_on("h1"), None, "planned", "stayed on its source"),
        (_on("h3"), "failed", "failed", "now found on neither host"),
        (_paused_on_source, "failed", "failed", "now found on h1 (active, not running)"),
    ],
    ids=["arrived", "stayed", "elsewhere", "paused-on-source"],
)
def test_an_interrupted_move_is_decided_by_where_the_guest_is(
    lab: Lab,
    plan: Plan,
    journal: Journal,
    change: Callable[[Lab], object],
    status: str | None,
    journal_state: str,
    words: str,
) -> None:
    journal.set("m1", "started")
    change(lab)
    done = _reconcile(lab, plan, journal)
    entry = journal.entries()["m1"]
    assert (entry.state, words in entry.reason) == (journal_state, True)
    if status is None:
        assert [m.id for m in done.todo] == ["m1"]
    else:
        assert done.todo == [] and done.earlier["m1"].status == status
        assert not done.earlier["m1"].earlier  # decided now, not in an earlier run


def test_an_interrupted_move_with_a_host_out_of_reach_fails(lab: Lab, plan: Plan, journal: Journal) -> None:
    journal.set("m1", "started")
    done = _reconcile(lab, plan, journal, hosts=("h1", "h3"))
    assert done.todo == []
    assert done.earlier["m1"].status == "failed"
    assert "cannot be reached" in done.earlier["m1"].reason
