"""In-memory storage for FakeHost: one directory pool with volumes by path (the seam's StoragePool/Vol)."""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field

from collectors.seam import VirtError

MIB = 1 << 20


@dataclass
class FakeVol:
    pool: FakePool
    vol_path: str
    capacity: int
    allocation: int = 0
    format: str = "raw"

    def path(self) -> str:
        return self.vol_path

    def info(self) -> list[int]:
        return [0, self.capacity, self.allocation]

    def delete(self, flags: int = 0) -> int:
        self.pool.volumes.pop(self.vol_path, None)
        return 0


@dataclass
class FakePool:
    """A directory pool: `target` holds the volumes; `free_mib` is what the filesystem has left."""

    pool_name: str = "default"
    target: str = "/var/lib/libvirt/images"
    free_mib: int = 10240
    volumes: dict[str, FakeVol] = field(default_factory=dict)
    fail: set[str] = field(default_factory=set)  # method names that raise VirtError

    def name(self) -> str:
        return self.pool_name

    def info(self) -> list[int]:
        used = sum(v.allocation for v in self.volumes.values())
        return [2, self.free_mib * MIB + used, used, self.free_mib * MIB - used]

    def refresh(self, flags: int = 0) -> int:
        return 0

    def XMLDesc(self, flags: int = 0) -> str:
        return f"<pool type='dir'><name>{self.pool_name}</name><target><path>{self.target}</path></target></pool>"

    def createXML(self, xmlDesc: str, flags: int = 0) -> FakeVol:
        if "createXML" in self.fail:
            raise VirtError("internal error: cannot create volume")
        name = re.search(r"<name>([^<]+)</name>", xmlDesc)
        capacity = re.search(r"<capacity[^>]*>(\d+)</capacity>", xmlDesc)
        fmt = re.search(r"<format type='([^']+)'", xmlDesc)
        if name is None or capacity is None:
            raise VirtError("XML error: a volume needs a name and a capacity")
        path = posixpath.join(self.target, name.group(1))
        if path in self.volumes:
            raise VirtError(f"storage volume '{name.group(1)}' exists already")
        vol = FakeVol(self, path, int(capacity.group(1)), 0, fmt.group(1) if fmt else "raw")
        self.volumes[path] = vol
        return vol

    def storageVolLookupByName(self, name: str) -> FakeVol:
        return self.lookup(posixpath.join(self.target, name))

    def lookup(self, path: str) -> FakeVol:
        vol = self.volumes.get(path)
        if vol is None:
            raise VirtError(f"Storage volume not found: no storage vol with matching path '{path}'")
        return vol
