"""An interrupt (SIGTERM/SIGINT in the CLI): nothing new starts; running moves finish, or are aborted."""

from __future__ import annotations

from pathlib import Path

import pytest

from executor.interrupt import Interrupt
from executor.report import ProgressEvent
from tests.executor.harness import Lab, statuses


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return Lab(tmp_path, hosts=3)


class _OnStart(list[ProgressEvent]):
    """The run's progress events; the first start sets the interrupt (as a signal would)."""

    def __init__(self, interrupt: Interrupt, reason: str, abort: bool = False) -> None:
        super().__init__()
        self.interrupt, self.reason, self.abort = interrupt, reason, abort

    def append(self, e: ProgressEvent) -> None:
        super().append(e)
        if e.kind == "started":
            self.interrupt.stop(self.reason, abort=self.abort)


@pytest.mark.parametrize(
    ("abort", "first", "where"),
    [(False, "done", "h2"), (True, "aborted", "h1")],
    ids=["running-ones-finish", "running-ones-abort"],
)
def test_after_an_interrupt_no_move_starts(lab: Lab, abort: bool, first: str, where: str) -> None:
    for i in range(3):
        lab.guest(f"g{i}", "h1", memory_mib=300)
    plan = lab.plan(*(lab.move(f"m{i}", f"g{i}", "h1", "h2") for i in range(3)), max_outgoing_per_host=1)
    interrupt = Interrupt()
    lab.events = _OnStart(interrupt, "interrupted by SIGTERM", abort)
    report = lab.apply(plan, interrupt=interrupt)
    assert report.status == "interrupted"
    assert statuses(report) == {"m0": first, "m1": "not-started", "m2": "not-started"}
    assert [o.reason for o in report.outcomes][1:] == ["interrupted by SIGTERM"] * 2
    assert lab.where("g0") == [where] and lab.where("g1") == ["h1"]


def test_an_interrupt_after_the_last_move_started_changes_nothing(lab: Lab) -> None:
    lab.guest("g", "h1")
    interrupt = Interrupt()
    lab.events = _OnStart(interrupt, "interrupted by SIGINT")
    report = lab.apply(lab.plan(lab.move("m1", "g", "h1", "h2")), interrupt=interrupt)
    assert report.status == "done"
