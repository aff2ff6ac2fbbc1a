"""The fake seam behaves like libvirt where collectors depend on it."""

from __future__ import annotations

import time

import pytest

from collectors import constants as c
from collectors.seam import VirtError
from tests.fakes.world import FakeWorld


@pytest.fixture
def world() -> FakeWorld:
    w = FakeWorld()
    w.add_host("h1", cpu_model="Broadwell", cpu_features=("vmx", "aes"), domain_types=("qemu", "kvm"))
    w.add_host("h2", domain_types=("qemu",))
    w.add_domain("h1", "busy", cpu_millicores=1000, dirty_rate_mibps=7)
    w.add_domain("h1", "off", run_state=c.VIR_DOMAIN_SHUTOFF)
    w.add_domain("h1", "tmp", persistent=False)
    return w


def test_cpu_time_advances_at_the_burn_rate(world: FakeWorld) -> None:
    conn = world.open(world.hosts["h1"].uri)
    first = {d.name(): s for d, s in conn.getAllDomainStats(c.VIR_DOMAIN_STATS_CPU_TOTAL)}
    time.sleep(0.2)
    second = {d.name(): s for d, s in conn.getAllDomainStats(c.VIR_DOMAIN_STATS_CPU_TOTAL)}
    rate = (second["busy"]["cpu.time"] - first["busy"]["cpu.time"]) / 0.2 / 1e6
    assert 800 < rate < 1300
    assert "cpu.time" not in second["off"]


def test_dirty_rate_is_measured_after_the_period(world: FakeWorld) -> None:
    conn = world.open(world.hosts["h1"].uri)
    busy = conn.lookupByName("busy")
    busy.startDirtyRateCalc(0)
    stats = dict(conn.getAllDomainStats(c.VIR_DOMAIN_STATS_DIRTYRATE))[busy]
    assert stats["dirtyrate.calc_status"] == c.VIR_DOMAIN_DIRTYRATE_MEASURED
    assert stats["dirtyrate.megabytes_per_second"] == 7


@pytest.mark.parametrize(
    ("flags", "names"),
    [
        (0, {"busy", "off", "tmp"}),
        (c.VIR_CONNECT_LIST_DOMAINS_ACTIVE, {"busy", "tmp"}),
        (c.VIR_CONNECT_LIST_DOMAINS_PERSISTENT, {"busy", "off"}),
        (c.VIR_CONNECT_LIST_DOMAINS_TRANSIENT, {"tmp"}),
    ],
    ids=["all", "active", "persistent", "transient"],
)
def test_list_flags(world: FakeWorld, flags: int, names: set[str]) -> None:
    conn = world.open(world.hosts["h1"].uri)
    assert {d.name() for d in conn.listAllDomains(flags)} == names


@pytest.mark.parametrize(
    ("host", "virttype", "cpu", "expected"),
    [
        ("h1", "kvm", "<cpu><model>Broadwell</model><feature name='aes'/></cpu>", c.VIR_CPU_COMPARE_SUPERSET),
        ("h1", "kvm", "<cpu><model>Icelake-Server</model></cpu>", c.VIR_CPU_COMPARE_INCOMPATIBLE),
        ("h1", "kvm", "<cpu><model>Broadwell</model><feature name='avx512f'/></cpu>", 0),
        ("h2", "qemu", "<cpu><model>qemu64</model></cpu>", c.VIR_CPU_COMPARE_SUPERSET),
    ],
    ids=["own-model", "newer-model", "missing-feature", "tcg-qemu64"],
)
def test_compare(world: FakeWorld, host: str, virttype: str, cpu: str, expected: int) -> None:
    conn = world.open(world.hosts[host].uri)
    assert conn.compareHypervisorCPU(None, "x86_64", None, virttype, cpu) == expected


def test_kvm_on_a_host_without_kvm_raises(world: FakeWorld) -> None:
    conn = world.open(world.hosts["h2"].uri)
    with pytest.raises(VirtError, match="accel 'kvm'"):
        conn.compareHypervisorCPU(None, "x86_64", None, "kvm", "<cpu><model>qemu64</model></cpu>")


def test_dead_host_fails_and_calls_are_counted(world: FakeWorld) -> None:
    world.hosts["h2"].alive = False
    with pytest.raises(VirtError):
        world.open(world.hosts["h2"].uri)
    world.open(world.hosts["h1"].uri).getInfo()
    assert world.calls["open"] == 2
    assert world.calls["Connection.getInfo"] == 1


def test_place_moves_a_domain(world: FakeWorld) -> None:
    busy = world.open(world.hosts["h1"].uri).lookupByName("busy")
    world.place(world.hosts["h1"].domains[busy.UUIDString()], world.hosts["h2"])
    assert [d.name() for d in world.open(world.hosts["h2"].uri).listAllDomains()] == ["busy"]
