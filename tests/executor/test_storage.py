"""Storage migration in the executor: flags and disks named, destination copies made and cleaned up,
source disks kept or removed, progress that counts the disk copy."""

from __future__ import annotations

import dataclasses

import libvirt
import pytest

from executor.options import migrate_call
from executor.settings import Destination
from executor.storage import StorageError, copied_disks, create_copies, remove_copies, settle_source
from executor.watch import sample
from planner.model import Disk
from planner.policy import Budgets
from tests.builders import make_cluster, make_host, make_migration, make_vm
from tests.executor.test_options import settings
from tests.fakes.storage import MIB, FakePool, FakeVol
from tests.fakes.world import FakeWorld

DEST = Destination(name="h2", uri="qemu+ssh://h2/system", migration_uri="tcp://10.0.0.2")
IMAGES = "/var/lib/libvirt/images"
VDA = Disk("vda", f"{IMAGES}/db.qcow2", False, "qcow2", 64, 25)
NBD = Disk("vdb", "nbd://10.0.0.9:10809/db", True, "raw", 64, 64)
MOVE = make_migration(
    vm_name="db",
    bandwidth_mibps=30,
    disks=("vda",),
    disk_mib=25,
)


def test_local_disks_are_copied_by_name_under_the_bandwidth_cap() -> None:
    call = migrate_call(MOVE, settings(), Budgets(), DEST)
    assert call.flags & libvirt.VIR_MIGRATE_NON_SHARED_DISK
    assert not call.flags & libvirt.VIR_MIGRATE_NON_SHARED_INC
    assert call.params[libvirt.VIR_MIGRATE_PARAM_MIGRATE_DISKS] == ["vda"]
    assert call.params[libvirt.VIR_MIGRATE_PARAM_BANDWIDTH] == 30
    plain = migrate_call(dataclasses.replace(MOVE, disks=(), disk_mib=0), settings(), Budgets(), DEST)
    assert not plain.flags & libvirt.VIR_MIGRATE_NON_SHARED_DISK
    assert libvirt.VIR_MIGRATE_PARAM_MIGRATE_DISKS not in plain.params


def test_the_plan_names_the_disks_to_copy() -> None:
    vm = make_vm("db", host="h1", uuid="u1", disks=(VDA, NBD))
    plan = type("P", (), {"snapshot": make_cluster([make_host("h1")], [vm])})()
    assert copied_disks(MOVE, plan) == (VDA,)  # type: ignore[arg-type]


def _hosts() -> tuple[FakeWorld, FakePool, FakePool]:
    world = FakeWorld()
    src, dst = FakePool(), FakePool()
    world.add_host("h1").pools.append(src)
    world.add_host("h2").pools.append(dst)
    world.add_domain("h1", "db", disk_bytes={"vda": 64 * MIB})
    src.volumes[VDA.source] = FakeVol(src, VDA.source, 64 * MIB, 25 * MIB, "qcow2")
    return world, src, dst


def test_destination_copy_has_the_sources_format_and_exact_size_and_is_removed_after_a_failure() -> None:
    world, _, dst = _hosts()
    dom = next(iter(world.hosts["h1"].domains.values()))
    (copy,) = create_copies([VDA], dom, world.open(world.hosts["h2"].uri), "h2")
    vol = dst.volumes[VDA.source]
    assert (vol.capacity, vol.allocation, vol.format) == (64 * MIB, 0, "qcow2")
    assert remove_copies([copy]) == [] and VDA.source not in dst.volumes


@pytest.mark.parametrize("problem", ["no-pool", "file-in-the-way", "create-fails"])
def test_a_destination_that_cannot_take_the_copy_is_refused_and_leaves_nothing(problem: str) -> None:
    world, _, dst = _hosts()
    dom = next(iter(world.hosts["h1"].domains.values()))
    other = Disk("vdc", f"{IMAGES}/db-data.qcow2", False, "qcow2", 64, 1)
    dom.disk_bytes["vdc"] = 64 * MIB
    if problem == "no-pool":
        dst.target = "/srv/elsewhere"
    elif problem == "file-in-the-way":
        dst.volumes[other.source] = FakeVol(dst, other.source, MIB)
    else:
        dst.fail.add("createXML")
    with pytest.raises(Exception) as caught:
        create_copies([VDA, other], dom, world.open(world.hosts["h2"].uri), "h2")
    if problem != "create-fails":
        assert isinstance(caught.value, StorageError)
    assert VDA.source not in dst.volumes  # the first copy was made, then removed


def test_source_disks_are_kept_and_listed_unless_removal_is_asked_for() -> None:
    world, src, _ = _hosts()
    conn = world.open(world.hosts["h1"].uri)
    (kept,) = settle_source([VDA], conn, "h1", remove=False)
    assert VDA.source in kept and "remove_source_disks = false" in kept and VDA.source in src.volumes
    (removed,) = settle_source([VDA], conn, "h1", remove=True)
    assert removed.startswith("removed source disk") and VDA.source not in src.volumes
    assert settle_source([], conn, "h1", remove=True) == []


def test_progress_counts_the_disk_copy() -> None:
    stats = {
        "type": libvirt.VIR_DOMAIN_JOB_UNBOUNDED,
        "disk_total": 25 * MIB,
        "disk_processed": 10 * MIB,
        "disk_remaining": 15 * MIB,
        "disk_bps": 5 * MIB,
        "memory_total": 128 * MIB,
        "memory_remaining": 128 * MIB,
    }
    s = sample(stats, 2.0)
    assert s is not None
    assert (s.total_mib, s.processed_mib, s.remaining_mib, s.rate_mibps) == (153, 10, 143, 5)
