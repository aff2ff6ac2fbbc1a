"""The overall status of a run, from its outcomes."""

from __future__ import annotations

import pytest

from executor.report import MigrationOutcome, ProgressEvent, overall


def o(status: str, earlier: bool = False) -> MigrationOutcome:
    return MigrationOutcome("m", "u", "vm", "h1", "h2", status, earlier=earlier)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("outcomes", "status"),
    [
        ((), "nothing-to-do"),
        ((o("done", earlier=True),), "nothing-to-do"),
        ((o("done"), o("done", earlier=True)), "done"),
        ((o("done"), o("skipped")), "partial"),
        ((o("done"), o("failed")), "partial"),
        ((o("aborted"), o("not-started")), "failed"),
        ((o("skipped"),), "failed"),
        ((o("done", earlier=True), o("skipped")), "failed"),
    ],
    ids=[
        "empty",
        "all-earlier",
        "all-done",
        "some-skipped",
        "some-failed",
        "none-done",
        "all-skipped",
        "nothing-more-carried-out",
    ],
)
def test_overall(outcomes: tuple, status: str) -> None:
    assert overall(outcomes) == status


def test_progress_line() -> None:
    e = ProgressEvent(
        "progress", "m1", "web", "h1", "h2", total_mib=256, processed_mib=100, remaining_mib=156,
        rate_mibps=30, dirty_mibps=5, round=2, eta_s=5.2, finished=1, total=3,
    )  # fmt: skip
    assert e.line() == (
        "[1/3] m1 web h1->h2: 100/256 MiB, 156 left, 30.0 MiB/s, dirty 5.0 MiB/s, round 2, ETA 5s"
    )
