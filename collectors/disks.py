"""A guest's disks (from its XML and the bulk block stats) and a host's free storage (its pool, over libvirt).

A disk is shared when libvirt itself does not copy it in a migration: a network disk (nbd, rbd, iscsi,
gluster...) or a file under one of collect.shared_paths, matched by whole path components ("/mnt/nfs"
covers "/mnt/nfs/a" but not "/mnt/nfs2/a"). Every other disk with a source is local: a live migration
must copy it. Read-only disks and empty drives are not listed (nothing is written to them, nothing copied).

Bulk stats (VIR_DOMAIN_STATS_BLOCK) give, per disk N: block.N.name (the target), block.N.capacity,
block.N.allocation (for a running guest: only the highest offset written since it started),
block.N.physical (for a file: the space its image takes, which is what a copy reads) and block.N.wr.bytes,
whose growth between the collection's two readings is the disk's write rate. The allocation is the larger
of the two, at most the capacity.
"""

from __future__ import annotations

import posixpath
from dataclasses import replace
from typing import Any
from xml.etree import ElementTree as ET

from collectors.seam import Connection, VirtError
from planner.model import Disk

MIB = 1 << 20


def parse_disks(root: ET.Element, shared_paths: tuple[str, ...]) -> tuple[Disk, ...]:
    """The writable disks with a source in a domain's XML, shared or local."""
    out = []
    for disk in root.findall("devices/disk"):
        source = disk.find("source")
        if source is None or disk.find("readonly") is not None or disk.get("device") in ("cdrom", "floppy"):
            continue
        target = disk.find("target")
        driver = disk.find("driver")
        fmt = (driver.get("type") if driver is not None else None) or "raw"
        dev = (target.get("dev") if target is not None else None) or "?"
        if disk.get("type") == "network":
            host = source.find("host")
            where = f"{host.get('name', '')}:{host.get('port', '')}" if host is not None else ""
            name = f"{source.get('protocol', 'network')}://{where}/{source.get('name', '')}"
            out.append(Disk(target=dev, source=name, shared=True, format=fmt))
            continue
        path = source.get("file") or source.get("dev") or source.get("dir") or source.get("volume")
        if path:
            out.append(Disk(target=dev, source=path, shared=is_under(path, shared_paths), format=fmt))
    return tuple(out)


def is_under(path: str, prefixes: tuple[str, ...]) -> bool:
    """Whether the path lies in one of the directories, component by component."""
    norm = posixpath.normpath(path)
    for prefix in prefixes:
        top = posixpath.normpath(prefix)
        if norm == top or norm.startswith(top.rstrip("/") + "/"):
            return True
    return False


def with_block_stats(
    disks: tuple[Disk, ...], before: dict[str, Any] | None, after: dict[str, Any], seconds: float
) -> tuple[Disk, ...]:
    """The disks with capacity and allocation from the second reading, the write rate from both."""
    now, then = _by_target(after), _by_target(before or {})
    out = []
    for disk in disks:
        row = now.get(disk.target)
        if row is None:
            out.append(disk)
            continue
        capacity = int(row.get("capacity", 0))
        allocation = max(int(row.get("allocation", 0)), int(row.get("physical", 0)))
        written = int(row.get("wr.bytes", 0)) - int(
            then.get(disk.target, {}).get("wr.bytes", row.get("wr.bytes", 0))
        )
        rate = max(0, written) / 1024 / seconds if seconds > 0 else 0
        out.append(
            replace(
                disk,
                capacity_mib=-(-capacity // MIB),
                allocation_mib=-(-min(allocation, capacity or allocation) // MIB),
                write_kibps=round(rate),
            )
        )
    return tuple(out)


def _by_target(stats: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """block.N.<field> rows keyed by block.N.name."""
    out: dict[str, dict[str, Any]] = {}
    for i in range(int(stats.get("block.count", 0))):
        prefix = f"block.{i}."
        row = {k.removeprefix(prefix): v for k, v in stats.items() if k.startswith(prefix)}
        if "name" in row:
            out[str(row["name"])] = row
    return out


def storage_free_mib(conn: Connection, pool: str) -> int | None:
    """Free space in the host's storage pool where local disks are created, refreshed first; None when
    the host has no such pool (then nothing can be copied to it)."""
    try:
        found = conn.storagePoolLookupByName(pool)
        found.refresh(0)
        available = int(found.info()[3])  # [state, capacity, allocation, available]
    except VirtError:  # no such pool, or it is not active: no storage known there
        return None
    return available // MIB
