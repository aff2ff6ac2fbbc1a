"""A host that stops answering mid-run fails only the moves that touch it, on time; the others go on."""

from __future__ import annotations

import time
from pathlib import Path

from executor.report import ProgressEvent
from tests.executor.harness import Lab, statuses
from tests.fakes.migration import Fault


class _HangOnProgress(list[ProgressEvent]):
    """The run's progress events; the first progress of `mid` makes `host` hang (a SIGSTOPped libvirtd)."""

    def __init__(self, lab: Lab, mid: str, host: str) -> None:
        super().__init__()
        self.lab, self.mid, self.host = lab, mid, host
        self.at: float | None = None
        self.when: dict[tuple[str, str], float] = {}

    def append(self, e: ProgressEvent) -> None:
        super().append(e)
        self.when[(e.migration_id, e.kind)] = time.monotonic()
        if e.migration_id == self.mid and e.kind == "progress" and self.at is None:
            self.at = time.monotonic()
            self.lab.world.hosts[self.host].hang_s = 60


def test_a_source_that_hangs_mid_migration_fails_its_moves_on_time_and_the_others_complete(
    tmp_path: Path,
) -> None:
    lab = Lab(tmp_path, hosts=3)
    lab.guest("stuck", "h1", memory_mib=400, migrate_fault=Fault(at=0.3, kind="stall"))
    lab.guest("later", "h1")
    lab.guest("c", "h3", memory_mib=200)
    lab.guest("d", "h2")
    plan = lab.plan(
        lab.move("m1", "stuck", "h1", "h2"),
        lab.move("m2", "later", "h1", "h3"),  # waits for m1 (one out of h1 at a time)
        lab.move("m3", "c", "h3", "h2", bandwidth_mibps=100),
        lab.move("m4", "d", "h2", "h3", depends_on=("m3",)),  # starts after h1 hung
        max_outgoing_per_host=1,
    )
    hang = _HangOnProgress(lab, "m1", "h1")
    lab.events = hang
    config = lab.config(stall_timeout_s=1.0, call_timeout_s=0.5)
    try:
        report = lab.apply(plan, config)
    finally:
        lab.world.release.set()
    assert statuses(report) == {"m1": "failed", "m2": "skipped", "m3": "done", "m4": "done"}
    reasons = {o.migration_id: o.reason for o in report.outcomes}
    assert "stalled" in reasons["m1"] and "h1 unreachable (h1 does not answer" in reasons["m1"]
    assert "h1 does not answer" in reasons["m2"]
    assert hang.at is not None
    took = hang.when[("m1", "failed")] - hang.at
    assert took < 1.0 + 0.5 + 0.5 + 1.5, took  # stall + the wait for jobStats + the wait after the abort
    assert hang.when[("m2", "skipped")] - hang.at < took + 0.5
    assert hang.when[("m4", "started")] > hang.at
    assert lab.where("c") == ["h2"] and lab.where("d") == ["h3"]
