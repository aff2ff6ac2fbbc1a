"""A lower bound on the best peak any placement could reach, per resource and overall.

Water-filling relaxation: guests that cannot move are fixed where they are; the movable demand is poured
over the receiving hosts as if it were liquid (no guest sizes, no compatibility), filling each host to the
same share of its own capacity. No placement can beat that level, nor the share a host already has from
guests that cannot leave it. The overall bound is the larger of the CPU and memory bounds.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from planner.encoding import Resource, capacity, demand
from planner.model import Cluster


def water_level(fixed: np.ndarray, caps: np.ndarray, movable: float) -> float:
    """The least share p (fraction) with sum(max(0, p * cap - fixed)) >= movable."""
    caps = np.maximum(caps.astype(float), 1e-9)
    floor = float(np.max(fixed / caps)) if len(caps) else 0.0
    if movable <= 0 or not len(caps):
        return floor
    lo, hi = 0.0, max(floor, (float(fixed.sum()) + movable) / float(caps.sum())) + 1.0
    while hi - lo > 1e-7:
        mid = (lo + hi) / 2
        if float(np.maximum(0.0, mid * caps - fixed).sum()) >= movable:
            hi = mid
        else:
            lo = mid
    return max(hi, floor)


def resource_bound(
    cluster: Cluster,
    resource: Resource,
    receivers: Sequence[str],
    stuck: Mapping[str, bool],
    leaving: frozenset[str] = frozenset(),
) -> float:
    """The bound (percent) for one resource over the hosts in `receivers`."""
    index = {h: i for i, h in enumerate(receivers)}
    caps = np.array([capacity(cluster, h, resource) for h in receivers], dtype=float)
    fixed = np.zeros(len(receivers))
    movable = 0.0
    for vm in cluster.vms:
        if stuck.get(vm.uuid, False):
            if vm.host in index:
                fixed[index[vm.host]] += demand(vm, resource)
        elif vm.host in index or vm.uuid in leaving:
            movable += demand(vm, resource)
    return 100.0 * water_level(fixed, caps, movable)


def peak_bound(
    cluster: Cluster,
    receivers: Sequence[str],
    stuck: Mapping[str, bool],
    cpu_weight: int = 1,
    memory_weight: int = 1,
    leaving: frozenset[str] = frozenset(),
) -> dict[str, float]:
    """Per weighed resource ("cpu", "memory") and "peak": the lower bounds in percent.

    Guests that must leave a host outside `receivers` (`leaving`, e.g. evacuated) land on them; other
    movable guests outside are left out: counting them could only raise the level.
    """
    out = {}
    if cpu_weight > 0:
        out["cpu"] = resource_bound(cluster, "cpu", receivers, stuck, leaving)
    if memory_weight > 0:
        out["memory"] = resource_bound(cluster, "memory", receivers, stuck, leaving)
    out["peak"] = max(out.values(), default=0.0)
    return out
