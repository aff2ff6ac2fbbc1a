"""`apply_plan`: carry out a plan on real hosts. The one entry point the CLI and the nightly job call.

Order of business: check the options and the hosts the plan names against the config; take the run lock;
refuse a stale plan (unless forced, or resuming a run of it); record every migration in the journal;
connect to the hosts; reconcile the journal with what the hosts show; run the streaming queue; report.
A guest is always running exactly once somewhere known: we never undefine or destroy anything ourselves.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from collectors.seam import Opener
from executor.connections import Connections
from executor.interrupt import Interrupt
from executor.journal import Journal
from executor.options import check_options, migrate_call
from executor.preflight import check_age
from executor.reconcile import reconcile
from executor.report import ApplyReport, MigrationOutcome, ProgressEvent, overall
from executor.runner import Runner
from executor.settings import ExecuteSettings
from planner.errors import ConfigError, ExecutionError, FileWriteError
from planner.plan import Plan


def apply_plan(
    plan: Plan,
    settings: ExecuteSettings,
    *,
    opener: Opener | None = None,
    resume: bool = False,
    force: bool = False,
    deadline: datetime | None = None,
    progress: Callable[[ProgressEvent], None] | None = None,
    interrupt: Interrupt | None = None,
) -> ApplyReport:
    """Carry out `plan`; raises StalePlanError, LockedError (files.lock), ConfigError, ExecutionError before acting.
    Once `interrupt` is set no migration starts; the status is then "interrupted" unless all were done."""
    interrupt = interrupt or Interrupt()
    warnings = check_options(settings)
    _check_hosts(plan, settings)
    started_at, t0 = datetime.now(UTC), time.monotonic()
    if deadline is not None and deadline.tzinfo is None:
        deadline = deadline.astimezone()  # a naive deadline is local time
    journal = Journal(settings.state_dir, plan)
    conns = _connections(settings, opener)
    try:
        journal.lock()
        ran_before = journal.known()
        if not (resume and ran_before):
            check_age(plan, settings.max_plan_age_s, started_at, force)
        if not resume and any(e.state == "started" for e in journal.entries().values()):
            raise ExecutionError(
                f"an earlier run of this plan was interrupted (journal {journal.dir}); use --resume"
            )
        journal.add(plan.migrations)
        # The plan's hosts are opened now; one that cannot be reached makes its moves skip.
        unreachable = conns.reach(
            {m.source for m in plan.migrations} | {m.destination for m in plan.migrations}
        )
        done = reconcile(plan.migrations, journal, conns, settings)
        earlier = dict(done.earlier)
        todo = []
        for m in sorted(done.todo, key=lambda m: m.start_s):
            down = [h for h in (m.source, m.destination) if h in unreachable]
            if down:
                reason = "; ".join(f"cannot connect to {h}: {unreachable[h]}" for h in down)
                earlier[m.id] = MigrationOutcome.of(m, "skipped", reason)
                journal.set(m.id, "skipped", reason)
            else:
                todo.append(m)
        runner = Runner(
            plan, settings, conns, journal, now=lambda: datetime.now(UTC), deadline=deadline,
            progress=progress, interrupt=interrupt,
        )  # fmt: skip
        outcomes = tuple(runner.run(todo, earlier))
        if runner.journal_error is None:
            migrations_s = plan.makespan_s - plan.budgets.apply_overhead_s  # the learned overhead aside
            _record_run(journal, outcomes, time.monotonic() - t0, migrations_s, warnings)
        if runner.journal_error is not None:
            warnings.append(
                f"{runner.journal_error}: no migration started after that, and the outcomes since are not "
                "in the journal; once the state directory has room, `apply --resume` reconciles them"
            )
    finally:
        conns.close()
        journal.close()
    status = overall(outcomes)
    return ApplyReport(
        plan_id=journal.plan_id,
        status="interrupted" if interrupt.requested and status not in ("done", "nothing-to-do") else status,
        outcomes=outcomes,
        started_at=started_at.isoformat(timespec="seconds"),
        finished_at=datetime.now(UTC).isoformat(timespec="seconds"),
        elapsed_s=time.monotonic() - t0,
        estimated_makespan_s=plan.makespan_s,
        warnings=tuple(warnings),
    )


def _record_run(
    journal: Journal, outcomes: tuple[MigrationOutcome, ...], elapsed_s: float, estimated_s: float,
    warnings: list[str],
) -> None:  # fmt: skip
    """The run's time against the plan's estimate, for the next plans' calibration (not needed to act)."""
    carried_out = sum(1 for o in outcomes if o.status == "done" and not o.earlier)
    try:
        journal.record_run(overall(outcomes), carried_out, elapsed_s, estimated_s)
    except FileWriteError as exc:
        warnings.append(f"this run's duration is not in the journal: {exc}")


def _check_hosts(plan: Plan, settings: ExecuteSettings) -> None:
    known = {h.name for h in settings.hosts}
    named = {m.source for m in plan.migrations} | {m.destination for m in plan.migrations}
    if unknown := named - known:
        raise ConfigError(
            "config", "hosts", f"the plan names hosts the config does not know: {', '.join(sorted(unknown))}"
        )
    for m in plan.migrations:  # raises on a missing migration URI before anything moves
        migrate_call(m, settings, plan.budgets, settings.host(m.destination))


def _connections(settings: ExecuteSettings, opener: Opener | None) -> Connections:
    from collectors.connect import describe_error, open_connection

    uris = {h.name: h.uri for h in settings.hosts}
    return Connections(uris, opener or open_connection, describe_error, timeout_s=settings.call_timeout_s)
