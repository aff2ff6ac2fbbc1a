"""The overall status of a run, from its outcomes; outcomes and events built with keywords."""

from __future__ import annotations

import pytest

from executor.report import MigrationOutcome, ProgressEvent, overall
from tests.builders import make_migration


def o(status: str, earlier: bool = False) -> MigrationOutcome:
    return MigrationOutcome(
        migration_id="m",
        vm_uuid="u",
        vm_name="vm",
        source="h1",
        destination="h2",
        status=status,
        earlier=earlier,
    )  # type: ignore[arg-type]


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
        kind="progress", migration_id="m1", vm_name="web", source="h1", destination="h2", total_mib=256,
        processed_mib=100, remaining_mib=156, rate_mibps=30, dirty_mibps=5, round=2, eta_s=5.2, finished=1,
        total=3,
    )  # fmt: skip
    assert e.line() == (
        "[1/3] m1 web h1->h2: 100/256 MiB, 156 left, 30.0 MiB/s, dirty 5.0 MiB/s, round 2, ETA 5s"
    )


def test_an_outcome_takes_its_names_and_estimates_from_the_migration() -> None:
    m = make_migration(id="m7", vm_uuid="u7", vm_name="db", estimated_s=12.0, estimated_mib=600)
    o = MigrationOutcome.of(m, "done", "ok", actual_s=10.5, actual_mib=580.0)
    assert (o.migration_id, o.vm_uuid, o.vm_name, o.source, o.destination) == ("m7", "u7", "db", "h1", "h2")
    assert (o.status, o.reason, o.estimated_s, o.actual_s, o.estimated_mib, o.actual_mib) == (
        "done", "ok", 12.0, 10.5, 600, 580.0,
    )  # fmt: skip
    assert not o.earlier


@pytest.mark.parametrize("record", [MigrationOutcome, ProgressEvent], ids=["outcome", "event"])
def test_records_of_many_fields_are_built_with_keywords(record: type) -> None:
    with pytest.raises(TypeError):
        record("m1", "u1", "db", "h1", "h2", "done")
