"""On real libvirt hosts: a migration started outside the tool holds the budget, so the tool's move waits.

Someone migrates a guest out of h1 with libvirt-python directly (as `virsh migrate` would); apply's move out
of h1, with max_outgoing_per_host = 1, starts only once that migration has ended.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from collectors import constants as c
from collectors.seam import VirtError
from executor.apply import apply_plan
from executor.report import ProgressEvent
from planner.policy import Budgets
from tests.executor.test_apply_lab import add, config, make_plan
from tests.lab_fixture import MakeLab
from virt_rebalance.lab import Lab

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def lab(make_lab: MakeLab) -> Lab:
    return make_lab(hosts=3)


def job_on(lab: Lab, host: str, guest: str) -> int | None:
    """The guest's job type on `host`, or None when it is not there."""
    conn = lab.connect(host)
    try:
        return int(conn.lookupByName(guest).jobInfo()[0])
    except VirtError:
        return None
    finally:
        conn.close()


def test_a_migration_started_outside_holds_the_budget(lab: Lab, tmp_path: Path) -> None:
    add(lab, "outside", "h1", 256)
    add(lab, "ours", "h1", 128)
    plan = make_plan(
        lab, [("m1", "ours", "h1", "h3")], budgets=Budgets(max_outgoing_per_host=1), bandwidth_mibps=64
    )
    source = lab.connect("h1")
    h2 = lab.host("h2")
    ended: list[float] = []

    def migrate() -> None:  # what `virsh migrate --live --p2p --undefinesource --persistent` does
        flags = c.VIR_MIGRATE_LIVE | c.VIR_MIGRATE_PEER2PEER | c.VIR_MIGRATE_PERSIST_DEST
        params = {c.VIR_MIGRATE_PARAM_URI: h2.migration_uri, c.VIR_MIGRATE_PARAM_BANDWIDTH: 10}
        source.lookupByName("outside").migrateToURI3(h2.uri, params, flags | c.VIR_MIGRATE_UNDEFINE_SOURCE)
        ended.append(time.monotonic())

    outside = threading.Thread(target=migrate)
    t0 = time.monotonic()
    outside.start()
    while job_on(lab, "h1", "outside") in (None, c.VIR_DOMAIN_JOB_NONE) and time.monotonic() - t0 < 60:
        time.sleep(0.05)
    assert job_on(lab, "h1", "outside") == c.VIR_DOMAIN_JOB_UNBOUNDED, "the outside migration did not start"
    seen_at_start: list[int | None] = []

    def progress(e: ProgressEvent) -> None:  # the outside migration's job on h1 when ours starts
        if e.kind == "started":
            seen_at_start.append(job_on(lab, "h1", "outside"))

    t1 = time.monotonic()
    report = apply_plan(plan, config(lab, tmp_path), progress=progress)
    t2 = time.monotonic()
    outside.join(timeout=300)
    source.close()
    print(
        f"outside migration {ended[0] - t0:.1f}s (apply began {t1 - t0:.1f}s into it); "
        f"apply {t2 - t1:.1f}s; ours {report.outcomes[0].actual_s:.1f}s"
    )
    assert report.status == "done", report
    assert seen_at_start == [None]  # the outside guest had left h1 before ours started
    assert lab.where("outside") == ["h2"] and lab.where("ours") == ["h3"]
