"""What the operator asks of a plan: weights, margins, budgets, limits. Pure values, built from config."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Policy:
    """Planner knobs. Percentages are whole numbers; sizes in MiB; times in seconds.

    Higher weights win: `cpu_weight` and `memory_weight` say how much each resource's imbalance counts;
    `move_cost_per_gib` is what moving one GiB costs against one percentage point of imbalance.
    """

    cpu_weight: int = 1
    memory_weight: int = 1
    move_cost_per_gib: float = 0.5
    dirty_rate_cost: float = 1.0
    min_improvement_pct: float = 2.0
    max_migrations: int | None = None
    max_moved_mib: int | None = None
    time_limit_s: float = 10.0
    seed: int = 0
    workers: int = 2
    evacuate: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    candidates_per_vm: int = 8


@dataclass(frozen=True, slots=True)
class Budgets:
    """Schedule and executor budgets: bandwidth and concurrency (MiB/s, counts, seconds)."""

    per_migration_mibps: int = 0
    max_outgoing_per_host: int = 2
    max_incoming_per_host: int = 2
    max_concurrent: int = 8
    downtime_limit_ms: int = 300
    max_rounds: int = 30
    setup_s: float = 0.0
    auto_converge: bool = True  # the executor throttles a guest that out-writes its bandwidth
    host_nic_mibps: dict[str, int] = field(default_factory=dict)
