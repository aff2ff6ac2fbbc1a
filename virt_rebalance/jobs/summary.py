"""The machine-readable summary of one job run (`STATE_DIR/last-run.json`), and what metrics are made of."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from planner.model import HostState
from planner.plan import Balance, Plan

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one planned migration (status: done, failed, skipped, not-started)."""

    vm: str
    source: str
    destination: str
    status: str
    memory_mib: int = 0
    reason: str = ""
    estimated_s: float = 0.0
    duration_s: float | None = None
    bytes: int | None = None


@dataclass(frozen=True, slots=True)
class RunSummary:
    job: str
    status: str
    exit_code: int
    started_at: str
    finished_at: str
    duration_s: float
    goal: str
    hosts: int
    guests: int
    unreachable: tuple[str, ...]
    planned: int
    planned_mib: int
    makespan_s: float
    makespan_lower_bound_s: float
    balance_before: Balance
    balance_after: Balance
    outcomes: tuple[Outcome, ...] = ()
    stays: tuple[dict[str, Any], ...] = ()
    deadline: str | None = None
    message: str = ""
    files: dict[str, str] = field(default_factory=dict)
    readiness: str = ""  # the nightly run's one-line readiness summary (jobs.readiness)
    evacuable: dict[str, bool] = field(default_factory=dict)  # host -> could it be emptied after the run

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def moved_bytes(self) -> int:
        """Bytes sent by the migrations that finished (measured when known, else the guest's memory)."""
        return sum(
            o.bytes if o.bytes is not None else o.memory_mib * MIB
            for o in self.outcomes
            if o.status == "done"
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, default=str) + "\n"


def plan_fields(plan: Plan) -> dict[str, Any]:
    """The summary's fields that come from the plan (everything but the outcome)."""
    snapshot = plan.snapshot
    return {
        "goal": plan.goal,
        "hosts": len(snapshot.hosts),
        "guests": len(snapshot.vms),
        "unreachable": tuple(h.name for h in snapshot.hosts if h.state is HostState.UNREACHABLE),
        "planned": len(plan.migrations),
        "planned_mib": plan.moved_mib,
        "makespan_s": plan.makespan_s,
        "makespan_lower_bound_s": plan.makespan_lower_bound_s,
        "balance_before": plan.balance_before,
        "balance_after": plan.balance_after,
        "stays": tuple(
            {"guest": s.vm_name, "host": s.host, "rule": s.rule, "reason": s.reason} for s in plan.stays
        ),
    }


def outcomes_from(report: Any, plan: Plan) -> tuple[Outcome, ...]:
    """The executor's per-migration outcomes (executor.report.MigrationOutcome) in the summary's terms."""
    memory = {m.id: m.memory_mib for m in plan.migrations}
    return tuple(
        Outcome(
            vm=o.vm_name,
            source=o.source,
            destination=o.destination,
            status="failed" if o.status == "aborted" else o.status,
            memory_mib=memory.get(o.migration_id, 0),
            reason=o.reason,
            estimated_s=o.estimated_s,
            duration_s=o.actual_s,
            bytes=None if o.actual_mib is None else int(o.actual_mib * MIB),
        )
        for o in report.outcomes
    )


def build(
    job: str,
    plan: Plan | None,
    status: str,
    exit_code: int,
    started: datetime,
    *,
    outcomes: tuple[Outcome, ...] = (),
    files: dict[str, str] | None = None,
    deadline: datetime | None = None,
    message: str = "",
    readiness: str = "",
    evacuable: dict[str, bool] | None = None,
) -> RunSummary:
    """The summary of a job that started at `started` and ends now (`plan` is None if it failed before)."""
    finished = datetime.now(UTC)
    if plan is None:
        zero = Balance(0.0, 0.0, 0.0)
        from_plan: dict[str, Any] = dict(
            goal=job, hosts=0, guests=0, unreachable=(), planned=0, planned_mib=0, makespan_s=0.0,
            makespan_lower_bound_s=0.0, balance_before=zero, balance_after=zero,
        )  # fmt: skip
    else:
        from_plan = plan_fields(plan)
    return RunSummary(
        job=job,
        status=status,
        exit_code=int(exit_code),
        started_at=started.isoformat(timespec="seconds"),
        finished_at=finished.isoformat(timespec="seconds"),
        duration_s=(finished - started).total_seconds(),
        outcomes=outcomes,
        deadline=deadline.isoformat(timespec="minutes") if deadline else None,
        message=message,
        files=files or {},
        readiness=readiness,
        evacuable=evacuable or {},
        **from_plan,
    )
