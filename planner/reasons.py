"""Why each move is in the plan, in words with numbers ("relieves h1: CPU 92% -> 71%")."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from planner.model import Cluster
from planner.plan import HostLoad


def _shares(load: HostLoad) -> str:
    return f"CPU {load.cpu_pct:.0f}%, memory {load.memory_pct:.0f}%"


def move_reasons(
    cluster: Cluster,
    placement: Mapping[str, str],
    before: Sequence[HostLoad],
    after: Sequence[HostLoad],
    evacuate: Sequence[str],
) -> dict[str, str]:
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
        elif src in old:
            o, n = old[src], new[src]
            why = (
                f"relieves {src}: CPU {o.cpu_pct:.0f}% -> {n.cpu_pct:.0f}%, "
                f"memory {o.memory_pct:.0f}% -> {n.memory_pct:.0f}%"
            )
        else:
            why = f"leaves {src}"
        if dest in new:
            why += f"; {dest} goes from {_shares(old[dest])} to {_shares(new[dest])}"
        out[vm.uuid] = why
    return out
