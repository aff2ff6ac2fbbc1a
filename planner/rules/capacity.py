"""What the capacity rules share: a host that receives a guest must stay within its capacity.

A host already over capacity in the snapshot receives nothing (optimize/candidates.py bars it) and may only shed
load; the plan is not blamed for a host it did not add to.
"""

from __future__ import annotations

from collections.abc import Iterable

from planner.model import Cluster, Placement
from planner.optimize.encoding import Encoding, Named, Resource, capacity, demand
from planner.violation import Violation


def totals(cluster: Cluster, placement: Placement, resource: Resource) -> dict[str, int]:
    load = dict.fromkeys(cluster.host_by_name, 0)
    for vm in cluster.vms:
        host = placement.get(vm.uuid, vm.host)
        if host in load:
            load[host] += demand(vm, resource)
    return load


def over_capacity(
    cluster: Cluster, placement: Placement, resource: Resource, rule: str, unit: str
) -> list[Violation]:
    """Hosts that receive a guest under `placement` and end over their `resource` capacity."""
    load = totals(cluster, placement, resource)
    received = sorted(
        {placement[vm.uuid] for vm in cluster.vms if placement.get(vm.uuid, vm.host) != vm.host}
    )
    return [
        Violation(
            rule,
            f"{host} would hold more {resource} than it can",
            host=host,
            value=load[host],
            limit=capacity(cluster, host, resource),
            unit=unit,
        )
        for host in received
        if host in load and load[host] > capacity(cluster, host, resource)
    ]


def over_capacity_on(
    cluster: Cluster, placement: Placement, host: str, resources: Iterable[tuple[Resource, str]], rule: str
) -> list[Violation]:
    """`host` over its capacity under `placement` (it receives a guest there), per (resource, unit).

    A host over capacity in the snapshot receives no guest, not even one waiting there on its way: a
    schedule counts it within what it holds at the start, and its guests may leave in another order."""
    out = []
    for resource, unit in resources:
        limit = capacity(cluster, host, resource)
        load = max(totals(cluster, p, resource).get(host, 0) for p in (placement, cluster.placement))
        if load > limit:
            why = f"{host} would hold more {resource} than it can"
            out.append(Violation(rule, why, host=host, value=load, limit=limit, unit=unit))
    return out


def hosts_over(cluster: Cluster, resources: Iterable[Resource]) -> frozenset[str]:
    """Hosts already over capacity in the snapshot for any of `resources`."""
    out: set[str] = set()
    for resource in resources:
        load = totals(cluster, cluster.placement, resource)
        out |= {h for h, used in load.items() if used > capacity(cluster, h, resource)}
    return frozenset(out)


def encode_capacity(enc: Encoding, rule: Named, resource: Resource) -> None:
    # Every host that may receive a guest ends within its capacity.
    for host in enc.cluster.host_by_name:
        if enc.receives(host):
            enc.require(rule, enc.load(host, resource) <= capacity(enc.cluster, host, resource))
