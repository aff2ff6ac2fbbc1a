"""What the operator asks of a plan: weights, margins, budgets, limits. Pure values, built from config."""

from __future__ import annotations

from dataclasses import dataclass, field

#: policy.threshold, like DRS's migration threshold: 1 (conservative: only hosts far above the level,
#: and a move must remove twice its size in excess) to 5 (aggressive: even within a point, for a tenth).
#: Per threshold: (band above the level in points, move cost in GiB of excess per GiB moved).
THRESHOLDS: dict[int, tuple[float, float]] = {
    1: (15.0, 2.0),
    2: (8.0, 1.0),
    3: (2.0, 0.5),
    4: (1.0, 0.25),
    5: (0.0, 0.1),
}
DEFAULT_THRESHOLD = 3


@dataclass(frozen=True, slots=True)
class Policy:
    """Planner knobs. Percentages are whole numbers; sizes in MiB; times in seconds.

    Higher weights win: `cpu_weight` and `memory_weight` say how much each resource's imbalance counts
    (planner/optimize/objective.py). `threshold` (1..5) sets the band (how far above its level a host's
    load may sit before it counts as excess, and before a plan is worth making) and the move cost (GiB of
    excess a move must remove per GiB it moves); `band_pct` and `move_cost_per_gib`, when set, override it.
    """

    cpu_weight: int = 1
    memory_weight: int = 1
    threshold: int = DEFAULT_THRESHOLD
    band_pct: float | None = None
    move_cost_per_gib: float | None = None
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

    def band(self) -> float:
        """How far (points) above its level a host's load may sit before it counts as excess."""
        return THRESHOLDS[self.threshold][0] if self.band_pct is None else self.band_pct

    def move_cost(self) -> float:
        """GiB of excess a move must remove per GiB it moves to pay for itself."""
        return THRESHOLDS[self.threshold][1] if self.move_cost_per_gib is None else self.move_cost_per_gib


@dataclass(frozen=True, slots=True)
class LinkCalibration:
    """What earlier migrations from one host to another taught (virt_rebalance learns it from the journal):
    the fixed set-up time, the share of the granted rate really reached (at most 1), and what is really
    sent: `sent_fixed_mib` plus `sent_factor` of the pre-copy model's bytes. The schedule's estimates on that link use it; other links use
    `Budgets.setup_s` and the model as is. `error_pct` is how far off the estimates of those migrations were
    (mean absolute error of their durations), for the reports."""

    setup_s: float
    rate_factor: float = 1.0
    sent_factor: float = 1.0
    sent_fixed_mib: float = 0.0
    samples: int = 0
    error_pct: float | None = None


@dataclass(frozen=True, slots=True)
class Budgets:
    """Schedule and executor budgets: bandwidth and concurrency (MiB/s, counts, seconds); `links` holds
    the learned calibration per host pair, keyed "source>destination", and under ANY_LINK what all links
    taught together (for a pair with no history of its own). A plan carries the budgets its schedule was
    made with (Plan.budgets) and the executor runs within those; a count of 0 or less is no limit."""

    per_migration_mibps: int = 0
    max_outgoing_per_host: int = 2
    max_incoming_per_host: int = 2
    max_concurrent: int = 8
    downtime_limit_ms: int = 300
    max_rounds: int = 30
    setup_s: float = 2.0  # prepare, start and confirm besides the transfer: measured on the lab
    auto_converge: bool = True  # the executor throttles a guest that out-writes its bandwidth
    host_nic_mibps: dict[str, int] = field(default_factory=dict)
    links: dict[str, LinkCalibration] = field(default_factory=dict)
    # apply's own time besides the migrations (connecting, checks, verifying), learned from earlier runs
    # like `links`: added to the plan's makespan so the whole run's estimate is what a run takes.
    apply_overhead_s: float = 0.0


ANY_LINK = "*"


def link_key(source: str, destination: str) -> str:
    """The key of a host pair in `Budgets.links`."""
    return f"{source}>{destination}"
