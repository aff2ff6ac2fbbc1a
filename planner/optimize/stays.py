"""Guests that will not move, known before any solving, each with the rule and the reason.

Guests that cannot migrate at all (libvirt says so, or their host is unreachable) stay wherever they are.
In an evacuation, a guest on an evacuated host also stays when no allowed host exists for it or none has
room for it even alone; the rest of the evacuation still gets a plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from planner.load import host_loads
from planner.model import Cluster, Vm
from planner.optimize.candidates import blocking_rule, why_stuck
from planner.plan import Stay
from planner.rules import capacity_rule
from planner.rules.rule import NOWHERE, Rule, unary
from planner.rules.unmigratable import stuck_reason


def _room(cluster: Cluster, vm: Vm, hosts: Sequence[str], free: Mapping[str, tuple[int, int, int]]) -> bool:
    return any(
        h != vm.host
        and free[h][0] >= vm.cpu_demand_millicores
        and free[h][1] >= vm.memory_mib
        and free[h][2] >= vm.vcpus
        for h in hosts
    )


def upfront_stays(
    cluster: Cluster,
    evacuate: Sequence[str],
    rules: Sequence[Rule],
    dests: Mapping[str, tuple[str, ...]],
) -> tuple[Stay, ...]:
    """Every guest that cannot move, and every guest that cannot leave an evacuated host, with why."""
    loads = {hl.host: hl for hl in host_loads(cluster, cluster.placement)}
    free = {
        h: (
            hl.cpu_capacity_millicores - hl.cpu_millicores,
            hl.memory_capacity_mib - hl.memory_mib,
            hl.vcpu_capacity - hl.vcpus,
        )
        for h, hl in loads.items()
    }
    evacuated = set(evacuate)
    out = []
    for vm in cluster.vms:
        reason = stuck_reason(cluster, vm)
        if reason is not None:
            rule = next((r.name for r in unary(rules) if r.allowed(cluster, vm) == NOWHERE), "")
            out.append(
                Stay(
                    vm_uuid=vm.uuid,
                    vm_name=vm.name,
                    host=vm.host,
                    rule=rule,
                    reason=f"{vm.name} stays: {reason}",
                )
            )
        elif vm.host in evacuated:
            hosts = [h for h in dests[vm.uuid] if h != vm.host]
            if not hosts:
                rule, resolvable = blocking_rule(cluster, rules, vm)
                why = why_stuck(cluster, rules, vm)
                out.append(
                    Stay(
                        vm_uuid=vm.uuid,
                        vm_name=vm.name,
                        host=vm.host,
                        rule=rule,
                        reason=why,
                        resolvable=resolvable,
                    )
                )
            elif not _room(cluster, vm, hosts, free):
                most = max(free[h][1] for h in hosts)
                out.append(
                    Stay(
                        vm_uuid=vm.uuid,
                        vm_name=vm.name,
                        host=vm.host,
                        rule=capacity_rule("memory"),
                        reason=f"no allowed host has room for {vm.name} ({vm.memory_mib} MiB, {vm.vcpus} vCPUs, "
                        f"{vm.cpu_demand_millicores} millicores) among {len(hosts)} hosts; the most free "
                        f"memory is {most} MiB",
                        resolvable=True,
                    )
                )
    return tuple(out)


def crowded_out(
    cluster: Cluster, evacuate: Sequence[str], placement: Mapping[str, str], known: Sequence[Stay]
) -> tuple[Stay, ...]:
    """Guests left on an evacuated host by a placement (room ran out once the others moved)."""
    seen = {s.vm_uuid for s in known}
    evacuated = set(evacuate)
    return tuple(
        Stay(
            vm_uuid=vm.uuid,
            vm_name=vm.name,
            host=vm.host,
            rule=capacity_rule("memory"),
            reason=f"no room left for {vm.name} ({vm.memory_mib} MiB) once the other guests of {vm.host} moved",
            resolvable=True,
        )
        for vm in cluster.vms
        if vm.host in evacuated and placement.get(vm.uuid) == vm.host and vm.uuid not in seen
    )
