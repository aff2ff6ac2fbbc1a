"""Why each move is in the plan, in words with numbers.

A move either relieves its source (the source ends the plan less loaded: "relieves h1: CPU 92% -> 71%")
or, when its source ends the plan *more* loaded because it receives other guests, it makes room there
("makes room on h4 for guests moving in"). Each reason also says what the guest itself carries (its share
of its source) and how the destination changes over the whole plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from planner.model import Cluster, Vm
from planner.plan import HostLoad


def _shares(load: HostLoad) -> str:
    return f"CPU {load.cpu_pct:.0f}%, memory {load.memory_pct:.0f}%"


def _change(old: HostLoad, new: HostLoad) -> str:
    return (
        f"CPU {old.cpu_pct:.0f}% -> {new.cpu_pct:.0f}%, memory {old.memory_pct:.0f}% -> {new.memory_pct:.0f}%"
    )


def _carries(vm: Vm, src: HostLoad) -> str:
    cpu = (
        100.0 * vm.cpu_demand_millicores / src.cpu_capacity_millicores if src.cpu_capacity_millicores else 0.0
    )
    mem = 100.0 * vm.memory_mib / src.memory_capacity_mib if src.memory_capacity_mib else 0.0
    return f"{vm.name} is CPU {cpu:.0f}%, memory {mem:.0f}% of {src.host}"


def _peak(load: HostLoad) -> float:
    return max(load.cpu_pct, load.memory_pct)


def move_reasons(
    cluster: Cluster,
    placement: Mapping[str, str],
    before: Sequence[HostLoad],
    after: Sequence[HostLoad],
    evacuate: Sequence[str],
) -> dict[str, str]:
    """Moved guest uuid -> why, for every guest `placement` moves."""
    old = {hl.host: hl for hl in before}
    new = {hl.host: hl for hl in after}
    out = {}
    for vm in cluster.vms:
        dest = placement.get(vm.uuid, vm.host)
        if dest == vm.host:
            continue
        src = vm.host
        if src in evacuate:
            why = f"leaves {src}, which is being evacuated"
        elif src in old and _peak(new[src]) < _peak(old[src]):
            why = f"relieves {src} ({_change(old[src], new[src])}); {_carries(vm, old[src])}"
        elif src in old:
            why = f"makes room on {src} for guests moving in ({_change(old[src], new[src])})"
        else:
            why = f"leaves {src}"
        if dest in new:
            why += f"; {dest} goes from {_shares(old[dest])} to {_shares(new[dest])}"
        out[vm.uuid] = why
    return out
