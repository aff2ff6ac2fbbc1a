"""The executor against real libvirt hosts (the lab): order, capacity, bandwidth, failures, SIGKILL, resume.

One lab for the whole module (make_lab from tests/lab_fixture.py: 3 hosts; each test adds its TCG guests).
Plans are built by hand from the live hosts; each host's capacity in the plan's snapshot is what it holds
now plus a test-chosen headroom, so "no host goes over capacity" is a real constraint the run must respect.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import fields, replace
from datetime import UTC, datetime
from pathlib import Path

import libvirt
import pytest

from executor.apply import apply_plan
from executor.report import ProgressEvent
from executor.settings import ExecuteSettings
from planner.codec import plan_to_json
from planner.plan import Balance, Migration, Plan
from planner.policy import Budgets
from tests.builders import make_cluster, make_host, make_vm
from tests.lab_fixture import MakeLab
from virt_rebalance.config import Config, ExecuteConfig, HostConfig
from virt_rebalance.lab import GuestSpec, Lab

pytestmark = pytest.mark.lab
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def lab(make_lab: MakeLab) -> Lab:
    return make_lab(hosts=3)


def add(lab: Lab, name: str, host: str, memory_mib: int = 128, dirty_mib: int = 0) -> str:
    lab.add_guest(GuestSpec(name, memory_mib=memory_mib, dirty_mib=dirty_mib, host=host))
    return str(lab.connect(host).lookupByName(name).UUIDString())


def used_mib(lab: Lab, host: str) -> int:
    conn = lab.connect(host)
    try:
        return sum(d.info()[1] // 1024 for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE))
    finally:
        conn.close()


def make_plan(
    lab: Lab,
    moves: list[tuple[str, str, str, str]],
    headroom_mib: int = 4096,
    budgets: Budgets | None = None,
    **fields,
) -> Plan:
    """moves: (id, guest, source, destination); `fields` go on every Migration (depends_on by id in a dict)."""
    hosts, vms = [], []
    for h in lab.hosts:
        conn = lab.connect(h.name)
        doms = conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)
        vms += [make_vm(d.name(), h.name, uuid=d.UUIDString(), memory_mib=d.info()[1] // 1024) for d in doms]
        capacity = sum(d.info()[1] // 1024 for d in doms) + headroom_mib
        hosts.append(make_host(h.name, uri=h.uri, migration_uri=h.migration_uri, memory_mib=capacity))
        conn.close()
    snapshot = make_cluster(hosts, vms, collected_at=datetime.now(UTC).isoformat())
    by_name = {v.name: v for v in vms}
    deps = fields.pop("depends_on", {})
    migrations = tuple(
        Migration(
            id=mid,
            vm_uuid=by_name[g].uuid,
            vm_name=g,
            source=src,
            destination=dst,
            memory_mib=by_name[g].memory_mib,
            reason="lab test",
            depends_on=deps.get(mid, ()),
            **fields,
        )
        for mid, g, src, dst in moves
    )
    flat = Balance(0, 0, 0)
    target = {m.vm_uuid: m.destination for m in migrations}
    return Plan(
        snapshot=snapshot,
        goal="rebalance",
        created_at=datetime.now(UTC).isoformat(),
        migrations=migrations,
        target=target,
        before=(),
        after=(),
        balance_before=flat,
        balance_after=flat,
        budgets=budgets or Budgets(),
    )


def config(lab: Lab, tmp: Path, **execute) -> ExecuteSettings:
    """The executor's settings from a config of the lab's hosts with these [execute] keys (the budgets
    travel in the plan: give them to make_plan)."""
    if budgets := set(execute) & {f.name for f in fields(Budgets)}:
        raise TypeError(f"{', '.join(sorted(budgets))}: budgets travel in the plan; give them to make_plan()")
    hosts = tuple(HostConfig(name=h.name, uri=h.uri, migration_uri=h.migration_uri) for h in lab.hosts)
    execute = {"poll_interval_s": 0.25, **execute}
    config = Config(state_dir=str(tmp / "state"), hosts=hosts, execute=ExecuteConfig(**execute))
    return config.execute_settings()


def running_on(lab: Lab, guest: str) -> list[str]:
    return lab.where(guest)


def test_dependency_order_and_capacity_hold(lab: Lab, tmp_path: Path) -> None:
    add(lab, "dep-a", "h1", 256)
    add(lab, "dep-b", "h2", 256)
    # h2 has room for dep-a only once dep-b has left it: m2 must wait for m1.
    plan = make_plan(
        lab,
        [("m2", "dep-a", "h1", "h2"), ("m1", "dep-b", "h2", "h3")],
        headroom_mib=300,
        depends_on={"m2": ("m1",)},
        bandwidth_mibps=64,
    )
    capacity = {h.name: h.memory_mib for h in plan.snapshot.hosts}
    peak: dict[str, int] = dict.fromkeys(capacity, 0)
    stop = threading.Event()

    def sample() -> None:  # what libvirt says each host holds, incoming guests included
        while not stop.is_set():
            for host in capacity:
                peak[host] = max(peak[host], used_mib(lab, host))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample)
    sampler.start()
    events: list[tuple[float, ProgressEvent]] = []
    try:
        report = apply_plan(
            plan, config(lab, tmp_path), progress=lambda e: events.append((time.monotonic(), e))
        )
    finally:
        stop.set()
        sampler.join()
    assert report.status == "done", report
    at = {(e.migration_id, e.kind): t for t, e in events}
    assert at[("m2", "started")] >= at[("m1", "done")]
    assert all(peak[h] <= capacity[h] for h in capacity), (peak, capacity)
    assert (running_on(lab, "dep-a"), running_on(lab, "dep-b")) == (["h2"], ["h3"])


def test_bandwidth_cap_holds_and_time_limit_aborts(lab: Lab, tmp_path: Path) -> None:
    add(lab, "bw", "h1", 256, dirty_mib=16)
    # Booted, its 16 MiB write loop out-writes the 10 MiB/s cap, and without auto-converge nothing throttles
    # it, so the migration cannot end within its limit. (Started mid-boot with auto-converge on, a CI run
    # converged in under the 6 s limit: the test must not depend on that race.)
    lab.wait_booted(["bw"])
    plan = make_plan(
        lab,
        [("m1", "bw", "h1", "h3")],
        budgets=Budgets(auto_converge=False),
        bandwidth_mibps=10,
        estimated_s=1.5,
    )
    events: list[ProgressEvent] = []
    report = apply_plan(
        plan, config(lab, tmp_path, time_limit_factor=4.0, time_limit_floor_s=0), progress=events.append
    )
    rates = [e.rate_mibps for e in events if e.kind == "progress" and e.rate_mibps > 0]
    print(f"memory_bps under a 10 MiB/s cap: max {max(rates):.2f} MiB/s over {len(rates)} readings")
    assert 7 <= max(rates) <= 10.5
    (outcome,) = report.outcomes
    assert outcome.status == "aborted" and "longer than its limit" in outcome.reason
    assert running_on(lab, "bw") == ["h1"]


def test_destination_libvirtd_killed_mid_migration(lab: Lab, tmp_path: Path) -> None:
    add(lab, "cut", "h1", 256, dirty_mib=8)
    plan = make_plan(lab, [("m1", "cut", "h1", "h2")], bandwidth_mibps=20, estimated_s=15)
    killed = threading.Event()

    def on_event(e: ProgressEvent) -> None:
        if e.kind == "progress" and e.processed_mib > 0 and not killed.is_set():
            killed.set()
            threading.Thread(target=lab.stop_libvirtd, args=("h2",)).start()

    try:
        report = apply_plan(plan, config(lab, tmp_path), progress=on_event)
    finally:
        time.sleep(1)
        lab.start_libvirtd("h2")
    (outcome,) = report.outcomes
    print(f"destination libvirtd killed: {outcome.status}: {outcome.reason}")
    assert killed.is_set(), outcome
    assert outcome.status == "failed" and report.status == "failed"
    assert "h1 (running)" in outcome.reason
    assert running_on(lab, "cut") == ["h1"]


def test_sigkill_then_resume_completes_the_plan(lab: Lab, tmp_path: Path) -> None:
    names = [f"kill-{i}" for i in range(3)]
    for n in names:
        add(lab, n, "h1", 128)
    moves = [(f"m{i}", n, "h1", "h3") for i, n in enumerate(names)]
    plan = make_plan(lab, moves, budgets=Budgets(max_concurrent=1), bandwidth_mibps=30)
    plan_file = tmp_path / "plan.json"
    plan_file.write_text(plan_to_json(plan))
    conf = tmp_path / "cluster.toml"
    conf.write_text(toml(lab, tmp_path, max_concurrent=1, poll_interval_s=0.25))
    cmd = [sys.executable, "-m", "virt_rebalance", "apply", str(plan_file), "--config", str(conf)]
    first = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    journal = tmp_path / "state" / "journal.sqlite"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and states(journal).get("m1") != "started":
        time.sleep(0.1)
    time.sleep(1.0)  # mid-migration of the second guest
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    print(f"killed with journal {states(journal)}")
    assert states(journal)["m1"] == "started"
    second = subprocess.run([*cmd, "--resume"], cwd=REPO, capture_output=True, text=True, timeout=120)
    print(second.stdout)
    assert second.returncode == 0, second.stdout + second.stderr
    assert all(running_on(lab, n) == ["h3"] for n in names)
    assert set(states(journal).values()) == {"done"}


def test_guest_moved_by_hand_skips_its_move(lab: Lab, tmp_path: Path) -> None:
    add(lab, "hand", "h1", 128)
    plan = make_plan(lab, [("m1", "hand", "h1", "h2")], bandwidth_mibps=64)
    src = lab.connect("h1")
    flags = libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PEER2PEER | libvirt.VIR_MIGRATE_PERSIST_DEST
    flags |= libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
    uri = {libvirt.VIR_MIGRATE_PARAM_URI: lab.host("h3").migration_uri}
    src.lookupByName("hand").migrateToURI3(lab.uri("h3"), uri, flags)
    report = apply_plan(plan, config(lab, tmp_path))
    (outcome,) = report.outcomes
    assert outcome.status == "skipped"
    assert "no longer on h1" in outcome.reason and "h3 (running)" in outcome.reason
    assert running_on(lab, "hand") == ["h3"]


@pytest.mark.parametrize(
    ("options", "guest", "event"),
    [
        ({"managed": "client", "peer2peer": False}, {}, "done"),
        ({"tunnelled": True, "compressed": True}, {}, "done"),
        (
            {"postcopy": True, "postcopy_after_rounds": 2, "auto_converge": False},
            {"dirty_mib": 64},
            "postcopy",
        ),
    ],
    ids=["client-managed", "tunnelled-compressed", "postcopy-switch"],
)
def test_migrate_options_work_on_real_libvirt(
    lab: Lab, tmp_path: Path, request: pytest.FixtureRequest, options: dict, guest: dict, event: str
) -> None:
    name = f"opt-{request.node.callspec.id}"
    add(lab, name, "h1", 256 if guest else 128, **guest)
    budgets = Budgets(**{k: options.pop(k) for k in ("auto_converge",) if k in options})  # the plan's
    plan = make_plan(lab, [("m1", name, "h1", "h2")], budgets=budgets, bandwidth_mibps=30 if guest else 64)
    events: list[ProgressEvent] = []
    report = apply_plan(plan, config(lab, tmp_path, **options), progress=events.append)
    assert report.status == "done", report.outcomes
    assert event in {e.kind for e in events}
    assert running_on(lab, name) == ["h2"]


def test_makespan_of_a_scheduled_plan_against_its_estimate(lab: Lab, tmp_path: Path) -> None:
    from planner.schedule import schedule

    names = [f"mk-{i}" for i in range(8)]
    for i, n in enumerate(names):
        add(lab, n, "h1" if i % 2 else "h2", 128)
    base = make_plan(lab, [])
    budgets = Budgets(max_outgoing_per_host=2, max_incoming_per_host=2, max_concurrent=4, setup_s=2.0)
    hosts = tuple(replace(h, nic_mibps=64) for h in base.snapshot.hosts)
    cluster = replace(base.snapshot, hosts=hosts)
    target = {
        v.uuid: "h3" if v.name in names[:6] else ("h2" if v.host == "h1" else "h1")
        for v in cluster.vms
        if v.name in names
    }
    sched = schedule(cluster, target, {}, budgets)
    plan = replace(base, snapshot=cluster, migrations=sched.migrations, makespan_s=sched.makespan_s,
                   makespan_lower_bound_s=sched.makespan_lower_bound_s, budgets=budgets)  # fmt: skip
    # The executor keeps the budgets the schedule assumed (the plan's), with the snapshot's 64 MiB/s NICs.
    report = apply_plan(plan, config(lab, tmp_path))
    print(
        f"\nlab makespan: {len(plan.migrations)} migrations of 128 MiB, real {report.elapsed_s:.1f}s, "
        f"estimated {plan.makespan_s:.1f}s (lower bound {plan.makespan_lower_bound_s:.1f}s)"
    )
    for o in report.outcomes:
        print(f"  {o.migration_id} {o.vm_name} {o.source}->{o.destination} {o.status} "
              f"{o.actual_s or 0:.1f}s est {o.estimated_s:.1f}s, {o.actual_mib or 0:.0f} MiB est {o.estimated_mib}")  # fmt: skip
    assert report.status == "done" and len(plan.migrations) >= 8


def toml(lab: Lab, tmp: Path, **execute: object) -> str:
    hosts = "".join(
        f'[[hosts]]\nname = "{h.name}"\nuri = "{h.uri}"\nmigration_uri = "{h.migration_uri}"\n\n'
        for h in lab.hosts
    )
    ex = "".join(f"{k} = {v}\n" for k, v in execute.items())
    return f'state_dir = "{tmp / "state"}"\n\n{hosts}[execute]\n{ex}'


def states(journal: Path) -> dict[str, str]:
    """Each migration's state in the journal; none while the run is still creating it (file or tables)."""
    if not journal.exists():
        return {}
    try:
        with sqlite3.connect(journal) as db:
            return dict(db.execute("SELECT migration_id, state FROM migrations").fetchall())
    except sqlite3.OperationalError:  # the file is there, its tables not yet
        return {}
