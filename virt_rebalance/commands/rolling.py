"""`virt-rebalance rolling HOST... | --all`: every host in turn emptied, maintained (--exec), brought back
(see virt_rebalance.jobs.rolling)."""

from __future__ import annotations

import click

from files.lock import LockedError
from planner.plan import Plan
from virt_rebalance import output, signals
from virt_rebalance.commands.options import config_option
from virt_rebalance.config import Config
from virt_rebalance.jobs import rolling
from virt_rebalance.jobs.exitcodes import ExitCode
from virt_rebalance.jobs.rolling_journal import Round
from virt_rebalance.report import units


@click.command("rolling")
@click.argument("hosts", nargs=-1)
@click.option("--all", "all_hosts", is_flag=True, help="Every host, the one that moves least first.")
@config_option
@click.option("--exec", "exec_command", metavar="CMD", help="Run on each emptied host; {host} is its name.")
@click.option(
    "--wait-ready", type=float, default=600.0, show_default=True, metavar="S", help="How long to wait for it."
)
@click.option("--dry-run", is_flag=True, help="Print the whole round's plan; move nothing.")
@click.option("--resume", is_flag=True, help="Continue an interrupted round at the step it was at.")
@click.option("--force", is_flag=True, help="Empty a host even when some of its guests must stay.")
@click.pass_context
def rolling_command(
    ctx: click.Context,
    hosts: tuple[str, ...],
    all_hosts: bool,
    config: Config,
    exec_command: str | None,
    wait_ready: float,
    dry_run: bool,
    resume: bool,
    force: bool,
) -> None:
    """Empty each host in turn, run --exec on it, wait until it is back and healthy, lift its maintenance
    mark, rebalance when the next host needs room; skip a host whose guests cannot all leave (with the
    reasons) unless --force.

    SIGTERM or SIGINT: no new step or migration starts, running migrations finish (a second signal aborts
    them), the journal keeps each host's step and --resume continues.

    Exit codes: 0 every host done, 1 the round stopped (see the journal; --resume continues), 2 usage,
    4 some hosts skipped, 5 locked, 7 interrupted (--resume continues).
    """
    if resume and (hosts or all_hosts or dry_run):
        raise click.UsageError(
            "--resume continues the journaled round: it takes no hosts, --all or --dry-run"
        )
    if not resume and bool(hosts) == all_hosts:
        raise click.UsageError("name the hosts, or give --all")
    options = rolling.Options(hosts=hosts, exec_command=exec_command, wait_ready_s=wait_ready, force=force)
    if dry_run:
        show_dry_run(rolling.dry_run(config, options))
        return
    try:
        with signals.caught(config.execute.on_interrupt) as interrupt:
            journal = rolling.run_rolling(
                config, options, resume=resume, ctx=rolling.Context(config, say=_say, interrupt=interrupt)
            )
    except LockedError as exc:
        output.error(str(exc))
        ctx.exit(ExitCode.LOCKED)
    show_round(journal)
    ctx.exit(rolling.exit_code(journal))


def _say(line: str) -> None:
    click.echo(line)


def _moves(plan: Plan) -> str:
    return (
        f"{len(plan.migrations)} migration(s), {units.size(plan.moved_mib)}, estimated "
        f"{units.duration(plan.makespan_s)} (lower bound {units.duration(plan.makespan_lower_bound_s)})"
    )


def show_dry_run(round_: rolling.DryRun) -> None:
    click.echo(f"Rolling round of {len(round_.hosts)} host(s), {round_.order_note}:")
    for h in round_.hosts:
        if h.plan is None:
            click.echo(f"{h.host}: skipped: {h.skipped}")
            continue
        click.echo(f"{h.host}: {_moves(h.plan)}")
        for m in h.plan.migrations:
            click.echo(
                f"    {m.vm_name} {m.source} -> {m.destination}  {units.size(m.memory_mib)}  "
                f"start {units.duration(m.start_s)}  est. {units.duration(m.estimated_s)}"
            )
    if round_.rebalance is not None:
        click.echo(f"then a rebalance: {_moves(round_.rebalance)}")
    plans = round_.plans
    total_s = sum(p.makespan_s for p in plans)
    click.echo(
        f"Total: {sum(len(p.migrations) for p in plans)} migration(s), "
        f"{units.size(sum(p.moved_mib for p in plans))} of memory, estimated {units.duration(total_s)} of "
        "migrations, plus --exec and the wait for each host"
    )


def show_round(journal: Round) -> None:
    for t in journal.turns:
        detail = f"{t.migrations} migration(s) out, {units.size(t.moved_mib)}"
        if t.rebalanced:
            detail += f", {t.rebalanced} rebalanced"
        line = f"  {t.host}: {t.step}"
        if t.step == "done":
            line += f" ({detail}) in {units.duration(t.seconds)}"
        if t.reason:
            line += f": {t.reason}"
        click.echo(line)
    took = ""
    if journal.finished_at:
        from datetime import datetime

        seconds = datetime.fromisoformat(journal.finished_at) - datetime.fromisoformat(journal.started_at)
        took = f" in {units.duration(seconds.total_seconds())}"
    if journal.rebalanced:
        click.echo(f"  then {journal.rebalanced} migration(s) rebalanced the cluster")
    click.echo(f"rolling {journal.status} (exit {int(rolling.exit_code(journal))}){took}")
    if journal.status in ("failed", "interrupted"):
        click.echo("the journal keeps the round's place: `virt-rebalance rolling --resume` continues it")
