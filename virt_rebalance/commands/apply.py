"""`virt-rebalance apply PLAN.json`: carry out exactly the plan a dry run showed.

Exit codes as for `run` (virt_rebalance.jobs.exitcodes): 0 done, 1 failed, 2 bad input, 3 nothing to do,
4 partly done, 5 another run holds the lock.
"""

from __future__ import annotations

import io
import json
import sys
from dataclasses import asdict, fields
from datetime import datetime, time, timedelta
from pathlib import Path

import click
from rich import box
from rich.console import Console
from rich.table import Table

from executor.options import bandwidth_for, check_options
from executor.preflight import plan_age_s
from executor.report import ApplyReport
from files.lock import LockedError
from planner.codec import plan_from_json
from planner.errors import PlanFileError
from planner.plan import Plan
from planner.policy import Budgets
from virt_rebalance import output, progress, signals
from virt_rebalance.commands.options import PLAIN_WIDTH, config_option
from virt_rebalance.config import Config
from virt_rebalance.jobs import lock
from virt_rebalance.jobs.exitcodes import ExitCode, for_status
from virt_rebalance.jobs.steps import resume_hint


def parse_deadline(text: str, now: datetime | None = None) -> datetime:
    """HH:MM (local time, the next one to come) or an ISO date-time (naive = local)."""
    now = now or datetime.now().astimezone()
    try:
        if len(text) <= 5 and ":" in text:
            at = datetime.combine(now.date(), time.fromisoformat(text), tzinfo=now.tzinfo)
            return at if at > now else at + timedelta(days=1)
        when = datetime.fromisoformat(text)
    except ValueError:
        raise click.BadParameter("expected HH:MM or an ISO date-time", param_hint="--deadline") from None
    return when if when.tzinfo else when.astimezone()


def read_plan(path: str) -> Plan:
    try:
        text = Path(path).read_bytes()
    except OSError as exc:
        raise PlanFileError(path, None, f"cannot read: {exc.strerror}") from None
    return plan_from_json(text, path)


@click.command("apply")
@click.argument("plan_file", metavar="PLAN.json", type=click.Path(dir_okay=False))
@config_option
@click.option("--resume", is_flag=True, help="Finish an interrupted run of this plan.")
@click.option("--force", is_flag=True, help="Apply a plan older than execute.max_plan_age_s.")
@click.option("--dry-run", is_flag=True, help="Print the order, budgets and estimates; touch nothing.")
@click.option("--deadline", metavar="HH:MM|ISO", help="Start no migration after this time.")
def apply(
    plan_file: str, config: Config, resume: bool, force: bool, dry_run: bool, deadline: str | None
) -> None:
    """Carry out PLAN.json (written by `virt-rebalance plan --format json`) with live migrations."""
    plan = read_plan(plan_file)
    until = parse_deadline(deadline) if deadline else None
    for warning in budget_changes(plan, config.budgets()):
        output.warning(warning)
    if dry_run:
        show_dry_run(plan, config, until)
        return
    from executor.apply import apply_plan

    try:
        # The run lock too, so a hand-run apply never overlaps a nightly run or an evacuation.
        with (
            lock.hold(config.state_dir, f"apply {plan_file}"),
            signals.caught(config.execute.on_interrupt) as interrupt,
            progress.show(len(plan.migrations)) as on_event,
        ):
            report = apply_plan(
                plan, config.execute_settings(), resume=resume, force=force, deadline=until, progress=on_event,
                interrupt=interrupt,
            )  # fmt: skip
    except LockedError as exc:
        output.error(str(exc))
        sys.exit(int(ExitCode.LOCKED))
    show_report(report)
    if report.status == "interrupted":
        output.warning(f"{interrupt.reason}; {resume_hint(plan_file)}")
    sys.exit(int(for_status(report.status)))


#: Budgets compared otherwise: the NICs host by host (below); the link calibrations come from the journal
#: when the plan is made (virt_rebalance.calibration), not from the config.
_NOT_SET_BY_CONFIG = frozenset({"host_nic_mibps", "links"})


def budget_changes(plan: Plan, configured: Budgets) -> list[str]:
    """A warning naming the budgets the config now sets otherwise than the plan: apply keeps the plan's."""
    planned = plan.budgets
    changed = [
        f"{f.name} {getattr(planned, f.name)} (the config: {getattr(configured, f.name)})"
        for f in fields(Budgets)
        if f.name not in _NOT_SET_BY_CONFIG and getattr(planned, f.name) != getattr(configured, f.name)
    ]
    for h in plan.snapshot.hosts:  # a NIC the plan's budgets do not name runs at the snapshot's rate
        rate = planned.host_nic_mibps.get(h.name, h.nic_mibps)
        if h.name in configured.host_nic_mibps and configured.host_nic_mibps[h.name] != rate:
            changed.append(f"{h.name}'s NIC {rate} MiB/s (the config: {configured.host_nic_mibps[h.name]})")
    if not changed:
        return []
    return [
        "apply keeps the budgets the plan's schedule assumed, which differ from the config's: "
        f"{'; '.join(changed)}; make a new plan to use the config's"
    ]


def show_dry_run(plan: Plan, config: Config, deadline: datetime | None) -> None:
    ex, settings = config.execute, config.execute_settings()
    for warning in check_options(settings):
        output.warning(warning)
    terminal = output.is_terminal()
    title = f"{len(plan.migrations)} migration(s), in start order"
    table = Table(
        title=title if terminal else None, box=box.SIMPLE_HEAD if terminal else None, pad_edge=False
    )
    for column in ("id", "guest", "from -> to", "MiB", "MiB/s", "after", "start s", "est s", "est MiB"):
        table.add_column(column, justify="right" if column in ("MiB", "MiB/s", "start s") else "left")
    for m in sorted(plan.migrations, key=lambda m: m.start_s):
        table.add_row(
            m.id, m.vm_name, f"{m.source} -> {m.destination}", str(m.memory_mib),
            str(bandwidth_for(m, plan.budgets) or "unlimited"), ", ".join(m.depends_on) or "-",
            f"{m.start_s:.1f}", f"{m.estimated_s:.1f}", str(m.estimated_mib),
        )  # fmt: skip
    if terminal:
        output.console.print(table)
    else:  # plain aligned lines for pipes and logs
        click.echo(title)
        buffer = io.StringIO()
        Console(file=buffer, width=PLAIN_WIDTH, no_color=True, highlight=False).print(table)
        click.echo("\n".join(line.rstrip() for line in buffer.getvalue().splitlines()))
    b = plan.budgets
    per_migration = (
        f"the schedule's, at most {b.per_migration_mibps} MiB/s"
        if b.per_migration_mibps
        else "the schedule's"
    )
    click.echo(
        f"budgets (the plan's): {b.max_outgoing_per_host} out / {b.max_incoming_per_host} in per host, "
        f"{b.max_concurrent} in the cluster; bandwidth per migration: {per_migration}; "
        f"failure policy {ex.failure_policy}; "
        f"abort after {ex.stall_timeout_s:.0f}s without progress or {ex.time_limit_factor:g}x the estimate"
    )
    click.echo(
        f"estimated makespan {plan.makespan_s:.0f}s (lower bound {plan.makespan_lower_bound_s:.0f}s); "
        f"{plan.moved_mib} MiB to move"
        + (f"; no migration starts after {deadline.isoformat(timespec='minutes')}" if deadline else "")
    )
    age = plan_age_s(plan, datetime.now().astimezone())
    click.echo(
        f"plan made {age / 60:.0f} min ago; apply refuses plans older than {ex.max_plan_age_s / 60:.0f} min"
        " unless --force"
    )
    click.echo("dry run: nothing was touched")


def show_report(report: ApplyReport) -> None:
    if output.is_log_json():
        click.echo(json.dumps(asdict(report), default=str))
        return
    done = report.count("done")
    click.echo(
        f"apply {report.status}: {done} of {len(report.outcomes)} migration(s) done in {report.elapsed_s:.0f}s "
        f"(estimated {report.estimated_makespan_s:.0f}s); journal plan id {report.plan_id}"
    )
    each, whole = report.estimate_error_pct()
    if each is not None:
        click.echo(
            f"  estimates off by {each:.0f}% per migration on average"
            + (f", {whole:.0f}% for the whole run" if whole is not None else "")
            + " (the next plans learn from these runs)"
        )
    for warning in report.warnings:
        output.warning(warning)
    for o in report.outcomes:
        took = f" {o.actual_s:.1f}s (est {o.estimated_s:.0f}s)" if o.actual_s is not None else ""
        sent = f" {o.actual_mib:.0f} MiB (est {o.estimated_mib})" if o.actual_mib is not None else ""
        why = f": {o.reason}" if o.reason else ""
        click.echo(
            f"  {o.migration_id} {o.vm_name} {o.source} -> {o.destination}: {o.status}{took}{sent}{why}"
        )
