"""`virt-rebalance run`: the nightly rebalance (see virt_rebalance.jobs.nightly); exits with a code a
scheduler can act on (virt_rebalance.jobs.exitcodes)."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from files.lock import LockedError
from virt_rebalance import output, signals
from virt_rebalance.commands.options import config_option, show_plan, show_result
from virt_rebalance.config import Config
from virt_rebalance.jobs.exitcodes import ExitCode
from virt_rebalance.jobs.nightly import not_due, run_nightly


@click.command("run")
@config_option
@click.option("--ignore-window", is_flag=True, help="Carry out the plan even outside policy.window.")
@click.option(
    "--scheduled",
    is_flag=True,
    help="For a frequent timer: run only once per policy.window, the first time it fires in the open "
    "window; otherwise exit at once (6 window closed, 3 already ran in this window).",
)
@click.option(
    "--allow-short-history",
    is_flag=True,
    help="Plan even when the usage history holds fewer samples than collect.min_samples.",
)
@click.option(
    "--plan-only",
    is_flag=True,
    help="Plan and write the plan and its reports, hold it for `virt-rebalance approve RUN_ID`; move nothing.",
)
@click.pass_context
def run(
    ctx: click.Context,
    config: Config,
    ignore_window: bool,
    scheduled: bool,
    allow_short_history: bool,
    plan_only: bool,
) -> None:
    """Collect, plan and carry out a rebalance within the nightly window; record the run.

    With policy.automation = "approved" only an approved plan is carried out, re-checked on the live
    cluster first; otherwise a new plan is held for approval (exit 8).

    Exit codes: 0 done (or, with --plan-only, the plan is held), 1 failed, 2 usage, 3 nothing to do,
    4 partly done, 5 locked, 6 outside the window, 7 interrupted (SIGTERM/SIGINT; `apply --resume`
    carries out the rest), 8 a new plan awaits approval.
    """
    if scheduled and (skip := not_due(config, datetime.now(UTC))):
        code, reason = skip
        output.info(f"run not due: {reason}")
        ctx.exit(code)
    try:
        with signals.caught(config.execute.on_interrupt) as interrupt:
            summary = run_nightly(
                config, ignore_window=ignore_window, allow_short_history=allow_short_history,
                plan_only=plan_only, show=show_plan, interrupt=interrupt,
            )  # fmt: skip
    except LockedError as exc:
        output.error(str(exc))
        ctx.exit(ExitCode.LOCKED)
    show_result(summary)
    ctx.exit(summary.exit_code)
