"""Room on a host while migrations run: what a guest needs (memory, vCPUs, measured CPU) and what a host
may hold. A guest in flight counts on both hosts: its CPU too, as the CPU ceiling must hold whichever side
it runs on.

A host may hold up to its capacity — or, if it already holds more when the plan starts (an overcommitted
host being drained), up to what it holds now: a plan never makes a host worse than it found it. A
temporary hop lands only where the host stays within its capacity: a drained host over it takes none.
Every guest in the snapshot counts where it is, running or not, as the optimizer counts it.
"""

from __future__ import annotations

from dataclasses import dataclass

from planner.model import Cluster, Host, Vm


@dataclass(frozen=True, slots=True)
class Need:
    """An amount of the hard resources: memory (MiB), vCPUs and measured CPU (millicores)."""

    memory_mib: int = 0
    vcpus: int = 0
    cpu_millicores: int = 0

    def __add__(self, other: Need) -> Need:
        return Need(
            self.memory_mib + other.memory_mib,
            self.vcpus + other.vcpus,
            self.cpu_millicores + other.cpu_millicores,
        )

    def __sub__(self, other: Need) -> Need:
        return Need(
            self.memory_mib - other.memory_mib,
            self.vcpus - other.vcpus,
            self.cpu_millicores - other.cpu_millicores,
        )

    def fits_in(self, room: Need) -> bool:
        return (
            self.memory_mib <= room.memory_mib
            and self.vcpus <= room.vcpus
            and self.cpu_millicores <= room.cpu_millicores
        )

    @property
    def nothing_short(self) -> bool:
        """Whether this shortfall is none at all (no resource short)."""
        return self.fits_in(Need())


def need(vm: Vm) -> Need:
    return Need(vm.memory_mib, vm.vcpus, vm.cpu_demand_millicores)


def usage(cluster: Cluster) -> dict[str, Need]:
    """What each host holds at the plan's start."""
    out = {h.name: Need() for h in cluster.hosts}
    for vm in cluster.vms:
        out[vm.host] = out.get(vm.host, Need()) + need(vm)
    return out


def capacity(host: Host) -> Need:
    """What `host` may hold by its capacity alone."""
    return Need(host.memory_capacity_mib, host.vcpu_capacity, host.cpu_capacity_millicores)


def limits(cluster: Cluster) -> dict[str, Need]:
    """What each host may hold at any moment: its capacity, or what it holds now if that is more."""
    used = usage(cluster)
    out = {}
    for h in cluster.hosts:
        now, cap = used[h.name], capacity(h)
        out[h.name] = Need(
            max(cap.memory_mib, now.memory_mib),
            max(cap.vcpus, now.vcpus),
            max(cap.cpu_millicores, now.cpu_millicores),
        )
    return out
