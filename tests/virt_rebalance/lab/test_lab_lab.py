"""The lab against this machine: real libvirtds, a real live migration, a clean teardown (issue 2)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import libvirt
import pytest
from click.testing import CliRunner

from collectors.seam import VirtError
from tests.lab_fixture import MakeLab, lab_name
from virt_rebalance.cli import main
from virt_rebalance.config import load_config
from virt_rebalance.lab import GuestSpec, Lab
from virt_rebalance.lab.errors import LabError
from virt_rebalance.lab.guest import guest_uuid
from virt_rebalance.lab.host import cmdline, is_alive

pytestmark = pytest.mark.lab
GUESTS = ("mover", "kmover", "g1", "g2", "g3")

MIGRATE_FLAGS = (
    libvirt.VIR_MIGRATE_LIVE
    | libvirt.VIR_MIGRATE_PEER2PEER
    | libvirt.VIR_MIGRATE_PERSIST_DEST
    | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
)


def leftovers(lab: Lab, pids: set[int]) -> list[str]:
    """Everything of the lab still on the machine: processes, namespaces, links, mounts, files."""
    found = [f"process {p}: {cmdline(p)[:80]}" for p in sorted(pids) if is_alive(p)]
    found += [
        f"process {p.parent.name}: {cmdline(int(p.parent.name))[:80]}"
        for p in Path("/proc").glob("[0-9]*/cmdline")
        if _mentions(p, lab)
    ]
    netns = Path("/run/netns")
    found += [f"netns {n.name}" for n in netns.glob(f"vrl-{lab.name}-*")] if netns.is_dir() else []
    found += [
        f"link {n}" for n in (lab.names.bridge, lab.names.veth("h1")) if Path("/sys/class/net", n).exists()
    ]
    mounts = Path("/proc/self/mountinfo").read_text()
    found += [
        f"mount {line}" for line in mounts.splitlines() if str(lab.dir) in line or f"vrl-{lab.name}-" in line
    ]
    found += [f"file {lab.dir}"] if lab.dir.exists() else []
    return found


def _mentions(path: Path, lab: Lab) -> bool:
    """libvirtd's command line names the lab's directory, qemu's the guest's lab-specific UUID."""
    marks = [f"{lab.dir}/".encode(), *(guest_uuid(lab.name, g).encode() for g in GUESTS)]
    try:
        text = path.read_bytes()
    except OSError:
        return False
    return any(m in text for m in marks)


def lab_pids(lab: Lab) -> set[int]:
    """The recorded libvirtd pids and every qemu pid libvirt recorded for the lab's hosts."""
    pids = set()
    for h in lab.hosts:
        pids.add(int((h.dir / "libvirtd.pid").read_text()))
        pids |= {int(p.read_text()) for p in (h.dir / "run" / "qemu").glob("*.pid")}
    return pids


def test_three_hosts_live_migration_and_clean_teardown() -> None:
    """Issue 2 done: 3 hosts (h3 without KVM), a live migration with plain libvirt calls, nothing left."""
    lab = Lab(lab_name(__name__, 99))
    lab.down()
    try:
        lab.up(hosts=3, guests=0, no_kvm_hosts=1)
        assert [(h.name, h.kvm) for h in lab.hosts] == [("h1", True), ("h2", True), ("h3", False)]
        for h in lab.hosts:
            caps = lab.connect(h.name).getCapabilities()
            assert ("<domain type='kvm'" in caps) is h.kvm, h.name

        assert lab.add_guest(GuestSpec("mover", memory_mib=128, dirty_mib=8, host="h1")) == "h1"
        src, dst = lab.connect("h1"), lab.connect("h3")
        started = time.monotonic()
        src.lookupByName("mover").migrateToURI3(
            lab.uri("h3"), {libvirt.VIR_MIGRATE_PARAM_URI: lab.host("h3").migration_uri}, MIGRATE_FLAGS
        )
        print(f"live migration of a 128 MiB TCG guest h1 -> h3: {time.monotonic() - started:.1f} s")

        moved = dst.lookupByName("mover")
        assert moved.isActive() and moved.isPersistent()
        assert moved.state()[0] == libvirt.VIR_DOMAIN_RUNNING
        with pytest.raises(VirtError):  # the lab's connections come through the seam
            src.lookupByName("mover")
        assert lab.connect("h2").listAllDomains() == []
        assert lab.where("mover") == ["h3"]

        assert lab.add_guest(GuestSpec("kmover", kind="kvm", host="h2")) == "h2"
        started = time.monotonic()
        lab.connect("h2").lookupByName("kmover").migrateToURI3(
            lab.uri("h1"), {libvirt.VIR_MIGRATE_PARAM_URI: lab.host("h1").migration_uri}, MIGRATE_FLAGS
        )
        print(f"live migration of a 128 MiB KVM guest h2 -> h1: {time.monotonic() - started:.1f} s")
        assert lab.where("kmover") == ["h1"]
        pids = lab_pids(lab)
        assert len(pids) == 5  # three libvirtds and two qemus
    finally:
        lab.down()
    assert leftovers(lab, pids) == []


@pytest.fixture(scope="module")
def small_lab(make_lab: MakeLab) -> Iterator[Lab]:
    lab = make_lab(hosts=2, guests=2)
    yield lab


def test_lab_up_is_idempotent(small_lab: Lab) -> None:
    before = json.loads((small_lab.dir / "lab.json").read_text())
    started = time.monotonic()
    small_lab.up(hosts=2, guests=2)
    assert time.monotonic() - started < 15
    assert json.loads((small_lab.dir / "lab.json").read_text()) == before
    assert sorted(d.name for d in small_lab.status().domains if d.state == "running") == ["g1", "g2"]
    with pytest.raises(LabError, match="already has 2 hosts"):
        small_lab.up(hosts=3)


def test_lab_up_restarts_a_dead_libvirtd_and_keeps_guests(small_lab: Lab) -> None:
    small_lab.stop_libvirtd("h2")
    small_lab.up(hosts=2, guests=2)
    assert small_lab.where("g2") == ["h2"]
    assert all(h.up for h in small_lab.status().hosts)


def test_cluster_config_points_at_the_lab(small_lab: Lab) -> None:
    config = load_config(small_lab.config_path)
    assert [(h.name, h.uri, h.migration_uri) for h in config.hosts] == [
        (h.name, h.uri, h.migration_uri) for h in small_lab.hosts
    ]
    assert config.state_dir == str(small_lab.dir / "state")


def test_status_and_a_stopped_libvirtd(small_lab: Lab) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["lab", "status", "--name", small_lab.name, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert [(h["name"], h["up"]) for h in report["hosts"]] == [("h1", True), ("h2", True)]
    assert {(g["name"], g["host"], g["state"]) for g in report["guests"]} == {
        ("g1", "h1", "running"),
        ("g2", "h2", "running"),
    }

    small_lab.stop_libvirtd("h1")
    try:
        status = small_lab.status()
        assert [(h.host.name, h.up) for h in status.hosts] == [("h1", False), ("h2", True)]
        assert small_lab.where("g1") == ["h1"]  # the guest runs on without its libvirtd
        assert ("g1", "h1", "running (libvirtd down)") in {(d.name, d.host, d.state) for d in status.domains}
        text = runner.invoke(main, ["lab", "status", "--name", small_lab.name])
        assert text.exit_code == 0 and "down" in text.output
    finally:
        small_lab.start_libvirtd("h1")
    conn = small_lab.connect("h1")
    assert conn.lookupByName("g1").state()[0] == libvirt.VIR_DOMAIN_RUNNING


def test_kvm_guests_go_only_to_kvm_hosts(make_lab: MakeLab) -> None:
    lab = make_lab(hosts=2, guests=0, no_kvm_hosts=1)
    assert lab.add_guest(GuestSpec("k1", kind="kvm")) == "h1"
    assert lab.add_guest(GuestSpec("k2", kind="kvm")) == "h1"
    assert lab.add_guest(GuestSpec("t1")) == "h2"
    with pytest.raises(LabError, match="has no KVM"):
        lab.add_guest(GuestSpec("k3", kind="kvm", host="h2"))
    with pytest.raises(LabError, match="already has a guest"):
        lab.add_guest(GuestSpec("k1", kind="kvm"))
    assert lab.where("k1") == ["h1"]


def test_cli_up_status_down() -> None:
    name = lab_name(__name__, 98)
    runner = CliRunner()
    try:
        up = runner.invoke(main, ["lab", "up", "--name", name, "--hosts", "2", "--guests", "3", "--skewed"])
        assert up.exit_code == 0, up.output
        assert f"lab {name} is up" in up.output
        report = json.loads(runner.invoke(main, ["lab", "status", "--name", name, "--json"]).output)
        assert sorted((g["name"], g["host"]) for g in report["guests"]) == [
            ("g1", "h1"),
            ("g2", "h1"),
            ("g3", "h2"),
        ]
        pids = lab_pids(Lab(name))
        (Lab(name).dir / "lab.json").write_text("{damaged")  # down still finds everything by the name
    finally:
        down = runner.invoke(main, ["lab", "down", "--name", name])
    assert down.exit_code == 0, down.output
    assert leftovers(Lab(name), pids) == []
    again = runner.invoke(main, ["lab", "down", "--name", name])
    assert again.exit_code == 0, again.output
