"""A guest's disks from its XML and bulk block stats: shared or local, size, allocation, write rate."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest

from collectors.disks import is_under, parse_disks, with_block_stats
from collectors.domain_xml import parse_domain
from planner.model import Disk

XML = """<domain type='kvm'><name>g</name><uuid>u</uuid><memory unit='MiB'>128</memory><devices>
  <disk type='file' device='disk'><driver name='qemu' type='qcow2'/>
    <source file='/var/lib/libvirt/images/g.qcow2'/><target dev='vda' bus='virtio'/></disk>
  <disk type='file' device='disk'><driver name='qemu' type='raw'/>
    <source file='/mnt/nfs/g-data.img'/><target dev='vdb' bus='virtio'/></disk>
  <disk type='network' device='disk'><driver name='qemu' type='raw'/>
    <source protocol='nbd' name='g'><host name='10.0.0.2' port='10809'/></source><target dev='vdc'/></disk>
  <disk type='block' device='disk'><source dev='/dev/vg0/g-swap'/><target dev='vdd'/></disk>
  <disk type='file' device='cdrom'><source file='/srv/iso/install.iso'/><target dev='sda'/><readonly/></disk>
  <disk type='file' device='cdrom'><target dev='sdb'/><readonly/></disk>
</devices></domain>"""


def test_disks_from_xml_shared_or_local() -> None:
    disks = parse_disks(ET.fromstring(XML), ("/mnt/nfs",))
    assert disks == (
        Disk("vda", "/var/lib/libvirt/images/g.qcow2", shared=False, format="qcow2"),
        Disk("vdb", "/mnt/nfs/g-data.img", shared=True, format="raw"),
        Disk("vdc", "nbd://10.0.0.2:10809/g", shared=True, format="raw"),
        Disk("vdd", "/dev/vg0/g-swap", shared=False, format="raw"),
    )


@pytest.mark.parametrize(
    ("path", "prefixes", "under"),
    [
        ("/mnt/nfs/x", ("/mnt/nfs",), True),
        ("/mnt/nfs/x", ("/mnt/nfs/",), True),
        ("/mnt/nfs2/x", ("/mnt/nfs",), False),
        ("/mnt/nfs", ("/mnt/nfs",), True),
        ("/mnt/nfs/../local/x", ("/mnt/nfs",), False),
        ("/srv/a/b", ("/mnt/nfs", "/srv"), True),
        ("/srv/a/b", ("/",), True),
        ("/srv/a/b", (), False),
    ],
    ids=["inside", "trailing-slash", "sibling-prefix", "itself", "dot-dot", "second", "root", "none"],
)
def test_shared_paths_match_whole_components(path: str, prefixes: tuple[str, ...], under: bool) -> None:
    assert is_under(path, prefixes) is under


def test_local_disks_block_migration_only_without_storage_migration() -> None:
    blockers = parse_domain(XML, storage_migration=False, shared_paths=("/mnt/nfs",)).blockers
    assert [b.split(" (")[0] for b in blockers] == ["disk vda", "disk vdd"]
    assert parse_domain(XML, storage_migration=True, shared_paths=("/mnt/nfs",)).blockers == ()
    nfs2 = XML.replace("/mnt/nfs/g-data.img", "/mnt/nfs2/g-data.img")
    assert "disk vdb (/mnt/nfs2/g-data.img)" in " ".join(parse_domain(nfs2, False, ("/mnt/nfs",)).blockers)


def test_block_stats_give_size_allocation_and_write_rate() -> None:
    disks = (Disk("vda", "/i/g.qcow2", False, "qcow2"), Disk("vdc", "nbd://h:1/g", True))
    first = {"block.count": 2, "block.0.name": "vda", "block.0.wr.bytes": 1 << 20, "block.1.name": "vdc"}
    second = {
        "block.count": 2,
        "block.0.name": "vda",
        "block.0.capacity": 64 << 20,
        "block.0.allocation": 1 << 20,
        "block.0.physical": (24 << 20) + 4096,
        "block.0.wr.bytes": (1 << 20) + 200 * 1024,
        "block.1.name": "vdc",
        "block.1.capacity": 64 << 20,
    }
    vda, vdc = with_block_stats(disks, first, second, 2.0)
    assert (vda.capacity_mib, vda.allocation_mib, vda.write_kibps) == (64, 25, 100)
    assert (vdc.capacity_mib, vdc.allocation_mib, vdc.write_kibps) == (64, 0, 0)


def test_allocation_never_exceeds_capacity_and_missing_rows_keep_the_disk() -> None:
    disk = Disk("vda", "/i/g.raw", False)
    row = {
        "block.count": 1,
        "block.0.name": "vda",
        "block.0.capacity": 32 << 20,
        "block.0.physical": 40 << 20,
    }
    assert with_block_stats((disk,), None, row, 1.0)[0].allocation_mib == 32
    assert with_block_stats((disk,), None, {}, 1.0) == (disk,)


def test_free_storage_is_the_named_pools_available_space() -> None:
    from collectors.disks import storage_free_mib
    from tests.fakes.storage import FakePool
    from tests.fakes.world import FakeWorld

    world = FakeWorld()
    world.add_host("h1").pools.append(FakePool(free_mib=500))
    world.add_host("h2")
    assert storage_free_mib(world.open(world.hosts["h1"].uri), "default") == 500
    assert storage_free_mib(world.open(world.hosts["h1"].uri), "other") is None
    assert storage_free_mib(world.open(world.hosts["h2"].uri), "default") is None
