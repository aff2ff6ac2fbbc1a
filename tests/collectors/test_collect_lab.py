"""collect_cluster against real libvirt hosts (the lab): one lab for the whole module.

Hosts h1, h2 with KVM and h3 without. Guests: a TCG guest burning one CPU, an idle one, one rewriting
memory, a KVM guest, a transient guest and a defined-but-stopped guest with a local disk.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from benchmarks.collect import counting_opener
from collectors.collect import collect_cluster
from planner.codec import cluster_to_json
from planner.model import Cluster, HostState
from tests.lab_fixture import MakeLab
from virt_rebalance.config import Config, load_config
from virt_rebalance.lab import GuestSpec, Lab
from virt_rebalance.lab.images import ensure_images

pytestmark = pytest.mark.lab

TRANSIENT = """<domain type='qemu'><name>ephemeral</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type></os>
<cpu mode='custom' match='exact'><model fallback='forbid'>qemu64</model></cpu></domain>"""
# A persistent KVM guest with QEMU's default CPU (libvirt expands it to a custom qemu64 definition): the
# nested KVM here cannot start host-model or host-passthrough guests (QEMU fails to set MSR 0x10a).
KVM_GUEST = """<domain type='kvm'><name>kvmg</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os></domain>"""
# Rewrites 32 MiB of tmpfs in a loop, with different bytes on every pass ("1\n1\n...", "2\n2\n..."):
# libvirt's dirty-rate measurement (page sampling) compares hashes of pages, so a guest rewriting the same
# bytes (dd from /dev/zero) reads as clean.
WRITER_SCRIPT = (
    "B=/bin/busybox; $B mount -t devtmpfs d /dev; $B mount -t tmpfs t /tmp; i=0; "
    "while :; do i=$((i+1)); $B yes $i | $B dd of=/tmp/d bs=1M count=32 iflag=fullblock conv=notrunc 2>/dev/null; done"
)
WRITER = """<domain type='qemu'><name>writer</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type><kernel>{kernel}</kernel><initrd>{initrd}</initrd>
<cmdline>console=ttyS0 quiet panic=-1 rdinit=/bin/busybox -- sh -c "{script}"</cmdline></os>
<cpu mode='custom' match='exact'><model fallback='forbid'>qemu64</model></cpu></domain>"""
STOPPED = """<domain type='qemu'><name>stopped</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type></os>
<devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
<source file='/var/lib/libvirt/images/stopped.qcow2'/><target dev='vda' bus='virtio'/></disk></devices></domain>"""


@pytest.fixture(scope="module")
def lab(make_lab: MakeLab) -> Lab:
    lab = make_lab(hosts=3, no_kvm_hosts=1)
    lab.add_guest(GuestSpec("burn", memory_mib=128, cpu_burn=1, host="h1"))
    lab.add_guest(GuestSpec("idle", memory_mib=128, host="h2"))
    conn = lab.connect("h1")
    conn.defineXML(KVM_GUEST).create()
    conn.close()
    conn = lab.connect("h2")
    images = ensure_images()
    conn.defineXML(WRITER.format(kernel=images.kernel, initrd=images.initrd, script=WRITER_SCRIPT)).create()
    conn.createXML(TRANSIENT, 0)
    conn.defineXML(STOPPED)
    conn.close()
    time.sleep(3)  # let the kernels boot and the loads start
    return lab


def lab_config(lab: Lab, tmp: Path, **collect: Any) -> Config:
    config = load_config(lab.config_path)
    settings = {"interval_s": 3.0, "timeout_s": 20.0, "dirty_rate_s": 2, **collect}
    return config.model_copy(
        update={"state_dir": str(tmp), "collect": config.collect.model_copy(update=settings)}
    )


@pytest.fixture(scope="module")
def counted(
    lab: Lab, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Cluster, Counter[str], float, dict[str, tuple[int, int]]]:
    """The snapshot, its libvirt calls, how long it took, and the least and most CPU the burner's QEMU process
    got over any stretch of the collection as long as the collector's reading (sampled from /proc)."""
    calls: Counter[str] = Counter()
    start = time.monotonic()
    # storage_migration off, as on a real cluster by default (the lab's own config turns it on), so a
    # guest on local storage carries that reason
    config = lab_config(lab, tmp_path_factory.mktemp("state"), storage_migration=False)
    with ProcessCpu(lab, {"burn": "h1", "idle": "h2", "writer": "h2"}) as cpu:
        cluster = collect_cluster(config.collect_settings(), opener=counting_opener(calls))
    took = time.monotonic() - start
    got = {guest: cpu.millicores_range(guest, config.collect.interval_s) for guest in cpu.guests}
    read = {guest: cluster.vm_by_name[guest].cpu_millicores for guest in cpu.guests}
    print(
        f"\nlab collection: {took:.2f} s, {sum(calls.values())} round trips: {dict(sorted(calls.items()))}; "
        f"millicores read {read}, their QEMU processes got {got}"
    )
    return cluster, calls, took, got


class ProcessCpu:
    """Samples guests' QEMU process CPU time from /proc every 50 ms while the block runs."""

    def __init__(self, lab: Lab, guests: dict[str, str]) -> None:
        self.lab, self.guests = lab, guests
        self.samples: list[tuple[float, dict[str, float]]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> ProcessCpu:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while True:
            now = time.monotonic()
            self.samples.append((now, {g: qemu_cpu_s(self.lab, h, g) for g, h in self.guests.items()}))
            if self._stop.wait(0.05):
                return

    def millicores_range(self, guest: str, seconds: float) -> tuple[int, int]:
        """Least and most millicores over every stretch of at least `seconds` between two samples."""
        rates = [
            (c2[guest] - c1[guest]) / (t2 - t1) * 1000
            for i, (t1, c1) in enumerate(self.samples)
            for t2, c2 in self.samples[i + 1 :]
            if t2 - t1 >= seconds
        ]
        assert rates, f"no {seconds} s stretch in {len(self.samples)} samples"
        return round(min(rates)), round(max(rates))


@pytest.fixture(scope="module")
def snapshot(counted: tuple[Cluster, Counter[str], float, dict[str, tuple[int, int]]]) -> Cluster:
    return counted[0]


def test_hosts_guests_and_sizes_match_libvirt(lab: Lab, snapshot: Cluster) -> None:
    assert [h.name for h in snapshot.hosts] == ["h1", "h2", "h3"]
    assert all(h.state is HostState.ACTIVE for h in snapshot.hosts)
    for host in snapshot.hosts:
        conn = lab.connect(host.name)
        info = conn.getInfo()
        assert (host.cpus, host.memory_mib) == (info[2], info[1])
        names = {d.name() for d in conn.listAllDomains(0)}
        assert {v.name for v in snapshot.vms if v.host == host.name} == names
        for vm in (v for v in snapshot.vms if v.host == host.name):
            dom = conn.lookupByName(vm.name)
            assert (vm.uuid, vm.memory_mib, vm.vcpus) == (
                dom.UUIDString(),
                dom.maxMemory() // 1024,
                dom.vcpusFlags(0) if dom.isActive() else vm.vcpus,
            )
        conn.close()
    assert snapshot.host_by_name["h3"].domain_types == ("qemu",)
    assert "kvm" in snapshot.host_by_name["h1"].domain_types


def qemu_cpu_s(lab: Lab, host: str, guest: str) -> float:
    """CPU seconds the guest's QEMU process has used, from /proc (independent of libvirt)."""
    pid = (lab.host(host).dir / "run" / "qemu" / f"{guest}.pid").read_text().strip()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_cpu_burner_reads_about_one_cpu_and_idle_near_zero(
    counted: tuple[Cluster, Counter[str], float, dict[str, tuple[int, int]]],
) -> None:
    """About 1000 on a quiet machine; on a busy one the burner gets less, and must read what it got: what its
    process got over some stretch of the collection as long as the collector's reading (the scheduler's
    share varies from second to second on a busy machine, so one figure for the whole collection would not do)."""
    snapshot, _, _, got = counted
    burn, idle = snapshot.vm_by_name["burn"], snapshot.vm_by_name["idle"]
    for vm in (burn, idle):
        least, most = got[vm.name]
        assert least - 100 <= vm.cpu_millicores <= most + 100, (vm.name, vm.cpu_millicores, got)
    if got["burn"][0] >= 900:  # the machine gave it a whole CPU throughout
        assert 800 <= burn.cpu_millicores <= 1200
    # Near zero when its own process was near zero: a TCG guest's idle loop costs more CPU on a busy
    # machine (its timers run late), which the range check above already holds the reading to.
    if got["idle"][1] <= 100:
        assert idle.cpu_millicores <= 150, (idle.cpu_millicores, got)
    if got["burn"][0] >= 300:  # the burner was not starved by other work on the machine
        assert burn.cpu_millicores > 2 * idle.cpu_millicores + 50, (
            burn.cpu_millicores,
            idle.cpu_millicores,
            got,
        )
    assert burn.memory_used_mib is not None and 0 < burn.memory_used_mib <= 128


def test_memory_writer_has_a_dirty_rate(
    counted: tuple[Cluster, Counter[str], float, dict[str, tuple[int, int]]],
) -> None:
    snapshot, _, _, got = counted
    writer, idle = snapshot.vm_by_name["writer"], snapshot.vm_by_name["idle"]
    # Page sampling counts the sampled pages that changed: what the writer managed in the period, so on a
    # busy machine a few MiB/s; an idle guest reads 0 or the odd kernel page. A writer the machine gave
    # almost no CPU throughout dirtied nothing, and may read 0.
    if got["writer"][0] >= 200:
        assert writer.dirty_rate_mibps > 0, (writer.dirty_rate_mibps, got)
    assert writer.dirty_rate_mibps >= idle.dirty_rate_mibps, (
        writer.dirty_rate_mibps,
        idle.dirty_rate_mibps,
        writer.cpu_millicores,
    )


def test_kvm_guest_is_incompatible_with_the_host_without_kvm(lab: Lab, snapshot: Cluster) -> None:
    kvmg = snapshot.vm_by_name["kvmg"]
    allowed = snapshot.compatibility[kvmg.cpu_signature]
    assert "h3" not in allowed and "h1" in allowed
    conn = lab.connect("h3")  # the relation says what libvirt says: h3 refuses kvm
    xml = next(s for s in snapshot.cpu_signatures if s.key == kvmg.cpu_signature)
    with pytest.raises(Exception, match="kvm"):
        conn.compareHypervisorCPU(None, "x86_64", None, "kvm", f"<cpu><model>{xml.model}</model></cpu>", 0)
    conn.close()
    tcg = snapshot.vm_by_name["burn"]
    assert snapshot.compatibility[tcg.cpu_signature] == ("h1", "h2", "h3")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("ephemeral", "transient: it has no persistent definition"),
        (
            "stopped",
            "not running (shutoff); disk vda (/var/lib/libvirt/images/stopped.qcow2) is on local storage",
        ),
    ],
    ids=["transient", "stopped-with-local-disk"],
)
def test_unmigratable_guests_carry_their_reason(snapshot: Cluster, name: str, reason: str) -> None:
    vm = snapshot.vm_by_name[name]
    assert not vm.migratable
    assert (vm.unmigratable_reason or "").startswith(reason)
    assert snapshot.vm_by_name["burn"].migratable and snapshot.vm_by_name["burn"].unmigratable_reason is None


def test_round_trips_grow_with_guests_not_stats_calls(
    counted: tuple[Cluster, Counter[str], float, dict[str, tuple[int, int]]],
) -> None:
    cluster, calls, _, _ = counted
    hosts = len(cluster.hosts)  # two readings per host, and a few more when a dirty rate runs late
    assert 2 * hosts <= calls["Connection.getAllDomainStats"] <= 2 * hosts + hosts * 5
    assert calls["Domain.XMLDesc"] == len(cluster.vms)
    assert calls["Connection.compareHypervisorCPU"] == len(cluster.hosts) * len(
        [s for s in cluster.cpu_signatures if s.mode in ("custom", "host-model") and s.model]
    )


def test_stopped_libvirtd_is_unreachable_and_a_password_never_shows(lab: Lab, tmp_path: Path) -> None:
    config = lab_config(lab, tmp_path, dirty_rate_s=0, interval_s=1.0)
    h1 = config.hosts[0]
    secret_h1 = h1.model_copy(update={"uri": h1.uri.replace("qemu+unix://", "qemu+unix://admin:hunter2@")})
    ghost = h1.model_copy(
        update={"name": "ghost", "uri": "qemu+unix://admin:hunter2@/system?socket=/nonexistent/sock"}
    )
    config = config.model_copy(update={"hosts": (secret_h1, *config.hosts[1:], ghost)})
    lab.stop_libvirtd("h2")
    try:
        cluster = collect_cluster(config.collect_settings())
    finally:
        lab.start_libvirtd("h2")
    states = {h.name: h.state for h in cluster.hosts}
    assert states == {"h1": "active", "h2": "unreachable", "h3": "active", "ghost": "unreachable"}
    assert cluster.host_by_name["h2"].error
    assert {v.host for v in cluster.vms} <= {"h1", "h3"} and "burn" in cluster.vm_by_name
    text = cluster_to_json(cluster)
    assert "hunter2" not in text
    assert cluster.host_by_name["ghost"].uri.startswith("qemu+unix://admin@/system")
