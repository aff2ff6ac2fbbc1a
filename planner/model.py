"""The cluster model: frozen, typed values in integer units (MiB, MiB/s, millicores).

A `Cluster` is one snapshot of a libvirt cluster: its hosts, its guests, which hosts can run which guest
CPU signature (decided by libvirt's compareHypervisorCPU at collection time) and the operator's rules.
The planner reads it and never changes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Literal

#: 2: guests' disks (Vm.disks) and hosts' free storage (Host.storage_free_mib); version 1 files still read
#: (their guests have no disks listed and their hosts no storage figure).
SCHEMA_VERSION = 2

#: A placement maps a guest's UUID to the name of the host it runs on.
Placement = Mapping[str, str]


class HostState(StrEnum):
    ACTIVE = "active"
    MAINTENANCE = "maintenance"
    UNREACHABLE = "unreachable"
    EXCLUDED = "excluded"


class VmState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"
    SHUTOFF = "shutoff"
    OTHER = "other"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Host:
    """A libvirt host. Capacities are derived from the raw sizes, reserves and overcommit ratios."""

    name: str
    uri: str
    cpus: int
    memory_mib: int
    migration_uri: str | None = None
    reserved_memory_mib: int = 0
    reserved_millicores: int = 0
    cpu_overcommit: float = 4.0
    memory_overcommit: float = 1.0
    cpu_ceiling_pct: int = 85
    nic_mibps: int = 1192
    state: HostState = HostState.ACTIVE
    error: str | None = None
    domain_types: tuple[str, ...] = ("kvm", "qemu")
    cpu_vendor: str | None = None
    cpu_model: str | None = None
    cpu_features: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    #: Free space where local disks would be created (its storage pool), None when unknown.
    storage_free_mib: int | None = None
    reserved_storage_mib: int = 0

    @property
    def storage_capacity_mib(self) -> int | None:
        """Local-disk space arriving guests may take: free space - reserve (None: unknown, so none)."""
        if self.storage_free_mib is None:
            return None
        return max(0, self.storage_free_mib - self.reserved_storage_mib)

    @property
    def memory_capacity_mib(self) -> int:
        """Memory guests may use: (physical - reserve) x memory overcommit."""
        return int((self.memory_mib - self.reserved_memory_mib) * self.memory_overcommit)

    @property
    def vcpu_capacity(self) -> int:
        """vCPUs guests may be given: CPUs x vCPU overcommit."""
        return int(self.cpus * self.cpu_overcommit)

    @property
    def cpu_capacity_millicores(self) -> int:
        """Measured CPU guests may use: (CPUs x 1000 - reserve) x the ceiling."""
        return (self.cpus * 1000 - self.reserved_millicores) * self.cpu_ceiling_pct // 100

    @property
    def accepts_guests(self) -> bool:
        return self.state is HostState.ACTIVE


@dataclass(frozen=True, slots=True)
class Disk:
    """One disk of a guest. A local disk is copied by a live migration (its allocation); a shared one
    (a network disk, or a file under collect.shared_paths) stays where it is."""

    target: str  # the guest's device name, e.g. vda
    source: str  # its file path, or protocol://host:port/name for a network disk
    shared: bool
    format: str = "raw"  # the image format, e.g. qcow2 (the destination's copy is created alike)
    capacity_mib: int = 0
    allocation_mib: int = 0
    write_kibps: int = 0  # what the guest writes to it, KiB/s (two bulk readings apart)


@dataclass(frozen=True, slots=True)
class GuestRules:
    """Rules a guest carries in its libvirt <metadata> (collectors.guest_metadata reads them; the jobs
    merge them with the config's). Host groups and rule names as written; `problems` says what could not
    be read (a guest with problems is not moved)."""

    ignore: bool = False
    pin: tuple[str, ...] = ()  # host groups it may run on
    affinity: tuple[str, ...] = ()  # names of groups kept on one host
    anti_affinity: tuple[str, ...] = ()  # names of groups kept on different hosts
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Vm:
    """A guest. `host` is where it runs now; `cpu_signature` keys `Cluster.compatibility`."""

    uuid: str
    name: str
    host: str
    vcpus: int
    memory_mib: int
    state: VmState = VmState.RUNNING
    cpu_millicores: int = 0
    cpu_p95_millicores: int | None = None
    memory_used_mib: int | None = None
    dirty_rate_mibps: int = 0
    domain_type: str = "kvm"
    cpu_signature: str = ""
    migratable: bool = True
    unmigratable_reason: str | None = None
    disks: tuple[Disk, ...] = ()
    rules: GuestRules | None = None  # from its <metadata>; None when it carries none

    @property
    def local_disks(self) -> tuple[Disk, ...]:
        """The disks a migration of this guest copies."""
        return tuple(d for d in self.disks if not d.shared)

    @property
    def local_disk_mib(self) -> int:
        """What a migration copies and the destination must hold: its local disks' allocation."""
        return sum(d.allocation_mib for d in self.disks if not d.shared)

    @property
    def disk_write_kibps(self) -> int:
        """What the guest writes to its local disks, which a copy in flight must also carry."""
        return sum(d.write_kibps for d in self.disks if not d.shared)

    @property
    def cpu_demand_millicores(self) -> int:
        """CPU the planner balances: the window's p95 when recorded, else the mean."""
        return self.cpu_p95_millicores if self.cpu_p95_millicores is not None else self.cpu_millicores


@dataclass(frozen=True, slots=True)
class CpuSignature:
    """A distinct guest CPU definition (mode, model, features) under one domain type."""

    key: str
    domain_type: str
    mode: str
    model: str | None = None
    vendor: str | None = None
    features: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PlacementRule:
    """An operator's rule over guests (by name) and hosts (host groups already expanded to names).

    kind: affinity (together), anti-affinity (apart), pin (only on `hosts`), avoid (never on `hosts`).
    A hard rule must hold; a soft one costs `weight` per guest that breaks it.
    """

    kind: Literal["affinity", "anti-affinity", "pin", "avoid"]
    name: str
    vms: tuple[str, ...]
    hosts: tuple[str, ...] = ()
    hard: bool = True
    weight: int = 10


@dataclass(frozen=True)
class Cluster:
    """One snapshot of a cluster, as collected (or generated)."""

    hosts: tuple[Host, ...]
    vms: tuple[Vm, ...]
    compatibility: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    cpu_signatures: tuple[CpuSignature, ...] = ()
    rules: tuple[PlacementRule, ...] = ()
    collected_at: str = ""
    source: str = ""
    window: str = "instant"
    baseline_cpu: str | None = None
    schema_version: int = SCHEMA_VERSION
    #: What the collection could not see, for a person (e.g. an unreachable host's guests not listed).
    notes: tuple[str, ...] = ()

    @cached_property
    def host_by_name(self) -> dict[str, Host]:
        return {h.name: h for h in self.hosts}

    @cached_property
    def vm_by_uuid(self) -> dict[str, Vm]:
        return {v.uuid: v for v in self.vms}

    @cached_property
    def vm_by_name(self) -> dict[str, Vm]:
        return {v.name: v for v in self.vms}

    @cached_property
    def placement(self) -> dict[str, str]:
        """The current placement: guest UUID -> host name."""
        return {v.uuid: v.host for v in self.vms}

    @cached_property
    def _compatible_sets(self) -> dict[str, frozenset[str]]:
        return {sig: frozenset(hosts) for sig, hosts in self.compatibility.items()}

    def can_run(self, vm: Vm, host: Host) -> bool:
        """Whether `host` can run `vm`'s CPU signature, as libvirt decided. Unknown signature: own host only."""
        allowed = self._compatible_sets.get(vm.cpu_signature)
        if allowed is None:
            return host.name == vm.host
        return host.name in allowed

    def vms_on(self, placement: Placement) -> dict[str, list[Vm]]:
        """Guests per host under `placement` (every host present, possibly empty)."""
        out: dict[str, list[Vm]] = {h.name: [] for h in self.hosts}
        for vm in self.vms:
            out.setdefault(placement.get(vm.uuid, vm.host), []).append(vm)
        return out
