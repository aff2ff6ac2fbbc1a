"""The schedule: turn a target placement into live migrations that can run, in order, within budgets.

timeline (timeline.py)      when each move starts and at what reserved rate, started only where
                            there is room (run.py: the list scheduler's state and priorities; slot.py);
                            its cost from the pre-copy model (precopy.py); room chains behind each move
                            (tails.py); swaps worth a temporary hop up front (swaps.py)
graph (graph.py)            which move waits for which, read off the timeline; swaps broken by a
                            temporary hop through a host with room, or reported
continuous (continuous.py)  room on every host at every moment, in any order: else PlannerBugError
bound (makespan_bound.py)   the makespan's lower bound: how soon any schedule could finish
room.py, links.py           what a host may hold; the NIC and concurrency budgets
admission.py                whether a move may start now, at what rate (the executor asks it too)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from planner.model import Cluster
from planner.plan import Migration, Stay
from planner.policy import Budgets
from planner.schedule.continuous import assert_continuous
from planner.schedule.graph import Ordering
from planner.schedule.links import links
from planner.schedule.makespan_bound import lower_bounds
from planner.schedule.timeline import Slot, timeline

if TYPE_CHECKING:
    from planner.rules.rule import Rule

__all__ = ["Schedule", "schedule"]


@dataclass(frozen=True, kw_only=True)
class Schedule:
    """Migrations in start order (ids m1..), the estimated makespan and a floor under it."""

    migrations: tuple[Migration, ...]
    makespan_s: float
    makespan_lower_bound_s: float
    unschedulable: tuple[Stay, ...]
    notes: tuple[str, ...]


def schedule(
    cluster: Cluster,
    target: Mapping[str, str],
    reasons: Mapping[str, str],
    budgets: Budgets,
    rules: Sequence[Rule] = (),
) -> Schedule:
    """Order, time and check the moves that carry `cluster` to `target` (guest UUID -> host name).

    `reasons` (guest UUID -> why it moves) is copied onto its migrations. Moves that cannot be ordered
    safely come back in `unschedulable`; the rest are guaranteed to keep every host within its memory,
    vCPU and CPU-ceiling limits at every moment, in any run that respects `depends_on`; a temporary hop
    is taken only where its guest may wait under every hard rule of `rules` (the plan's rules; none:
    room only).
    """
    net = links(cluster, budgets)
    ordering, slots = timeline(cluster, target, net, rules)
    assert_continuous(cluster, ordering, slots)
    migrations = _migrations(ordering, slots, reasons)
    bounds = lower_bounds(ordering, net, cluster)
    makespan = max((s.end_s for s in slots), default=0.0)
    bound = max(bounds.values(), default=0.0)
    notes = list(ordering.notes)
    if bounds:
        tightest = max(bounds, key=lambda k: bounds[k])
        notes.append(
            f"makespan {makespan:.0f} s, at least {bound:.0f} s ({tightest}): {makespan / bound:.2f}x the bound"
        )
    return Schedule(
        migrations=tuple(migrations),
        makespan_s=makespan,
        makespan_lower_bound_s=bound,
        unschedulable=ordering.unschedulable,
        notes=tuple(notes),
    )


def _migrations(ordering: Ordering, slots: tuple[Slot, ...], reasons: Mapping[str, str]) -> list[Migration]:
    ids = {slot.leg: f"m{n}" for n, slot in enumerate(slots, start=1)}
    out = []
    for slot in slots:
        leg, cost = ordering.legs[slot.leg], slot.cost
        warnings = []
        if cost.near_limit:
            warnings.append(
                f"dirties {leg.vm.dirty_rate_mibps} MiB/s against {slot.bandwidth_mibps} MiB/s: "
                "needs auto-converge or post-copy"
                + (
                    f" (auto-converge throttles it to {100 - cost.throttle_pct}% CPU)"
                    if cost.throttle_pct
                    else ""
                )
            )
        reason = reasons.get(leg.vm.uuid, "")
        if leg.temporary:
            reason = (
                f"temporary hop to free a cycle; then on to its target ({reason})"
                if reason
                else "temporary hop"
            )
        out.append(
            Migration(
                id=ids[slot.leg],
                vm_uuid=leg.vm.uuid,
                vm_name=leg.vm.name,
                source=leg.source,
                destination=leg.destination,
                memory_mib=leg.vm.memory_mib,
                reason=reason,
                depends_on=tuple(
                    sorted((ids[d] for d in ordering.depends_on[slot.leg]), key=lambda m: int(m[1:]))
                ),
                bandwidth_mibps=slot.bandwidth_mibps,
                start_s=round(slot.start_s, 3),
                estimated_s=round(cost.duration_s, 3),
                estimated_mib=round(cost.sent_mib),
                model_mib=round(cost.sent_mib if cost.model_mib is None else cost.model_mib),
                dirty_rate_mibps=leg.vm.dirty_rate_mibps,
                temporary=leg.temporary,
                warnings=tuple(warnings),
                disks=tuple(d.target for d in leg.vm.local_disks),
                disk_mib=leg.vm.local_disk_mib,
            )
        )
    return out
