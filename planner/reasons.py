"""Why each move is in the plan, in words with numbers: that move's own effect, not the plan's.

The optimizer says why a guest moves at all (`move_reasons`: it leaves a host being evacuated, or it
relieves its source). Once the schedule has ordered the moves, `explain` gives each migration its reason:
why it runs, then what it does to its two hosts at that point of the schedule, migrations taken in the
order they end on the estimated timeline:

    relieves h1: h1 CPU 52% -> 35%, memory 19% -> 14%; h4 CPU 1% -> 18%, memory 1% -> 6%

A move that arrivals on its source wait for (the schedule's dependencies) makes room for them and names
them; a move off a host that other guests of the plan move to (no arrival waits for it: there was room)
balances that host and names them, as "relieves" would be untrue of a host the plan fills; a temporary
hop says where its guest goes next.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from planner.load import host_loads
from planner.model import Cluster, Vm
from planner.plan import HostLoad, Migration

#: Guests a reason names (arrivals a move makes room for, or balances its host against).
NAMED = 3


def move_reasons(cluster: Cluster, placement: Mapping[str, str], evacuate: Sequence[str]) -> dict[str, str]:
    """Moved guest uuid -> why it moves at all, for every guest `placement` moves."""
    return {
        vm.uuid: _leaves(vm.host, evacuate)
        for vm in cluster.vms
        if placement.get(vm.uuid, vm.host) != vm.host
    }


def explain(
    cluster: Cluster, migrations: Sequence[Migration], evacuate: Sequence[str]
) -> tuple[Migration, ...]:
    """`migrations` (a schedule's, in start order) each with its reason: why, and its own effect."""
    effect = _effects(cluster, migrations)
    waiting: dict[str, list[Migration]] = {}  # migration id -> the migrations that wait for it
    arrivals: dict[str, list[Migration]] = {}  # host -> the guests that end there, moved by the plan
    for m in migrations:
        for d in m.depends_on:
            waiting.setdefault(d, []).append(m)
        if not m.temporary:
            arrivals.setdefault(m.destination, []).append(m)
    out = []
    for m in migrations:
        vm = cluster.vm_by_uuid[m.vm_uuid]
        after = waiting.get(m.id, [])
        room_for = [w for w in after if w.destination == m.source and w.vm_uuid != m.vm_uuid]
        if m.temporary:
            onward = next(
                (w.destination for w in migrations if w.vm_uuid == m.vm_uuid and w.source == m.destination),
                "its target",
            )
            why = f"temporary hop to free a cycle, then on to {onward}; {_leaves(vm.host, evacuate)}"
        elif room_for:
            why = f"makes room on {m.source} for {_names(cluster, room_for, evacuate)}"
        elif m.source == vm.host and (takes := arrivals.get(m.source)):
            why = f"balances {m.source}, which takes {_names(cluster, takes, evacuate)}"
        elif m.source != vm.host:
            why = f"on from its temporary hop through {m.source}; {_leaves(vm.host, evacuate)}"
        else:
            why = _leaves(vm.host, evacuate)
        out.append(dataclasses.replace(m, reason=f"{why}: {effect[m.id]}"))
    return tuple(out)


def _leaves(host: str, evacuate: Sequence[str]) -> str:
    return f"leaves {host}, which is being evacuated" if host in evacuate else f"relieves {host}"


def _names(cluster: Cluster, moves: Sequence[Migration], evacuate: Sequence[str]) -> str:
    """The guests of `moves` with where each comes from: the first NAMED, then how many more."""
    named = ", ".join(f"{w.vm_name} (from {_from(cluster, w, evacuate)})" for w in moves[:NAMED])
    return named + (f" and {len(moves) - NAMED} more" if len(moves) > NAMED else "")


def _from(cluster: Cluster, m: Migration, evacuate: Sequence[str]) -> str:
    home = cluster.vm_by_uuid[m.vm_uuid].host
    return f"{home}, which is being evacuated" if home in evacuate else home


def _effects(cluster: Cluster, migrations: Sequence[Migration]) -> dict[str, str]:
    """Per migration id: its source and destination before -> after it, in the order moves end."""
    loads = {hl.host: hl for hl in host_loads(cluster, cluster.placement)}
    out = {}
    for m in sorted(migrations, key=lambda m: (m.start_s + m.estimated_s, int(m.id[1:]))):
        vm = cluster.vm_by_uuid[m.vm_uuid]
        src, dst = loads[m.source], loads[m.destination]
        loads[m.source], loads[m.destination] = _plus(src, vm, -1), _plus(dst, vm, +1)
        out[m.id] = (
            f"{m.source} {_change(src, loads[m.source])}; {m.destination} {_change(dst, loads[m.destination])}"
        )
    return out


def _plus(load: HostLoad, vm: Vm, sign: int) -> HostLoad:
    return dataclasses.replace(
        load,
        cpu_millicores=load.cpu_millicores + sign * vm.cpu_demand_millicores,
        memory_mib=load.memory_mib + sign * vm.memory_mib,
        vcpus=load.vcpus + sign * vm.vcpus,
        guests=load.guests + sign,
    )


def _change(old: HostLoad, new: HostLoad) -> str:
    return (
        f"CPU {old.cpu_pct:.0f}% -> {new.cpu_pct:.0f}%, memory {old.memory_pct:.0f}% -> {new.memory_pct:.0f}%"
    )
