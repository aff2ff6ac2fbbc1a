"""collect_cluster against the fake seam: hosts, guests, usage, failures, compatibility, redaction."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from collectors import constants as c
from collectors.collect import collect_cluster
from collectors.seam import Domain
from planner.codec import cluster_to_json
from planner.errors import CollectError
from planner.model import SCHEMA_VERSION, HostState, VmState
from tests.fakes.world import FakeConnection, FakeWorld
from virt_rebalance.config import Config

FAST = {"interval_s": 0.2, "timeout_s": 2.0, "dirty_rate_s": 0}
LOCAL_DISK = "<disk type='file' device='disk'><source file='/var/lib/libvirt/images/a.qcow2'/><target dev='vda'/></disk>"
PCI = "<hostdev mode='subsystem' type='pci'><source><address domain='0' bus='0x3b' slot='0' function='0'/></source></hostdev>"


def config_for(
    world: FakeWorld, tmp_path: Path, hosts: dict[str, Any] | None = None, **collect: Any
) -> Config:
    return Config.model_validate(
        {
            "state_dir": str(tmp_path),
            "hosts": [
                {"name": h.name, "uri": h.uri, **(hosts or {}).get(h.name, {})} for h in world.hosts.values()
            ],
            "collect": {**FAST, **collect},
        }
    )


@pytest.fixture
def world() -> FakeWorld:
    w = FakeWorld()
    w.add_host("h1", cpus=16, memory_mib=65536, cpu_model="Broadwell", cpu_features=("aes",))
    w.add_host(
        "h2", cpus=32, memory_mib=131072, cpu_model="Skylake-Server", runs_models=("qemu64", "Broadwell")
    )
    w.add_host("h3", domain_types=("qemu",), cpu_model="Broadwell", cpu_features=("aes",))
    broadwell = "<cpu mode='custom' match='exact'><model>Broadwell</model></cpu>"
    w.add_domain(
        "h1", "busy", vcpus=2, memory_mib=4096, cpu_millicores=1000, cpu_xml=broadwell, memory_used_mib=3000
    )
    w.add_domain("h1", "idle", vcpus=1, memory_mib=2048, dirty_rate_mibps=40)
    w.add_domain("h2", "tcg", domain_type="qemu", memory_mib=512)
    return w


def test_hosts_guests_and_sizes(world: FakeWorld, tmp_path: Path) -> None:
    cluster = collect_cluster(config_for(world, tmp_path).collect_settings(), opener=world.open)
    h1 = cluster.host_by_name["h1"]
    assert (h1.cpus, h1.memory_mib, h1.cpu_model, h1.cpu_features, h1.state) == (
        16,
        65536,
        "Broadwell",
        ("aes",),
        HostState.ACTIVE,
    )
    assert cluster.host_by_name["h3"].domain_types == ("qemu",)
    busy, idle, tcg = (cluster.vm_by_name[n] for n in ("busy", "idle", "tcg"))
    assert (busy.host, busy.vcpus, busy.memory_mib, busy.memory_used_mib) == ("h1", 2, 4096, 3000)
    assert 800 <= busy.cpu_millicores <= 1200 and idle.cpu_millicores == 0
    assert (tcg.host, tcg.domain_type, tcg.migratable) == ("h2", "qemu", True)
    assert (
        cluster.source == "libvirt: 3 of 3 hosts answered"
        and cluster.window.startswith("instant ")
        and cluster.window.endswith(" s reading")
    )


def test_config_supplies_reserves_overcommit_nic_groups(world: FakeWorld, tmp_path: Path) -> None:
    cfg = config_for(
        world,
        tmp_path,
        {"h1": {"nic_mibps": 2384, "cpu_overcommit": 2.0, "groups": ["rack1"], "exclude": True}},
    )
    cluster = collect_cluster(cfg.collect_settings(), opener=world.open)
    h1, h2 = cluster.host_by_name["h1"], cluster.host_by_name["h2"]
    assert (h1.nic_mibps, h1.cpu_overcommit, h1.groups, h1.state) == (
        2384,
        2.0,
        ("rack1",),
        HostState.EXCLUDED,
    )
    assert (h2.nic_mibps, h2.cpu_overcommit, h2.reserved_memory_mib) == (1192, 4.0, 1024)


def test_compatibility_is_decided_per_signature_not_per_guest(world: FakeWorld, tmp_path: Path) -> None:
    for i in range(20):
        world.add_domain("h2", f"clone{i}", domain_type="qemu")
    cluster = collect_cluster(config_for(world, tmp_path).collect_settings(), opener=world.open)
    busy, tcg = cluster.vm_by_name["busy"], cluster.vm_by_name["tcg"]
    assert cluster.compatibility[busy.cpu_signature] == ("h1", "h2")  # h3 has no kvm: compare raised
    assert cluster.compatibility[tcg.cpu_signature] == ("h1", "h2", "h3")
    assert world.calls["Connection.compareHypervisorCPU"] == 3 * len(cluster.cpu_signatures)
    assert {s.key for s in cluster.cpu_signatures} == {v.cpu_signature for v in cluster.vms}


def test_host_passthrough_only_to_identical_cpus(world: FakeWorld, tmp_path: Path) -> None:
    world.add_domain("h1", "pt", cpu_xml="<cpu mode='host-passthrough'/>")
    world.hosts["h3"].domain_types = ("qemu", "kvm")
    cluster = collect_cluster(config_for(world, tmp_path).collect_settings(), opener=world.open)
    pt = cluster.vm_by_name["pt"]
    assert cluster.compatibility[pt.cpu_signature] == ("h1", "h3")  # h3: same Broadwell + aes


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"run_state": c.VIR_DOMAIN_SHUTOFF}, "not running (shutoff)"),
        ({"run_state": c.VIR_DOMAIN_PAUSED}, "not running (paused)"),
        ({"persistent": False}, "transient: it has no persistent definition"),
        ({"job_type": c.VIR_DOMAIN_JOB_UNBOUNDED}, "a job is already in progress"),
        ({"devices_xml": LOCAL_DISK}, "disk vda (/var/lib/libvirt/images/a.qcow2) is on local storage"),
        ({"devices_xml": PCI}, "PCI device 0000:3b:00.0 is passed through"),
    ],
    ids=["shutoff", "paused", "transient", "job", "local-disk", "pci"],
)
def test_unmigratable_reasons(world: FakeWorld, tmp_path: Path, change: dict[str, Any], reason: str) -> None:
    world.add_domain("h1", "odd", **change)
    vm = collect_cluster(config_for(world, tmp_path).collect_settings(), opener=world.open).vm_by_name["odd"]
    assert not vm.migratable
    assert vm.unmigratable_reason is not None and vm.unmigratable_reason.startswith(reason)


def test_a_guest_whose_definition_fails_is_unknown(world: FakeWorld, tmp_path: Path) -> None:
    world.add_domain("h1", "broken", fail={"XMLDesc"})
    cluster = collect_cluster(config_for(world, tmp_path).collect_settings(), opener=world.open)
    vm = cluster.vm_by_name["broken"]
    assert (vm.state, vm.migratable) == (VmState.UNKNOWN, False)
    assert "could not be read: internal error: XMLDesc failed" in (vm.unmigratable_reason or "")
    assert cluster.vm_by_name["busy"].migratable


def test_dirty_rate_is_measured(world: FakeWorld, tmp_path: Path) -> None:
    cluster = collect_cluster(
        config_for(world, tmp_path, dirty_rate_s=1).collect_settings(), opener=world.open
    )
    assert cluster.vm_by_name["idle"].dirty_rate_mibps == 40
    assert world.calls["Domain.startDirtyRateCalc"] == 3


def test_dead_and_hung_hosts_are_unreachable_and_the_rest_is_collected(
    world: FakeWorld, tmp_path: Path
) -> None:
    world.hosts["h2"].alive = False
    world.hosts["h3"].hang_s = 30
    start = time.monotonic()
    cluster = collect_cluster(
        config_for(world, tmp_path, timeout_s=1.0).collect_settings(), opener=world.open
    )
    world.release.set()
    assert time.monotonic() - start < 4
    h2, h3 = cluster.host_by_name["h2"], cluster.host_by_name["h3"]
    assert (h2.state, h2.error) == (HostState.UNREACHABLE, "Cannot recv data: Connection reset by peer")
    assert (h3.state, h3.error) == (HostState.UNREACHABLE, "no answer within 2.2 s")  # 1 s + the waits
    assert {v.name for v in cluster.vms} == {"busy", "idle"}
    assert cluster.source == "libvirt: 1 of 3 hosts answered"


def test_no_host_answering_is_a_collect_error(world: FakeWorld, tmp_path: Path) -> None:
    for h in world.hosts.values():
        h.alive = False
    with pytest.raises(CollectError) as info:
        collect_cluster(config_for(world, tmp_path).collect_settings(), opener=world.open)
    assert set(info.value.failures) == {"h1", "h2", "h3"}


def test_a_password_never_shows(world: FakeWorld, tmp_path: Path) -> None:
    world.hosts["h2"].uri = "qemu+ssh://root:hunter2@h2.example/system"
    world.hosts["h2"].alive = False
    world.hosts["h1"].uri = "qemu+tls://admin:s3cret@h1.example/system"
    cluster = collect_cluster(config_for(world, tmp_path).collect_settings(), opener=world.open)
    text = cluster_to_json(cluster)
    assert "hunter2" not in text and "s3cret" not in text
    assert cluster.host_by_name["h1"].uri == "qemu+tls://admin@h1.example/system"


def test_record_and_window(world: FakeWorld, tmp_path: Path) -> None:
    cfg = config_for(world, tmp_path)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    for hour in range(3):
        collect_cluster(
            cfg.collect_settings(), opener=world.open, record=True, now=t0 + timedelta(hours=hour)
        )
    cluster = collect_cluster(
        cfg.collect_settings(), opener=world.open, window_hours=24, now=t0 + timedelta(hours=3)
    )
    busy = cluster.vm_by_name["busy"]
    assert 800 <= busy.cpu_millicores <= 1200 and busy.cpu_p95_millicores is not None
    assert cluster.window == "CPU mean and p95 of the last 24 h: up to 3 samples per guest"
    assert (tmp_path / "history.sqlite").exists()


def test_snapshot_round_trips_as_json(world: FakeWorld, tmp_path: Path) -> None:
    cluster = collect_cluster(config_for(world, tmp_path).collect_settings(), opener=world.open)
    assert json.loads(cluster_to_json(cluster))["schema_version"] == SCHEMA_VERSION == 2


def test_hosts_are_read_concurrently(tmp_path: Path) -> None:
    world = FakeWorld(latency_s=0.05)
    for i in range(40):
        world.add_host(f"h{i}")
        world.add_domain(f"h{i}", f"g{i}")
    start = time.monotonic()
    cluster = collect_cluster(config_for(world, tmp_path).collect_settings(), opener=world.open)
    assert len(cluster.vms) == 40
    assert time.monotonic() - start < 3  # one host alone is ~0.2 s interval + ~10 calls x 50 ms
    assert threading.active_count() < 100


def test_a_guest_on_two_hosts_is_kept_once_where_it_runs(world: FakeWorld, tmp_path: Path) -> None:
    source = world.add_domain("h1", "moving", job_type=c.VIR_DOMAIN_JOB_UNBOUNDED)
    world.add_domain("h2", "moving", vm_uuid=source.vm_uuid, run_state=c.VIR_DOMAIN_PAUSED, persistent=False)
    cluster = collect_cluster(config_for(world, tmp_path).collect_settings(), opener=world.open)
    copies = [v for v in cluster.vms if v.uuid == source.vm_uuid]
    assert [(v.host, v.state) for v in copies] == [("h1", VmState.RUNNING)]
    assert copies[0].unmigratable_reason == (
        "a job is already in progress (a migration, save or backup); also defined on h2 (a migration in progress?)"
    )


class SlowFirstStats(FakeConnection):
    """libvirtd in the lab spends seconds on its first CPU stats call: when it reads them is unknown."""

    slow = True

    def getAllDomainStats(self, stats: int = 0, flags: int = 0) -> list[tuple[Domain, dict[str, Any]]]:
        rows = super().getAllDomainStats(stats, flags)
        if SlowFirstStats.slow:
            SlowFirstStats.slow = False
            time.sleep(1.0)
        return rows


def test_a_slow_first_reading_is_taken_again(world: FakeWorld, tmp_path: Path) -> None:
    cfg = config_for(world, tmp_path, interval_s=0.5)
    cluster = collect_cluster(cfg.collect_settings(), opener=lambda uri: SlowFirstStats(world.host_for(uri)))
    assert 850 <= cluster.vm_by_name["busy"].cpu_millicores <= 1150
    assert world.calls["Connection.getAllDomainStats"] == 2 * 3 + 1
