"""A host takes guests with local disks only while their copies fit its free storage.

A migration copies a guest's local disks (their allocation) into the destination's storage pool, so a
host may receive such guests only while the sum of what they bring stays within its free pool space
less its reserve (`Host.storage_capacity_mib`). A host whose storage is unknown (no pool answered)
receives none. Guests already on a host are in its free-space figure; what leaving guests free on their
source is not counted (their source images are kept until someone removes them).

Guests without local disks are not concerned. Each guest alone: a host too small for its disks is barred
(so an evacuation names this rule for a guest that fits nowhere); together: the encoding and the check
bound the sum over every arriving guest. Such a guest takes no temporary hop in a schedule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, ClassVar

from planner.model import Cluster, Placement, Vm
from planner.policy import Policy
from planner.rules.rule import Hop, Rule, UnaryRule
from planner.violation import Violation

if TYPE_CHECKING:
    from planner.optimize.encoding import Encoding


def arriving_disk_mib(
    cluster: Cluster, placement: Placement, vms: Sequence[Vm] | None = None
) -> dict[str, int]:
    """Per host, the local-disk allocation of the guests (all, or `vms`) `placement` moves onto it."""
    out = dict.fromkeys(cluster.host_by_name, 0)
    for vm in cluster.vms if vms is None else vms:
        host = placement.get(vm.uuid, vm.host)
        if host != vm.host and host in out:
            out[host] += vm.local_disk_mib
    return out


@dataclass(frozen=True)
class StorageCapacity(UnaryRule):
    kind: ClassVar[str] = "StorageCapacity"
    #: Disk MiB already arriving per host from guests a neighbourhood does not see (see `within`).
    spent: tuple[tuple[str, int], ...] = ()
    _barred: dict[int, tuple[Cluster, dict[int, frozenset[str]]]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def describe(self) -> str:
        return "a host receives guests with local disks only while their copies fit its free storage"

    def applies_to(self, vm: Vm) -> bool:
        return bool(vm.local_disks)

    def subjects(self, cluster: Cluster) -> Sequence[Vm]:
        return [vm for vm in cluster.vms if self.applies_to(vm)]

    def barred(self, cluster: Cluster, vm: Vm) -> frozenset[str]:
        """Hosts whose storage cannot hold this guest's disks even alone (shared per disk size)."""
        hit = self._barred.get(id(cluster))
        if hit is None or hit[0] is not cluster:
            hit = (cluster, {})
            self._barred[id(cluster)] = hit
        need = vm.local_disk_mib
        found = hit[1].get(need)
        if found is None:
            found = frozenset(
                h.name
                for h in cluster.hosts
                if h.storage_capacity_mib is None or h.storage_capacity_mib < need
            )
            hit[1][need] = found
        return found

    def why_not(self, cluster: Cluster, vm: Vm, host: str) -> str:
        room = cluster.host_by_name[host].storage_capacity_mib
        where = "has no known storage pool" if room is None else f"has {room} MiB of storage free"
        return f"{host} {where}; {vm.name}'s local disks need {vm.local_disk_mib} MiB there"

    def room(self, cluster: Cluster, host: str) -> int | None:
        """What arriving local disks may still take on `host` (None: its storage is unknown)."""
        cap = cluster.host_by_name[host].storage_capacity_mib
        return None if cap is None else cap - dict(self.spent).get(host, 0)

    def kept_by_heuristics(self, cluster: Cluster) -> frozenset[str]:
        """The heuristics weigh memory and CPU only: guests with local disks move by the solver's say."""
        return frozenset(vm.uuid for vm in self.subjects(cluster))

    def within(self, cluster: Cluster, placement: Placement, inside: frozenset[str]) -> Rule | None:
        """In a neighbourhood: the hosts' room less what guests outside it already bring."""
        outside = [vm for vm in cluster.vms if vm.uuid not in inside]
        spent = {h: mib for h, mib in arriving_disk_mib(cluster, placement, outside).items() if mib}
        return replace(self, spent=tuple(sorted(spent.items())), _barred={})

    def check(self, cluster: Cluster, placement: Placement) -> list[Violation]:
        out = super().check(cluster, placement)
        alone = {v.host for v in out}
        for host, need in arriving_disk_mib(cluster, placement).items():
            room = self.room(cluster, host)
            if need and host not in alone and need > (room or 0):
                out.append(
                    Violation(
                        self.name,
                        f"{host} would receive {need} MiB of local disks with {room or 0} MiB of storage free",
                        host=host,
                        value=need,
                        limit=room or 0,
                        unit="MiB",
                    )
                )
        return out

    def check_hop(self, cluster: Cluster, hop: Hop) -> list[Violation]:
        """A guest with local disks takes no temporary hop: its disks would be copied twice and a copy
        left behind on the host it waited on."""
        if not self.applies_to(hop.vm):
            return []
        why = f"{hop.vm.name} has local disks: a temporary hop through {hop.via} would copy them twice"
        return [Violation(self.name, why, vm=hop.vm.name, host=hop.via, resolvable=False)]

    def encode(self, enc: Encoding) -> None:
        super().encode(enc)
        # The local disks arriving on each host fit its free storage together.
        for host in enc.cluster.hosts:
            fixed = sum(vm.local_disk_mib for vm in enc.fixed_on[host.name] if vm.host != host.name)
            free = [
                (vm, var) for vm, var in enc.free_on[host.name] if vm.host != host.name and vm.local_disk_mib
            ]
            if fixed or free:
                total = sum((vm.local_disk_mib * var for vm, var in free), fixed)
                enc.require(self, total <= (self.room(enc.cluster, host.name) or 0))

    @classmethod
    def instances(cls, cluster: Cluster, policy: Policy) -> tuple[StorageCapacity, ...]:
        return (cls(),) if any(vm.local_disks for vm in cluster.vms) else ()
