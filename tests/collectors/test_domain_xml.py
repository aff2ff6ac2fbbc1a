"""Parsing recorded domain XML: sizes, the guest CPU definition, and every reason a guest cannot move."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from collectors.domain_xml import GuestCpu, parse_cpu, parse_domain

DATA = Path(__file__).parent / "data"


def load(name: str, **kw: object) -> object:
    return parse_domain((DATA / f"domain-{name}.xml").read_text(), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "domain_type", "vcpus", "memory_mib", "cpu"),
    [
        (
            "custom-skylake",
            "kvm",
            4,
            16384,
            GuestCpu("custom", "Skylake-Server-IBRS", "Intel", ("+pdpe1gb", "+ss", "-hle", "-rtm")),
        ),
        (
            "host-model-epyc",
            "kvm",
            2,
            4096,
            GuestCpu(
                "host-model", "EPYC-Rome", "AMD", ("+hypervisor", "+tsc-deadline", "+x2apic", "+xsaves")
            ),
        ),
        ("passthrough-gpu", "kvm", 16, 65536, GuestCpu("host-passthrough")),
        (
            "tcg-qemu64",
            "qemu",
            1,
            256,
            GuestCpu("custom", "qemu64", None, ("+hypervisor", "+lahf_lm", "+x2apic", "-svm")),
        ),
    ],
    ids=["custom-skylake", "host-model-epyc", "passthrough", "tcg-qemu64"],
)
def test_sizes_and_cpu(name: str, domain_type: str, vcpus: int, memory_mib: int, cpu: GuestCpu) -> None:
    d = load(name)
    assert (d.domain_type, d.vcpus, d.memory_mib, d.cpu) == (domain_type, vcpus, memory_mib, cpu)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "kw", "expected"),
    [
        ("custom-skylake", {}, []),
        ("tcg-qemu64", {}, []),
        (
            "host-model-epyc",
            {},
            ["disk vda (/var/lib/libvirt/images/web-3.qcow2)", "disk vdb (/mnt/nfs/vms/web-3-data.img)"],
        ),
        ("host-model-epyc", {"shared_paths": ("/mnt/nfs/",)}, ["disk vda (/var/lib/libvirt/images/"]),
        ("host-model-epyc", {"storage_migration": True}, []),
        (
            "passthrough-gpu",
            {"storage_migration": True},
            [
                "PCI device 0000:3b:00.0 is passed through",
                "USB device 0529:0001 is passed through",
                "mediated device c2177883-f1bb-47f0-914d-32a22e3a8804 (vfio-pci) is passed through",
                "SR-IOV network function 0000:5e:10.2 is passed through",
            ],
        ),
        ("passthrough-gpu", {"shared_paths": ("/dev/mapper/",)}, ["PCI", "USB", "mediated", "SR-IOV"]),
        ("passthrough-gpu", {}, ["PCI", "USB", "mediated", "SR-IOV", "disk vda (/dev/mapper/mpatha)"]),
    ],
    ids=[
        "network-disk-and-empty-cdrom",
        "direct-kernel-boot",
        "local-and-nfs-disks",
        "nfs-declared-shared",
        "storage-migration",
        "pci-usb-mdev-sriov",
        "multipath-declared-shared",
        "local-block-device",
    ],
)
def test_blockers(name: str, kw: dict[str, object], expected: list[str]) -> None:
    blockers = load(name, **kw).blockers  # type: ignore[attr-defined]
    assert (
        len(blockers) == len(expected) if name != "passthrough-gpu" or kw.get("storage_migration") else True
    )
    for want in expected:
        assert any(b.startswith(want) for b in blockers), (want, blockers)


def test_local_disk_reason_says_what_to_do() -> None:
    (reason, *_) = load("host-model-epyc").blockers  # type: ignore[attr-defined]
    assert "collect.shared_paths" in reason and "collect.storage_migration" in reason


@pytest.mark.parametrize(
    ("xml", "expected"),
    [
        (None, GuestCpu("custom", "qemu64")),
        (
            "<cpu mode='custom'><topology sockets='1' cores='2' threads='1'/></cpu>",
            GuestCpu("custom", "qemu64"),
        ),
        ("<cpu mode='host-model'/>", GuestCpu("host-model")),
        (
            "<cpu><model>Broadwell</model><feature policy='forbid' name='rtm'/></cpu>",
            GuestCpu("custom", "Broadwell", None, ("-rtm",)),
        ),
    ],
    ids=["no-cpu-element", "topology-only", "host-model-unexpanded", "forbid-is-disabled"],
)
def test_parse_cpu(xml: str | None, expected: GuestCpu) -> None:
    assert parse_cpu(None if xml is None else ET.fromstring(xml)) == expected


@pytest.mark.parametrize(
    ("cpu", "comparable"),
    [
        (GuestCpu("custom", "qemu64"), True),
        (GuestCpu("host-model", "EPYC-Rome"), True),
        (GuestCpu("host-model"), False),
        (GuestCpu("host-passthrough"), False),
    ],
    ids=["custom", "host-model-expanded", "host-model-unexpanded", "passthrough"],
)
def test_comparable(cpu: GuestCpu, comparable: bool) -> None:
    assert cpu.comparable is comparable


def test_compare_xml_is_a_custom_cpu_with_policies() -> None:
    xml = GuestCpu("host-model", "EPYC-Rome", "AMD", ("+x2apic", "-svm")).compare_xml()
    cpu = ET.fromstring(xml)
    assert cpu.get("mode") == "custom" and cpu.findtext("model") == "EPYC-Rome"
    assert [(f.get("policy"), f.get("name")) for f in cpu.iter("feature")] == [
        ("require", "x2apic"),
        ("disable", "svm"),
    ]


@pytest.mark.parametrize(
    ("unit", "value", "mib"),
    [("KiB", 262144, 256), ("MiB", 512, 512), ("GiB", 2, 2048), ("b", 2**30, 1024), ("G", 1, 1024)],
    ids=["KiB", "MiB", "GiB", "bytes", "G"],
)
def test_memory_units(unit: str, value: int, mib: int) -> None:
    xml = f"<domain type='kvm'><name>x</name><uuid>u</uuid><memory unit='{unit}'>{value}</memory></domain>"
    assert parse_domain(xml).memory_mib == mib
