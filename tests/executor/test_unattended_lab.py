"""An unattended run on real libvirt hosts always ends, on time, and says what happened.

One lab for the module (3 hosts). SIGTERM mid-evacuation: the summary and metrics say "interrupted" and
`apply --resume` completes. A source's libvirtd SIGSTOPped mid-migration: its moves fail with the reason
within the stall timeout and a margin, the others complete, every guest runs exactly once. A destination's
link cut mid-transfer for longer than the stall timeout: aborted on time, the guest stays on its source.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest

from executor.apply import apply_plan
from executor.report import ProgressEvent
from planner.policy import Budgets
from tests.executor.test_apply_lab import REPO, add, config, make_plan, states, toml
from tests.lab_fixture import MakeLab
from virt_rebalance.lab import Lab

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def lab(make_lab: MakeLab) -> Lab:
    return make_lab(hosts=3)


def libvirtd_pid(lab: Lab, host: str) -> int:
    (status,) = [h for h in lab.status().hosts if h.host.name == host]
    assert status.libvirtd_pid, f"{host}'s libvirtd is not running"
    return status.libvirtd_pid


def _states(journal: Path) -> dict[str, str]:
    try:
        return states(journal)
    except sqlite3.OperationalError:  # the job is creating it
        return {}


def test_sigterm_mid_evacuation_records_interrupted_and_resume_completes(lab: Lab, tmp_path: Path) -> None:
    names = [f"term-{i}" for i in range(3)]
    for n in names:
        add(lab, n, "h1", 128)
    conf = tmp_path / "cluster.toml"
    conf.write_text(
        toml(lab, tmp_path, max_outgoing_per_host=1, per_migration_mibps=30, poll_interval_s=0.25)
    )
    cmd = [sys.executable, "-m", "virt_rebalance", "--quiet"]
    job = subprocess.Popen([*cmd, "evacuate", "h1", "--config", str(conf)], cwd=REPO, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)  # fmt: skip
    journal = tmp_path / "state" / "journal.sqlite"
    give_up = time.monotonic() + 180  # collect and plan first: slow on a busy machine
    while time.monotonic() < give_up and "started" not in _states(journal).values():
        time.sleep(0.1)
    assert "started" in _states(journal).values(), "no migration started"
    t0 = time.monotonic()
    job.send_signal(signal.SIGTERM)
    out, _ = job.communicate(timeout=120)
    print(f"SIGTERM mid-evacuation: exit {job.returncode} {time.monotonic() - t0:.1f}s after the signal")
    print(out)
    assert job.returncode == 7, out
    state = tmp_path / "state"
    last = json.loads((state / "last-evacuate.json").read_text())
    assert last["status"] == "interrupted" and "apply --resume" in last["message"]
    assert {o["status"] for o in last["outcomes"]} >= {"done", "not-started"}
    assert "virt_rebalance_exit_code" in (state / "metrics" / "virt-rebalance-evacuate.prom").read_text()
    plan_file = last["files"]["plan"]
    t1 = time.monotonic()
    resumed = subprocess.run([*cmd, "apply", "--resume", plan_file, "--config", str(conf)], cwd=REPO,
                             capture_output=True, text=True, timeout=180)  # fmt: skip
    print(f"apply --resume: exit {resumed.returncode} after {time.monotonic() - t1:.1f}s")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert all(len(lab.where(n)) == 1 and lab.where(n) != ["h1"] for n in names)


def test_a_source_libvirtd_stopped_mid_migration_fails_its_moves_on_time(lab: Lab, tmp_path: Path) -> None:
    add(lab, "stop-slow", "h1", 256, dirty_mib=16)
    add(lab, "stop-later", "h1", 128)
    add(lab, "stop-c", "h3", 128)
    add(lab, "stop-d", "h2", 128)
    plan = make_plan(
        lab,
        [("m1", "stop-slow", "h1", "h2"), ("m2", "stop-later", "h1", "h3"),
         ("m3", "stop-c", "h3", "h2"), ("m4", "stop-d", "h2", "h3")],
        depends_on={"m4": ("m3",)}, bandwidth_mibps=10, budgets=Budgets(max_outgoing_per_host=1),
    )  # fmt: skip
    fast = tuple(replace(m, bandwidth_mibps=64) if m.id in ("m3", "m4") else m for m in plan.migrations)
    plan = replace(plan, migrations=fast)
    stall_s = 15.0  # QEMU's set-up on a busy machine shows no progress for several seconds
    ex = {"stall_timeout_s": stall_s, "call_timeout_s": 5.0}
    pid = libvirtd_pid(lab, "h1")
    when: dict[tuple[str, str], float] = {}
    stopped: list[float] = []

    def on_event(e: ProgressEvent) -> None:
        when.setdefault((e.migration_id, e.kind), time.monotonic())
        if e.migration_id == "m1" and e.kind == "progress" and e.processed_mib > 0 and not stopped:
            os.kill(pid, signal.SIGSTOP)
            stopped.append(time.monotonic())

    try:
        report = apply_plan(plan, config(lab, tmp_path, **ex), progress=on_event)
        ended = time.monotonic()
    finally:
        os.kill(pid, signal.SIGCONT)
    outcomes = {o.migration_id: o for o in report.outcomes}
    for o in report.outcomes:
        print(f"{o.migration_id}: {o.status}: {o.reason}")
    assert stopped, "m1 never showed progress"
    print(
        f"h1 stopped; m1 {outcomes['m1'].status} {when[('m1', outcomes['m1'].status)] - stopped[0]:.1f}s "
        f"later, apply ended {ended - stopped[0]:.1f}s later (stall timeout {stall_s:g}s)"
    )
    assert outcomes["m1"].status in ("failed", "aborted") and "h1" in outcomes["m1"].reason
    assert outcomes["m2"].status in ("skipped", "failed") and "h1" in outcomes["m2"].reason
    assert outcomes["m3"].status == "done" and outcomes["m4"].status == "done"
    assert when[("m1", outcomes["m1"].status)] - stopped[0] < stall_s + 10
    settle = time.monotonic() + 60  # h1's libvirtd, running again, finishes or cancels its migration
    names = ("stop-slow", "stop-later", "stop-c", "stop-d")
    while time.monotonic() < settle and not all(len(lab.where(n)) == 1 for n in names):
        time.sleep(0.5)
    assert {n: len(lab.where(n)) for n in names} == dict.fromkeys(names, 1)


def test_a_link_down_longer_than_the_stall_timeout_aborts_on_time(lab: Lab, tmp_path: Path) -> None:
    add(lab, "link", "h1", 256, dirty_mib=8)
    plan = make_plan(lab, [("m1", "link", "h1", "h3")], bandwidth_mibps=10)
    veth = lab.names.veth("h3")
    stall_s = 10.0
    cut: list[float] = []

    def on_event(e: ProgressEvent) -> None:
        if e.kind == "progress" and e.processed_mib > 0 and not cut:
            subprocess.run(["ip", "link", "set", veth, "down"], check=True)
            cut.append(time.monotonic())

    try:
        report = apply_plan(plan, config(lab, tmp_path, stall_timeout_s=stall_s), progress=on_event)
        ended = time.monotonic()
    finally:
        subprocess.run(["ip", "link", "set", veth, "up"], check=True)
    (outcome,) = report.outcomes
    assert cut, "the migration never showed progress"
    print(f"link cut: {outcome.status} {ended - cut[0]:.1f}s later (stall {stall_s:g}s): {outcome.reason}")
    assert outcome.status == "aborted" and "stalled" in outcome.reason
    assert ended - cut[0] < stall_s + 10
    assert lab.where("link") == ["h1"]
