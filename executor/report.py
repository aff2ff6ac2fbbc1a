"""What applying a plan reports: live progress events, and per-migration outcomes next to the estimates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from planner.plan import Migration

Status = Literal["done", "skipped", "failed", "aborted", "not-started"]
Overall = Literal["nothing-to-do", "done", "partial", "failed", "interrupted"]
EventKind = Literal["started", "progress", "postcopy", "done", "failed", "aborted", "skipped", "not-started"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ProgressEvent:
    """One thing that happened to one migration; `progress` events carry jobStats numbers (MiB, s)."""

    kind: EventKind
    migration_id: str
    vm_name: str
    source: str
    destination: str
    elapsed_s: float = 0.0
    total_mib: float = 0.0
    processed_mib: float = 0.0
    remaining_mib: float = 0.0
    rate_mibps: float = 0.0
    dirty_mibps: float = 0.0
    round: int = 0
    eta_s: float | None = None
    estimated_s: float = 0.0
    message: str = ""
    finished: int = 0
    total: int = 0

    def line(self) -> str:
        """One plain line for logs and non-terminal output."""
        head = f"[{self.finished}/{self.total}] {self.migration_id} {self.vm_name} {self.source}->{self.destination}"
        if self.kind == "progress":
            eta = f"{self.eta_s:.0f}s" if self.eta_s is not None else "?"
            return (
                f"{head}: {self.processed_mib:.0f}/{self.total_mib:.0f} MiB, {self.remaining_mib:.0f} left, "
                f"{self.rate_mibps:.1f} MiB/s, dirty {self.dirty_mibps:.1f} MiB/s, round {self.round}, ETA {eta}"
            )
        tail = f": {self.message}" if self.message else ""
        if self.kind in ("started", "postcopy", "skipped", "not-started"):
            return f"{head} {self.kind}{tail}"
        return f"{head} {self.kind} after {self.elapsed_s:.1f}s{tail}"


@dataclass(frozen=True, slots=True, kw_only=True)
class MigrationOutcome:
    """How one migration of the plan ended, next to its estimates (`earlier`: in an earlier run)."""

    migration_id: str
    vm_uuid: str
    vm_name: str
    source: str
    destination: str
    status: Status
    reason: str = ""
    estimated_s: float = 0.0
    actual_s: float | None = None
    estimated_mib: int = 0
    actual_mib: float | None = None
    earlier: bool = False  # finished by an earlier run of the same plan

    @classmethod
    def of(
        cls,
        m: Migration,
        status: Status,
        reason: str = "",
        *,
        actual_s: float | None = None,
        actual_mib: float | None = None,
        earlier: bool = False,
    ) -> MigrationOutcome:
        """The outcome of migration `m`: its names and estimates from the plan, with what happened."""
        return cls(
            migration_id=m.id,
            vm_uuid=m.vm_uuid,
            vm_name=m.vm_name,
            source=m.source,
            destination=m.destination,
            status=status,
            reason=reason,
            estimated_s=m.estimated_s,
            actual_s=actual_s,
            estimated_mib=m.estimated_mib,
            actual_mib=actual_mib,
            earlier=earlier,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplyReport:
    plan_id: str
    status: Overall
    outcomes: tuple[MigrationOutcome, ...]
    started_at: str
    finished_at: str
    elapsed_s: float
    estimated_makespan_s: float
    warnings: tuple[str, ...] = ()

    def count(self, status: Status) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def estimate_error_pct(self) -> tuple[float | None, float | None]:
        """How far off the estimates were (percent of the real durations): the mean over the migrations
        this run carried out, and the whole run against the estimated makespan (when all were done)."""
        errors = [
            abs(o.estimated_s - o.actual_s) / o.actual_s
            for o in self.outcomes
            if o.status == "done" and not o.earlier and o.actual_s
        ]
        each = 100.0 * sum(errors) / len(errors) if errors else None
        whole = (
            100.0 * abs(self.estimated_makespan_s - self.elapsed_s) / self.elapsed_s
            if self.status == "done" and self.elapsed_s > 0
            else None
        )
        return each, whole


def overall(outcomes: tuple[MigrationOutcome, ...]) -> Overall:
    """nothing-to-do: every move was done before this run (or there are none); done: every move is done;
    failed: this run carried out none of the moves still to do (failed, skipped or not started alike);
    partial: anything else."""
    if all(o.status == "done" and o.earlier for o in outcomes):
        return "nothing-to-do"
    if all(o.status == "done" for o in outcomes):
        return "done"
    if not any(o.status == "done" and not o.earlier for o in outcomes):
        return "failed"
    return "partial"
