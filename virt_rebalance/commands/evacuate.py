"""`virt-rebalance evacuate HOST...` (empty hosts for maintenance) and `virt-rebalance maintenance`
(list the hosts in maintenance, or end it)."""

from __future__ import annotations

import json

import click

from files.lock import LockedError
from planner.plan import Plan
from virt_rebalance import output, signals
from virt_rebalance.commands.options import config_option, show_plan, show_result
from virt_rebalance.config import Config
from virt_rebalance.jobs import maintenance as marks
from virt_rebalance.jobs.evacuation import run_evacuation, staying_behind
from virt_rebalance.jobs.exitcodes import ExitCode


@click.command("evacuate")
@click.argument("hosts", nargs=-1, required=True)
@config_option
@click.option("--dry-run", is_flag=True, help="Plan and show the evacuation; move nothing, mark nothing.")
@click.pass_context
def evacuate(ctx: click.Context, hosts: tuple[str, ...], config: Config, dry_run: bool) -> None:
    """Move every movable guest off HOST... and put the hosts in maintenance.

    Says first which guests cannot leave and why. Exit codes as for `run`; 4 (partly done) also when
    guests stay on a host being emptied.
    """

    def show(plan: Plan) -> None:
        stays = staying_behind(plan, hosts)
        for s in stays:
            output.warning(
                f"{s.vm_name} cannot leave {s.host}: {s.reason} ({s.rule})", vm=s.vm_name, host=s.host
            )
        if not stays:
            output.info(f"every guest on {', '.join(hosts)} can leave")
        show_plan(plan, even_if_quiet=dry_run)

    try:
        with signals.caught(config.execute.on_interrupt) as interrupt:
            summary = run_evacuation(config, hosts, dry_run=dry_run, show=show, interrupt=interrupt)
    except LockedError as exc:
        output.error(str(exc))
        ctx.exit(ExitCode.LOCKED)
    if dry_run:  # the code the evacuation would end with if every planned migration worked
        ctx.exit(summary.exit_code)
    show_result(summary)
    output.info(f"in maintenance: {', '.join(hosts)}; lift it with `virt-rebalance maintenance end HOST`")
    ctx.exit(summary.exit_code)


@click.group("maintenance")
def maintenance() -> None:
    """Hosts in maintenance: the nightly run moves no guest onto them."""


@maintenance.command("list")
@config_option
@click.option("--json", "as_json", is_flag=True, help="One JSON list of {host, since, reason}.")
def list_(config: Config, as_json: bool) -> None:
    """The hosts in maintenance, since when and why."""
    found = marks.load(config.state_dir)
    if as_json:
        click.echo(
            json.dumps([{"host": m.host, "since": m.since, "reason": m.reason} for m in found.values()])
        )
        return
    if not found:
        click.echo("no host is in maintenance")
    for m in found.values():
        click.echo(f"{m.host}\tsince {m.since}\t{m.reason}")


@maintenance.command("end")
@click.argument("hosts", nargs=-1, required=True)
@config_option
def end(hosts: tuple[str, ...], config: Config) -> None:
    """Take HOST... out of maintenance: later runs may place guests on them again.

    A host that is not in maintenance is already in service: said, and not an error.
    """
    known = {h.name for h in config.hosts}
    unknown = [h for h in hosts if h not in known]
    if unknown:
        raise click.UsageError(f"not in the config: {', '.join(unknown)}")
    for h in hosts:
        ended = marks.end(config.state_dir, h)
        click.echo(f"{h} is back in service" if ended else f"{h} was not in maintenance; nothing to do")
