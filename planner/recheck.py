"""Does a plan made earlier still hold on the cluster as it is now? (An approved plan, before it runs.)

    reasons = still_holds(plan, live, policy)     # () when it may be carried out as written

A plan holds when every guest it moves is still where the plan moves it from, still running and
migratable, every host it moves guests to still takes guests, and its final placement, laid over the live
cluster (today's usage, rules, hosts in maintenance), breaks no hard rule that the live placement keeps.
A rule the cluster already breaks without the plan is not the plan's fault. The executor's preflight still
checks each move just before it starts; this decides whether the whole plan is worth starting.
"""

from __future__ import annotations

from planner.model import Cluster, VmState
from planner.plan import Plan
from planner.policy import Policy


def still_holds(plan: Plan, live: Cluster, policy: Policy) -> tuple[str, ...]:
    """Why `plan` no longer holds on `live` (sentences naming the guest, host or rule); () when it does."""
    reasons = [*_moved_guests(plan, live), *_destinations(plan, live)]
    if reasons:
        return tuple(reasons)
    return tuple(_new_violations(plan, live, policy))


def _moved_guests(plan: Plan, live: Cluster) -> list[str]:
    out = []
    for uuid in dict.fromkeys(m.vm_uuid for m in plan.migrations):
        planned = plan.snapshot.vm_by_uuid[uuid]
        vm = live.vm_by_uuid.get(uuid)
        if vm is None:
            out.append(f"{planned.name} is gone (not on any host that answered)")
        elif vm.host != planned.host:
            out.append(f"{vm.name} is on {vm.host} now, not on {planned.host} as planned")
        elif vm.state is not VmState.RUNNING:
            out.append(f"{vm.name} is {vm.state} now, not running")
        elif not vm.migratable:
            out.append(f"{vm.name} cannot be migrated now: {vm.unmigratable_reason}")
    return out


def _destinations(plan: Plan, live: Cluster) -> list[str]:
    out = []
    for name in dict.fromkeys(m.destination for m in plan.migrations):
        host = live.host_by_name.get(name)
        if host is None:
            out.append(f"{name} is no longer among the hosts")
        elif not host.accepts_guests:
            out.append(f"{name} takes no guests now ({host.state})")
    return out


def _new_violations(plan: Plan, live: Cluster, policy: Policy) -> list[str]:
    from planner.rules import check_all, rules_for  # the rules pull in the solver's types

    rules = rules_for(live, policy)
    now = {vm.uuid: vm.host for vm in live.vms}
    moved = {m.vm_uuid for m in plan.migrations}
    after = {**now, **{uuid: plan.target[uuid] for uuid in moved if uuid in plan.target}}
    already = {v.describe() for v in check_all(rules, live, now)}
    return [v.describe() for v in check_all(rules, live, after) if v.describe() not in already]
