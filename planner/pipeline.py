"""The planning pipeline: optimize -> schedule -> check -> Plan.

    make_plan(cluster, policy, budgets, goal, now) -> Plan

Nightly rebalance, dry run and evacuation all call it; an evacuation is the same pipeline with
`policy.evacuate` naming the hosts. Every answer is re-checked: each hard rule on the final placement
(check_placement), and room on every host at every moment of the schedule (planner/schedule raises
PlannerBugError otherwise). Moves the schedule cannot order safely are dropped, and say why, in `stays`.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime
from typing import Literal

from planner.errors import InfeasibleError, InputError, PlannerBugError
from planner.load import balance, host_loads
from planner.model import Cluster
from planner.plan import Plan, Stay
from planner.policy import Budgets, Policy
from planner.reasons import explain
from planner.schedule import schedule


def make_plan(
    cluster: Cluster,
    policy: Policy,
    budgets: Budgets,
    goal: Literal["rebalance", "evacuate"] = "rebalance",
    now: str | None = None,
) -> Plan:
    """A checked plan that carries `cluster` toward a better placement (or off `policy.evacuate`)."""
    from planner.optimize.optimizer import optimize  # the optimizer pulls in the solver
    from planner.rules import check_all, rules_for

    if goal == "evacuate" and not policy.evacuate:
        raise InputError("policy", "evacuate", "an evacuation names at least one host to empty")
    if goal == "rebalance" and policy.evacuate:
        raise InputError("policy", "evacuate", "a rebalance evacuates no host; use the evacuate goal")
    began = time.monotonic()
    rules = rules_for(cluster, policy)  # once per plan: every stage asks the same rules
    held: tuple[Stay, ...] = ()
    while True:
        try:
            target = optimize(cluster, policy, rules, held)
        except InfeasibleError as error:
            if not held:
                raise
            why = [f"{s.vm_name} cannot move: {s.reason}" for s in held]
            raise InfeasibleError([*error.conflicts, *why]) from None
        timed = schedule(cluster, target.placement, target.reasons, budgets, rules)
        final = dict(target.placement)
        for stay in timed.unschedulable:
            final[stay.vm_uuid] = stay.host
        known = {s.vm_uuid for s in target.stays}
        stays = (*target.stays, *(s for s in held if s.vm_uuid not in known), *timed.unschedulable)
        broken = check_all(rules, cluster, final, frozenset(s.vm_uuid for s in stays))
        # A guest the schedule leaves behind can break a rule the target kept only with its move (its
        # affinity group moved without it): plan again with it held where it stays. Each round holds
        # guests not held before, so this ends.
        was_held = {s.vm_uuid for s in held}
        more = tuple(
            s
            for s in timed.unschedulable
            if s.host == cluster.vm_by_uuid[s.vm_uuid].host and s.vm_uuid not in was_held
        )
        if not broken or not more:
            break
        held += more
    if broken:
        raise PlannerBugError("final placement", broken)
    after, balance_after = target.after, target.balance_after
    if timed.unschedulable:
        after = host_loads(cluster, final)
        closed = {*policy.exclude, *policy.evacuate}
        open_hosts = {h.name for h in cluster.hosts if h.accepts_guests and h.name not in closed}
        balance_after = balance(
            [load for load in after if load.host in open_hosts], policy.cpu_weight, policy.memory_weight
        )
    return Plan(
        snapshot=cluster,
        goal=goal,
        created_at=now or datetime.now(UTC).isoformat(timespec="seconds"),
        migrations=explain(cluster, timed.migrations, policy.evacuate),
        target=final,
        before=target.before,
        after=after,
        balance_before=target.balance_before,
        balance_after=balance_after,
        stays=stays,
        evacuate=policy.evacuate,
        peak_lower_bound_pct=target.peak_lower_bound_pct,
        makespan_s=round(timed.makespan_s + (budgets.apply_overhead_s if timed.migrations else 0.0), 1),
        makespan_lower_bound_s=round(timed.makespan_lower_bound_s, 1),
        solver_status=target.status,
        solve_s=round(time.monotonic() - began, 3),
        notes=(*target.notes, *timed.notes),
        policy=dataclasses.asdict(policy),
        budgets=budgets,
    )
