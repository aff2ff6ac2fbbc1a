"""Host load under a placement, and how balanced a set of hosts is.

A host's load is what its guests use, each resource as a share of the host's own capacity, so hosts of
different sizes compare fairly. A host's score is its most loaded resource among those the policy weighs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from statistics import fmean, pstdev

from planner.model import Cluster, Placement
from planner.plan import Balance, HostLoad


def host_loads(cluster: Cluster, placement: Placement) -> tuple[HostLoad, ...]:
    """Every host's load (in `cluster.hosts` order) when guests run where `placement` says."""
    cpu = dict.fromkeys(cluster.host_by_name, 0)
    mem = dict.fromkeys(cluster.host_by_name, 0)
    vcpus = dict.fromkeys(cluster.host_by_name, 0)
    guests = dict.fromkeys(cluster.host_by_name, 0)
    for vm in cluster.vms:
        host = placement.get(vm.uuid, vm.host)
        if host not in cpu:
            continue
        cpu[host] += vm.cpu_demand_millicores
        mem[host] += vm.memory_mib
        vcpus[host] += vm.vcpus
        guests[host] += 1
    return tuple(
        HostLoad(
            host=h.name,
            cpu_millicores=cpu[h.name],
            cpu_capacity_millicores=h.cpu_capacity_millicores,
            memory_mib=mem[h.name],
            memory_capacity_mib=h.memory_capacity_mib,
            vcpus=vcpus[h.name],
            vcpu_capacity=h.vcpu_capacity,
            guests=guests[h.name],
        )
        for h in cluster.hosts
    )


def score(load: HostLoad, cpu_weight: int = 1, memory_weight: int = 1) -> float:
    """The host's most loaded weighed resource, in percent of its own capacity."""
    shares = []
    if cpu_weight > 0:
        shares.append(load.cpu_pct)
    if memory_weight > 0:
        shares.append(load.memory_pct)
    return max(shares, default=0.0)


def balance(loads: Iterable[HostLoad], cpu_weight: int = 1, memory_weight: int = 1) -> Balance:
    """Peak, spread (max - min) and coefficient of variation of the hosts' scores."""
    scores: Sequence[float] = [score(load, cpu_weight, memory_weight) for load in loads]
    if not scores:
        return Balance(peak_pct=0.0, spread_pct=0.0, cv=0.0)
    mean = fmean(scores)
    cv = pstdev(scores) / mean if mean > 0 else 0.0
    return Balance(
        peak_pct=round(max(scores), 2),
        spread_pct=round(max(scores) - min(scores), 2),
        cv=round(cv, 4),
    )
