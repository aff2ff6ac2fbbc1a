"""Storage migration: the destination's copies of a guest's local disks, before and after the move.

Before: each disk the migration copies gets an empty image on the destination, created through the
destination's storage API (the pool whose directory holds the disk's path) with the source's format and
exact size, read from the source's blockInfo. libvirt would pre-create it only inside a pool too; doing it
here means we know which images we made. A file already at that path on the destination is refused (the
copy would overwrite it).

After a failed or aborted migration the guest runs on its source with its disks untouched (a storage
migration writes only to the destination), and the half-written images we created are deleted. After a
verified move the source's images stay, listed for a person, unless execute.remove_source_disks is set:
then they are deleted through the source's storage API.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from collectors.seam import Connection, Domain, StorageVol, VirtError
from planner.model import Disk
from planner.plan import Migration, Plan

MIB = 1 << 20


class StorageError(Exception):
    """The destination cannot take a disk: no pool for its directory, or a file already there."""


@dataclass(frozen=True, slots=True)
class Copy:
    """A destination image created for one disk of a migration."""

    disk: Disk
    volume: StorageVol


def copied_disks(m: Migration, plan: Plan) -> tuple[Disk, ...]:
    """The guest's local disks the migration copies, as the snapshot describes them."""
    vm = plan.snapshot.vm_by_uuid.get(m.vm_uuid)
    disks = {d.target: d for d in (vm.disks if vm else ())}
    return tuple(disks[t] for t in m.disks if t in disks)


def create_copies(disks: Sequence[Disk], dom: Domain, dest: Connection, dest_name: str) -> list[Copy]:
    """An empty image per disk on the destination; on any failure the ones made so far are deleted."""
    made: list[Copy] = []
    try:
        for disk in disks:
            made.append(Copy(disk, _create(disk, int(dom.blockInfo(disk.target, 0)[0]), dest, dest_name)))
    except (VirtError, StorageError):
        remove_copies(made)
        raise
    return made


def _create(disk: Disk, capacity: int, dest: Connection, dest_name: str) -> StorageVol:
    try:
        dest.storageVolLookupByPath(disk.source)
    except VirtError:  # no such volume: the path is free
        pass
    else:
        raise StorageError(
            f"{disk.source} already exists on {dest_name}; the copy of {disk.target} would overwrite it"
        )
    directory, name = posixpath.split(disk.source)
    try:
        pool = dest.storagePoolLookupByTargetPath(directory)
    except VirtError as exc:
        raise StorageError(
            f"{dest_name} has no storage pool for {directory} to copy {disk.target} into: {exc}"
        ) from exc
    xml = (
        f"<volume><name>{escape(name)}</name><capacity unit='bytes'>{capacity}</capacity>"
        f"<allocation unit='bytes'>0</allocation><target><format type='{escape(disk.format)}'/></target></volume>"
    )
    return pool.createXML(xml, 0)


def remove_copies(copies: Sequence[Copy]) -> list[str]:
    """Delete the destination images (a failed copy's half-written disks); what could not be deleted."""
    left = []
    for copy in copies:
        try:
            copy.volume.delete(0)
        except VirtError as exc:  # a person must remove it
            left.append(f"{copy.disk.source} ({exc})")
    return left


def settle_source(disks: Sequence[Disk], source: Connection, source_name: str, remove: bool) -> list[str]:
    """After a verified move: delete the source's images (`remove`), else list them for a person."""
    if not disks:
        return []
    if not remove:
        paths = ", ".join(d.source for d in disks)
        return [f"source disk(s) left on {source_name}: {paths} (execute.remove_source_disks = false)"]
    notes = []
    for disk in disks:
        try:
            source.storageVolLookupByPath(disk.source).delete(0)
            notes.append(f"removed source disk {disk.source} on {source_name}")
        except VirtError as exc:
            notes.append(f"could not remove source disk {disk.source} on {source_name}: {exc}")
    return notes
