"""What a plan uses of its budgets: moves, bytes, concurrency (from the schedule's timeline), bandwidth."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from planner.plan import Migration, Plan
from virt_rebalance.report import units


@dataclass(frozen=True, slots=True)
class BudgetUse:
    name: str
    used: str
    limit: str


def peak_overlap(migrations: Iterable[Migration], key: Callable[[Migration], str] | None = None) -> int:
    """The most migrations running at once on the timeline (per `key`, e.g. source host, when given)."""
    events: dict[str, list[tuple[float, int]]] = {}
    for m in migrations:
        group = events.setdefault(key(m) if key else "", [])
        group += [(m.start_s, 1), (m.start_s + max(m.estimated_s, 1e-9), -1)]
    best = 0
    for group in events.values():
        running = 0
        for _, step in sorted(group, key=lambda e: (e[0], e[1])):
            running += step
            best = max(best, running)
    return best


def _limit(plan: Plan, key: str, fmt: Callable[[Any], str] = str) -> str:
    """The limit set under `key` in the plan's policy, else in the budgets its schedule assumed."""
    value = plan.policy.get(key) if isinstance(plan.policy, Mapping) else None
    if value in (None, 0):
        value = getattr(plan.budgets, key, None)
    return "-" if value in (None, 0) else fmt(value)


def budget_use(plan: Plan) -> list[BudgetUse]:
    moves = plan.migrations
    rates = [m.bandwidth_mibps for m in moves if m.bandwidth_mibps]
    rate = f"{min(rates)}-{max(rates)} MiB/s" if rates and min(rates) != max(rates) else ""
    if rates and not rate:
        rate = f"{rates[0]} MiB/s"
    return [
        BudgetUse("migrations", str(len(moves)), _limit(plan, "max_migrations")),
        BudgetUse("memory moved", units.size(plan.moved_mib), _limit(plan, "max_moved_mib", fmt=units.size)),
        BudgetUse("concurrent migrations", str(peak_overlap(moves)), _limit(plan, "max_concurrent")),
        BudgetUse(
            "outgoing per host",
            str(peak_overlap(moves, lambda m: m.source)),
            _limit(plan, "max_outgoing_per_host"),
        ),
        BudgetUse(
            "incoming per host",
            str(peak_overlap(moves, lambda m: m.destination)),
            _limit(plan, "max_incoming_per_host"),
        ),
        BudgetUse(
            "bandwidth per migration",
            rate or "-",
            _limit(plan, "per_migration_mibps", fmt=lambda v: f"{v} MiB/s"),
        ),
    ]
