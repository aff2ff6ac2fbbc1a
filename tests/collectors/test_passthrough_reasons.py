"""Why a guest cannot migrate, read from its definition: each passed-through device named as the
operator will recognise it, also when libvirt's XML leaves out the parts we would quote."""

from __future__ import annotations

import pytest

from collectors.domain_xml import parse_domain


def domain(devices: str, memory: str = "<memory unit='MiB'>1024</memory>") -> str:
    return f"<domain type='kvm'><name>g</name><uuid>u</uuid>{memory}<devices>{devices}</devices></domain>"


@pytest.mark.parametrize(
    ("devices", "blocker"),
    [
        (
            "<hostdev mode='subsystem' type='pci'><source><address domain='0x0000' bus='0x3b' slot='0x00' "
            "function='0x1'/></source></hostdev>",
            "PCI device 0000:3b:00.1 is passed through",
        ),
        ("<hostdev mode='subsystem' type='pci'><source/></hostdev>", "PCI device ? is passed through"),
        (
            "<hostdev mode='subsystem' type='usb'><source><vendor id='0x046d'/><product id='0xc52b'/>"
            "</source></hostdev>",
            "USB device 046d:c52b is passed through",
        ),
        (
            "<hostdev mode='subsystem' type='usb'><source><address bus='1' device='4'/></source></hostdev>",
            "USB device bus 1 device 4 is passed through",
        ),
        ("<hostdev mode='subsystem' type='usb'><source/></hostdev>", "USB device ? is passed through"),
        (
            "<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source>"
            "<address uuid='c2177883-f1bb-47f0-914d-32a22e3a8804'/></source></hostdev>",
            "mediated device c2177883-f1bb-47f0-914d-32a22e3a8804 (vfio-pci) is passed through",
        ),
        ("<hostdev mode='subsystem' type='mdev'/>", "mediated device ? (mdev) is passed through"),
        ("<hostdev mode='capabilities' type='storage'/>", "host device of type storage is passed through"),
        ("<hostdev mode='capabilities'/>", "host device of type capabilities is passed through"),
        (
            "<interface type='hostdev'><source><address type='pci' domain='0' bus='0x5e' slot='0x10' "
            "function='0x2'/></source></interface>",
            "SR-IOV network function 0000:5e:10.2 is passed through",
        ),
        (
            "<filesystem type='mount'><source dir='/srv/share'/><target dir='share'/></filesystem>",
            "host directory is shared into the guest as share (filesystem passthrough)",
        ),
        ("<filesystem type='mount'/>", "host directory is shared into the guest as ? (filesystem passthrough)"),
    ],
    ids=[
        "pci", "pci-no-address", "usb-by-id", "usb-by-address", "usb-bare", "mdev", "mdev-bare",
        "other-hostdev", "hostdev-no-type", "sriov-nic", "virtiofs", "filesystem-no-target",
    ],
)  # fmt: skip
def test_passthrough_blocker(devices: str, blocker: str) -> None:
    assert parse_domain(domain(devices)).blockers == (blocker,)


@pytest.mark.parametrize(
    ("memory", "mib"),
    [
        ("<memory unit='GiB'>2</memory><currentMemory unit='MiB'>1024</currentMemory>", 2048),
        ("<currentMemory unit='MiB'>1536</currentMemory>", 1536),
        ("", 0),
    ],
    ids=["max-memory-wins", "only-current-memory", "no-memory"],
)
def test_memory_size_falls_back_to_current_memory(memory: str, mib: int) -> None:
    parsed = parse_domain(domain("", memory))
    assert (parsed.memory_mib, parsed.vcpus, parsed.blockers) == (mib, 1, ())
