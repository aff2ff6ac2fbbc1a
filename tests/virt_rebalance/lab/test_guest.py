"""Guest specs, their domain XML and the default guest set of `lab up`."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

from virt_rebalance.lab.errors import LabError
from virt_rebalance.lab.guest import DiskSource, GuestSpec, default_guests, disk_kind, domain_xml, guest_uuid

KERNEL, INITRD, CONSOLE = Path("/k/vmlinuz"), Path("/k/initrd.gz"), Path("/lab/console")


def xml_of(spec: GuestSpec) -> ET.Element:
    return ET.fromstring(domain_xml(spec, "demo", KERNEL, INITRD, CONSOLE))


def test_tcg_guest_boots_the_kernel_with_its_knobs() -> None:
    dom = xml_of(GuestSpec("web", memory_mib=256, vcpus=2, cpu_burn=1, cpu_pct=40, dirty_mib=32))
    assert dom.get("type") == "qemu"
    assert dom.findtext("name") == "web"
    assert dom.findtext("uuid") == guest_uuid("demo", "web")
    assert (dom.find("memory").get("unit"), dom.findtext("memory")) == ("MiB", "256")  # type: ignore[union-attr]
    assert dom.findtext("vcpu") == "2"
    assert dom.findtext("os/kernel") == str(KERNEL)
    assert dom.findtext("os/initrd") == str(INITRD)
    assert set(dom.findtext("os/cmdline", "").split()) >= {"console=ttyS0", "cpu=1", "cpu_pct=40", "dirty=32"}
    assert dom.find("cpu").get("mode") == "custom"  # type: ignore[union-attr]
    assert dom.findtext("cpu/model") == "qemu64"
    assert dom.find("devices/serial/source").get("path") == "/lab/console/web.log"  # type: ignore[union-attr]


def test_kvm_guest_is_diskless_with_the_default_cpu() -> None:
    dom = xml_of(GuestSpec("k1", kind="kvm"))
    assert dom.get("type") == "kvm"
    assert dom.find("os/kernel") is None
    assert dom.find("devices/disk") is None
    assert dom.find("cpu") is None


def test_guest_uuid_is_stable_per_lab_and_name() -> None:
    assert guest_uuid("a", "g1") == guest_uuid("a", "g1")
    assert len({guest_uuid("a", "g1"), guest_uuid("b", "g1"), guest_uuid("a", "g2")}) == 3


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"name": "a b"}, "name"),
        ({"memory_mib": 32}, "memory_mib"),
        ({"vcpus": 0}, "vcpus"),
        ({"cpu_burn": 9}, "cpu_burn"),
        ({"cpu_pct": 0}, "cpu_pct"),
        ({"memory_mib": 128, "dirty_mib": 64}, "dirty_mib"),
        ({"kind": "xen"}, "kind"),
        ({"kind": "kvm", "cpu_burn": 1}, "kvm guests run no load"),
        ({"disk": "nfs"}, "disk:"),
        ({"kind": "kvm", "disk": "local"}, "kvm guests have no disk"),
        ({"disk": "local", "disk_mib": 8}, "disk_mib"),
        ({"disk": "local", "disk_fill_mib": 65}, "disk_fill_mib"),
    ],
    ids=[
        "name",
        "memory",
        "vcpus",
        "burn",
        "pct",
        "dirty",
        "kind",
        "kvm-load",
        "disk",
        "kvm-disk",
        "size",
        "fill",
    ],
)
def test_bad_specs_are_refused(fields: dict[str, object], problem: str) -> None:
    with pytest.raises(LabError, match=problem):
        GuestSpec(**{"name": "g", **fields})  # type: ignore[arg-type]


def test_spec_json_round_trip() -> None:
    spec = GuestSpec("g", 256, 2, 1, 50, 16, "tcg", "h2")
    assert GuestSpec.from_json(spec.to_json()) == spec


HOSTS = ["h1", "h2", "h3", "h4"]


@pytest.mark.parametrize(
    ("count", "skewed", "per_host"),
    [
        (12, False, {"h1": 3, "h2": 3, "h3": 3, "h4": 3}),
        (12, True, {"h1": 8, "h2": 2, "h3": 1, "h4": 1}),
        (3, True, {"h1": 2, "h2": 1}),
        (0, True, {}),
    ],
    ids=["even", "skewed", "skewed-small", "none"],
)
def test_default_guests_placement(count: int, skewed: bool, per_host: dict[str, int]) -> None:
    specs = default_guests(count, HOSTS, [], skewed)
    assert Counter(s.host for s in specs) == per_host
    assert [s.name for s in specs] == [f"g{i}" for i in range(1, count + 1)]
    assert all(128 <= s.memory_mib <= 512 and 1 <= s.vcpus <= 2 and s.kind == "tcg" for s in specs)


def test_only_skewed_labs_burn_cpu_and_only_on_the_first_host() -> None:
    assert not any(s.cpu_burn for s in default_guests(12, HOSTS, [], skewed=False))
    burners = [s for s in default_guests(12, HOSTS, [], skewed=True) if s.cpu_burn]
    assert [(s.host, s.cpu_burn, s.cpu_pct) for s in burners] == [("h1", 1, 30), ("h1", 1, 30)]


def test_default_guests_keep_memory_modest() -> None:
    assert sum(s.memory_mib for s in default_guests(12, HOSTS, [], skewed=True)) <= 4096


def test_a_local_disk_is_a_qcow2_file_and_its_init_writes_to_it() -> None:
    spec = GuestSpec("d1", disk="local", disk_write_kib=32)
    source = DiskSource(path="/var/lib/libvirt/images/d1.qcow2")
    dom = ET.fromstring(domain_xml(spec, "demo", KERNEL, INITRD, CONSOLE, source))
    disk = dom.find("devices/disk")
    assert disk is not None and disk.get("type") == "file"
    assert disk.find("driver").get("type") == "qcow2"  # type: ignore[union-attr]
    assert disk.find("source").get("file") == "/var/lib/libvirt/images/d1.qcow2"  # type: ignore[union-attr]
    assert disk.find("target").get("dev") == "vda"  # type: ignore[union-attr]
    assert "disk=32" in dom.findtext("os/cmdline", "").split()


def test_a_shared_disk_is_an_nbd_export_every_host_reaches_alike() -> None:
    spec = GuestSpec("d2", disk="shared")
    source = DiskSource(nbd_address="10.1.2.2", nbd_port=10810, nbd_export="d2")
    disk = ET.fromstring(domain_xml(spec, "demo", KERNEL, INITRD, CONSOLE, source)).find("devices/disk")
    assert disk is not None and disk.get("type") == "network"
    src = disk.find("source")
    assert src is not None and (src.get("protocol"), src.get("name")) == ("nbd", "d2")
    assert src.find("host").attrib == {"name": "10.1.2.2", "port": "10810"}  # type: ignore[union-attr]


def test_a_diskless_guest_does_not_touch_a_disk() -> None:
    assert "disk=0" in GuestSpec("g").cmdline.split()


@pytest.mark.parametrize(
    ("disks", "kinds"),
    [
        ("none", ["none"] * 4),
        ("local", ["local"] * 4),
        ("shared", ["shared"] * 4),
        ("mixed", ["local", "shared", "local", "shared"]),
    ],
)
def test_lab_disks_option_gives_each_default_guest_its_disk(disks: str, kinds: list[str]) -> None:
    assert [g.disk for g in default_guests(4, ["h1", "h2"], [], False, disks)] == kinds
    with pytest.raises(LabError, match="bad disks"):
        disk_kind("nfs", 0)
