"""The nightly rebalance: collect (with the usage history window), plan, apply within the window, record.

    summary = run_nightly(config)            # raises LockedError when another run holds the lock
    sys.exit(summary.exit_code)

Every run leaves its plan, reports, summary and metrics behind (jobs.record), a failed one too.

Approval mode (jobs.approval): `plan_only` plans and holds the plan for an operator (job "plan-only");
with policy.automation = "approved" a run carries out only the approved plan, after re-checking it on the
live cluster (planner.recheck); without one that holds, it plans anew and holds that plan (exit 8).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from executor.interrupt import Interrupt
from planner.errors import ShortHistoryError
from planner.model import Cluster
from planner.plan import Plan
from planner.recheck import still_holds
from virt_rebalance import output, progress
from virt_rebalance.config import Config
from virt_rebalance.jobs import approval, lock, readiness, record, steps, window
from virt_rebalance.jobs.exitcodes import ExitCode, for_status
from virt_rebalance.jobs.summary import Outcome, RunSummary, outcomes_from

JOB = "run"
PLAN_ONLY_JOB = "plan-only"


def not_due(config: Config, now: datetime) -> tuple[ExitCode, str] | None:
    """Why a scheduled run (`run --scheduled`, started by a frequent timer) does nothing now, or None.

    policy.window is the one source of the schedule: the run starts once, the first time the timer fires
    in an open window. Neither check touches libvirt or records a run, so the timer may fire often.
    """
    try:
        opened = window.opened_at(config.policy.window, now)
    except window.OutsideWindow as exc:
        return ExitCode.OUTSIDE_WINDOW, str(exc)
    last = _last_started(Path(config.state_dir) / f"last-{JOB}.json")
    if last is not None and last >= opened:
        return ExitCode.NOTHING_TO_DO, (
            f"a run already started in this window (at {last.isoformat(timespec='seconds')}); "
            "the next one starts when the window opens again"
        )
    return None


def _last_started(path: Path) -> datetime | None:
    try:
        return datetime.fromisoformat(json.loads(path.read_text())["started_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def run_nightly(
    config: Config,
    *,
    now: datetime | None = None,
    ignore_window: bool = False,
    allow_short_history: bool = False,
    plan_only: bool = False,
    show: Callable[[Plan], None] | None = None,
    interrupt: Interrupt | None = None,
) -> RunSummary:
    """One nightly run under the lock; `show` gets the plan before anything moves (the CLI prints it).

    Raises ShortHistoryError (recorded as a failed run) when the usage history holds fewer samples than
    collect.min_samples, unless `allow_short_history`. Once `interrupt` is set (SIGTERM) no migration
    starts and the run ends "interrupted". `plan_only` holds the plan for approval and moves nothing.
    """
    started = now or datetime.now(UTC)
    job = PLAN_ONLY_JOB if plan_only else JOB
    with lock.hold(config.state_dir, "nightly run"), record.recorded(config, job, started) as run:
        required = config.collect.min_samples
        if required and not allow_short_history:
            samples = steps.history_samples(config, started)
            if samples < required:
                raise ShortHistoryError(samples=samples, required=required, hours=config.collect.window_hours)
        closed: window.OutsideWindow | None = None
        try:
            deadline = window.deadline(config.policy.window, started)
        except window.OutsideWindow as exc:
            closed, deadline = exc, None
        snapshot = steps.collect(config, window_hours=config.collect.window_hours)
        cluster = steps.current(config, snapshot)
        approved, held_because = None, None
        if plan_only:
            held_because = "planned with --plan-only"
        elif config.policy.automation == "approved":
            approved, held_because = _approved(config, cluster)
        plan = approved[1] if approved else steps.plan(cluster, config, "rebalance")
        files = run.planned(plan)
        if show:
            show(plan)
        if plan.is_empty:
            return run.finish(
                run.summary(
                    "nothing-to-do",
                    ExitCode.NOTHING_TO_DO,
                    message="" if plan_only else held_because or "",
                    **_readiness(config, cluster, ()),
                )
            )
        if held_because is not None:
            return _hold(config, run, plan, cluster, held_because, plan_only)
        if closed and not ignore_window:
            output.warning(f"{closed}: the plan is written to {files['plan']}; nothing was started")
            waiting = tuple(
                Outcome(m.vm_name, m.source, m.destination, "not-started", m.memory_mib, str(closed))
                for m in plan.migrations
            )
            return run.finish(
                run.summary(
                    "outside-window",
                    ExitCode.OUTSIDE_WINDOW,
                    outcomes=waiting,
                    message=str(closed),
                    **_readiness(config, cluster, ()),
                )
            )
        with progress.show(len(plan.migrations)) as on_event:
            # An approved plan is older than execute.max_plan_age_s by design; it was re-checked above.
            report = steps.apply(
                plan, config, deadline=deadline, progress=on_event, interrupt=interrupt, force=bool(approved)
            )
        if approved:
            approval.carried_out(config.state_dir, approved[0], run.directory.name)
        for warning in report.warnings:
            output.warning(warning)
        outcomes = outcomes_from(report, plan)
        message = ""
        if report.status == "interrupted" and interrupt is not None:
            message = f"{interrupt.reason}; {steps.resume_hint(files['plan'])}"
        return run.finish(
            run.summary(
                report.status,
                for_status(report.status),
                outcomes=outcomes,
                deadline=deadline,
                **_readiness(config, cluster, outcomes, interrupted=report.status == "interrupted"),
                message=message,
            )
        )


def _readiness(
    config: Config, cluster: Cluster, outcomes: tuple[Outcome, ...], *, interrupted: bool = False
) -> dict[str, Any]:
    """The summary's readiness fields, on the cluster as this run left it (the moves that finished); not
    checked once interrupted (the job is being stopped) or on more than `readiness_max_hosts` hosts."""
    limit = config.readiness_max_hosts
    if interrupted:
        return {"readiness": "readiness: not checked (interrupted)"}
    if len(cluster.hosts) > limit:
        why = (
            "readiness_max_hosts = 0"
            if limit == 0
            else f"{len(cluster.hosts)} hosts > readiness_max_hosts {limit}"
        )
        return {"readiness": f"readiness: not checked ({why}; `virt-rebalance readiness` checks it)"}
    moved = {o.vm: o.destination for o in outcomes if o.status == "done"}
    result = readiness.check(config, readiness.moved(cluster, moved))
    return {"readiness": result.summary_line(), "evacuable": {h.host: h.evacuable for h in result.hosts}}


def _approved(config: Config, live: Cluster) -> tuple[tuple[approval.Approval, Plan] | None, str | None]:
    """The approved plan when it still holds on the live cluster; else None and why a new plan is held."""
    held = approval.load(config.state_dir)
    if (why := approval.why_not_usable(held)) is not None or held is None:
        return None, why
    plan = steps.load_plan(held.plan)
    if reasons := still_holds(plan, live, config.policy_value()):
        shown = "; ".join(reasons[:5]) + (f"; and {len(reasons) - 5} more" if len(reasons) > 5 else "")
        return None, f"the approved plan {held.run_id} no longer holds: {shown}"
    output.info(f"carrying out the approved plan {held.run_id} (approved by {held.approved_by})")
    return (held, plan), None


def _hold(
    config: Config, run: record.Run, plan: Plan, cluster: Cluster, because: str, plan_only: bool
) -> RunSummary:
    """Hold `plan` (already written in the run's directory) for approval; nothing moves."""
    run_id = run.directory.name
    approval.hold(config.state_dir, run_id, run.files["plan"], plan, run.started)
    message = f"{because}; plan {run_id} is held for approval: `virt-rebalance approve {run_id}`"
    if not plan_only:
        output.warning(message)
    waiting = tuple(
        Outcome(m.vm_name, m.source, m.destination, "not-started", m.memory_mib, "held for approval")
        for m in plan.migrations
    )
    code = ExitCode.DONE if plan_only else ExitCode.AWAITING_APPROVAL
    return run.finish(
        run.summary(
            "held-for-approval", code, outcomes=waiting, message=message, **_readiness(config, cluster, ())
        )
    )
