"""`virt-rebalance run`: the nightly rebalance (see virt_rebalance.jobs.nightly); exits with a code a
scheduler can act on (virt_rebalance.jobs.exitcodes)."""

from __future__ import annotations

import click

from planner.errors import LockedError
from virt_rebalance import output
from virt_rebalance.commands.options import config_option, show_plan, show_result
from virt_rebalance.config import Config
from virt_rebalance.jobs.exitcodes import ExitCode
from virt_rebalance.jobs.nightly import run_nightly


@click.command("run")
@config_option
@click.option("--ignore-window", is_flag=True, help="Carry out the plan even outside policy.window.")
@click.pass_context
def run(ctx: click.Context, config: Config, ignore_window: bool) -> None:
    """Collect, plan and carry out a rebalance within the nightly window; record the run.

    Exit codes: 0 done, 1 failed, 2 usage, 3 nothing to do, 4 partly done, 5 locked, 6 outside the window.
    """
    try:
        summary = run_nightly(config, ignore_window=ignore_window, show=show_plan)
    except LockedError as exc:
        output.error(str(exc))
        ctx.exit(ExitCode.LOCKED)
    show_result(summary)
    ctx.exit(summary.exit_code)
