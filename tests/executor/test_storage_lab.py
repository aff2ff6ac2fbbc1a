"""Guests with real disks on real libvirt hosts (the lab): collect, plan and apply with storage migration.

One lab for the module (2 hosts, each with 512 MiB of local storage and a pool; the lab's NBD server for
shared disks), whose four guests boot together. Each guest's init rewrites a region of its disk every half second and prints whether what
it reads back (O_DIRECT, from the disk, not the page cache) is what it wrote: a copy that lost or mangled
a block shows as BAD, a guest that stopped writing shows no new sequence numbers. The numbers each test
measured are printed (pytest -s) for the report.
"""

from __future__ import annotations

import itertools
import os
import re
import signal
import threading
import time
from typing import Any

import pytest

from collectors.collect import collect_cluster
from executor.apply import apply_plan
from executor.report import ApplyReport
from planner.pipeline import make_plan
from planner.plan import Plan
from tests.lab_fixture import MakeLab
from virt_rebalance.config import Config, load_config
from virt_rebalance.lab import GuestSpec, Lab
from virt_rebalance.lab.disks import images_dir
from virt_rebalance.lab.images import DISK_MARKER

pytestmark = pytest.mark.lab
LINE = re.compile(rf"{DISK_MARKER} seq=(\d+) md5=(\w+) (ok|BAD)")


GUESTS = (
    GuestSpec("dl", memory_mib=128, disk="local", disk_mib=64, disk_fill_mib=24, host="h1"),
    GuestSpec("ds", memory_mib=128, disk="shared", disk_mib=64, disk_fill_mib=24, host="h1"),
    GuestSpec("dr", memory_mib=96, disk="local", disk_mib=64, disk_fill_mib=24, host="h2"),
    GuestSpec("dk", memory_mib=96, disk="local", disk_mib=64, disk_fill_mib=40, host="h2"),
)


@pytest.fixture(scope="module")
def lab(make_lab: MakeLab) -> Lab:
    lab = make_lab(hosts=2)
    for spec in GUESTS:
        lab.add_guest(spec)
    lab.wait_booted([g.name for g in GUESTS])
    return lab


def disk_lines(lab: Lab, guest: str) -> list[tuple[int, str]]:
    text = (lab.names.console_dir / f"{guest}.log").read_text(errors="replace")
    return [(int(m.group(1)), m.group(3)) for m in LINE.finditer(text)]


def wait_writes(lab: Lab, guest: str, after: int = 0, timeout: float = 90) -> int:
    """Wait until the guest has checked its disk past sequence number `after`; its last number."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        lines = disk_lines(lab, guest)
        if lines and lines[-1][0] > after:
            return lines[-1][0]
        time.sleep(0.5)
    raise AssertionError(f"{guest} wrote nothing to its disk after seq {after} in {timeout:.0f} s")


def config(lab: Lab, **execute: Any) -> Config:
    cfg = load_config(lab.config_path)
    return cfg.model_copy(
        update={"execute": cfg.execute.model_copy(update={"poll_interval_s": 0.5, **execute})}
    )


def evacuate(lab: Lab, host: str, cfg: Config) -> Plan:
    return make_plan(
        collect_cluster(cfg.collect_settings()), cfg.policy_value((host,)), cfg.budgets(), goal="evacuate"
    )


def sample_job(lab: Lab, host: str, guest: str, until: threading.Event, out: list[dict[str, Any]]) -> None:
    """jobStats of the guest's migration on its source, twice a second, while it runs."""
    conn = lab.connect(host)
    dom = conn.lookupByName(guest)
    while not until.is_set():
        try:
            stats = dom.jobStats()
        except Exception:  # the job ended (the guest left) or the host went away
            break
        if stats.get("type", 0):
            out.append({"t": time.monotonic(), **stats})
        time.sleep(0.5)
    conn.close()


def test_local_disk_is_copied_live_and_shared_disk_is_not(lab: Lab) -> None:
    before = {g: wait_writes(lab, g) for g in ("dl", "ds")}
    cfg = config(lab, per_migration_mibps=16)
    plan = evacuate(lab, "h1", cfg)
    moves = {m.vm_name: m for m in plan.migrations}
    assert set(moves) == {"dl", "ds"} and not plan.stays
    assert moves["dl"].disks == ("vda",) and moves["dl"].disk_mib >= 24
    assert moves["ds"].disks == () and moves["ds"].disk_mib == 0
    stats: list[dict[str, Any]] = []
    done = threading.Event()
    watcher = threading.Thread(target=sample_job, args=(lab, "h1", "dl", done, stats))
    watcher.start()
    try:
        report = apply_plan(plan, cfg.execute_settings())
    finally:
        done.set()
        watcher.join()
    out = {o.vm_name: o for o in report.outcomes}
    assert {g: o.status for g, o in out.items()} == {"dl": "done", "ds": "done"}, report
    dest = moves["dl"].destination
    assert lab.where("dl") == [dest] and lab.where("ds") == [moves["ds"].destination]
    # The guest keeps writing on its destination, and reads back from the copy exactly what it wrote.
    after = wait_writes(lab, "dl", before["dl"] + 2)
    assert all(verdict == "ok" for _, verdict in disk_lines(lab, "dl")), disk_lines(lab, "dl")[-5:]
    assert all(verdict == "ok" for _, verdict in disk_lines(lab, "ds"))
    assert wait_writes(lab, "ds", before["ds"] + 1) > before["ds"]
    # The copy is on the destination's storage; the source's image stays, listed for a person.
    assert (images_dir(lab.host(dest)) / "dl.qcow2").exists()
    assert (images_dir(lab.host("h1")) / "dl.qcow2").exists()
    assert "source disk(s) left on h1: /var/lib/libvirt/images/dl.qcow2" in out["dl"].reason
    # A shared disk is not copied: what moved is about its memory, less than the guest's memory + disk.
    assert out["ds"].actual_mib is not None and out["ds"].actual_mib < 128
    disk_rates, copy_s = copy_rates(stats)
    _print_numbers(plan, report, disk_rates, cap=16)
    print(f"disk copy phase {copy_s:.1f} s for {moves['dl'].disk_mib} MiB allocated (capacity 64 MiB)")
    # The cap holds for the copy: its allocated data took at least about allocation / cap (QEMU skips
    # the unallocated zeros without sending them, so disk_processed itself runs ahead of the cap).
    assert copy_s >= 0.6 * moves["dl"].disk_mib / 16 - 0.5
    assert after > before["dl"]


def test_a_destination_without_room_is_refused_by_the_storage_rule(lab: Lab) -> None:
    for host in ("h1",):  # fill its storage: a big preallocated volume in the pool
        lab.virsh(
            host, "vol-create-as", "default", "filler", "470M", "--allocation", "470M", "--format", "raw"
        )
    try:
        plan = evacuate(lab, "h2", config(lab))
    finally:
        for host in ("h1",):
            lab.virsh(host, "vol-delete", "filler", "--pool", "default")
    stays = {s.vm_name: s for s in plan.stays}
    assert "dr" in stays and stays["dr"].rule == "StorageCapacity", plan.stays
    assert "dr" not in {m.vm_name for m in plan.migrations}


def test_destination_libvirtd_killed_mid_copy_leaves_the_guest_on_its_source_disk_intact(lab: Lab) -> None:
    before = wait_writes(lab, "dk")
    cfg = config(lab, per_migration_mibps=8, stall_timeout_s=15)
    plan = evacuate(lab, "h2", cfg)
    (move,) = [m for m in plan.migrations if m.vm_name == "dk"]
    dest = move.destination
    result: list[ApplyReport] = []
    runner = threading.Thread(target=lambda: result.append(apply_plan(plan, cfg.execute_settings())))
    runner.start()
    conn = lab.connect("h2")
    dom = conn.lookupByName("dk")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not dom.jobStats().get("disk_processed"):
        time.sleep(0.2)
    assert dom.jobStats().get("disk_processed"), "the disk copy never started"
    (pid,) = [h.libvirtd_pid for h in lab.status().hosts if h.host.name == dest]
    assert pid
    os.kill(pid, signal.SIGKILL)
    runner.join(timeout=180)
    conn.close()
    lab.start_libvirtd(dest)
    assert result and {o.vm_name: o.status for o in result[0].outcomes}.get("dk") in ("failed", "aborted")
    assert lab.where("dk") == ["h2"]
    assert wait_writes(lab, "dk", before + 2) > before + 2
    assert all(verdict == "ok" for _, verdict in disk_lines(lab, "dk"))
    assert (images_dir(lab.host("h2")) / "dk.qcow2").exists()
    outcome = next(o for o in result[0].outcomes if o.vm_name == "dk")
    print(f"\nkilled {dest}'s libvirtd mid-copy: {outcome.status}: {outcome.reason}")


def copy_rates(stats: list[dict[str, Any]]) -> tuple[list[float], float]:
    """The disk copy's rate (MiB/s) between jobStats readings while it copied (the growth of
    disk_processed), and how long the copy phase lasted (first reading with progress to the first
    with nothing remaining)."""
    copying = [s for s in stats if s.get("disk_processed")]
    ended = [s for s in copying if not s.get("disk_remaining")]
    copy_s = (ended[0]["t"] if ended else copying[-1]["t"]) - copying[0]["t"] if copying else 0.0
    rates = []
    for a, b in itertools.pairwise(stats):
        grew = b.get("disk_processed", 0) - a.get("disk_processed", 0)
        if grew > 0 and b.get("disk_remaining", 1) and b["t"] > a["t"]:
            rates.append(grew / 2**20 / (b["t"] - a["t"]))
    return rates, copy_s


def _print_numbers(plan: Plan, report: ApplyReport, disk_rates: list[float], cap: int) -> None:
    outcomes = {o.migration_id: o for o in report.outcomes}
    for m in plan.migrations:
        o = outcomes[m.id]
        print(
            f"\n{m.vm_name}: disk {m.disk_mib} MiB copied={bool(m.disks)}; real {o.actual_s:.1f} s vs est "
            f"{m.estimated_s:.1f} s; real {o.actual_mib or 0:.0f} MiB vs est {m.estimated_mib} MiB"
        )
    if disk_rates:
        mean = sum(disk_rates) / len(disk_rates)
        print(
            f"disk copy rate (growth of jobStats disk_processed): mean {mean:.1f}, max {max(disk_rates):.1f} MiB/s; cap {cap}"
        )
